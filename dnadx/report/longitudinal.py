"""Longitudinal view: samples of one patient ordered by timepoint; HER2 switching and ERBB2 loss.

A change between two timepoints is flagged only where tumour fraction allows the call: the
sample that claims an event is *absent* must have been able to see it. For each sample we use
the lower end of its tumour-fraction interval p_lo (conservative), its ploidy phi and bin noise
sigma. The smallest tumour copy number c of an event spanning n analysis bins that stands
Z_DETECT standard errors above neutral is

    se    = sqrt(sigma^2 / n + SE_FLOOR^2)
    c_min = (2^(Z_DETECT * se) * (2(1 - p_lo) + p_lo * phi) - 2(1 - p_lo)) / p_lo

from the expected log2 of copy c, log2((2(1-p) + p c) / (2(1-p) + p phi)) (common brief).
p_lo = 0 gives c_min = inf: nothing is detectable, so the transition is ``not_assessable``.

Transitions are taken between each timepoint and the previous *assessable* one, so a low-
tumour-fraction timepoint in between is reported ``not_assessable`` and never breaks or
invents a switch.
"""

from __future__ import annotations

import math
import re

import pandas as pd

from dnadx.scores import erbb2

# Tumour copy number from which ERBB2 counts as amplified (matches `dnadx score`'s call).
AMP_COPY_NUMBER = 6
# A sample in which an amplification of this many copies would not be detectable gets no ERBB2
# call at all (`dnadx score`'s rule: an 8-copy amplicon must stand out of the noise).
CALL_COPY_NUMBER = 8
# The detectability rule is `dnadx score`'s (dnadx/scores/erbb2.py): its tumour-fraction limit, its z
# threshold, its systematic floor on a segment mean's standard error, and its copy-number inversion.
MIN_TUMOUR_FRACTION = erbb2.MIN_TF
Z_DETECT = erbb2.Z_CALL
SE_FLOOR = erbb2.SYSTEMATIC_SD
# Width assumed for an amplicon when the sample's own ERBB2 segment is not known: 1 Mb.
DEFAULT_AMPLICON_BP = 1_000_000
CALLS = ("amplified", "gain", "neutral", "loss", "not_assessable")
TRANSITION_COLUMNS = ["patient", "from_sample", "to_sample", "from_timepoint", "to_timepoint", "from_call",
                      "to_call", "event", "flagged", "detail"]


def timepoint_key(tp) -> tuple:
    """Sort key: numeric timepoints numerically, then natural order ("T2" < "T10"), empty last."""
    text = "" if tp is None or (isinstance(tp, float) and math.isnan(tp)) else str(tp).strip()
    if not text:
        return (2, ())
    try:
        return (0, (float(text),))
    except ValueError:
        parts = re.split(r"(\d+(?:\.\d+)?)", text)
        return (1, tuple((0, float(p)) if re.fullmatch(r"\d+(?:\.\d+)?", p) else (1, p.lower()) for p in parts if p))


def detectable_copy_number(p_lo: float | None, ploidy: float | None, noise: float | None, n_bins: float) -> float:
    """Smallest tumour copy number detectable over ``n_bins`` bins (module docstring); inf if none."""
    if not p_lo or p_lo <= 0 or noise is None or not math.isfinite(noise) or n_bins <= 0:
        return math.inf
    phi = float(ploidy or 2.0)
    se = math.sqrt(noise ** 2 / n_bins + SE_FLOOR ** 2)
    return erbb2.copy_number(Z_DETECT * se, p_lo, phi)


def detectable_loss(p_lo: float | None, ploidy: float | None, noise: float | None, n_bins: float) -> bool:
    """Whether one copy below ploidy would stand Z_DETECT se below neutral."""
    if not p_lo or p_lo <= 0 or noise is None or not math.isfinite(noise) or n_bins <= 0:
        return False
    phi = float(ploidy or 2.0)
    se = math.sqrt(noise ** 2 / n_bins + SE_FLOOR ** 2)
    base = 2 * (1 - p_lo)
    c = max(round(phi) - 1, 0)
    return -math.log2((base + p_lo * c) / (base + p_lo * phi)) >= Z_DETECT * se


