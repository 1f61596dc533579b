"""Per-sample bin filtering and GC/mappability correction of read counts.

For usable bins b (sequence present, mappability >= MIN_MAPPABILITY, GC within GC_RANGE, and not
flagged by the panel of normals) the log expected count is modelled as a smooth function of GC and
then of mappability, each a robust LOWESS (statsmodels; local linear, tricube weights, bisquare
robustness iterations as Cleveland 1979, the loess ichorCNA and HMMcopy use). Copy-number changes
are spread across GC values, so they barely bend it, and outlier bins (empty, several-fold high) get
robustness weight 0 instead of bending the curve (issue 17: 1% empty bins had raised the top GC
decile by +0.19 log2 under the least-squares running line); empty bins are left out of the fit:

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
SMOOTH_FRACTION = 0.05  # LOWESS span as a fraction of usable bins (0.1 left the top 2% of GC at -0.08 to -0.28 under steep high-GC drops)
MIN_SPAN_POINTS = 25  # at least this many points per local fit, or one outlier can carry it
ROBUST_ITERATIONS = 3  # bisquare reweightings: an empty or 5x bin gets weight 0 after the first
LOWESS_DELTA = 0.005  # local fits only every this share of the x range, linear in between: 3.5x faster than 0.002,
# and the fitted GC curve of 0.1x plasma moves by at most 0.003 (natural log; bin noise ~0.1)
OUTLIER_LOG2 = 1.0  # an isolated bin this far (log2) from both neighbours, in one direction, is an artefact
OUTLIER_SIGMAS = 5.0  # ... and this many bin-noise MADs (at very low depth 1.0 log2 is within the noise)
LOG2_FLOOR = -5.0  # log2 of empty usable bins (homozygous deletion or dropout)


FINE_GC_GROUPS = 200  # GC quantile groups of fine bins for the fine-scale curve (~1,500 fine bins each)


def fine_gc_expected(fine: pd.DataFrame) -> np.ndarray:
    """Relative expected count per fine bin from its own GC (chrom, gc, mappability, count).

    GC bias acts on fragments, so a 500 kb bin whose 10 kb pieces span a wide GC range (gene-dense,
    GC-rich chromosomes such as 19 and 17, telomeric ends) gets fewer reads under a curved response
    than its mean GC predicts (Jensen's inequality): with a steep high-GC drop chr19p came out at
    -0.15 log2 in healthy plasma after an analysis-bin correction alone. The fine-bin response is the
    mean count per GC quantile group of mappable autosomal fine bins (the top 0.1% of counts left out),
    interpolated, per unit of mappable sequence (reads of a fine bin's multi-mapping share are lost), times
    the fine bin's mappability; its sum over an analysis bin's fine bins is that bin's ``gc_expected``, divided out
    before the analysis-bin fit (which then only mops up what is left). 0 where a fine bin has no GC."""
    gc = fine["gc"].to_numpy(float)
    cnt = fine["count"].to_numpy(float)
    good = np.isfinite(gc) & (fine["mappability"].to_numpy(float) >= MIN_MAPPABILITY) \
        & fine["chrom"].isin(params.AUTOSOMES).to_numpy()  # a hash lookup: np.isin sorts 300,000 strings
    if good.sum() < 10 * FINE_GC_GROUPS or cnt[good].sum() <= 0:
        return np.where(np.isfinite(gc), 1.0, 0.0)
    good &= cnt <= np.quantile(cnt[good], 0.999)
    edges = np.unique(np.quantile(gc[good], np.linspace(0, 1, FINE_GC_GROUPS + 1)))
    grp = np.clip(np.searchsorted(edges, gc[good], side="right") - 1, 0, len(edges) - 2)
    n = np.bincount(grp, minlength=len(edges) - 1)
    mp = np.clip(np.nan_to_num(fine["mappability"].to_numpy(float)), 0.0, 1.0)
    # reads per unit of mappable sequence: a multi-mapping share of a fine bin loses its reads (MAPQ 0)
    mean = np.bincount(grp, weights=cnt[good], minlength=len(edges) - 1) \
        / np.maximum(np.bincount(grp, weights=mp[good], minlength=len(edges) - 1), 1e-12)
    centre = np.bincount(grp, weights=gc[good], minlength=len(edges) - 1) / np.maximum(n, 1)
    keep = n > 0
    curve = np.interp(np.nan_to_num(gc, nan=0.0), centre[keep], mean[keep])
    curve = curve / max(float(np.mean(curve[good])), 1e-12)
    return np.where(np.isfinite(gc), np.maximum(curve * mp, 1e-3), 0.0)


def usable_mask(bins: pd.DataFrame, *, pon_usable: np.ndarray | None = None, drop_chrY: bool = False,
                outliers: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
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
    if outliers is not None:
        rules.append(("outlier", outliers.astype(bool)))
    for name, bad in rules:
        reason[(reason == "") & bad] = name
    return reason == "", reason


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
    fit_on = fit_on & (count > 0)  # an empty usable bin is an artefact or a deletion, never GC information
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.log2(count / mean_raw)
    gc = bins["gc"].to_numpy(dtype=float)
    mp = bins["mappability"].to_numpy(dtype=float)
    ratio = np.full(len(bins), np.nan)
    # fits in log space: multiplicative biases become additive and the line fits steep ends
    logc = np.log(count + 0.5)
    if "gc_expected" in bins:  # fine-scale GC response first (fine_gc_expected); the fit below mops up
        ge = bins["gc_expected"].to_numpy(float)
        logc = logc - np.log(np.where(np.isfinite(ge) & (ge > 0), ge, 1.0))
    known = np.zeros(len(bins)) if known_log2 is None else np.nan_to_num(np.asarray(known_log2, float)) * np.log(2)
    f_gc = robust_curve(gc[fit_on], (logc - known)[fit_on], gc[usable])
    r = logc[usable] - f_gc
    f_map = robust_curve(mp[fit_on], (r - known[usable])[fit_on[usable]], mp[usable])
    ratio[usable] = np.exp(r - f_map)
    with np.errstate(divide="ignore"):
        log2 = np.log2(ratio)
    log2 = np.where(usable, np.maximum(log2 - centre_offset(log2, bins["chrom"].to_numpy(), fit_on), LOG2_FLOOR), np.nan)
    out["raw_log2"] = np.where(np.isfinite(raw), raw, LOG2_FLOOR)
    out["log2"] = log2
    return out


CENTRE_WINDOW = 21  # bins of the running median that takes the noise out before centring (10.5 Mb at 500 kb)


def centre_offset(log2: np.ndarray, chrom: np.ndarray, on: np.ndarray) -> float:
    """The log2 to subtract so that the mean *copy ratio* of the ``on`` bins is 1 (the tumour-fraction
    model's baseline: mean copy number = ploidy), with the bin noise taken out first by a running median
    along each chromosome. Centring the noisy ratios themselves sets neutral bins below 0 by the noise's
    Jensen gap, sigma^2 ln2 / 2 log2 (-0.01 at the noise of 0.05x plasma: every healthy chromosome then sat
    at -0.01 to -0.03 and each neutral segment looked like a slight loss)."""
    v = pd.Series(np.where(on, log2, np.nan))
    smooth = v.groupby(chrom).transform(lambda x: x.rolling(CENTRE_WINDOW, center=True, min_periods=1).median())
    smooth = smooth.to_numpy()[on]
    smooth = smooth[np.isfinite(smooth)]
    return float(np.log2(np.mean(2.0 ** smooth))) if len(smooth) else 0.0


def robust_curve(x_fit: np.ndarray, y_fit: np.ndarray, x_eval: np.ndarray) -> np.ndarray:
    """Robust LOWESS of (x_fit, y_fit), evaluated at x_eval by linear interpolation."""
    from statsmodels.nonparametric.smoothers_lowess import lowess

    if len(x_fit) < 11:
        return np.full(len(x_eval), float(np.median(y_fit)) if len(y_fit) else 0.0)
    span = float(np.ptp(x_fit))
    fitted = lowess(y_fit, x_fit, frac=min(1.0, max(SMOOTH_FRACTION, MIN_SPAN_POINTS / len(x_fit))), it=ROBUST_ITERATIONS, delta=LOWESS_DELTA * span,
                    return_sorted=False)
    order = np.argsort(x_fit, kind="stable")
    xs, fs = x_fit[order], fitted[order]
    # collapse ties so np.interp sees increasing x
    ux, idx = np.unique(xs, return_index=True)
    uf = np.add.reduceat(fs, idx) / np.diff(np.append(idx, len(fs)))
    return np.interp(x_eval, ux, uf)


def flag_outliers(bins: pd.DataFrame, log2: np.ndarray, usable: np.ndarray, *, sigma: float) -> np.ndarray:
    """Usable bins that are artefacts, not copy number: empty while a usable neighbour on the same
    chromosome has reads (a homozygous deletion spans neighbours; a masked region or build patch
    does not), or isolated: more than max(OUTLIER_LOG2, OUTLIER_SIGMAS x sigma) from both nearest
    usable neighbours in the same direction. Bins over genes of interest too: plasma's normal DNA gives
    an empty bin reads, and one bin several-fold above both neighbours cannot be told from an artefact."""
    out = np.zeros(len(bins), bool)
    count = bins["count"].to_numpy()
    chrom = bins["chrom"].to_numpy()
    # a deletion run: the genomically adjacent bin (usable or not) is empty too. Usable neighbours are not
    # enough: two empty bins 2 Mb apart with masked bins full of reads between them had passed as a
    # deletion and, as one 10 Mb segment at -5 log2, put an erbb2 tumour at 0.05 at tumour fraction 0.95
    zero_all = count == 0
    run = zero_all & ((np.r_[False, zero_all[:-1]] & np.r_[False, chrom[1:] == chrom[:-1]])
                      | (np.r_[zero_all[1:], False] & np.r_[chrom[:-1] == chrom[1:], False]))
    thr = max(OUTLIER_LOG2, OUTLIER_SIGMAS * (sigma if np.isfinite(sigma) else 0.0))
    for c in pd.unique(chrom):
        idx = np.flatnonzero((chrom == c) & usable)
        if len(idx) < 3:
            continue
        v = np.asarray(log2, float)[idx]
        zero = count[idx] == 0
        left, right = np.r_[np.nan, v[:-1]], np.r_[v[1:], np.nan]
        empty = zero & ~run[idx]  # an empty bin in a deletion run is kept
        with np.errstate(invalid="ignore"):
            up = (v - left > thr) & (v - right > thr)
            down = (left - v > thr) & (right - v > thr) & ~zero
        out[idx] = empty | up | down
    return out


def noise_mad(log2: np.ndarray) -> float:
    """Robust bin-to-bin noise: MAD of first differences / sqrt(2) (insensitive to segments)."""
    v = log2[np.isfinite(log2)]
    if len(v) < 3:
        return float("nan")
    d = np.diff(v)
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2))
