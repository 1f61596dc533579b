"""`dnadx train`: elastic-net DNADX predictors on TCGA BRCA, validated on METABRIC held out.

Recipe (deterministic; every random draw comes from ``numpy.random.default_rng(SEED)``):

1. Split TCGA 70/30, stratified by label x PAM50 subtype code (the authors' balanced
   stratification, Xia et al. 2019; their exact split is not stored).
2. Standardise features with the training mean/sd; record the training min/max (inputs are
   clipped to it at prediction).
3. Grid: alpha in ALPHAS x 10 lambdas log-spaced from lambda_max(alpha)/2 to lambda_max/100;
   CV_FOLDS-fold stratified CV on the training part, metric AUC. One-standard-error rule
   (Hastie, Tibshirani & Friedman): among the points whose mean CV AUC is within one SE of
   the best, choose the sparsest (fewest non-zero coefficients, mean over folds).
4. Platt calibration p = sigmoid(a + b * eta) fitted on the out-of-fold linear predictors of
   the chosen point, so the calibration set was never used to fit the coefficients.
5. Refit on the whole training part; round every parameter to 6 significant digits (the
   shipped text) and evaluate that rounded model on the TCGA test part and on METABRIC.

Continuous targets (RPPA) are binarised at their top tertile (``y >= quantile(y, 0.67)``),
as in the DNADX paper.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dnadx.scores import enet
from dnadx.scores.models import COEF_COLUMNS, Model, cohort_spread_ratio

SEED = 1992  # the authors' set.seed(1992)
TRAIN_SHARE = 0.7
ALPHAS = (0.1, 0.5, 0.9)
N_LAMBDA = 10
CV_FOLDS = 5
BOOTSTRAP = 1000
# External METABRIC AUC needed to call a model validated (else it is labelled exploratory).
VALIDATED_AUC = 0.85


@dataclass(frozen=True)
class Task:
    """One prediction target: where its features and labels live in the training folder."""

    name: str
    target: str
    folder: str
    label: str  # file (two-column) or "<matrix file>:<row>" for rppa/mutation rows
    metabric_x: str = ""
    metabric_y: str = ""
    tertile: bool = False


TASKS = (
    Task("her2_status", "clinical HER2 status (IHC/FISH), TCGA clinical annotation", "her2",
         "HER2_status.tsv.gz", "METABRIC_CN_score.tsv.gz", "METABRIC_HER2_status.tsv.gz"),
    Task("pam50_basal", "PAM50 Basal-like vs rest", "subtype", "basal_status.tsv.gz",
         "METABRIC_CN_score.tsv.gz", "METABRIC_basal_status.tsv.gz"),
    Task("pam50_her2", "PAM50 HER2-enriched vs rest", "subtype", "her2_status.tsv.gz",
         "METABRIC_CN_score.tsv.gz", "METABRIC_her2_status.tsv.gz"),
    Task("pam50_luma", "PAM50 Luminal A vs rest", "subtype", "lumA_status.tsv.gz",
         "METABRIC_CN_score.tsv.gz", "METABRIC_lumA_status.tsv.gz"),
    Task("pam50_lumb", "PAM50 Luminal B vs rest", "subtype", "lumB_status.tsv.gz",
         "METABRIC_CN_score.tsv.gz", "METABRIC_lumB_status.tsv.gz"),
    Task("rppa_her2", "RPPA HER2 total protein, top tertile", "rppa", "rppa.tsv.gz:HER2", tertile=True),
    Task("rppa_her2_py1248", "RPPA HER2 pY1248, top tertile", "rppa", "rppa.tsv.gz:HER2_pY1248", tertile=True),
    Task("tp53_mutation", "TP53 somatic mutation (TCGA MAF)", "mutation", "mutation.tsv.gz:TP53"),
)
TASK_NAMES = tuple(t.name for t in TASKS)


def split(labels: np.ndarray, strata: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Boolean training mask: TRAIN_SHARE of each (label, stratum) cell, drawn by ``rng``."""
    train = np.zeros(len(labels), dtype=bool)
    keys = np.char.add(labels.astype(int).astype(str), np.char.add("|", strata.astype(str)))
    for key in sorted(set(keys.tolist())):
        idx = rng.permutation(np.flatnonzero(keys == key))
        train[idx[: int(round(TRAIN_SHARE * len(idx)))]] = True
    return train


