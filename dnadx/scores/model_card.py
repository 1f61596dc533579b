"""Render MODEL_CARD.md and the model index (models.tsv) from trained models (deterministic text)."""

from __future__ import annotations

import pandas as pd

from dnadx.scores.models import Model


def _auc(m: dict | None) -> str:
    if not m:
        return "–"
    lo, hi = m["auc_ci95"]
    return f"{m['auc']:.3f} ({lo:.3f}–{hi:.3f})"


def _ece(m: dict | None, key: str = "calibration") -> str:
    if not m or key not in m:
        return "–"
    return f"{m[key]['ece']:.3f}"


def index_table(models: list[Model]) -> pd.DataFrame:
    """models.tsv: name, target, exploratory, n_terms, TCGA test and METABRIC AUC (order = load order)."""
    rows = []
    for m in models:
        met = m.meta["metrics"]
        rows.append({"name": m.name, "target": m.meta["target"], "exploratory": int(m.exploratory),
                     "n_terms": m.n_nonzero, "tcga_test_auc": round(met["tcga_test"]["auc"], 4),
                     "metabric_auc": round(met["metabric"]["auc"], 4) if "metabric" in met else None})
    return pd.DataFrame(rows)


def render(models: list[Model], *, training_dir_name: str, baseline: dict | None = None) -> str:
    """The model card: data, split, hyper-parameters, validation and calibration per model."""
    first = models[0].meta
    lines = [
        "# DNADX predictors: model card",
        "",
        "Written by `dnadx train --training-dir <folder> --outdir reference/models`; do not edit by hand",
        "(`dnadx train` re-creates every file here byte-for-byte from the same folder).",
        "",
        "## Data",
        f"- Training folder: `{training_dir_name}` (DNADX BRCA data of Xia et al., Nat Commun 2019, GitHub",
        "  `xyouli-zz/DNA-based-predictors-of-non-genetic-cancer-phenotypes` @ 713c3dc). Inputs are the 536",
        "  DNADX segment scores (mean gene-level log2 ratio per segment). **Licence unclear** (the source",
        "  repository has no LICENSE): treat these coefficients as research-use only.",
        "- TCGA BRCA: training and internal test. METABRIC: external validation only (never used to fit",
        "  coefficients, hyper-parameters or calibration). RPPA and TP53 have no METABRIC labels.",
        f"- Split: {first['training']['split']}.",
        "",
        "## Method",
        f"- Elastic-net logistic regression (own FISTA solver, `dnadx/scores/enet.py`), alpha in "
        f"{first['hyperparameters']['alphas']}, {first['hyperparameters']['n_lambda']} lambdas per alpha,",
        f"  {first['hyperparameters']['cv_folds']}-fold CV AUC on the training part; "
        f"{first['hyperparameters']['rule']}.",
        "- Calibration: Platt scaling p = sigmoid(a + b * eta) fitted on the out-of-fold linear predictors",
        "  of the training part.",
        "- Inputs at prediction: the tumour-fraction-adjusted segment scores of `dnadx score`,",
        "  x = log2(max((2^obs - 1) / f + 1, eps)), clipped to each segment's TCGA training range.",
        "  Dilution by tumour fraction is undone before the model sees the profile, so one calibration",
        "  serves every tumour fraction above the assessable limit. A cohort from another platform is",
        "  put on the TCGA scale by spread standardisation x / s, s = median over segments of",
        "  sd(cohort) / sd(TCGA) (METABRIC: s shown below); this needs a cohort, not one sample.",
        "- A model is **validated** when its METABRIC AUC is >= 0.85, otherwise **exploratory**",
        "  (including every model without an external validation set).",
        "",
        "## Validation (AUC with bootstrap 95% CI, 1000 resamples)",
        "",
        "| model | target | status | terms | alpha | lambda | TCGA test AUC | METABRIC AUC |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for m in models:
        met, hp = m.meta["metrics"], m.meta["hyperparameters"]
        status = "exploratory" if m.exploratory else "validated"
        lines.append(f"| `{m.name}` | {m.meta['target']} | {status} | {m.n_nonzero} | {hp['alpha']:g} | "
                     f"{hp['lambda']:.4g} | {_auc(met['tcga_test'])} | {_auc(met.get('metabric'))} |")
    if baseline:
        lines += ["", f"Baseline: the ERBB2 amplicon segment alone (no fitting) has AUC {_auc(baseline.get('tcga_test'))} "
                  f"on the TCGA test part and {_auc(baseline.get('metabric'))} on METABRIC for HER2 status."]
    lines += [
        "",
        "Reference figures (issue 4, measured on this data): METABRIC AUC HER2 status ~0.94 (ERBB2 segment",
        "alone ~0.94), Basal ~0.90, HER2-enriched ~0.77, LumA ~0.82, LumB ~0.77.",
        "",
        "## Calibration (expected calibration error, 5 equal-count bins; lower is better)",
        "",
        "| model | TCGA test ECE | Brier | METABRIC ECE, raw scores | METABRIC ECE, spread-standardised | METABRIC s |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for m in models:
        met = m.meta["metrics"]
        mb = met.get("metabric")
        s = f"{mb['spread_ratio']:.3f}" if mb else "–"
        lines.append(f"| `{m.name}` | {_ece(met['tcga_test'])} | {met['tcga_test']['calibration']['brier']:.3f} | "
                     f"{_ece(mb)} | {_ece(mb, 'calibration_spread_standardised')} | {s} |")
    lines += ["", "Calibration tables (mean predicted vs observed per bin) are in each `<name>.model.json`;",
              "the dilution curve on simulated plasma is in `benchmarks/models.md`.", "",
              "## Files", "- `segment_ranges.tsv`: TCGA min/max of each segment score (1077 subtype-set samples);",
              "  `dnadx score` clips adjusted scores to it.", "- `models.tsv`: index (load order). `<name>.coef.tsv`: one row per segment: TCGA",
              "  training centre/scale, training min/max (clip range) and coefficient (6 significant digits).",
              "  `<name>.model.json`: target, data, split, hyper-parameters, intercept, Platt a/b, metrics.", ""]
    return "\n".join(lines)
