"""Panel of normals from healthy-donor plasma: per-bin centre and spread of corrected log2.

`median` is the per-bin median shrunk towards 0 by the share of its variance that is systematic, in two
parts (`shrink`): its region's mean (arm-scale; `regional_shrinkage`) and the bin's deviation from it
(`shrinkage`); `raw_median` keeps the unshrunk value. Male chrX/chrY log2 values are shifted by +1 (to one copy's level) before aggregation, so the panel
holds sex-independent medians and a sample keeps its own sex baseline after normalisation. Bins are
flagged unusable with a reason: the annotation rules of `correction.usable_mask`, `pon_missing`
(fewer than 2 normals with a value), `pon_offset` (|median| > OFFSET_MAX: a systematic artefact),
`pon_variance` (a bin whose spread across normals is larger than the panel's typical spread, by a
chi-square test on the noise-standardised values at a genome-wide false-flag rate VARIANCE_ALPHA: with
five normals a MAD over five values is too noisy to drop bins on; issue 17 had 42 bins flagged by
chance, the ERBB2 bin among them). A bin overlapping a gene of interest (``protect``) is never dropped
for spread or offset: it stays usable with the reason recorded as ``kept_<rule>`` and its spread in
``variance_inflation`` (observed / typical variance).

`normals_matrix` keeps each normal's corrected log2 (the `PREFIX.pon-normals.tsv.gz` file), so a panel
can be rebuilt without one of them (`leave_one_out`): the self-check of `dnadx pon` and each normal's
own copy-number call in `dnadx run` use a panel that does not contain that normal.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from dnadx.cnv import correction, segmentation, sex as sexmod
from dnadx.core.errors import InputError
from dnadx.core.params import AUTOSOMES

MIN_NORMALS = 3
RECOMMENDED_NORMALS = 15
OFFSET_MAX = 0.4
VARIANCE_ALPHA = 0.05  # chance that any bin of the genome is flagged for spread when none is special
REGION_KEEP_Z = 3.0  # a region keeps its own James-Stein share only where its level is this many SE from 0: the
# share 1 - noise / level^2 kept 0.7 of a chance +1.5 SE level (17p +0.024 over 33 bins, five normals at 0.9 M pairs:
# the 0.1x block's panel, tune seeds), and every sample of that batch had 17p at -0.02 (under stop 29's variance
# model three tumours at TF 0.05-0.15 were called 17p loss)
EXCLUDED_PREFIX = "excluded:"  # a normals-matrix column of a normal the leave-one-out check left out of the panel
MIN_SPREAD_NORMALS = 3  # the chi-square test's false-flag rate holds for any n >= 3 (it gets less powerful, not noisier)


def normal_log2(bins: pd.DataFrame) -> tuple[np.ndarray, str]:
    """Corrected log2 of one normal (annotated analysis bins), sex-adjusted; returns (log2, sex)."""
    usable, _ = correction.usable_mask(bins)
    cor = correction.correct(bins, usable)
    log2 = cor["log2"].to_numpy(float).copy()
    auto = bins["chrom"].isin([f"chr{i}" for i in range(1, 23)]).to_numpy()
    outliers = correction.flag_outliers(bins, log2, usable, sigma=correction.noise_mad(log2[auto]))
    if outliers.any():  # corrected as a sample is: the artefact bins neither bend the fit nor enter the median
        usable &= ~outliers
        log2 = correction.correct(bins, usable)["log2"].to_numpy(float).copy()
    s = sexmod.infer_sex(bins, log2)["sex"]
    chrom = bins["chrom"].to_numpy()
    if s == "male":
        log2[(chrom == "chrX") | (chrom == "chrY")] += 1.0
    else:
        log2[chrom == "chrY"] = np.nan
    return log2, s


def normals_matrix(normals: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, dict]:
    """Each normal corrected like a sample: (chrom, start, end + one log2 column per normal, sorted by
    name; NaN where unusable), and {normal: sex}."""
    if len(normals) < MIN_NORMALS:
        raise InputError(f"a panel of normals needs at least {MIN_NORMALS} healthy samples, got {len(normals)}")
    names = sorted(normals)
    ref = normals[names[0]][["chrom", "start", "end"]].reset_index(drop=True)
    cols, sexes = {}, {}
    for name in names:
        b = normals[name].reset_index(drop=True)
        if len(b) != len(ref) or not (b["start"].to_numpy() == ref["start"].to_numpy()).all():
            raise InputError(f"{name}: bins differ from {names[0]}; count all normals with the same build and bin size")
        cols[name], sexes[name] = normal_log2(b)
    return pd.concat([ref, pd.DataFrame(cols)], axis=1), sexes


def build_pon(normals: dict[str, pd.DataFrame], *, protect: np.ndarray | None = None,
              arms: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict]:
    """Build the panel from annotated analysis-bin tables of healthy donors (same bins each).

    Returns the per-bin table (chrom, start, end, median, raw_median, shrinkage, regional_shrinkage, mad,
    variance_inflation, n_normals, usable, reason) and metadata; ``meta["matrix"]`` is the `normals_matrix` table.
    """
    matrix, sexes = normals_matrix(normals)
    table, meta = panel_from_matrix(matrix, normals[sorted(normals)[0]], protect=protect, arms=arms)
    meta["sex"] = sexes
    meta["matrix"] = matrix
    return table, meta


def panel_members(matrix: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The normals a `normals_matrix` table builds its panel from, and those excluded from it (columns
    ``EXCLUDED_PREFIX`` + name: kept in the file, so an excluded normal's own call still has its values)."""
    cols = [c for c in matrix.columns if c not in ("chrom", "start", "end")]
    return ([c for c in cols if not c.startswith(EXCLUDED_PREFIX)],
            [c[len(EXCLUDED_PREFIX):] for c in cols if c.startswith(EXCLUDED_PREFIX)])


