"""GC content per bin computed from a FASTA (any build, any bin size)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def gc_from_sequence(seq: bytes | str, bin_size: int) -> np.ndarray:
    """GC fraction of the A/C/G/T bases in each consecutive ``bin_size`` window.

    Bins without any A/C/G/T base (all N) get NaN, as ichorCNA's gc wig marks them -1.
    """
    a = np.frombuffer(seq.encode() if isinstance(seq, str) else seq, dtype=np.uint8) & 0xDF  # upper-case
    n = -(-len(a) // bin_size)
    pad = np.zeros(n * bin_size - len(a), dtype=np.uint8)
    a = np.concatenate([a, pad]).reshape(n, bin_size)
    gc = ((a == ord("G")) | (a == ord("C"))).sum(axis=1)
    acgt = gc + ((a == ord("A")) | (a == ord("T"))).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(acgt > 0, gc / np.maximum(acgt, 1), np.nan)


def gc_table(fetch, chrom_lengths: dict[str, int], bin_size: int) -> pd.DataFrame:
    """Per-bin GC for each chromosome; ``fetch(chrom)`` returns that chromosome's sequence."""
    frames = []
    for chrom, length in chrom_lengths.items():
        gc = gc_from_sequence(fetch(chrom), bin_size)
        start = np.arange(len(gc), dtype=np.int64) * bin_size
        frames.append(pd.DataFrame({"chrom": chrom, "start": start, "end": np.minimum(start + bin_size, length), "gc": gc}))
    return pd.concat(frames, ignore_index=True)
