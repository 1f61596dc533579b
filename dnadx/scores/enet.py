"""Elastic-net penalised logistic regression, solved by accelerated proximal gradient (FISTA).

Pure numpy and deterministic (fixed iteration rule, no random state), fast enough to
cross-validate a full regularisation path in well under a second per fold on the
~700 x 536 DNADX training matrices (scikit-learn's saga solver took 1-5 s per fit).

Objective (glmnet's parametrisation; ``z`` standardised features, ``b`` unpenalised)::

    (1/n) sum_i [ log(1 + exp(eta_i)) - y_i eta_i ]
        + lam * ( alpha * |w|_1 + (1 - alpha) / 2 * |w|_2^2 ),    eta = b + z @ w
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit
from scipy.stats import rankdata


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function 1 / (1 + exp(-x))."""
    return expit(np.asarray(x, dtype=float))


def lambda_max(z: np.ndarray, y: np.ndarray, alpha: float) -> float:
    """Smallest lambda at which every coefficient is zero: max_j |z_j . (y - ybar)| / (n alpha)."""
    r = y - y.mean()
    return float(np.max(np.abs(z.T @ r)) / (len(y) * max(alpha, 1e-3)))


def lipschitz(z: np.ndarray) -> float:
    """Lipschitz constant of the mean logistic-loss gradient in (w, b): ||[z, 1]||_2^2 / (4 n)."""
    aug = np.hstack([z, np.ones((len(z), 1))])
    # Squared spectral norm by power iteration from a fixed start (deterministic, far cheaper
    # than an SVD); the 2% margin keeps 1/L a safe step although power iteration under-estimates.
    v = np.ones(aug.shape[1]) / np.sqrt(aug.shape[1])
    lam = 0.0
    for _ in range(500):
        u = aug.T @ (aug @ v)
        new = float(np.linalg.norm(u))
        v = u / new
        if abs(new - lam) <= 1e-9 * new:
            break
        lam = new
    return 1.02 * new / (4 * len(z))


def fit(z: np.ndarray, y: np.ndarray, *, lam: float, alpha: float, w0: np.ndarray | None = None,
        b0: float | None = None, lip: float | None = None, tol: float = 1e-6,
        max_iter: int = 400) -> tuple[np.ndarray, float]:
    """Fit one (lam, alpha) point by FISTA with gradient-based adaptive restart.

    Parameters
    ----------
    z : (n, p) standardised features.
    y : (n,) 0/1 labels.
    lam, alpha : penalty strength and L1 share (alpha=1 lasso, alpha->0 ridge).
    w0, b0 : warm start (previous point of the path).
    lip : Lipschitz constant from :func:`lipschitz` (recomputed if None).
    tol : stop when max |w_k+1 - w_k| < tol (coefficients are on the standardised scale).

    Returns
    -------
    w : (p,) coefficients; b : intercept.
    """
    n, p = z.shape
    L = (lip if lip is not None else lipschitz(z)) + lam * (1 - alpha)
    step = 1.0 / L
    w = np.zeros(p) if w0 is None else w0.copy()
    b = float(np.log((y.mean() + 1e-9) / (1 - y.mean() + 1e-9))) if b0 is None else float(b0)
    v, c, t = w.copy(), b, 1.0
    thresh = step * lam * alpha
    for _ in range(max_iter):
        r = sigmoid(z @ v + c) - y
        gw = z.T @ r / n + lam * (1 - alpha) * v
        gb = r.mean()
        u = v - step * gw
        w_new = np.sign(u) * np.maximum(np.abs(u) - thresh, 0.0)
        b_new = c - step * gb
        delta = np.max(np.abs(w_new - w), initial=abs(b_new - b))
        # Restart momentum when it points uphill (O'Donoghue & Candes 2015).
        if np.dot(v - w_new, w_new - w) + (c - b_new) * (b_new - b) > 0:
            t = 1.0
        t_new = (1 + np.sqrt(1 + 4 * t * t)) / 2
        mom = (t - 1) / t_new
        v = w_new + mom * (w_new - w)
        c = b_new + mom * (b_new - b)
        w, b, t = w_new, b_new, t_new
        if delta < tol:
            break
    return w, b


def path(z: np.ndarray, y: np.ndarray, lambdas: np.ndarray, *, alpha: float,
         tol: float = 1e-4, lip: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fit a decreasing lambda sequence with warm starts; return W (k, p) and b (k,).

    Each point stops at ``tol`` or after ``fit``'s max_iter (a fixed, deterministic cap).
    """
    lip = lipschitz(z) if lip is None else lip
    W = np.zeros((len(lambdas), z.shape[1]))
    B = np.zeros(len(lambdas))
    w, b = None, None
    for k, lam in enumerate(lambdas):
        w, b = fit(z, y, lam=float(lam), alpha=alpha, w0=w, b0=b, lip=lip, tol=tol)
        W[k], B[k] = w, b
    return W, B


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve by the rank-sum (Mann-Whitney) formula, ties counted half."""
    y = np.asarray(y).astype(bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
