"""Hand-built `dnadx cnv` outputs (chr17 bins + cnv.json) with a chosen ERBB2 tumour copy number, for the
tests of the one ERBB2 rule (dnadx/scores/erbb2.py) in score, variants and report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dnadx.core import io

ERBB2 = {"chrom": "chr17", "start": 39688093, "end": 39728658}  # GRCh38 (reference/GRCh38 genes)
CHR17_LENGTH = 83257441


def erbb2_case(sample: str, tf: float, copy: float, *, ci=None, noise: float = 0.1, width: int = 2_000_000,
               ploidy: float = 2.0, seed: int = 0, bin_size: int = 500_000,
               qc_status: str = "pass") -> tuple[dict, pd.DataFrame]:
    """(cnv.json dict, bins table): chr17 at ``ploidy`` copies except ``copy`` over ``width`` bp centred on
    ERBB2, log2 = the cnv contract's expectation at tumour fraction ``tf`` + N(0, noise) noise."""
    rng = np.random.default_rng(seed)
    starts = np.arange(0, CHR17_LENGTH, bin_size)
    bins = pd.DataFrame({"chrom": "chr17", "start": starts, "end": np.minimum(starts + bin_size, CHR17_LENGTH)})
    mid = (ERBB2["start"] + ERBB2["end"]) // 2
    c = np.where((bins["end"] > mid - width // 2) & (bins["start"] < mid + width // 2), copy, ploidy)
    expect = np.log2((2 * (1 - tf) + tf * c) / (2 * (1 - tf) + tf * ploidy))
    bins["usable"] = 1
    bins["log2"] = expect + rng.normal(0, noise, len(bins))
    bins["segment"] = np.cumsum(np.r_[True, c[1:] != c[:-1]]) - 1
    bins["segment_log2"] = bins["segment"].map(bins.groupby("segment")["log2"].mean())
    bins["copy_number"] = np.round(c).astype(int)
    ci = list(ci) if ci is not None else [max(tf - 0.03, 0.0), tf + 0.03]
    over = bins[(bins["end"] > ERBB2["start"]) & (bins["start"] < ERBB2["end"])].iloc[0]
    cnv = {"sample": sample, "genome": "GRCh38", "tumor_fraction": tf, "tumor_fraction_ci": ci,
           "tumor_detected": bool(ci[0] > 0), "ploidy": ploidy, "sex": "female", "bin_size": bin_size,
           "reads_kept": 2_000_000, "noise_mad": noise, "qc_status": qc_status, "qc_reasons": [],
           "genes_of_interest": {"ERBB2": {**ERBB2, "bins": 1, "usable_bins": 1, "status": "assessable",
                                           "drop_reasons": [], "log2": float(over["log2"]),
                                           "segment_log2": float(over["segment_log2"]),
                                           "copy_number": int(over["copy_number"])}},
           "files": {"bins": f"{sample}.bins.tsv.gz"}}
    return cnv, bins


def write_case(folder: Path, cnv: dict, bins: pd.DataFrame) -> Path:
    """Write ``folder/<sample>.cnv.json`` and its bins table; returns the cnv.json path."""
    folder.mkdir(parents=True, exist_ok=True)
    io.write_tsv(bins, folder / cnv["files"]["bins"])
    path = folder / f"{cnv['sample']}.cnv.json"
    io.write_json(cnv, path)
    return path
