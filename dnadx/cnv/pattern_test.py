"""Tumour detection along breast-cancer arm patterns: a second rule next to the copy-state model.

At tumour fraction 0.03 a one-copy arm change moves the arm's mean log2 by ~0.02, about one standard
error at 0.1x. The copy-state model (`tumour_fraction.fit`) searches ~40 arms for free states, and a
search that wide needs a high evidence threshold against healthy plasma: on the oracle benchmark
(`benchmarks/cnv_oracle.py`) it detected TF 0.03 in 21/72 tumours without a panel where a matched
filter that knew each tumour's profile detected 72/72. Breast cancers are not free: 1q, 8q, 16p, 17q,
20q gains and 8p, 16q, 17p losses recur together. For each of the 6 TCGA arm patterns
(`reference/models/arm_patterns.tsv`) the test takes the direction w_a = gain - loss frequency of arm a,
centres it on its 1/v-weighted mean (so a common offset of every arm, which centring or a global GC
residual leaves, does not count) and forms the standardised contrast of the arm means m_a (bins more
than 5 noise MADs from the arm's median left out: `segmentation.clipped_means`):

    T_k = sum c_a m_a / v_a / sqrt(sum c_a^2 / v_a),   c_a = w_a - w_bar,   v_a = sigma^2 / k_a + tau^2

(k_a bins of the arm, sigma the bin noise, tau the arm-scale systematic sd the copy-state model used; sigma^2
is raised by the block-scale residual, `systematic.variance_model`).
The largest T_k over the patterns is compared with THRESHOLD. Each T_k is N(0, 1) in healthy plasma when
v_a is right, but their maximum is not: over these 6 correlated patterns it has mean 0.66, sd 0.85 and
95th percentile 2.10 (1000 draws under the test's own model; P(max > 2.25) = 3.6%). Healthy simulations
with real bin effects gave mean 0.56-0.84 and sd 0.6-0.75, as expected of that maximum (v_a slightly
conservative), so their positive mean is the maximum, not an offset; THRESHOLD is set on them.

When it fires and the copy-state model did not call a tumour, the interval runs from the test's lower
bound to the detection limit and the tumour fraction is the copy-state model's profile maximum between
the two (`tumour_fraction.accept_pattern_call`). The lower bound is the test inverted for the worst
case: a tumour at fraction p with one-copy changes on every arm, each in the direction that raises T
most, moves T by at most |log2(1 - p/2)| * sum |c_a| / v_a / sqrt(sum c_a^2 / v_a) (`lower_bound`), so
any p that could not raise T to T - THRESHOLD is rejected; the bound is > 0 exactly when T > THRESHOLD.
No segment gets a state from this test: it says a tumour is there, not which arms carry it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dnadx.cnv import segmentation

THRESHOLD = 2.25  # largest T over the 6 patterns needed to call a tumour. Set on 288 healthy simulations with real
# bin effects, GC shapes and over-dispersion at 0.05x / 0.1x / 0.5x, with and without a panel (tune seeds
# 60000+, `benchmarks/cnv_oracle.py --seeds tune --reps 0 --healthy 48 [--pon]`): every condition's 95th
# percentile lay at 1.52-2.24. The analytic one-sided 5% Bonferroni bound over 6 patterns would be 2.39
MIN_ARM_BINS = 10  # arms with fewer usable bins are left out (acrocentric p arms, short arms at coarse bins)


def lower_bound(statistic: float, reach: float) -> float:
    """Smallest tumour fraction not rejected: a one-copy change moves an arm by at most |log2(1 - p/2)| (a
    loss; a gain moves it by log2(1 + p/2), less), so T can reach at most ``reach`` * |log2(1 - p/2)| above
    healthy, ``reach`` = sum |c_a| / v_a / sqrt(sum c_a^2 / v_a); solved for p at T - THRESHOLD."""
    excess = max(0.0, float(statistic) - THRESHOLD)
    return float(2.0 * (1.0 - 2.0 ** (-excess / reach))) if reach > 0 else 0.0


def templates(patterns: pd.DataFrame) -> dict:
    """Per pattern the autosomal arms' gain - loss frequency (pattern, arm_name, gain, loss -> Series)."""
    out = {}
    for k, g in patterns.groupby("pattern", sort=True):
        g = g[~g["arm_name"].astype(str).str.startswith(("X", "Y"))].set_index("arm_name")
        out[k] = g["gain"] - g["loss"]
    return out


def contrast(k: pd.Series, m: pd.Series, sigma: float, tau: float, patterns: pd.DataFrame, *,
             noise_factor: float = 1.0) -> dict:
    """The largest standardised contrast over the patterns from per-arm bin counts ``k`` and locations ``m``
    (v_a = noise_factor sigma^2 / k_a + tau^2): statistic (None when no pattern has 3 arms of MIN_ARM_BINS),
    pattern, reach (see `lower_bound`) and arms."""
    best = {"statistic": None, "pattern": None, "reach": 0.0, "arms": 0}
    if not np.isfinite(sigma):
        return best
    for name, w in templates(patterns).items():
        arms = [a for a in w.index if a in k.index and k[a] >= MIN_ARM_BINS]
        if len(arms) < 3:
            continue
        v = noise_factor * sigma ** 2 / k[arms].to_numpy(float) + tau ** 2
        ww = w[arms].to_numpy(float)
        c = ww - float((ww / v).sum() / (1 / v).sum())
        scale = float(np.sqrt((c ** 2 / v).sum()))
        if scale <= 0:
            continue
        t = float((c * m[arms].to_numpy(float) / v).sum() / scale)
        if best["statistic"] is None or t > best["statistic"]:
            best = {"statistic": t, "pattern": int(name), "reach": float((np.abs(c) / v).sum()) / scale,
                    "arms": len(arms)}
    return best


def arm_contrast(log2: np.ndarray, arm_of_bin: np.ndarray, sigma: float, tau: float,
                 patterns: pd.DataFrame, *, noise_factor: float = 1.0) -> dict:
    """The test on one sample: ``log2`` per bin (NaN where unusable or not autosomal), ``arm_of_bin``
    each bin's arm name ('' for none), ``noise_factor`` the arm mean's noise variance over sigma^2 / k
    (`systematic.variance_model`: block-scale residuals average like bin noise). Returns statistic, pattern,
    threshold, detected, p_lower, arms."""
    ok = np.isfinite(log2) & (arm_of_bin != "")
    best = contrast(*segmentation.clipped_means(log2[ok], arm_of_bin[ok], sigma), sigma, tau, patterns,
                    noise_factor=noise_factor)
    t = best["statistic"]
    detected = t is not None and t > THRESHOLD
    return {"statistic": None if t is None else round(t, 4), "pattern": best["pattern"], "threshold": THRESHOLD,
            "arms": best["arms"], "detected": bool(detected),
            "p_lower": lower_bound(t, best["reach"]) if detected else 0.0,
            "threshold_source": "healthy simulations with real bin effects, tune seeds (benchmarks/cnv_oracle.py)"}
