"""The arm-pattern detection rule (`dnadx.cnv.pattern_test`): calibrated under its own model, blind to a
common offset, its lower bound never above the truth, and how a call it makes enters the fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dnadx.cnv import pattern_test, segmentation, tumour_fraction
from dnadx.core import reference

SIGMA, TAU, BIN = 0.1, 0.01, 500_000


@pytest.fixture(scope="module")
def layout():
    """Each 500 kb bin's arm on GRCh38 for the autosomal arms the patterns know."""
    arms = reference.arms("GRCh38")
    pats = reference.arm_patterns()
    known = set(pats["arm_name"]) - {a for a in pats["arm_name"] if a.startswith(("X", "Y"))}
    names = []
    for a in arms.itertuples(index=False):
        if a.arm_name in known:
            names += [a.arm_name] * int((a.end - a.start) // BIN)
    return np.array(names, dtype=object), pats


def healthy(names, rng):
    offset = pd.Series(rng.normal(0, TAU, len(set(names))), index=sorted(set(names)))
    return rng.normal(0, SIGMA, len(names)) + offset.reindex(names).to_numpy()


def test_false_calls_under_the_tests_own_model_are_rare_but_possible(layout):
    # bins with sd SIGMA and arm offsets with sd TAU, as the test assumes: each pattern's T is N(0, 1), so the
    # largest of 6 passes 2.25 in 1.2-7.3% of samples (one pattern alone .. Bonferroni); a wrong scale fails
    names, pats = layout
    rng = np.random.default_rng(7)
    stats = np.array([pattern_test.arm_contrast(healthy(names, rng), names, SIGMA, TAU, pats)["statistic"]
                      for _ in range(400)])
    rate = float((stats > pattern_test.THRESHOLD).mean())
    assert 0.005 <= rate <= 0.09, rate
    # the largest of 6 correlated N(0, 1): mean ~0.66, sd ~0.85 (1000 draws); healthy plasma's positive mean is this
    assert 0.4 < float(np.mean(stats)) < 0.95 and 0.6 < float(np.std(stats)) < 1.1


def test_a_common_offset_does_not_count(layout):
    names, pats = layout
    x = healthy(names, np.random.default_rng(3))
    a = pattern_test.arm_contrast(x, names, SIGMA, TAU, pats)
    b = pattern_test.arm_contrast(x + 0.08, names, SIGMA, TAU, pats)
    assert b["statistic"] == pytest.approx(a["statistic"], abs=1e-3) and b["detected"] == a["detected"]


def test_a_breast_pattern_at_tumour_fraction_005_is_detected_and_bounded(layout):
    names, pats = layout
    w = pattern_test.templates(pats)[1]
    rng = np.random.default_rng(11)
    p = 0.05
    state = pd.Series(np.select([w > 0.3, w < -0.3], [3, 1], 2), index=w.index)
    mu = tumour_fraction.expected_log2(state.reindex(names).to_numpy(float), 2, p, 2.0)
    got = pattern_test.arm_contrast(healthy(names, rng) + mu, names, SIGMA, TAU, pats)
    assert got["detected"] and 0 < got["p_lower"] < p
    assert not pattern_test.arm_contrast(healthy(names, rng), names, SIGMA, TAU, pats)["detected"]


def test_the_lower_bound_never_exceeds_the_true_fraction(layout):
    # noise-free one-copy profiles, each arm gained, lost or neutral at random (including the profile that
    # raises T most): the bound solves the worst case, so it stays below p
    names, pats = layout
    rng = np.random.default_rng(5)
    arms = sorted(set(names))
    w = pattern_test.templates(pats)
    for _ in range(200):
        p = float(rng.uniform(0.01, 0.6))
        if rng.random() < 0.3:  # the worst case for a random pattern: every arm along its sign
            k = int(rng.integers(1, 7))
            state = pd.Series(np.where(w[k].reindex(arms).fillna(0) > 0, 3, 1), index=arms)
        else:
            state = pd.Series(rng.choice([1, 2, 3], len(arms)), index=arms)
        x = tumour_fraction.expected_log2(state.reindex(names).to_numpy(float), 2, p, float(rng.uniform(1.8, 2.6)))
        got = pattern_test.arm_contrast(x, names, SIGMA, TAU, pats)
        assert got["p_lower"] <= p, (p, got)


def test_too_few_arms_or_no_noise_estimate_call_nothing(layout):
    names, pats = layout
    x = healthy(names, np.random.default_rng(1)) + 0.2 * (names == "1q")
    few = np.where(np.isin(names, ["1q", "16q"]), x, np.nan)
    assert pattern_test.arm_contrast(few, names, SIGMA, TAU, pats)["statistic"] is None
    assert not pattern_test.arm_contrast(x, names, float("nan"), TAU, pats)["detected"]
    assert pattern_test.lower_bound(pattern_test.THRESHOLD - 0.1, 50.0) == 0.0


def _fit(profile):
    return tumour_fraction.Fit(0.0, (0.0, 0.04), 2.0, np.array([2, 2]), 0.0, profile, [], 0.5)


def test_a_pattern_call_takes_its_estimate_between_its_bound_and_the_detection_limit():
    p = tumour_fraction.P_GRID
    prof = pd.DataFrame({"p": p, "loglik": -((p - 0.03) ** 2) / (2 * 0.01 ** 2), "ploidy": 2.0, "option": 0})
    f = _fit(prof)
    tumour_fraction.accept_pattern_call(f, 0.004)
    assert f.tumour_fraction == pytest.approx(0.03) and f.ci == (0.004, 0.04)
    assert f.decided_by == "arm_pattern_test" and list(f.states) == [2, 2]
    # a profile peaking far above the detection limit (the copy-state model did not call it): the estimate
    # stays at the limit
    g = _fit(prof.assign(loglik=-((p - 0.5) ** 2) / (2 * 0.05 ** 2)))
    tumour_fraction.accept_pattern_call(g, 0.004)
    assert g.tumour_fraction == pytest.approx(0.04) and g.ci == (0.004, 0.04)
    h = _fit(prof)
    tumour_fraction.accept_pattern_call(h, 0.045)  # the bound above the limit: estimate and interval at the bound
    assert h.tumour_fraction == 0.045 and h.ci == (0.045, 0.045)


def test_the_detection_limit_is_where_a_call_becomes_likely():
    """A tumour at the detection limit (one-copy changes over MIN_ALTERED of the genome) gives a likelihood-ratio
    signal of DETECTION_CHI2, so its evidence (half of it, ~6.6) passes GLOBAL_EVIDENCE with 95% probability; at
    CHI2_95 (the old limit) it would pass about half the time."""
    k = np.full(40, 100.0)
    lim = tumour_fraction.detection_limit(0.1, k, tau=0.01)
    n_seg = max(1.0, tumour_fraction.MIN_ALTERED * k.sum() / 100)
    mu = tumour_fraction.expected_log2(3, 2, lim, 2.0)
    signal = n_seg * mu ** 2 / (0.1 ** 2 / 100 + 0.01 ** 2)
    assert tumour_fraction.DETECTION_CHI2 <= signal
    from scipy.stats import ncx2
    assert ncx2.sf(2 * tumour_fraction.GLOBAL_EVIDENCE, 1, signal) >= 0.95
    # ... and it is the smallest such p on the grid: one step below, a call is less likely than 95%
    # (at the old CHI2_95 signal, 3.84, it was about half: ncx2.sf(4, 1, 3.84) = 0.48)
    below = n_seg * tumour_fraction.expected_log2(3, 2, lim - 0.0025, 2.0) ** 2 / (0.1 ** 2 / 100 + 0.01 ** 2)
    assert ncx2.sf(2 * tumour_fraction.GLOBAL_EVIDENCE, 1, below) < 0.95


def test_run_cnv_calls_a_weak_breast_pattern_the_state_model_misses():
    """A healthy sample of the project's simulator with one-copy changes at tumour fraction 0.025 planted on nine
    breast-cancer arms (counts scaled by 1 +- p/2): the state model's evidence stays below its threshold, the
    arm-pattern test calls it; the interval excludes 0, holds the truth and the estimate, and no segment gets a state.
    At 0.015 (T 1.27 when written) nothing is called; cnv.json carries the test either way."""
    from dnadx.cnv import arm_prior
    from tests.helpers.cnvsim import cnv, sim_bins
    bins, _ = sim_bins("flat", 0.0, seed=321)
    arm = arm_prior.segment_arms(bins, reference.arms("GRCh38"))

    def planted(p):
        f = np.ones(len(bins))
        f[np.isin(arm, ["1q", "16p", "8q", "17q", "20q"])] = 1 + p / 2
        f[np.isin(arm, ["16q", "8p", "17p", "11q"])] = 1 - p / 2
        return cnv(bins.assign(count=np.round(bins["count"] * f).astype(int)))

    r = planted(0.025)
    s = r.summary
    assert s["tumor_call_decided_by"] == "arm_pattern_test" and s["arm_pattern_test"]["detected"], s["arm_pattern_test"]
    lo, hi = s["tumor_fraction_ci"]
    assert s["tumor_detected"] and 0 < lo <= s["tumor_fraction"] <= hi and lo <= 0.025 <= hi
    assert s["tumor_evidence_loglik"] < s["tumor_evidence_needed"]
    assert (r.segments["copy_number"].isin([-1]) | (r.segments["copy_number"] == r.segments["normal_copy"])).all()
    weak = planted(0.015).summary
    assert not weak["tumor_detected"] and weak["arm_pattern_test"]["statistic"] < pattern_test.THRESHOLD


def test_clipped_arm_means_keep_gaussian_bins_and_drop_outliers():
    rng = np.random.default_rng(2)
    arm = np.array(["1q"] * 57 + ["8p"] * 30 + ["16q"] * 3, dtype=object)[rng.permutation(90)]
    x = rng.normal(0, 0.1, 90)
    k, m = segmentation.clipped_means(x, arm, 0.1)
    for a in ("1q", "8p", "16q"):  # no Gaussian bin is 5 sd out: the plain means
        assert k[a] == (arm == a).sum() and m[a] == pytest.approx(x[arm == a].mean(), abs=1e-12)
    bad = x.copy()
    bad[np.flatnonzero(arm == "1q")[:3]] = -1.0  # three half-empty bins
    kb, mb = segmentation.clipped_means(bad, arm, 0.1)
    keep = np.ones(90, bool)
    keep[np.flatnonzero(arm == "1q")[:3]] = False
    assert kb["1q"] == 54 and mb["1q"] == pytest.approx(x[keep & (arm == "1q")].mean(), abs=1e-12)
    assert abs(bad[arm == "1q"].mean() - x[arm == "1q"].mean()) > 0.04  # what the plain mean would have moved
    knan, mnan = segmentation.clipped_means(bad, arm, float("nan"))  # no noise estimate: nothing clipped
    assert knan["1q"] == 57