def exclude(matrix: pd.DataFrame, names) -> pd.DataFrame:
    """``matrix`` with the normals ``names`` marked as excluded from the panel (their columns renamed)."""
    return matrix.rename(columns={n: EXCLUDED_PREFIX + n for n in names})


def panel_from_matrix(matrix: pd.DataFrame, annotation: pd.DataFrame, *, protect: np.ndarray | None = None,
                      leave_out: str | None = None, arms: pd.DataFrame | None = None,
                      arm_sd: float = 0.0) -> tuple[pd.DataFrame, dict]:
    """The panel from a `normals_matrix` table (without the normal ``leave_out``, and without the normals
    marked excluded: `exclude`); ``annotation`` gives the bins' GC and mappability for the annotation rules.
    Leaving out an excluded normal gives the panel itself: it does not contain that normal. ``arm_sd``: the
    normals' arm-scale systematic sd (`pon_check`, 0 = the floor), the panel's ``arm_sd`` column."""
    members, excluded = panel_members(matrix)
    if leave_out is not None and leave_out not in members + excluded:
        raise InputError(f"--leave-out {leave_out}: not a normal of this panel ({', '.join(members)})")
    names = [c for c in members if c != leave_out]  # an excluded normal is already out of the panel
    need = MIN_NORMALS - 1 if leave_out in members else MIN_NORMALS  # a panel of the minimum 3 still checks each normal
    if len(names) < need:
        raise InputError(f"a panel of normals needs at least {need} healthy samples, got {len(names)}"
                         + (f" after leaving out {leave_out}" if leave_out else ""))
    ref = matrix[["chrom", "start", "end"]].reset_index(drop=True)
    mat = matrix[names].to_numpy(float).T
    n_valid = np.isfinite(mat).sum(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(mat, axis=0)
        mad = 1.4826 * np.nanmedian(np.abs(mat - med), axis=0)
        # spread test on values standardised by each normal's bin noise (normals differ in depth)
        noise = np.array([correction.noise_mad(row[np.isin(ref["chrom"], AUTOSOMES)]) for row in mat])
        z = mat / noise[:, None]
        var = np.nanvar(z, axis=0, ddof=1)
    usable_annot, reason = correction.usable_mask(annotation.reset_index(drop=True))
    reason = reason.copy()
    ok_var = usable_annot & (n_valid >= MIN_SPREAD_NORMALS) & np.isfinite(var)
    df = np.maximum(n_valid - 1, 1)
    # chi-square tail and quantile; imported here, not at the top: `dnadx cnv` reads a panel without them (~0.3 s),
    # and scipy.stats would cost ~0.6 s more
    from scipy.special import chdtrc, gammaincinv

    # typical variance: the median bin's, scaled by the chi-square median (robust to the special bins)
    typical = float(np.median(var[ok_var] * df[ok_var] / (2 * gammaincinv(df[ok_var] / 2, 0.5)))) if ok_var.any() else np.nan
    pval = np.where(ok_var, chdtrc(df, np.nan_to_num(var) * df / typical), 1.0)
    spread = ok_var & (pval < VARIANCE_ALPHA / max(int(ok_var.sum()), 1))
    inflation = np.where(ok_var, np.maximum(1.0, np.nan_to_num(var) / typical), 1.0)
    protect = np.zeros(len(ref), bool) if protect is None else np.asarray(protect, bool)
    rules = [
        ("pon_missing", n_valid < 2, False),
        ("pon_offset", np.abs(np.nan_to_num(med, nan=0.0)) > OFFSET_MAX, True),
        ("pon_variance", spread, True),
    ]
    for name, bad, keepable in rules:
        hit = (reason == "") & bad
        if keepable:
            reason[hit & protect] = "kept_" + name  # a gene of interest stays, its spread recorded
            hit &= ~protect
        reason[hit] = name
    usable = (reason == "") | np.char.startswith(reason.astype(str), "kept_")
    ok = (reason == "") & np.isin(ref["chrom"].to_numpy(), AUTOSOMES)
    noise_var = (1.2533 * np.nan_to_num(mad, nan=0.0)) ** 2 / np.maximum(n_valid, 1)
    shrunk = shrink(ref, mat, med, noise_var, reason == "", ok, arms=arms)
    table = ref.assign(median=shrunk["centre"], raw_median=med, shrinkage=shrunk["bin_factor"],
                       regional_shrinkage=shrunk["region_factor"], region_mse=shrunk["region_mse"], mad=mad,
                       variance_inflation=np.round(inflation, 4), n_normals=n_valid,
                       usable=usable.astype(int), reason=reason, arm_sd=float(arm_sd))
    flagged = {r: int((reason == r).sum()) for r in sorted(set(reason) - {""})}
    meta = {"normals": names, "n_normals": len(names), "left_out": leave_out, "excluded": excluded,
            "typical_variance_z": typical, "variance_test": {"method": "chi-square on noise-standardised log2",
                                                           "genome_wide_alpha": VARIANCE_ALPHA},
            **shrunk["meta"],
            "flagged": flagged,
            "warning": (f"only {len(names)} normals; {RECOMMENDED_NORMALS} or more are recommended"
                        if len(names) < RECOMMENDED_NORMALS else None)}
    return table, meta


def shrink(ref: pd.DataFrame, values: np.ndarray, med: np.ndarray, noise_var: np.ndarray, clean: np.ndarray,
           ok: np.ndarray, *, arms: pd.DataFrame | None = None) -> dict:
    """The panel's centre: each bin's median shrunk towards 0 (empirical Bayes) in two parts, a regional
    level and the bin's deviation from it, each by the share of its variance that is systematic.

    The regions are PELT segments of the median (`segmentation.segment`, over the ``clean`` bins), within
    chromosome arms when ``arms`` is given.
    Real healthy-plasma effects have an arm-scale part (ichorCNA's panel: 17q +0.014, 16q -0.012,
    chr19 -0.04 to -0.06 log2) under a bin-scale part ~4x larger: one shrinkage factor for both, set by
    the bin-scale noise of five normals at 0.03-0.3x (0.19-0.34), left most of the arm-scale part in every
    sample, where it biased the tumour fraction of tumours gaining 17q and losing 16q by up to +0.01
    (benchmarks/README.md, stop 27; the regional factor is now 0.54-0.82 there). A region's mean averages its bins' noise away, so it is shrunk by its
    own, much smaller noise; and as a Gaussian prior would shrink the few large offsets most (chr19p kept 0.37), each
    region whose level is REGION_KEEP_Z standard errors from 0 keeps at least its positive-part James-Stein share,
    1 - noise / mean^2.
    ``ok``: the bins (usable autosomes) the systematic variances are estimated on.
    ``values`` (normals x bins): the normals' own log2, ``med`` their per-bin median. A region's level is the median
    over normals of each one's region mean, not the mean of the bin medians. Where one normal is not healthy (a tumour
    at 0.2 among five), each bin's median is expected to move towards it by a rank of the bin noise (~0.3 sd) in the
    same direction over its whole altered arm, and the mean of those medians kept that shift: the other normals,
    checked against such a panel, had arm offsets of +-0.04 (two of five called tumour); a median of region means
    moves by a rank of the region mean's noise, ~sqrt(k) times less.
    Returns {centre, bin_factor, region_factor (arrays), meta}."""
    finite = np.isfinite(med)
    y = np.where(clean & finite, med, np.nan)
    seg = segmentation.segment(ref.assign(log2=y), correction.noise_mad(y[ok]), arms=arms)
    use = ok & finite & (seg >= 0)
    ids = seg[use]
    k = np.bincount(ids, minlength=seg.max() + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_r = np.bincount(ids, weights=med[use], minlength=len(k)) / k
        nvar_r = np.bincount(ids, weights=noise_var[use], minlength=len(k)) / k ** 2
    have = k > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        own = np.array([np.bincount(ids, weights=np.nan_to_num(v[use]), minlength=len(k))
                        / np.bincount(ids, weights=np.isfinite(v[use]).astype(float), minlength=len(k))
                        for v in values])
        level = np.where(have, np.nanmedian(own, axis=0), np.nan)
    # systematic variance of region levels: their mean square (bin-weighted) less their noise
    sys_r = max(0.0, float(np.sum(k[have] * (level[have] ** 2 - nvar_r[have])) / max(k[have].sum(), 1)))
    nv = np.nan_to_num(nvar_r)
    local = np.clip(1.0 - nv / np.maximum(np.nan_to_num(level) ** 2, 1e-12), 0.0, 1.0)
    local = np.where(np.nan_to_num(level) ** 2 >= REGION_KEEP_Z ** 2 * nv, local, 0.0)
    f_r = np.where(have, np.maximum(sys_r / np.maximum(sys_r + nv, 1e-12), local), 0.0)
    region = np.where(seg >= 0, np.nan_to_num(level)[np.maximum(seg, 0)], 0.0)
    mean_region = np.where(seg >= 0, np.nan_to_num(mean_r)[np.maximum(seg, 0)], 0.0)
    region_factor = np.where(seg >= 0, f_r[np.maximum(seg, 0)], 0.0)
    dev = med - mean_region
    sys_b = max(0.0, float(np.mean(dev[use] ** 2) - np.mean(noise_var[use]))) if use.any() else 0.0
    bin_factor = np.where(noise_var + sys_b > 0, sys_b / np.maximum(noise_var + sys_b, 1e-12), 1.0)
    centre = np.where(finite, region_factor * region + bin_factor * dev, np.nan)
    # expected squared error of each region's shrunk level, f^2 noise + (1 - f)^2 systematic variance: what the panel
    # leaves in (or adds to) every sample's arm means, the same in each (`systematic.variance_model` adds it to tau)
    mse_r = np.where(have, f_r ** 2 * nv + (1 - f_r) ** 2 * sys_r, 0.0)
    region_mse = np.where(seg >= 0, mse_r[np.maximum(seg, 0)], np.nan)
    meta = {"systematic_sd": float(np.sqrt(sys_r + sys_b)), "regional_sd": float(np.sqrt(sys_r)),
            "bin_sd": float(np.sqrt(sys_b)), "regions": int(have.sum()),
            "median_shrinkage": float(np.median(bin_factor[ok])) if ok.any() else None,
            "median_regional_shrinkage": float(np.median(region_factor[use])) if use.any() else None,
            "region_rmse": float(np.sqrt(np.mean(region_mse[use]))) if use.any() else None}
    return {"centre": centre, "bin_factor": bin_factor, "region_factor": region_factor, "region_mse": region_mse,
            "meta": meta}


def pon_normals_path(pon_path) -> str:
    """The normals' matrix written beside PREFIX.pon.tsv.gz: PREFIX.pon-normals.tsv.gz."""
    text = str(pon_path)
    if not text.endswith(".pon.tsv.gz"):
        raise InputError(f"{text}: --leave-out needs a panel named PREFIX.pon.tsv.gz (from `dnadx pon`)")
    return text[: -len(".pon.tsv.gz")] + ".pon-normals.tsv.gz"


def from_ichor(table: pd.DataFrame, bins: pd.DataFrame) -> pd.DataFrame:
    """Convert an ichorCNA `HD_ULP_PoN_*` median table (chr, start 1-based, end, median) onto ``bins``."""
    t = table.rename(columns={"chr": "chrom"}).copy()
    t["chrom"] = ["chr" + str(c) if not str(c).startswith("chr") else str(c) for c in t["chrom"]]
    t["start"] = t["start"].astype(np.int64) - 1
    merged = bins[["chrom", "start", "end"]].merge(t[["chrom", "start", "median"]], on=["chrom", "start"], how="left")
    ok = np.isfinite(merged["median"].to_numpy(float))
    return merged.assign(mad=np.nan, n_normals=np.where(ok, 1, 0), usable=ok.astype(int),
                         reason=np.where(ok, "", "pon_missing"))
