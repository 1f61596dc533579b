"""Panel of normals from healthy-donor plasma: per-bin centre and spread of corrected log2.

`median` is the per-bin median shrunk towards 0 by the share of its variance that is systematic
(`raw_median` keeps the unshrunk value). Male chrX/chrY log2 values are shifted by +1 (to one copy's level) before aggregation, so the panel
holds sex-independent medians and a sample keeps its own sex baseline after normalisation. Bins are
flagged unusable with a reason: the annotation rules of `correction.usable_mask`, `pon_missing`
(fewer than 2 normals with a value), `pon_offset` (|median| > OFFSET_MAX: a systematic artefact),
`pon_variance` (MAD above VARIANCE_FACTOR x the panel's median MAD).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dnadx.cnv import correction, sex as sexmod
from dnadx.core.errors import InputError

MIN_NORMALS = 3
RECOMMENDED_NORMALS = 15
OFFSET_MAX = 0.4
VARIANCE_FACTOR = 3.0
MIN_SPREAD_NORMALS = 5


def normal_log2(bins: pd.DataFrame) -> tuple[np.ndarray, str]:
    """Corrected log2 of one normal (annotated analysis bins), sex-adjusted; returns (log2, sex)."""
    usable, _ = correction.usable_mask(bins)
    cor = correction.correct(bins, usable)
    s = sexmod.infer_sex(bins, cor["log2"].to_numpy())["sex"]
    log2 = cor["log2"].to_numpy(float).copy()
    chrom = bins["chrom"].to_numpy()
    if s == "male":
        log2[(chrom == "chrX") | (chrom == "chrY")] += 1.0
    else:
        log2[chrom == "chrY"] = np.nan
    return log2, s


def build_pon(normals: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, dict]:
    """Build the panel from annotated analysis-bin tables of healthy donors (same bins each).

    Returns the per-bin table (chrom, start, end, median, mad, n_normals, usable, reason) and metadata.
    """
    if len(normals) < MIN_NORMALS:
        raise InputError(f"a panel of normals needs at least {MIN_NORMALS} healthy samples, got {len(normals)}")
    names = sorted(normals)
    ref = normals[names[0]][["chrom", "start", "end"]].reset_index(drop=True)
    mats, sexes = [], {}
    for name in names:
        b = normals[name].reset_index(drop=True)
        if len(b) != len(ref) or not (b["start"].to_numpy() == ref["start"].to_numpy()).all():
            raise InputError(f"{name}: bins differ from {names[0]}; count all normals with the same build and bin size")
        lg, s = normal_log2(b)
        mats.append(lg)
        sexes[name] = s
    mat = np.vstack(mats)
    n_valid = np.isfinite(mat).sum(axis=0)
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            med = np.nanmedian(mat, axis=0)
            mad = 1.4826 * np.nanmedian(np.abs(mat - med), axis=0)
    usable_annot, reason = correction.usable_mask(normals[names[0]])
    reason = reason.copy()
    typical = float(np.nanmedian(mad[usable_annot])) if usable_annot.any() else np.nan
    rules = [
        ("pon_missing", n_valid < 2),
        ("pon_offset", np.abs(np.nan_to_num(med, nan=0.0)) > OFFSET_MAX),
        # a spread needs at least MIN_SPREAD_NORMALS values to be trusted as a bin property
        ("pon_variance", (np.nan_to_num(mad, nan=0.0) > VARIANCE_FACTOR * typical) & (n_valid >= MIN_SPREAD_NORMALS)),
    ]
    for name, bad in rules:
        reason[(reason == "") & bad] = name
    # shrink each bin's median towards 0 by the share of its variance that is systematic rather than
    # sampling noise of the median (empirical Bayes): a panel of few, shallow normals must not add noise
    ok = (reason == "") & np.isin(ref["chrom"].to_numpy(), [f"chr{i}" for i in range(1, 23)])
    noise_var = (1.2533 * np.nan_to_num(mad, nan=0.0)) ** 2 / np.maximum(n_valid, 1)
    sys_var = max(0.0, float(np.nanvar(med[ok]) - np.nanmean(noise_var[ok]))) if ok.any() else 0.0
    factor = np.where(noise_var + sys_var > 0, sys_var / np.maximum(noise_var + sys_var, 1e-12), 1.0)
    centre = np.where(np.isfinite(med), med * factor, np.nan)
    table = ref.assign(median=centre, raw_median=med, shrinkage=factor, mad=mad, n_normals=n_valid,
                       usable=(reason == "").astype(int), reason=reason)
    meta = {"normals": names, "sex": sexes, "n_normals": len(names), "typical_mad": typical,
            "systematic_sd": float(np.sqrt(sys_var)), "median_shrinkage": float(np.median(factor[ok])) if ok.any() else None,
            "flagged": {r: int((reason == r).sum()) for r in sorted(set(reason) - {""})},
            "warning": (f"only {len(names)} normals; {RECOMMENDED_NORMALS} or more are recommended"
                        if len(names) < RECOMMENDED_NORMALS else None)}
    return table, meta


def from_ichor(table: pd.DataFrame, bins: pd.DataFrame) -> pd.DataFrame:
    """Convert an ichorCNA `HD_ULP_PoN_*` median table (chr, start 1-based, end, median) onto ``bins``."""
    t = table.rename(columns={"chr": "chrom"}).copy()
    t["chrom"] = ["chr" + str(c) if not str(c).startswith("chr") else str(c) for c in t["chrom"]]
    t["start"] = t["start"].astype(np.int64) - 1
    merged = bins[["chrom", "start", "end"]].merge(t[["chrom", "start", "median"]], on=["chrom", "start"], how="left")
    ok = np.isfinite(merged["median"].to_numpy(float))
    return merged.assign(mad=np.nan, n_normals=np.where(ok, 1, 0), usable=ok.astype(int),
                         reason=np.where(ok, "", "pon_missing"))