def cnv_erbb2_call(cnv: dict) -> tuple[str, str]:
    """ERBB2 call from the cnv copy state alone (used when `dnadx score` was not run).

    amplified: c >= AMP_COPY_NUMBER; gain: c > round(phi); loss: c < round(phi); else neutral.
    not_assessable when the QC failed, ERBB2 has no copy state, the tumour fraction is below
    MIN_TUMOUR_FRACTION, or a CALL_COPY_NUMBER-copy amplification over 1 Mb would not be
    detectable at the low end of the tumour-fraction interval.
    """
    erbb2 = (cnv.get("genes_of_interest") or {}).get("ERBB2") or {}
    c, tf = erbb2.get("copy_number"), cnv.get("tumor_fraction")
    lo = (cnv.get("tumor_fraction_ci") or [None, None])[0]
    phi = float(cnv.get("ploidy") or 2.0)
    if cnv.get("qc_status") == "fail":
        return "not_assessable", "copy-number QC failed"
    if c is None:
        return "not_assessable", "no copy state at ERBB2 (no usable bins)"
    if tf is None or tf < MIN_TUMOUR_FRACTION:
        return "not_assessable", f"tumour fraction {_f(tf)} below {MIN_TUMOUR_FRACTION}"
    n = DEFAULT_AMPLICON_BP / float(cnv.get("bin_size") or 500_000)
    cmin = detectable_copy_number(lo, phi, cnv.get("noise_mad"), n)
    if c >= AMP_COPY_NUMBER:
        return "amplified", f"tumour copy state {c} >= {AMP_COPY_NUMBER}"
    if cmin > CALL_COPY_NUMBER:
        return "not_assessable", (f"an amplification of {CALL_COPY_NUMBER} copies would not be detectable at tumour "
                                  f"fraction {_f(lo)} (needs {_f(cmin, 1)} copies)")
    if c > round(phi):
        return "gain", f"tumour copy state {c} > ploidy {phi:.2f}"
    if c < round(phi):
        return "loss", f"tumour copy state {c} < ploidy {phi:.2f}"
    return "neutral", f"tumour copy state {c} at ploidy {phi:.2f}"


def sample_state(meta: dict, cnv: dict | None, score: dict | None, *, erbb2_bins: int | None = None) -> dict:
    """Per-sample values the longitudinal view needs.

    Parameters
    ----------
    meta : sample, patient, timepoint, type.
    cnv, score : `<id>.cnv.json` and `<id>.score.json` contents (either may be None).
    erbb2_bins : usable bins of the segment holding ERBB2 (from the bins table), if known.
    """
    st = {k: meta.get(k) for k in ("sample", "patient", "timepoint", "type")}
    st.update(tumor_fraction=None, tf_low=None, tf_high=None, ploidy=None, noise=None, bin_size=None,
              erbb2_copy_number=None, erbb2_bins=erbb2_bins, amplicon_score=None, call="not_assessable",
              call_source="none", call_reason="no copy-number output")
    if cnv:
        lo, hi = (cnv.get("tumor_fraction_ci") or [None, None])[:2]
        erbb2 = (cnv.get("genes_of_interest") or {}).get("ERBB2") or {}
        st.update(tumor_fraction=cnv.get("tumor_fraction"), tf_low=lo, tf_high=hi, ploidy=cnv.get("ploidy"),
                  noise=cnv.get("noise_mad"), bin_size=cnv.get("bin_size"),
                  erbb2_copy_number=erbb2.get("copy_number"))
        st["call"], st["call_reason"] = cnv_erbb2_call(cnv)
        st["call_source"] = "copy state (dnadx cnv; score not run)"
    if score and score.get("erbb2_call") in CALLS:
        st["call"] = score["erbb2_call"]
        st["call_reason"] = str(score.get("erbb2_call_reason") or "")
        st["call_source"] = "dnadx score"
        st["amplicon_score"] = score.get("erbb2_amplicon_score")
        if score.get("erbb2_copy_number") is not None:
            st["erbb2_copy_number"] = score["erbb2_copy_number"]
    return st


def _f(x, nd: int = 3) -> str:
    return "NA" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{nd}f}"


def _event_bins(st: dict) -> float:
    """Bins an ERBB2 event of this sample spans: its own segment if known, else 1 Mb."""
    default = DEFAULT_AMPLICON_BP / float(st.get("bin_size") or 500_000)
    return float(st["erbb2_bins"]) if st.get("erbb2_bins") else default


