"""Systematic variance of a segment mean: how far it strays from its copy state beyond sampling noise,
in two parts, one estimated per sample and one with a floor set from healthy plasma, raised by the batch's normals
or, without a panel, by the sample's own arm means.

Correction residuals of real plasma (ichorCNA's healthy-donor panel, `../shared/real-data/`: per 500 kb
bin sd 0.04, chromosome medians up to 0.05) are correlated along the genome. A segment mean over k bins
scatters by

    noise_segment^2 / k + tau^2,   noise_segment^2 = sigma^2 + B tau_blocks^2

- **block scale** (tau_blocks): residuals shared by the bins of a BLOCK_MB block (B bins) and independent
  between blocks (GC waves, clusters of bin effects). Estimated per sample from the scatter of consecutive
  blocks inside each segment (copy-number changes lie between segments, not inside them, so tumour signal
  does not inflate it):

      tau_blocks^2 = mean over blocks of [ (block mean - segment's block average)^2 * nb / (nb - 1) - sigma^2 / B ]

  Averaged over k / B blocks it adds B tau_blocks^2 / k to a segment of k >= B bins: like extra bin noise,
  not a floor. (Shorter segments get the same term, more than their one block's tau_blocks^2: conservative.)
- **arm scale** (tau): offsets of whole arms that no averaging removes; TAU_FLOOR / TAU_FLOOR_PON, plus the panel's
  own error. With a panel from `dnadx pon` the floor is estimated too: each normal called against a panel of the
  others (`pon_check`) gives per arm m^2 - noise_segment^2 / k - tau_panel^2 (`arm_excess`), and where the normals'
  mean (`tau_from_normals`, one-sided 95% lower bound) exceeds TAU_FLOOR_PON^2 its root is the floor of every sample
  called against that panel. On the simulations (real bin effects, three depths, clean and 1% empty) the normals'
  mean excess per panel lay between -0.00005 and +0.0001 (24 panels, tune seeds 60 000+, effects at 0.7-1.3x and
  1.5-2.5x), against 0.000036 for the floor, and the lower bound raised the floor in 1 of 12 panels of the tune
  block, to 0.0061. A batch whose samples have arm offsets of their own (simulator ``region_sd`` 0.02, report seeds,
  `benchmarks/cnv_independent.py --region-sd 0.02`) had 12 of 48 healthy samples called with the floor and 3 of 48
  with the estimate (0.008-0.018), interval coverage 0.886 -> 0.980 (`tests/cnv/test_pon.py`).
  Without a panel the floor is raised by the sample's own arm means (`tau_from_arms`): the tau with which their
  robust spread (1.4826 MAD) is what noise and tau explain. A median of ~39 arms: the third or fewer that a breast
  cancer alters barely move it. It cannot tell arm offsets from a low-TF tumour's arm changes, so where it exceeds
  TAU_FLOOR a tumour pays in power; set on the tune seeds, measured on the report seeds (`--pon no`, 2 reps, clean and
  1% empty): healthy called 1/48 -> 1/48, TF 0.03 detected 20 -> 19 of 36, TF 0.05 22 -> 21 of 24, MAE 0.0108 ->
  0.0117; with per-sample region offsets of sd 0.02 (`--region-sd 0.02`) healthy called 10/48 -> 4/48, upper bound
  max 0.22 -> 0.10, interval coverage 0.870 -> 0.938, TF 0.03 29 -> 15 of 36 (the 29 on a floor that also called
  a fifth of the healthy samples).

Until stop 29 tau_blocks was used as the arm-scale tau itself (tau = max(floor, tau_blocks)). On 96 healthy
simulations (tune seeds, real bin effects, 3 depths, clean and 1% empty, with and without a panel) the arm
means' excess sd over their noise did not follow tau_blocks at all (correlation 0.24 / 0.04 / -0.05 at
0.05x / 0.1x / 0.5x), so a sample with a high block estimate (0.019 at 0.5x) lost its arm-level power for
nothing: a luminal tumour at TF 0.05 and 0.5x with 1q +0.023 and 16q -0.040 was not detected.
"""

from __future__ import annotations

import numpy as np

