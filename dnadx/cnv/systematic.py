"""Systematic per-segment variance: how far a segment's mean strays from its copy state beyond
sampling noise, estimated per sample instead of set.

Correction residuals of real plasma (ichorCNA's healthy-donor panel, `../shared/real-data/`: per 500 kb
bin sd 0.04, chromosome medians up to 0.05) are correlated along the genome, so a segment mean over k
bins scatters by sigma^2/k + tau^2, not by sigma^2/k alone. tau is estimated from the scatter of
consecutive BLOCK_MB blocks inside each segment (copy-number changes lie between segments, not inside
them, so tumour signal does not inflate it):

    tau^2 = mean over blocks of [ (block mean - segment's block average)^2 * nb / (nb - 1) - sigma^2 / B ]

and floored at TAU_FLOOR. On 36 healthy simulations with real bin effects and over-dispersion (tuning
seeds, benchmarks/cnv_independent.py) the arm means' excess sd was 0-0.032 (median 0.012); the block
estimate 0-0.031 and the floor together cover it where a fixed 0.0025 (the old default, set on the own
simulator) made a 0.05-log2 arm offset look like 5 sd.
"""

from __future__ import annotations

import numpy as np

BLOCK_MB = 5.0  # block size: long enough to average bin noise, short enough for several per arm
TAU_FLOOR_PON = 0.006  # with a panel of normals the shared bin effects are removed; what is left is per sample
TAU_FLOOR = 0.010  # arm-level excess sd of healthy simulations with real bin effects: median 0.012, most below 0.02.
# Set on the tune seeds (benchmarks/cnv_independent.py): 0.015 / 0.008 while centring left neutral bins below 0 and
# one chromosome's arms could call a tumour; after those fixes 0.010 / 0.006 kept 48 of 48 healthy samples uncalled
# (highest evidence 3.1) and detected TF 0.03 in 17 of 36 tumours (11 with the old floors), TF 0.05 in 15 of 24 (13)

def systematic_sd(log2: np.ndarray, seg_id: np.ndarray, sigma: float, bin_size: int, *,
                  with_pon: bool = False) -> tuple[float, float]:
    """Return (tau used, tau estimated from blocks) for usable autosomal bins ``log2`` (NaN elsewhere)
    with their segment ids; the floor is TAU_FLOOR_PON when a panel of normals was subtracted."""
    B = max(3, int(round(BLOCK_MB * 1e6 / bin_size)))
    terms = []
    ok = np.isfinite(log2) & (seg_id >= 0)
    for s in np.unique(seg_id[ok]):
        v = log2[ok & (seg_id == s)]
        nb = len(v) // B
        if nb < 2:
            continue
        bm = v[: nb * B].reshape(nb, B).mean(axis=1)
        terms.extend((bm - bm.mean()) ** 2 * nb / (nb - 1) - sigma ** 2 / B)
    est = float(np.sqrt(max(0.0, float(np.mean(terms))))) if terms else 0.0
    return max(TAU_FLOOR_PON if with_pon else TAU_FLOOR, est), est
