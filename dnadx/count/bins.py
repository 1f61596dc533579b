"""Bin tables: aggregation of fine (10 kb) bins to analysis bins."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dnadx.core import params
from dnadx.count.text import check_bin_size  # noqa: F401 - re-exported


def aggregate(fine: pd.DataFrame, bin_size: int, *, sum_cols=("count",), mean_cols=("gc", "mappability")) -> pd.DataFrame:
    """Aggregate fine bins to ``bin_size`` bins (chromosome order kept).

    Sums ``sum_cols``; ``gc`` is the length-weighted mean over fine bins that have
    sequence (NaN GC excluded), other ``mean_cols`` the length-weighted mean. The last
    bin of a chromosome ends at the chromosome end.
    """
    fine_size = int((fine["end"] - fine["start"]).max()) if len(fine) else params.FINE_BIN_SIZE
    check_bin_size(bin_size, fine_size)
    chrom_codes, chrom_names = pd.factorize(fine["chrom"], sort=False)
    idx = (fine["start"].to_numpy() // bin_size).astype(np.int64)
    length = (fine["end"] - fine["start"]).to_numpy(dtype=float)
    out = pd.DataFrame({"_c": chrom_codes, "_i": idx, "start": fine["start"].to_numpy(), "end": fine["end"].to_numpy()})
    g = out.groupby(["_c", "_i"], sort=True)
    res = g.agg(start=("start", "min"), end=("end", "max")).reset_index()
    for col in sum_cols:
        if col in fine:
            res[col] = pd.Series(fine[col].to_numpy()).groupby([chrom_codes, idx]).sum().to_numpy()
    for col in mean_cols:
        if col in fine:
            v = fine[col].to_numpy(dtype=float)
            ok = np.isfinite(v)
            num = pd.Series(np.where(ok, v * length, 0.0)).groupby([chrom_codes, idx]).sum().to_numpy()
            den = pd.Series(np.where(ok, length, 0.0)).groupby([chrom_codes, idx]).sum().to_numpy()
            with np.errstate(invalid="ignore", divide="ignore"):
                res[col] = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    res.insert(0, "chrom", np.asarray(chrom_names)[res["_c"].to_numpy()])
    res["start"] = res["_i"] * bin_size
    return res.drop(columns=["_c", "_i"])


def make_bins(chrom_sizes: pd.DataFrame, bin_size: int) -> pd.DataFrame:
    """Fixed-size BED bins over each chromosome, the last one ending at the chromosome end."""
    frames = []
    for chrom, length in zip(chrom_sizes["chrom"], chrom_sizes["length"]):
        start = np.arange(0, int(length), bin_size, dtype=np.int64)
        frames.append(pd.DataFrame({"chrom": chrom, "start": start, "end": np.minimum(start + bin_size, int(length))}))
    return pd.concat(frames, ignore_index=True)