def _can_see(absent: dict, event: str, width_bins: float) -> tuple[bool, str]:
    """Could sample ``absent`` have detected ``event`` (amplified | gain | loss) over ``width_bins``?"""
    p, phi, noise = absent.get("tf_low"), absent.get("ploidy"), absent.get("noise")
    if event == "loss":
        ok = detectable_loss(p, phi, noise, width_bins)
        return ok, (f"{absent['sample']}: a one-copy ERBB2 loss over {width_bins:g} bins "
                    f"{'is' if ok else 'is not'} detectable at tumour fraction {_f(p)}")
    need = AMP_COPY_NUMBER if event == "amplified" else round(float(phi or 2.0)) + 1
    cmin = detectable_copy_number(p, phi, noise, width_bins)
    ok = cmin <= need
    noun = "amplification" if event == "amplified" else "gain"
    return ok, (f"{absent['sample']}: an ERBB2 {noun} ({need} copies over {width_bins:g} bins) "
                f"{'is' if ok else 'is not'} detectable at tumour fraction {_f(p)} (needs {_f(cmin, 1)} copies)")


def classify(prev: dict, cur: dict) -> tuple[str, bool, str]:
    """Event between two assessable timepoints: (event, flagged, detail)."""
    a, b = prev["call"], cur["call"]
    change = f"ERBB2 {a} at {prev['sample']} -> {b} at {cur['sample']}"
    if a == "amplified" and b != "amplified":
        event, absent, other, kind = "her2_switch_amplified_to_not", cur, prev, "amplified"
    elif b == "amplified" and a != "amplified":
        event, absent, other, kind = "her2_switch_to_amplified", prev, cur, "amplified"
    elif (a, b) == ("gain", "neutral"):
        event, absent, other, kind = "her2_switch_gain_to_neutral", cur, prev, "gain"
    elif (a, b) == ("neutral", "gain"):
        event, absent, other, kind = "her2_switch_neutral_to_gain", prev, cur, "gain"
    elif b == "loss" and a != "loss":
        event, absent, other, kind = "erbb2_loss", prev, cur, "loss"
    else:
        return "stable", False, change
    ok, why = _can_see(absent, kind, _event_bins(other))
    if not ok:
        return "not_assessable", False, f"{change}; not flagged: {why}"
    return event, True, f"{change}; {why}"


def transitions(states: list[dict]) -> pd.DataFrame:
    """HER2/ERBB2 transitions for every patient with two or more timepoints (plasma only).

    Each timepoint is compared with the previous assessable timepoint of its patient; a
    timepoint whose own ERBB2 call is ``not_assessable`` gives event ``not_assessable``.
    """
    rows = []
    for patient, group in _by_patient(states).items():
        if len(group) < 2:
            continue
        prev = None
        for cur in group:
            if prev is None:
                if cur["call"] != "not_assessable":
                    prev = cur
                continue
            row = {"patient": patient, "from_sample": prev["sample"], "to_sample": cur["sample"],
                   "from_timepoint": prev["timepoint"], "to_timepoint": cur["timepoint"],
                   "from_call": prev["call"], "to_call": cur["call"]}
            if cur["call"] == "not_assessable":
                row.update(event="not_assessable", flagged=False,
                           detail=f"{cur['sample']}: ERBB2 not assessable ({cur['call_reason']}); "
                                  f"tumour fraction {_f(cur['tumor_fraction'])} [{_f(cur['tf_low'])}, "
                                  f"{_f(cur['tf_high'])}]")
            else:
                ev, flagged, detail = classify(prev, cur)
                row.update(event=ev, flagged=flagged, detail=detail)
                prev = cur
            rows.append(row)
        if prev is None:
            first = group[0]
            rows.append({"patient": patient, "from_sample": first["sample"], "to_sample": group[-1]["sample"],
                         "from_timepoint": first["timepoint"], "to_timepoint": group[-1]["timepoint"],
                         "from_call": first["call"], "to_call": group[-1]["call"], "event": "not_assessable",
                         "flagged": False, "detail": "no timepoint of this patient has an assessable ERBB2 call"})
    return pd.DataFrame(rows, columns=TRANSITION_COLUMNS)


def _by_patient(states: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for st in states:
        if st.get("type", "plasma") == "normal":
            continue
        out.setdefault(str(st.get("patient") or st["sample"]), []).append(st)
    return {p: sorted(g, key=lambda s: (timepoint_key(s.get("timepoint")), s["sample"])) for p, g in sorted(out.items())}


def series(states: list[dict]) -> dict[str, list[dict]]:
    """Per patient (two or more plasma timepoints) the ordered per-sample states."""
    return {p: g for p, g in _by_patient(states).items() if len(g) >= 2}