BLOCK_MB = 5.0  # block size: long enough to average bin noise, short enough for several per arm
TAU_FLOOR_PON = 0.006  # with a panel of normals the shared bin effects are removed; what is left is per sample
TAU_FLOOR = 0.010  # arm-level excess sd of healthy simulations with real bin effects: median 0.012, most below 0.02.
# Set on the tune seeds (benchmarks/cnv_independent.py): 0.015 / 0.008 while centring left neutral bins below 0 and
# one chromosome's arms could call a tumour; after those fixes 0.010 / 0.006 kept 48 of 48 healthy samples uncalled
# (highest evidence 3.1) and detected TF 0.03 in 17 of 36 tumours (11 with the old floors), TF 0.05 in 15 of 24 (13).
# Healthy arm excess, tune seeds (stop 29, 16 samples per depth and panel use): mean 0.0067 / 0.0089 / 0.0055 with a
# panel at 0.05x / 0.1x / 0.5x, 0.0103 / 0.0120 / 0.0119 without


LOO_Z = 1.645  # the normals' estimate raises the arm-scale floor only by its one-sided 95% lower bound: five normals'
# arm means are a noisy estimate, and a chance high one would cost every sample of the batch its power
LOO_OUTLIER = 5.0  # robust sds (1.4826 MAD) from the normals' median excess beyond which a normal does not inform it


