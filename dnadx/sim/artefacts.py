"""What real plasma has and the basic simulator lacks: GC responses of several shapes, per-bin
over-dispersion, empty and extreme bins, and real systematic bin effects.

The basic simulator's GC bias is the exponential of a quadratic around GC 0.42, the very shape the
correction was built for. Validation data must not share the model's assumptions (issue 17), so
here a sample's GC response is drawn from a family the correction does not assume:

- ``symmetric``: log w = -k (g - g0)^2, peak g0 in [0.38, 0.50], k in [15, 40] (strong curvature);
- ``skewed``: the same with a different k on each side of the peak (ratio 3-6, either side steeper);
- ``plateau``: flat within +-h of the peak (h in [0.03, 0.08]), a gentle low-GC slope and a steep
  high-GC drop (k_high in [80, 200]), as PCR-amplified libraries show;
- ``mixed``: one of the three, drawn from the seed.

On top, per block of ``block`` bp (default 500 kb, the analysis bin), a multiplicative log-normal
factor with sd ``overdispersion`` (drawn in [0.03, 0.10] when None), a share ``empty_bins`` of
covered blocks with no reads (a masked region, a build patch), a share ``extreme_bins`` 3-8x high,
and ``bin_effects`` (chrom, start, end, log2): systematic per-bin residuals of real plasma (ichorCNA's
healthy-donor panel medians, `../shared/real-data/`), scaled per sample by ``effect_scale``; ``region_sd``: a
per-sample offset of each REGION_MB region (arm-scale residuals of the sample's own, not shared by the batch).
All draws come from their own generator (seed + ARTEFACT_SEED_OFFSET), so the basic simulator's
draws are unchanged when artefacts are off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

GC_SHAPES = ("symmetric", "skewed", "plateau")
ARTEFACT_SEED_OFFSET = 104_729
COVERED_MAPPABILITY = 0.9  # blocks made empty or extreme are ones the pipeline would otherwise use
COVERED_GC = (0.30, 0.65)
REGION_MB = 40.0  # size of the regions of ``region_sd`` (an arm is 25-150 Mb)


@dataclass(frozen=True)
class Artefacts:
    gc_shape: str = "mixed"
    overdispersion: float | None = None
    empty_bins: float = 0.0
    extreme_bins: float = 0.0
    block: int = 500_000
    bin_effects: pd.DataFrame | None = None  # chrom, start (0-based), end, log2
    effect_scale: float = 1.0
    region_sd: float = 0.0  # per-sample log2 offset of each REGION_MB region, N(0, region_sd): arm-scale residuals
    # of the sample's own (plasma of one donor is not the panel's median), which the floor of the variance model
    # does not allow for


def gc_response(shape: str, rng: np.random.Generator) -> tuple[callable, dict]:
    """A GC response (natural-log weight as a function of GC) of ``shape`` with drawn parameters."""
    if shape == "mixed":
        shape = GC_SHAPES[int(rng.integers(len(GC_SHAPES)))]
    g0 = float(rng.uniform(0.38, 0.50))
    if shape == "symmetric":
        k = float(rng.uniform(15, 40))
        return (lambda g: -k * (g - g0) ** 2), {"shape": shape, "peak": g0, "k": k}
    if shape == "skewed":
        k_low = float(rng.uniform(8, 20))
        ratio = float(rng.uniform(3, 6))
        k_high = k_low * ratio
        if rng.random() < 0.5:
            k_low, k_high = k_high, k_low
        return (lambda g: -np.where(g < g0, k_low, k_high) * (g - g0) ** 2), \
            {"shape": shape, "peak": g0, "k_low": k_low, "k_high": k_high}
    if shape == "plateau":
        h = float(rng.uniform(0.03, 0.08))
        k_low = float(rng.uniform(5, 15))
        k_high = float(rng.uniform(80, 200))
        return (lambda g: -k_low * np.maximum(0.0, g0 - h - g) ** 2 - k_high * np.maximum(0.0, g - g0 - h) ** 2), \
            {"shape": shape, "peak": g0, "half_width": h, "k_low": k_low, "k_high": k_high}
    raise ValueError(f"unknown GC shape {shape!r}; choose one of {', '.join(GC_SHAPES + ('mixed',))}")


def log_weights(art: Artefacts, bins: pd.DataFrame, seed: int) -> tuple[np.ndarray, dict]:
    """Natural-log weight per fine bin (``bins``: chrom, start, end, gc, mappability) and a truth record."""
    rng = np.random.default_rng(seed + ARTEFACT_SEED_OFFSET)
    gc = np.nan_to_num(bins["gc"].to_numpy(float), nan=0.42)
    response, gc_truth = gc_response(art.gc_shape, rng)
    logw = response(gc)
    chrom = bins["chrom"].to_numpy()
    block_key = pd.Series(chrom).astype(str) + ":" + (bins["start"].to_numpy() // art.block).astype(str)
    block_id, blocks = pd.factorize(block_key)
    nb = len(blocks)
    od = float(rng.uniform(0.03, 0.10)) if art.overdispersion is None else float(art.overdispersion)
    logw = logw + rng.normal(0.0, od, nb)[block_id]
    # covered blocks: what the pipeline would use (sequence, mappable, ordinary GC)
    mp = pd.Series(bins["mappability"].to_numpy(float)).groupby(block_id).mean().to_numpy()
    bgc = pd.Series(bins["gc"].to_numpy(float)).groupby(block_id).mean().to_numpy()
    covered = (mp >= COVERED_MAPPABILITY) & (bgc >= COVERED_GC[0]) & (bgc <= COVERED_GC[1])
    u = rng.random(nb)
    empty = covered & (u < art.empty_bins)
    extreme = covered & ~empty & (u >= art.empty_bins) & (u < art.empty_bins + art.extreme_bins)
    fold = rng.uniform(3.0, 8.0, nb)
    logw = logw + np.where(extreme, np.log(fold), 0.0)[block_id]
    logw = np.where(empty[block_id], -np.inf, logw)
    n_effect = 0
    if art.bin_effects is not None and art.effect_scale:
        eff = effect_per_bin(art.bin_effects, bins)
        n_effect = int(np.isfinite(eff).sum())
        logw = logw + art.effect_scale * np.log(2) * np.nan_to_num(eff, nan=0.0)
    if art.region_sd > 0:  # its own generator: the other draws stay as without it
        region_rng = np.random.default_rng(seed + ARTEFACT_SEED_OFFSET + 1)
        key = pd.Series(chrom).astype(str) + ":" + (bins["start"].to_numpy() // int(REGION_MB * 1e6)).astype(str)
        region_id, regions = pd.factorize(key)
        logw = logw + np.log(2) * region_rng.normal(0.0, art.region_sd, len(regions))[region_id]
    truth = {"gc_response": gc_truth, "overdispersion": od, "block": art.block, "region_sd": art.region_sd,
             "empty_blocks": [str(b) for b in blocks[empty]], "extreme_blocks": [str(b) for b in blocks[extreme]],
             "bin_effects_bins": n_effect, "effect_scale": art.effect_scale}
    return logw, truth


def effect_per_bin(effects: pd.DataFrame, bins: pd.DataFrame) -> np.ndarray:
    """log2 effect of the ``effects`` interval containing each bin's start (NaN where none)."""
    out = np.full(len(bins), np.nan)
    chrom = bins["chrom"].to_numpy()
    start = bins["start"].to_numpy()
    for c, grp in effects.groupby("chrom", sort=False):
        sel = np.flatnonzero(chrom == c)
        if not len(sel):
            continue
        g = grp.sort_values("start")
        s, e, v = g["start"].to_numpy(), g["end"].to_numpy(), g["log2"].to_numpy(float)
        j = np.searchsorted(s, start[sel], side="right") - 1
        ok = (j >= 0) & (start[sel] < e[np.clip(j, 0, None)])
        out[sel[ok]] = v[j[ok]]
    return out


def effects_from_ichor(table: pd.DataFrame) -> pd.DataFrame:
    """ichorCNA `HD_ULP_PoN_*_median` table (chr, 1-based start, inclusive end, median) as
    (chrom, start, end, log2) with UCSC names and 0-based half-open coordinates."""
    chrom = ["chr" + str(c) if not str(c).startswith("chr") else str(c) for c in table["chr"]]
    return pd.DataFrame({"chrom": chrom, "start": table["start"].astype(np.int64) - 1,
                         "end": table["end"].astype(np.int64), "log2": table["median"].astype(float)})
