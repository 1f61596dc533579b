"""Panel of normals from healthy-donor plasma: per-bin centre and spread of corrected log2.

`median` is the per-bin median shrunk towards 0 by the share of its variance that is systematic
(`raw_median` keeps the unshrunk value). Male chrX/chrY log2 values are shifted by +1 (to one copy's level) before aggregation, so the panel
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

from dnadx.cnv import correction, sex as sexmod
from dnadx.core.errors import InputError
from dnadx.core.params import AUTOSOMES

MIN_NORMALS = 3
RECOMMENDED_NORMALS = 15
OFFSET_MAX = 0.4
VARIANCE_ALPHA = 0.05  # chance that any bin of the genome is flagged for spread when none is special
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


def build_pon(normals: dict[str, pd.DataFrame], *, protect: np.ndarray | None = None) -> tuple[pd.DataFrame, dict]:
    """Build the panel from annotated analysis-bin tables of healthy donors (same bins each).

    Returns the per-bin table (chrom, start, end, median, raw_median, shrinkage, mad, variance_inflation,
    n_normals, usable, reason) and metadata; ``meta["matrix"]`` is the `normals_matrix` table.
    """
    matrix, sexes = normals_matrix(normals)
    table, meta = panel_from_matrix(matrix, normals[sorted(normals)[0]], protect=protect)
    meta["sex"] = sexes
    meta["matrix"] = matrix
    return table, meta


def panel_from_matrix(matrix: pd.DataFrame, annotation: pd.DataFrame, *, protect: np.ndarray | None = None,
                      leave_out: str | None = None) -> tuple[pd.DataFrame, dict]:
    """The panel from a `normals_matrix` table (without the normal ``leave_out``); ``annotation`` gives
    the bins' GC and mappability for the annotation rules."""
    names = [c for c in matrix.columns if c not in ("chrom", "start", "end") and c != leave_out]
    if leave_out is not None and leave_out not in matrix.columns:
        raise InputError(f"--leave-out {leave_out}: not a normal of this panel ({', '.join(names)})")
    need = MIN_NORMALS - 1 if leave_out else MIN_NORMALS  # a panel of the minimum 3 still checks each normal
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
    # shrink each bin's median towards 0 by the share of its variance that is systematic rather than
    # sampling noise of the median (empirical Bayes): a panel of few, shallow normals must not add noise
    ok = (reason == "") & np.isin(ref["chrom"].to_numpy(), AUTOSOMES)
    noise_var = (1.2533 * np.nan_to_num(mad, nan=0.0)) ** 2 / np.maximum(n_valid, 1)
    sys_var = max(0.0, float(np.nanvar(med[ok]) - np.nanmean(noise_var[ok]))) if ok.any() else 0.0
    factor = np.where(noise_var + sys_var > 0, sys_var / np.maximum(noise_var + sys_var, 1e-12), 1.0)
    centre = np.where(np.isfinite(med), med * factor, np.nan)
    table = ref.assign(median=centre, raw_median=med, shrinkage=factor, mad=mad,
                       variance_inflation=np.round(inflation, 4), n_normals=n_valid,
                       usable=usable.astype(int), reason=reason)
    flagged = {r: int((reason == r).sum()) for r in sorted(set(reason) - {""})}
    meta = {"normals": names, "n_normals": len(names), "left_out": leave_out,
            "typical_variance_z": typical, "variance_test": {"method": "chi-square on noise-standardised log2",
                                                           "genome_wide_alpha": VARIANCE_ALPHA},
            "systematic_sd": float(np.sqrt(sys_var)), "median_shrinkage": float(np.median(factor[ok])) if ok.any() else None,
            "flagged": flagged,
            "warning": (f"only {len(names)} normals; {RECOMMENDED_NORMALS} or more are recommended"
                        if len(names) < RECOMMENDED_NORMALS else None)}
    return table, meta


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
