"""`dnadx score` stage: cnv outputs -> gene-level log2, 536 DNADX scores, ERBB2 call, predictions.

Predictions use the tumour-fraction-adjusted scores (``score_adjusted``): dilution by
tumour fraction is undone so the calibrated TCGA models see tumour-level amplitudes. When
the tumour fraction is below MIN_TF_ADJUST (no adjusted scores), predictions are null and
the reason is given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dnadx.scores.erbb2 import call_erbb2
from dnadx.scores.models import Model, predict_all
from dnadx.scores.segments import MIN_TF_ADJUST, gene_log2, segment_scores

HER2_MODEL = "her2_status"


def score_sample(bins: pd.DataFrame, cnv: dict, *, genes: pd.DataFrame, segment_genes: pd.DataFrame,
                 ranges: pd.DataFrame | None, models: dict[str, Model]) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Score one sample.

    Parameters
    ----------
    bins : `<id>.bins.tsv.gz` table (chrom, start, end, usable, segment, segment_log2).
    cnv : `<id>.cnv.json` content (tumor_fraction, tumor_fraction_ci, ploidy, noise_mad, ...).
    genes, segment_genes : reference genes of the sample's build and the DNADX gene sets.
    ranges : TCGA clip range per segment (segment_id, tcga_min, tcga_max).
    models : shipped predictors by name.

    Returns
    -------
    (gene table, 536-row score table, summary dict for `<id>.score.json`).
    """
    tf = cnv.get("tumor_fraction")
    tf = float(tf) if tf is not None else None
    gtab = gene_log2(bins, genes)
    scores = segment_scores(gtab, segment_genes, tumour_fraction=tf, ranges=ranges)
    noise = float(cnv.get("noise_mad") or 0.0)
    erbb2 = call_erbb2(bins, gtab, scores, tumour_fraction=tf, tumour_fraction_ci=cnv.get("tumor_fraction_ci"),
                       ploidy=cnv.get("ploidy"), noise_sd=noise, tumour_detected=cnv.get("tumor_detected"),
                       qc_status=cnv.get("qc_status"))
    x = scores["score_adjusted"].to_numpy(dtype=float)
    if np.isfinite(x).any():
        preds, status = predict_all(models, x), "ok"
    else:
        preds = {n: {"probability": None, "exploratory": bool(m.exploratory), "target": m.meta.get("target", "")}
                 for n, m in models.items()}
        status = f"not_assessable: tumour fraction {tf} below {MIN_TF_ADJUST} (no adjusted scores)"
    her2 = preds.get(HER2_MODEL, {}).get("probability")
    summary = {
        "sample": cnv.get("sample"), "genome": cnv.get("genome"), "tumor_fraction": tf,
        "tumor_fraction_ci": cnv.get("tumor_fraction_ci"), "ploidy": cnv.get("ploidy"), "noise_mad": noise,
        **erbb2,
        "her2_dna_probability": her2,
        "predictions": preds, "predictions_status": status,
        "predictions_input": "score_adjusted (tumour-fraction-adjusted, clipped to the TCGA range)",
        "segments_with_score": int(scores["score_raw"].notna().sum()),
        "gene_flags": {k: int(v) for k, v in gtab.loc[gtab["flag"] != "", "flag"].value_counts().sort_index().items()},
    }
    return gtab, scores, summary