def folds(y: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Fold id per sample, stratified by label (round-robin over a seeded permutation)."""
    f = np.zeros(len(y), dtype=int)
    for cls in (0, 1):
        idx = rng.permutation(np.flatnonzero(y == cls))
        f[idx] = np.arange(len(idx)) % k
    return f


def platt(eta: np.ndarray, y: np.ndarray, iters: int = 50) -> tuple[float, float]:
    """Fit p = sigmoid(a + b * eta) by Newton-Raphson (tiny ridge 1e-6 keeps it well posed)."""
    X = np.column_stack([np.ones_like(eta), eta])
    beta = np.zeros(2)
    for _ in range(iters):
        p = enet.sigmoid(X @ beta)
        g = X.T @ (p - y) + 1e-6 * beta
        H = (X * (p * (1 - p))[:, None]).T @ X + 1e-6 * np.eye(2)
        step = np.linalg.solve(H, g)
        beta -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return float(beta[0]), float(beta[1])


def select(z: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> dict:
    """Cross-validate the (alpha, lambda) grid; return the chosen point and its OOF predictors."""
    fid = folds(y, CV_FOLDS, rng)
    rows = []
    oof = {}
    grids = {alpha: lambda_grid(z, y, alpha) for alpha in ALPHAS}
    fold_data = []
    for k in range(CV_FOLDS):
        tr, te = fid != k, fid == k
        mu, sd = z[tr].mean(0), z[tr].std(0)
        sd[sd == 0] = 1.0
        ztr = (z[tr] - mu) / sd
        fold_data.append((tr, te, ztr, (z[te] - mu) / sd, enet.lipschitz(ztr)))
    for alpha, lambdas in grids.items():
        eta = np.zeros((N_LAMBDA, len(y)))
        nnz = np.zeros(N_LAMBDA)
        for tr, te, ztr, zte, lip in fold_data:
            W, B = enet.path(ztr, y[tr], lambdas, alpha=alpha, lip=lip)
            eta[:, te] = (zte @ W.T + B).T
            nnz += (W != 0).sum(1) / CV_FOLDS
        for j, lam in enumerate(lambdas):
            aucs = [enet.auc(y[fid == k], eta[j, fid == k]) for k in range(CV_FOLDS)]
            rows.append({"alpha": alpha, "lambda": float(lam), "cv_auc": float(np.mean(aucs)),
                         "cv_se": float(np.std(aucs, ddof=1) / np.sqrt(CV_FOLDS)), "nnz": nnz[j]})
            oof[(alpha, j)] = eta[j]
    grid = pd.DataFrame(rows)
    grid["j"] = np.tile(np.arange(N_LAMBDA), len(ALPHAS))
    top = grid.loc[grid["cv_auc"].idxmax()]
    best = top["cv_auc"]
    near = grid[grid["cv_auc"] >= best - top["cv_se"]].sort_values(["nnz", "alpha", "j"], ascending=[True, False, True])
    pick = near.iloc[0]
    return {"alpha": float(pick["alpha"]), "lambda": float(pick["lambda"]), "cv_auc": float(pick["cv_auc"]),
            "best_cv_auc": float(best), "j": int(pick["j"]), "oof_eta": oof[(pick["alpha"], int(pick["j"]))],
            "lambdas": grids[float(pick["alpha"])]}


def lambda_grid(z: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    """N_LAMBDA values log-spaced from lambda_max / 2 down to lambda_max / 100."""
    return enet.lambda_max(z, y, alpha) * np.logspace(np.log10(0.5), -2, N_LAMBDA)


def bootstrap_auc_ci(y: np.ndarray, score: np.ndarray, rng: np.random.Generator) -> list[float]:
    """Percentile 95% CI of the AUC over BOOTSTRAP resamples of the samples."""
    n = len(y)
    vals = []
    for _ in range(BOOTSTRAP):
        i = rng.integers(0, n, n)
        a = enet.auc(y[i], score[i])
        if np.isfinite(a):
            vals.append(a)
    return [float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5))]


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 5) -> dict:
    """Brier score, expected calibration error (equal-count bins) and the binned table."""
    order = np.argsort(p, kind="stable")
    groups = np.array_split(order, bins)
    table = [{"mean_predicted": float(p[g].mean()), "observed": float(y[g].mean()), "n": int(len(g))}
             for g in groups if len(g)]
    ece = sum(abs(r["mean_predicted"] - r["observed"]) * r["n"] for r in table) / len(y)
    return {"brier": float(np.mean((p - y) ** 2)), "ece": float(ece), "bins": table}


def evaluate(model: Model, x: np.ndarray, y: np.ndarray, rng: np.random.Generator, *, spread: float = 1.0) -> dict:
    eta = model.decision(x, spread=spread)
    p = model.predict(x, spread=spread)
    return {"n": int(len(y)), "n_positive": int(y.sum()), "auc": enet.auc(y, eta),
            "auc_ci95": bootstrap_auc_ci(y, eta, rng), "calibration": calibration_table(y, p)}


def fit_task(task: Task, x: pd.DataFrame, y: pd.Series, strata: pd.Series, segments: pd.DataFrame,
             metabric: tuple[pd.DataFrame, pd.Series] | None = None) -> Model:
    """Train, calibrate and validate one model (recipe in the module docstring)."""
    rng = np.random.default_rng(SEED)
    yv = y.to_numpy().astype(float)
    xv = x.to_numpy(dtype=float)
    train = split(yv, strata.to_numpy(), rng)
    xt, yt = xv[train], yv[train]
    center, scale = xt.mean(0), xt.std(0)
    scale[scale == 0] = 1.0
    z = (xt - center) / scale
    sel = select(z, yt, rng)
    W, B = enet.path(z, yt, sel["lambdas"][: sel["j"] + 1], alpha=sel["alpha"])
    a, b = platt(sel["oof_eta"], yt)
    coefs = pd.DataFrame({"segment_index": segments["segment_index"].to_numpy(), "segment_id": segments["segment_id"].to_numpy(),
                          "center": center, "scale": scale, "train_min": xt.min(0), "train_max": xt.max(0), "coef": W[-1]})
    for col in COEF_COLUMNS[2:]:
        coefs[col] = [float(f"{v:.6g}") + 0.0 for v in coefs[col]]  # + 0.0 turns -0.0 into 0.0
    r = lambda v: float(f"{v:.6g}")  # noqa: E731  (the shipped precision)
    meta = {
        "target": task.target,
        "training": {"folder": task.folder, "label": task.label, "n_samples": int(len(yv)), "n_positive": int(yv.sum()),
                     "label_rule": "top tertile (y >= quantile(y, 0.67))" if task.tertile else "0/1 as given",
                     "split": f"{TRAIN_SHARE:.0%} train / {1 - TRAIN_SHARE:.0%} test, stratified by label x PAM50 code, seed {SEED}",
                     "n_train": int(train.sum()), "n_test": int((~train).sum())},
        "hyperparameters": {"alpha": sel["alpha"], "lambda": sel["lambda"], "cv_auc": sel["cv_auc"],
                            "best_cv_auc": sel["best_cv_auc"], "alphas": list(ALPHAS), "n_lambda": N_LAMBDA,
                            "cv_folds": CV_FOLDS, "rule": "sparsest point with CV AUC >= best - 1 SE (one-standard-error rule)"},
        "calibration": {"method": "platt", "fitted_on": "out-of-fold linear predictors of the TCGA training part",
                        "input": "tumour-fraction-adjusted segment scores clipped to [train_min, train_max]"},
    }
    model = Model(task.name, coefs, r(B[-1]), r(a), r(b), exploratory=True, meta=meta)
    metrics = {"tcga_test": evaluate(model, xv[~train], yv[~train], rng)}
    if metabric is not None:
        mx, my = metabric[0].to_numpy(dtype=float), metabric[1].to_numpy().astype(float)
        s = cohort_spread_ratio(mx, model)
        metrics["metabric"] = evaluate(model, mx, my, rng)
        metrics["metabric"]["spread_ratio"] = s
        metrics["metabric"]["calibration_spread_standardised"] = calibration_table(my, model.predict(mx, spread=s))
    ext = metrics.get("metabric", {}).get("auc")
    exploratory = ext is None or ext < VALIDATED_AUC
    reason = ("no external validation set" if ext is None else
              f"METABRIC AUC {ext:.3f} {'<' if exploratory else '>='} {VALIDATED_AUC}")
    meta = dict(meta, metrics=metrics, n_nonzero=int((coefs["coef"] != 0).sum()), exploratory_reason=reason)
    return Model(task.name, coefs, model.intercept, model.platt_a, model.platt_b, exploratory=exploratory, meta=meta)


ERBB2_SEGMENT = "chr17:35067383-35272328.BeroukhimS2.17q12.amp.ERBB2"


def erbb2_baseline(x: pd.DataFrame, y: pd.Series, strata: pd.Series,
                   metabric: tuple[pd.DataFrame, pd.Series] | None) -> dict:
    """AUC of the ERBB2 amplicon segment alone (no fitting), on the same TCGA test part and METABRIC."""
    rng = np.random.default_rng(SEED)
    yv = y.to_numpy().astype(float)
    test = ~split(yv, strata.to_numpy(), rng)
    col = [c for c in x.columns if c.replace("_", ".") == ERBB2_SEGMENT.replace("_", ".")][0]
    out = {"tcga_test": {"auc": enet.auc(yv[test], x[col].to_numpy()[test])}}
    out["tcga_test"]["auc_ci95"] = bootstrap_auc_ci(yv[test], x[col].to_numpy()[test], rng)
    if metabric is not None:
        mx, my = metabric[0][col].to_numpy(), metabric[1].to_numpy()
        out["metabric"] = {"auc": enet.auc(my, mx), "auc_ci95": bootstrap_auc_ci(my, mx, rng)}
    return out