def arm_means(log2: np.ndarray, arm_of_bin: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """(usable bins k, clipped mean m) of each autosomal arm with at least MIN_ARM_BINS usable bins (``log2``: NaN
    where unusable or not autosomal; ``arm_of_bin``: '' for none), as the arm-pattern test reads them."""
    from dnadx.cnv import pattern_test, segmentation

    ok = np.isfinite(log2) & (arm_of_bin != "")
    k, m = segmentation.clipped_means(log2[ok], arm_of_bin[ok], sigma)
    keep = (k >= pattern_test.MIN_ARM_BINS).to_numpy()
    return k.to_numpy(float)[keep], m.to_numpy(float)[keep]


def arm_excess(log2: np.ndarray, arm_of_bin: np.ndarray, model: dict, sigma: float) -> np.ndarray:
    """Per autosomal arm of MIN_ARM_BINS usable bins (``log2``: NaN where unusable or not autosomal; ``arm_of_bin``:
    '' for none), a healthy sample's squared arm mean beyond what ``model`` (`variance_model`) expects of noise
    and of the panel: m^2 - noise_segment^2 / k - tau_panel^2. Its mean estimates the arm-scale systematic
    variance the floor stands for (0 in expectation when there is none)."""
    k, m = arm_means(log2, arm_of_bin, sigma)
    return m ** 2 - model["noise_segment"] ** 2 / k - model["tau_panel"] ** 2


def tau_from_normals(excess: list[np.ndarray]) -> dict:
    """The arm-scale systematic sd shown by the panel's normals, each called against a panel of the others
    (`pon_check`): per normal the mean of its `arm_excess` terms; normals more than LOO_OUTLIER robust sds from their
    median left out (a tumour among the normals: a basal one at TF 0.2 has 0.0054, healthy ones -0.00003 to 0.0005); the
    estimate is the mean of the rest, its standard error their sd / sqrt(n) (arms of one normal share its panel), and
    ``arm_sd`` the sd the floor may be raised to: sqrt of the one-sided lower bound (LOO_Z), 0 when that is <= 0."""
    per = np.array([float(np.mean(e)) for e in excess if len(e)])
    out = {"estimate": None, "se": None, "arm_sd": 0.0, "normals": 0, "left_out": 0}
    if len(per) < 3:
        return out
    med = float(np.median(per))
    spread = 1.4826 * float(np.median(np.abs(per - med)))
    keep = per[np.abs(per - med) <= LOO_OUTLIER * spread] if spread > 0 else per
    if len(keep) < 3:
        return out
    est, se = float(keep.mean()), float(keep.std(ddof=1) / np.sqrt(len(keep)))
    low = est - LOO_Z * se
    return {"estimate": est, "se": se, "arm_sd": float(np.sqrt(low)) if low > 0 else 0.0, "normals": int(len(keep)),
            "left_out": int(len(per) - len(keep))}


SELF_MIN_ARMS = 20  # arms a sample's own arm-scale estimate needs (39 autosomal arms of MIN_ARM_BINS at 500 kb)


def tau_from_arms(log2: np.ndarray, arm_of_bin: np.ndarray, sigma: float, noise_segment: float) -> float:
    """Without a panel, the arm-scale sd shown by the sample's own arm means: the tau with which their robust
    spread is what noise and tau explain, 1.4826 median |m_a - median m| / sqrt(noise_segment^2 / k_a + tau^2) = 1
    (0 when noise alone explains it; ``log2`` NaN where unusable or not autosomal, ``arm_of_bin`` '' for none).
    A median of arms: the minority a tumour moves (most breast cancers alter a third of the arms or fewer) barely
    moves it, where a mean square grows with every altered arm."""
    k, m = arm_means(log2, arm_of_bin, sigma)
    if len(k) < SELF_MIN_ARMS:
        return 0.0
    v = noise_segment ** 2 / k
    r = np.abs(m - np.median(m))

    def spread(t: float) -> float:
        return 1.4826 * float(np.median(r / np.sqrt(v + t * t))) - 1.0

    if spread(0.0) <= 0:
        return 0.0
    # spread falls with t and is <= 0 at 1.4826 max r, where every term is <= 1 / 1.4826: bisection to float
    # precision (scipy.optimize.brentq did this until stop 32; importing scipy.optimize took 0.3 s of `dnadx cnv`)
    lo, hi = 0.0, 1.4826 * float(r.max()) + 1e-12
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if spread(mid) > 0:
            lo = mid
        else:
            hi = mid
    return float(0.5 * (lo + hi))


def block_bins(bin_size: int) -> int:
    """Bins per BLOCK_MB block (at least 3)."""
    return max(3, int(round(BLOCK_MB * 1e6 / bin_size)))


def block_sd(log2: np.ndarray, seg_id: np.ndarray, sigma: float, bin_size: int) -> float:
    """tau_blocks for usable autosomal bins ``log2`` (NaN elsewhere) with their segment ids (0 if no
    segment has two blocks)."""
    B = block_bins(bin_size)
    terms = []
    ok = np.isfinite(log2) & (seg_id >= 0)
    for s in np.unique(seg_id[ok]):
        v = log2[ok & (seg_id == s)]
        nb = len(v) // B
        if nb < 2:
            continue
        bm = v[: nb * B].reshape(nb, B).mean(axis=1)
        terms.extend((bm - bm.mean()) ** 2 * nb / (nb - 1) - sigma ** 2 / B)
    return float(np.sqrt(max(0.0, float(np.mean(terms))))) if terms else 0.0


def variance_model(log2: np.ndarray, seg_id: np.ndarray, sigma: float, bin_size: int, *,
                   with_pon: bool = False, panel_mse: float = 0.0, normals_sd: float = 0.0,
                   arm_of_bin: np.ndarray | None = None) -> dict:
    """The segment-mean variance model of one sample (cnv.json ``systematic_sd``): ``tau`` (arm scale, the
    floor: TAU_FLOOR_PON when a panel of normals was subtracted), ``tau_blocks``, ``block_bins`` and
    ``noise_segment`` = sqrt(sigma^2 + block_bins tau_blocks^2), the bin noise a segment mean averages.
    ``panel_mse``: the panel's own expected squared error of a region level (`pon.shrink`, mean over bins), added
    to tau^2: a panel of few or shallow normals leaves its error in every sample's arm means (two normals at 0.05x:
    a normal checked against the other two had T 2.33 along a breast pattern, tau_blocks 0.022 had covered it).
    ``normals_sd``: the arm-scale sd the panel's normals showed against each other (`tau_from_normals`, stored in
    the panel as ``arm_sd``); the floor is the larger of it and TAU_FLOOR_PON. ``arm_of_bin``: each bin's arm; without
    a panel the floor is the larger of TAU_FLOOR and the sample's own arm spread (`tau_from_arms`, ``tau_own``)."""
    tb = block_sd(log2, seg_id, sigma, bin_size)
    B = block_bins(bin_size)
    noise_segment = float(np.sqrt(sigma ** 2 + B * tb ** 2))
    if with_pon:
        own, estimate, floor = None, normals_sd, TAU_FLOOR_PON
        raised_by = ("the panel normals' arm scatter against each other (leave-one-out), above the floor with a panel "
                     "of normals")
    else:
        own = tau_from_arms(log2, arm_of_bin, sigma, noise_segment) if arm_of_bin is not None else 0.0
        estimate, floor = own, TAU_FLOOR
        raised_by = "the sample's own arm means' robust spread, above the floor without a panel"
    arm = raised_by if estimate > floor else "floor " + ("with" if with_pon else "without") + " a panel of normals"
    floor = max(floor, estimate)
    panel_mse = max(0.0, panel_mse)
    return {"tau": float(np.sqrt(floor ** 2 + panel_mse)), "tau_panel": float(np.sqrt(panel_mse)),
            "tau_blocks": tb, "tau_floor": floor, "block_bins": B, "noise_segment": noise_segment, "tau_own": own,
            "source": ("arm scale: " + arm + (" and the panel's own error" if panel_mse > 0 else "") + "; block scale: "
                       f"scatter of {BLOCK_MB:g} Mb blocks within segments, as bin noise")}
