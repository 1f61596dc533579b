"""`summary.tsv`: one row per sample, the DESIGN output contract (pure: dicts in, table out)."""

from __future__ import annotations

import pandas as pd

from dnadx.variants.resistance import reported_calls

COLUMNS = ["sample", "patient", "timepoint", "type", "reads_kept", "tumor_fraction", "tumor_fraction_low",
           "tumor_fraction_high", "ploidy", "erbb2_log2", "erbb2_copy_number", "erbb2_call", "erbb2_amplicon_score",
           "her2_dna_probability", "group", "resistance", "qc_status", "qc_reasons", "sex", "noise_mad", "ploidy_ambiguous"]


def _ambiguity(cnv: dict) -> str | None:
    """'no' when the ploidy is not ambiguous, else the competing solutions as 'TF 0.260 at ploidy 2.00; ...'."""
    if "ploidy_ambiguous" not in cnv:
        return None
    alts = cnv.get("ploidy_alternatives") or []
    return "; ".join(f"TF {a['tumor_fraction']:.3f} at ploidy {a['ploidy']:.2f}" for a in alts) if cnv["ploidy_ambiguous"] else "no"


def summary_row(sample: dict, cnv: dict | None, score: dict | None, group: dict | None,
                resistance: str | None, failure: str | None = None, *, qc: dict | None = None,
                erbb2_state: dict | None = None) -> dict:
    """One summary row. ``sample`` holds sample/patient/timepoint/type; missing stages give NA.

    ``qc`` (from ``dnadx.report.qc.assess``), when given, supplies qc_status and qc_reasons.
    ``erbb2_state`` (``dnadx.report.longitudinal.sample_state``: the one ERBB2 rule), when given, supplies
    erbb2_call, erbb2_log2 and erbb2_copy_number, so they match the report and resistance.tsv.
    """
    row = {c: None for c in COLUMNS}
    row.update({k: sample.get(k) for k in ("sample", "patient", "timepoint", "type")})
    if cnv:
        lo, hi = cnv.get("tumor_fraction_ci", [None, None])
        row.update(reads_kept=cnv.get("reads_kept"), tumor_fraction=cnv.get("tumor_fraction"),
                   tumor_fraction_low=lo, tumor_fraction_high=hi, ploidy=cnv.get("ploidy"), sex=cnv.get("sex"),
                   noise_mad=cnv.get("noise_mad"), qc_status=cnv.get("qc_status"),
                   ploidy_ambiguous=_ambiguity(cnv),
                   qc_reasons="; ".join(cnv.get("qc_reasons", [])))
        erbb2 = cnv.get("genes_of_interest", {}).get("ERBB2", {})
        row.update(erbb2_log2=erbb2.get("segment_log2"), erbb2_copy_number=erbb2.get("copy_number"))
    if score:
        for key in ("erbb2_log2", "erbb2_copy_number", "erbb2_call", "erbb2_amplicon_score", "her2_dna_probability"):
            if key in score:
                row[key] = score[key]
    if cnv and erbb2_state:
        row.update(erbb2_call=erbb2_state["call"], erbb2_log2=erbb2_state.get("erbb2_log2"),
                   erbb2_copy_number=erbb2_state.get("erbb2_copy_number"))
    if group:
        row["group"] = group.get("group")
    row["resistance"] = resistance
    if failure:
        row.update(qc_status="fail", qc_reasons=failure)
    if qc:
        row.update(qc_status=qc["status"], qc_reasons="; ".join(qc["reasons"]))
    return row


def group_of(clusters: pd.DataFrame | None, sample: str) -> dict | None:
    """The `cohort.clusters.tsv` row of ``sample`` as a dict (None when absent)."""
    if clusters is None or "sample" not in clusters:
        return None
    hit = clusters[clusters["sample"].astype(str) == sample]
    return None if hit.empty else hit.iloc[0].to_dict()


def resistance_summary(table: pd.DataFrame | None) -> str | None:
    """One line from `<id>.resistance.tsv`: the called alterations, else what could not be read."""
    if table is None or "status" not in table:
        return None
    names = reported_calls(table) if {"level", "gene", "alteration", "hgvs_p"} <= set(table.columns) else []
    if names:
        return "; ".join(names)
    if "level" in table and ((table["level"] == "sample") & (table["status"] == "not_assessable")).any():
        return "none called (point mutations not assessable)"
    return "none called"


def summary_table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)
