"""Per-sample QC: pass / warn / fail with one reason per finding, from what `dnadx cnv` reports.

Checks (thresholds are `dnadx cnv`'s, so the report and cnv.json never disagree on a number):
reads kept, bin-to-bin noise, tumour fraction too low for copy-number calls (plasma only; a
normal is expected to have none), genes of interest without usable bins, and stage failures.
The overall status is the worst of the checks and of the status cnv.json itself gives.
"""

from __future__ import annotations

import math

from dnadx.cnv.call import NOISE_FAIL, NOISE_WARN, READS_FAIL, READS_WARN
from dnadx.report.longitudinal import MIN_TUMOUR_FRACTION

ORDER = {"pass": 0, "warn": 1, "fail": 2}


def _worst(*statuses: str) -> str:
    return max(statuses, key=lambda s: ORDER.get(s, 0))


def _check(name: str, status: str, value, message: str) -> dict:
    return {"check": name, "status": status, "value": value, "message": message}


def assess(meta: dict, cnv: dict | None, *, failure: str | None = None) -> dict:
    """QC of one sample.

    Parameters
    ----------
    meta : sample metadata (``type`` plasma|normal).
    cnv : `<id>.cnv.json` content, or None when copy number is missing.
    failure : the runner's failure message for this sample, if a stage failed.

    Returns
    -------
    dict with ``status`` (pass|warn|fail), ``reasons`` (list of str, warn/fail only) and
    ``checks`` (every check: check, status, value, message).
    """
    checks = []
    if failure:
        checks.append(_check("pipeline", "fail", None, f"stage failed: {failure}"))
    if not cnv:
        checks.append(_check("copy_number", "fail", None, "no copy-number output (<id>.cnv.json missing)"))
        return _result(checks, None)
    reads = cnv.get("reads_kept")
    if reads is None:
        checks.append(_check("reads_kept", "warn", None, "reads kept not reported"))
    else:
        st = "fail" if reads < READS_FAIL else "warn" if reads < READS_WARN else "pass"
        checks.append(_check("reads_kept", st, reads, f"{reads:,} fragments kept" + (
            f" (< {READS_FAIL:,}: too few for copy number)" if st == "fail" else
            f" (< {READS_WARN:,}: estimates degrade)" if st == "warn" else "")))
    noise = cnv.get("noise_mad")
    if noise is None or not math.isfinite(noise):
        checks.append(_check("noise", "fail", None, "bin noise could not be estimated"))
    else:
        st = "fail" if noise > NOISE_FAIL else "warn" if noise > NOISE_WARN else "pass"
        checks.append(_check("noise", st, noise, f"bin-to-bin MAD of log2 {noise:.3f}" + (
            f" (> {NOISE_FAIL if st == 'fail' else NOISE_WARN})" if st != "pass" else "")))
    checks.append(_tumour_fraction_check(meta, cnv))
    for gene, g in sorted((cnv.get("genes_of_interest") or {}).items()):
        if g.get("status", "assessable") != "assessable" or not g.get("usable_bins"):
            why = ", ".join(g.get("drop_reasons") or []) or "no usable bins"
            checks.append(_check(f"bins_{gene}", "warn", g.get("usable_bins", 0),
                                 f"no usable bins at {gene} ({why}): {gene} copy number read from the "
                                 f"surrounding segment or not at all"))
    return _result(checks, cnv)


def _tumour_fraction_check(meta: dict, cnv: dict) -> dict:
    tf = cnv.get("tumor_fraction")
    lo, hi = (cnv.get("tumor_fraction_ci") or [None, None])[:2]
    text = f"tumour fraction {_num(tf)} [{_num(lo)}, {_num(hi)}]"
    if cnv.get("tumor_call_decided_by") == "arm_pattern_test":
        text += " (detected by the breast arm-pattern test alone: no segment altered beyond noise)"
    if meta.get("type") == "normal":
        st = "warn" if lo is not None and lo > 0 else "pass"
        return _check("tumour_fraction", st, tf, text + (": tumour signal in a normal sample" if st == "warn" else ""))
    if lo is None or lo <= 0:
        return _check("tumour_fraction", "warn", tf,
                      text + ": not distinguishable from 0, copy-number calls not assessable")
    if tf is None or tf < MIN_TUMOUR_FRACTION:
        return _check("tumour_fraction", "warn", tf,
                      text + f": below {MIN_TUMOUR_FRACTION}, too low for ERBB2 and DNADX calls")
    return _check("tumour_fraction", "pass", tf, text)


def _result(checks: list[dict], cnv: dict | None) -> dict:
    status = _worst("pass", *(c["status"] for c in checks))
    reasons = [c["message"] for c in checks if c["status"] != "pass"]
    cnv_status = (cnv or {}).get("qc_status")
    if cnv_status in ORDER and ORDER[cnv_status] > ORDER[status]:
        # never report a better status than the copy-number stage did
        status = cnv_status
        reasons.append("copy-number stage: " + ("; ".join(cnv.get("qc_reasons") or []) or cnv_status))
    return {"status": status, "reasons": reasons, "checks": checks}


def _num(x) -> str:
    return "NA" if x is None else f"{x:.3f}"
