"""Per-sample bin filtering and GC/mappability correction of read counts.

For usable bins b (sequence present, mappability >= MIN_MAPPABILITY, GC within GC_RANGE, and not
flagged by the panel of normals) the log expected count is modelled as a smooth function of GC and
then of mappability, each a local linear fit over neighbouring bins sorted by the covariate (copy-
number changes are spread across GC values, so they barely bend it):

    r_b = log(count_b + 0.5) - f_gc(gc_b);   ratio_b = exp(r_b - f_map(map_b));
    log2_b = log2(ratio_b / mean(ratio_autosomes))

Centring by the linear mean (not the median) keeps the tumour model's expectation
log2((2(1-p) + p*c) / (2(1-p) + p*phi)) exact: phi is the mean tumour copy number over the same bins.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dnadx.core import params

MIN_MAPPABILITY = 0.9  # ichorCNA's mapScoreThres default; below it MAPQ filtering distorts counts
GC_RANGE = (0.28, 0.68)  # outside: too few bins to fit the GC curve reliably
SMOOTH_FRACTION = 0.05  # running-median window as a fraction of usable bins
LOG2_FLOOR = -5.0  # log2 of empty usable bins (homozygous deletion or dropout)


def usable_mask(bins: pd.DataFrame, *, pon_usable: np.ndarray | None = None, drop_chrY: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Return (usable, drop_reason) per bin; the first failing rule names the reason."""
    gc = bins["gc"].to_numpy(dtype=float)
    mp = bins["mappability"].to_numpy(dtype=float)
    chrom = bins["chrom"].to_numpy()
    reason = np.full(len(bins), "", dtype=object)
    rules = [
        ("no_sequence", ~np.isfinite(gc)),
        ("low_mappability", ~(mp >= MIN_MAPPABILITY)),
        ("extreme_gc", ~((gc >= GC_RANGE[0]) & (gc <= GC_RANGE[1]))),
        ("not_canonical", ~np.isin(chrom, params.CHROMOSOMES)),
    ]
    if drop_chrY:
        rules.append(("chrY_female", chrom == "chrY"))
    if pon_usable is not None:
        rules.append(("pon_flagged", ~pon_usable.astype(bool)))
    for name, bad in rules:
        reason[(reason == "") & bad] = name
    return reason == "", reason


def running_linear_fit(x: np.ndarray, y: np.ndarray, *, fraction: float = SMOOTH_FRACTION) -> np.ndarray:
    """Local linear fit at each point over its ``fraction`` nearest neighbours in x order.

    The window keeps its full width at the ends (shifted inwards) and fits a line rather than a
    constant, so steep GC curves at extreme GC (telomeric, high-GC regions) are not flattened as a
    running median would flatten them. O(n) with cumulative sums.
    """
    n = len(x)
    if n == 0:
        return np.zeros(0)
    w = min(n, max(11, int(fraction * n)))
    order = np.argsort(x, kind="stable")
    xs, ys = x[order].astype(float), y[order].astype(float)
    lo = np.clip(np.arange(n) - w // 2, 0, n - w)
    hi = lo + w

    def win(v):
        c = np.concatenate([[0.0], np.cumsum(v)])
        return c[hi] - c[lo]

    x0 = xs.mean()
    xc = xs - x0  # centred for numerical stability
    sx, sy, sxx, sxy = win(xc), win(ys), win(xc * xc), win(xc * ys)
    den = w * sxx - sx * sx
    slope = np.where(den > 1e-12, (w * sxy - sx * sy) / np.where(den > 1e-12, den, 1.0), 0.0)
    fit_sorted = (sy - slope * sx) / w + slope * xc
    fit = np.empty(n)
    fit[order] = fit_sorted
    return fit


def correct(bins: pd.DataFrame, usable: np.ndarray, *, known_log2: np.ndarray | None = None) -> pd.DataFrame:
    """Add `raw_log2` (count vs mean) and `log2` (GC- and mappability-corrected) columns.

    Unusable bins get NaN. Fits use usable autosomal bins only, so sex chromosomes and tumour
    sex-chromosome changes do not bend the curves. ``known_log2`` (per bin, e.g. the copy-number
    model's expectation from a first pass) is taken out of the counts before the curves are fitted
    and kept in the result: where copy-number changes happen to sit in GC-rich or GC-poor regions, the
    curves then no longer absorb part of them.
    """
    out = bins.copy()
    count = bins["count"].to_numpy(dtype=float)
    auto = bins["chrom"].isin(params.AUTOSOMES).to_numpy()
    fit_on = usable & auto
    if fit_on.sum() < 50:
        from dnadx.core.errors import DataError
        raise DataError(f"only {int(fit_on.sum())} usable autosomal bins; too few to correct GC bias "
                        "(check the genome build and bin size)")
    mean_raw = count[fit_on].mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.log2(count / mean_raw)
    gc = bins["gc"].to_numpy(dtype=float)
    mp = bins["mappability"].to_numpy(dtype=float)
    ratio = np.full(len(bins), np.nan)
    # fits in log space: multiplicative biases become additive and the line fits steep ends
    logc = np.log(count + 0.5)
    known = np.zeros(len(bins)) if known_log2 is None else np.nan_to_num(np.asarray(known_log2, float)) * np.log(2)
    f_gc = _interp_fit(gc[fit_on], (logc - known)[fit_on], gc[usable])
    r = logc[usable] - f_gc
    f_map = _interp_fit(mp[fit_on], (r - known[usable])[fit_on[usable]], mp[usable])
    ratio[usable] = np.exp(r - f_map)
    ratio /= np.nanmean(ratio[fit_on])
    with np.errstate(divide="ignore"):
        log2 = np.where(usable, np.maximum(np.log2(ratio), LOG2_FLOOR), np.nan)
    out["raw_log2"] = np.where(np.isfinite(raw), raw, LOG2_FLOOR)
    out["log2"] = log2
    return out


def _interp_fit(x_fit: np.ndarray, y_fit: np.ndarray, x_eval: np.ndarray) -> np.ndarray:
    """Local-linear curve fitted on (x_fit, y_fit), evaluated at x_eval by interpolation."""
    fitted = running_linear_fit(x_fit, y_fit)
    order = np.argsort(x_fit, kind="stable")
    xs, fs = x_fit[order], fitted[order]
    # collapse ties so np.interp sees increasing x
    ux, idx = np.unique(xs, return_index=True)
    uf = np.array([np.mean(fs[i:j]) for i, j in zip(idx, list(idx[1:]) + [len(fs)])])
    return np.interp(x_eval, ux, uf)


def noise_mad(log2: np.ndarray) -> float:
    """Robust bin-to-bin noise: MAD of first differences / sqrt(2) (insensitive to segments)."""
    v = log2[np.isfinite(log2)]
    if len(v) < 3:
        return float("nan")
    d = np.diff(v)
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2))
