"""MultiQC custom-content files, so a Nextflow run's MultiQC report shows dnadx metrics.

Two files (MultiQC picks up any `*_mqc.json`; see its "Custom Content" docs):
- `dnadx_general_stats_mqc.json`: columns added to the General Statistics table.
- `dnadx_summary_mqc.json`: section `dnadx_summary` (the id `assets/multiqc_config.yml` orders
  first), one row per sample with tumour fraction interval, ERBB2, group, QC and reasons.
- `dnadx_longitudinal_mqc.json` (when a patient has two or more timepoints): the HER2/ERBB2
  transitions with the flagged ones marked.
"""

from __future__ import annotations

import math

import pandas as pd

GENERAL = {  # summary column -> MultiQC header
    "reads_kept": {"title": "Reads kept", "description": "fragments counted after filters", "format": "{:,.0f}",
                   "scale": "Blues"},
    "tumor_fraction": {"title": "Tumour fraction", "description": "dnadx tumour fraction (point)", "min": 0, "max": 1,
                       "format": "{:,.3f}", "scale": "OrRd"},
    "noise_mad": {"title": "Noise", "description": "bin-to-bin MAD of log2", "format": "{:,.3f}", "scale": "Greys"},
    "erbb2_copy_number": {"title": "ERBB2 CN", "description": "ERBB2 tumour copy number", "format": "{:,.1f}",
                          "scale": "Reds"},
}
TABLE = {
    "patient": "Patient", "timepoint": "Timepoint", "tumor_fraction": "Tumour fraction",
    "tumor_fraction_low": "TF 95% low", "tumor_fraction_high": "TF 95% high", "ploidy": "Ploidy",
    "erbb2_call": "ERBB2 call", "erbb2_amplicon_score": "ERBB2 amplicon score",
    "her2_dna_probability": "HER2 DNA probability", "group": "Group", "resistance": "Resistance",
    "qc_status": "QC", "qc_reasons": "QC reasons",
}


def _val(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if hasattr(v, "item"):
        v = v.item()
    return v


def general_stats(summary: pd.DataFrame) -> dict:
    data = {str(r["sample"]): {k: _val(r[k]) for k in GENERAL if _val(r[k]) is not None}
            for r in summary.to_dict("records")}
    return {"id": "dnadx_general_stats", "plot_type": "generalstats", "headers": GENERAL,
            "pconfig": [{k: v} for k, v in GENERAL.items()], "data": data}


def summary_table(summary: pd.DataFrame, erbb2_calls: dict[str, str]) -> dict:
    """The dnadx summary section; ERBB2 call falls back to the copy-state call when score did not run."""
    data = {}
    for r in summary.to_dict("records"):
        row = {k: _val(r.get(k)) for k in TABLE}
        if row.get("erbb2_call") is None:
            row["erbb2_call"] = erbb2_calls.get(str(r["sample"]))
        data[str(r["sample"])] = {k: v for k, v in row.items() if v is not None}
    # placement keeps TABLE's column order (the JSON is written with sorted keys)
    headers = {k: {"title": t, "placement": 10 * (i + 1)} for i, (k, t) in enumerate(TABLE.items())}
    return {"id": "dnadx_summary", "section_name": "dnadx summary",
            "description": "Per-sample dnadx results (summary.tsv); the full report is report.html.",
            "plot_type": "table", "pconfig": {"id": "dnadx_summary_table", "title": "dnadx summary"},
            "headers": headers, "data": data}


def longitudinal_table(transitions: pd.DataFrame) -> dict | None:
    if transitions is None or transitions.empty:
        return None
    data = {}
    for r in transitions.to_dict("records"):
        key = f"{r['patient']}: {r['from_sample']} -> {r['to_sample']}"
        data[key] = {"event": r["event"], "flagged": "yes" if r["flagged"] else "no", "detail": r["detail"]}
    return {"id": "dnadx_longitudinal", "section_name": "dnadx longitudinal HER2/ERBB2",
            "description": "Changes between timepoints of a patient, flagged only where tumour fraction allows the call.",
            "plot_type": "table", "pconfig": {"id": "dnadx_longitudinal_table", "title": "dnadx longitudinal"},
            "data": data}


def files(summary: pd.DataFrame, transitions: pd.DataFrame, erbb2_calls: dict[str, str]) -> dict[str, dict]:
    """{file name: JSON content} of every custom-content file to write."""
    out = {"dnadx_general_stats_mqc.json": general_stats(summary),
           "dnadx_summary_mqc.json": summary_table(summary, erbb2_calls)}
    lon = longitudinal_table(transitions)
    if lon:
        out["dnadx_longitudinal_mqc.json"] = lon
    return out
