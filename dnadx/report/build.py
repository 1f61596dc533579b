"""`dnadx report` stage: per-sample results of a batch -> one report model (pure; no files).

The model holds plain tables and dicts that `report_html` renders and `multiqc` exports; it
is built from whatever stage outputs exist: a stage that did not run is recorded as
"not run" and its sections say so, so the report never fails for a missing optional output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dnadx.report import longitudinal, qc
from dnadx.report.summary import group_of, resistance_summary, summary_row, summary_table

STAGES = ("cnv", "score", "cluster", "variants")
# Segments listed per sample under "DNADX highlights" (largest |score| first).
N_HIGHLIGHTS = 8
RESISTANCE_COLUMNS = ["level", "gene", "alteration", "status", "depth", "lod95", "vaf", "hgvs_p", "tumor_fraction",
                      "copy_number", "detail", "caveat", "evidence"]
MODEL_CAVEAT = ("Models were trained on TCGA breast-tumour tissue DNADX scores and validated on METABRIC (held out); "
                "here they are applied to tumour-fraction-adjusted plasma scores. Models flagged exploratory "
                "(METABRIC AUC below 0.85 or no external validation) are hypotheses, not results. Research use only: "
                "not a clinical HER2 test.")


@dataclass
class Report:
    summary: pd.DataFrame
    samples: list[dict]
    transitions: pd.DataFrame
    series: dict[str, list[dict]]
    stages: dict[str, str]
    clusters: pd.DataFrame | None = None
    heatmap: bytes | None = None
    methods: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def highlights(dnadx: pd.DataFrame | None, n: int = N_HIGHLIGHTS) -> tuple[pd.DataFrame | None, str]:
    """The ``n`` DNADX segments with the largest |score|: adjusted when available, else raw."""
    if dnadx is None or "score_raw" not in dnadx:
        return None, ""
    col = "score_adjusted" if "score_adjusted" in dnadx and dnadx["score_adjusted"].notna().any() else "score_raw"
    d = dnadx.dropna(subset=[col])
    d = d.reindex(d[col].abs().sort_values(ascending=False, kind="stable").index).head(n)
    keep = [c for c in ("segment_id", "score_raw", "score_adjusted", "n_genes_used", "n_genes") if c in d]
    return d[keep].reset_index(drop=True), col


def predictions(score: dict | None, models: pd.DataFrame | None) -> pd.DataFrame | None:
    """score.json predictions as a table with the model-card figures beside each model."""
    if not score or not score.get("predictions"):
        return None
    rows = []
    card = models.set_index("name") if models is not None and "name" in models else None
    for name, p in sorted(score["predictions"].items()):
        row = {"model": name, "target": p.get("target", ""), "probability": p.get("probability"),
               "exploratory": bool(p.get("exploratory")), "missing_terms": p.get("missing_terms")}
        if card is not None and name in card.index:
            for k in ("tcga_test_auc", "metabric_auc"):
                row[k] = card.loc[name].get(k)
        rows.append(row)
    return pd.DataFrame(rows)


def resistance_rows(table: pd.DataFrame | None) -> pd.DataFrame | None:
    if table is None:
        return None
    return table[[c for c in RESISTANCE_COLUMNS if c in table]].reset_index(drop=True)


def _stage_status(samples: list[dict], key: str) -> str:
    have = sum(1 for s in samples if s.get(key) is not None)
    return "run" if have == len(samples) and have else "not run" if not have else f"run for {have} of {len(samples)}"


def build_report(samples: list[dict], batch: dict, *, models: pd.DataFrame | None = None,
                 manifest: pd.DataFrame | None = None, version: str = "", problems: list[str] | None = None) -> Report:
    """Assemble the report model.

    Parameters
    ----------
    samples : per sample a dict with ``meta`` (sample, patient, timepoint, type) and the stage
        outputs that exist (``cnv``, ``score``, ``count_qc`` dicts; ``bins``, ``dnadx``,
        ``resistance`` tables; ``cnv_png`` bytes); a missing output is None.
    batch : ``clusters`` table, ``heatmap`` PNG bytes, ``provenance`` dict (each may be None).
    models : `reference/models/models.tsv` (model-card summary), if shipped.
    manifest : reference bundle MANIFEST (file, bytes, sha256).
    version : dnadx version writing the report.
    """
    prov = batch.get("provenance") or {}
    failed = prov.get("failed") or {}
    clusters = batch.get("clusters")
    rows, out, states = [], [], []
    for s in samples:
        meta, cnv, score = s["meta"], s.get("cnv"), s.get("score")
        q = qc.assess(meta, cnv, failure=failed.get(meta["sample"]))
        group = group_of(clusters, meta["sample"])
        st = longitudinal.sample_state(meta, cnv, score, s.get("bins"))
        rows.append(summary_row(meta, cnv, score, group, resistance_summary(s.get("resistance")),
                                failed.get(meta["sample"]), qc=q, erbb2_state=st))
        states.append(st)
        hl, hl_col = highlights(s.get("dnadx"))
        out.append({**s, "qc": q, "group": group, "erbb2": st, "highlights": hl, "highlights_column": hl_col,
                    "predictions": predictions(score, models), "resistance_table": resistance_rows(s.get("resistance"))})
    summary = summary_table(rows)
    stages = {"cnv": _stage_status(samples, "cnv"), "score": _stage_status(samples, "score"),
              "cluster": "run" if clusters is not None else "not run",
              "variants": _stage_status(samples, "resistance")}
    return Report(summary=summary, samples=out, transitions=longitudinal.transitions(states),
                  series=longitudinal.series(states), stages=stages, clusters=clusters, heatmap=batch.get("heatmap"),
                  methods=dict(methods(samples, prov, manifest, version), pon_check=batch.get("pon_check")),
                  problems=list(problems or []))


def methods(samples: list[dict], prov: dict, manifest: pd.DataFrame | None, version: str) -> dict:
    """Versions, parameters and reference checksums for the methods section."""
    params = []
    for s in samples:
        cnv, cq = s.get("cnv") or {}, s.get("count_qc") or {}
        filters = cq.get("filters") or {}
        params.append({"sample": s["meta"]["sample"], "genome": cnv.get("genome"), "bin_size": cnv.get("bin_size"),
                       "panel_of_normals": cnv.get("pon") or "none", "min_mapq": filters.get("min_mapq"),
                       "exclude_flags": filters.get("exclude_flags"), "fine_bin_size": filters.get("bin_size"),
                       "pon_left_out": cnv.get("pon_left_out"),
                       "systematic_sd": (cnv.get("systematic_sd") or {}).get("tau"),
                       "systematic_block_sd": (cnv.get("systematic_sd") or {}).get("tau_blocks"),
                       "ploidy_ambiguous": cnv.get("ploidy_ambiguous"),
                       "tumour_fraction_method": cnv.get("tumor_fraction_method"), "sex_method": cnv.get("sex_method"),
                       "predictions_input": (s.get("score") or {}).get("predictions_input")})
    ptab = pd.DataFrame(params)
    changed = []
    if manifest is not None and prov.get("reference_manifest"):
        then = {r["file"]: r["sha256"] for r in prov["reference_manifest"]}
        now = dict(zip(manifest["file"], manifest["sha256"]))
        changed = sorted(f for f in set(then) | set(now) if then.get(f) != now.get(f))
    return {"version": version, "run_version": prov.get("dnadx_version"), "command": prov.get("command"),
            "started": prov.get("started"), "finished": prov.get("finished"), "genome": prov.get("genome"),
            "bin_size": prov.get("bin_size"), "parameters": ptab, "manifest": manifest, "manifest_changed": changed,
            "model_caveat": MODEL_CAVEAT}


def finite(x) -> bool:
    try:
        return x is not None and bool(np.isfinite(float(x)))
    except (TypeError, ValueError):
        return False
