"""Sex inference from binned counts: chrY read share when chrY is present, chrX level otherwise."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dnadx.core import params

Y_MALE = 0.3  # observed/expected chrY share above which the sample is male
Y_FEMALE = 0.1  # below which it is female (mis-mapped reads give females a few percent)
X_MALE_LOG2 = -0.5  # chrX median log2 below which the sample is male (one X)


def infer_sex(bins: pd.DataFrame, log2: np.ndarray | None = None) -> dict:
    """Return {'sex': female|male|unknown, 'method': ..., 'evidence': value}.

    ``bins`` needs chrom, start, end, count, mappability; ``log2`` (corrected, optional) is used for
    the chrX fallback when chrY is absent or ambiguous.
    """
    chrom = bins["chrom"].to_numpy()
    length = (bins["end"] - bins["start"]).to_numpy(float)
    mp = bins["mappability"].to_numpy(float)
    count = bins["count"].to_numpy(float)
    good = mp >= 0.9
    auto = np.isin(chrom, params.AUTOSOMES) & good
    y = (chrom == "chrY") & good
    if y.sum() >= 3 and auto.any():
        # expected male share: one Y copy against two autosome copies, per mappable bp
        expected = (length[y].sum() * 1) / (length[auto].sum() * 2)
        observed = count[y].sum() / max(count[auto].sum(), 1)
        ratio = observed / expected
        if ratio >= Y_MALE:
            return {"sex": "male", "method": "chrY_reads", "evidence": float(ratio)}
        if ratio <= Y_FEMALE:
            return {"sex": "female", "method": "chrY_reads", "evidence": float(ratio)}
    if log2 is not None:
        x = (chrom == "chrX") & np.isfinite(log2)
        if x.sum() >= 10:
            med = float(np.median(log2[x]))
            return {"sex": "male" if med < X_MALE_LOG2 else "female", "method": "chrX_log2", "evidence": med}
    return {"sex": "unknown", "method": "none", "evidence": None}


def normal_copy(chrom: np.ndarray, sex: str) -> np.ndarray:
    """Germline copy number per bin: 2, or 1 for male X/Y, 0 for female Y."""
    n = np.full(len(chrom), 2, dtype=np.int64)
    if sex == "male":
        n[(chrom == "chrX") | (chrom == "chrY")] = 1
    else:
        n[chrom == "chrY"] = 0
    return n
