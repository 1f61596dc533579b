"""The segment-mean variance model (`dnadx.cnv.systematic`): block-scale residuals average like bin noise
over a long segment; only the arm-scale floor does not."""

from __future__ import annotations

import numpy as np
import pytest

from dnadx.cnv import systematic


def _blocky(rng, n_segments, bins, sigma, tau_b, B):
    """Bins whose residual is shared within B-bin blocks (sd tau_b, independent between blocks) plus bin noise."""
    n_blocks = bins // B
    shared = np.repeat(rng.normal(0.0, tau_b, (n_segments, n_blocks)), B, axis=1)
    return shared + rng.normal(0.0, sigma, (n_segments, n_blocks * B))


def test_block_scale_residuals_average_over_a_segment_like_bin_noise():
    """A 200-bin segment whose bins share 5 Mb-block residuals of sd 0.02 (bin noise 0.1): its mean scatters
    by sqrt((0.1^2 + 10 x 0.02^2) / 200) = 0.0087 (0.0080 over these 400 draws). The model's averaging part,
    noise_segment / sqrt(k), estimated from 40 of the segments, predicts that within 15% (the arm-scale tau is a
    floor for offsets this simulation does not have); taken as an arm-scale tau, as before stop 29, the same
    block estimate predicted 2.2x too much."""
    rng = np.random.default_rng(3)
    sigma, tau_b, B, bins = 0.1, 0.02, systematic.block_bins(500_000), 200
    x = _blocky(rng, 400, bins, sigma, tau_b, B)
    observed = float(x.mean(axis=1).std(ddof=1))
    sample = x[:40].ravel()
    seg = np.repeat(np.arange(40), bins)
    m = systematic.variance_model(sample, seg, sigma, 500_000, with_pon=True)
    assert abs(m["tau_blocks"] - tau_b) < 0.004, m
    predicted = m["noise_segment"] / np.sqrt(bins)
    assert abs(predicted / observed - 1) < 0.15, (predicted, observed)
    old = float(np.sqrt(sigma ** 2 / bins + max(m["tau_floor"], m["tau_blocks"]) ** 2))
    assert old / observed > 2, (old, observed)


def test_without_block_residuals_the_model_is_bin_noise_and_the_floor():
    rng = np.random.default_rng(4)
    x = rng.normal(0.0, 0.15, 40 * 200)
    seg = np.repeat(np.arange(40), 200)
    m = systematic.variance_model(x, seg, 0.15, 500_000)
    assert m["tau"] == systematic.TAU_FLOOR and m["tau_blocks"] < 0.01
    assert abs(m["noise_segment"] - 0.15) < 0.01
    assert systematic.variance_model(x, seg, 0.15, 500_000, with_pon=True)["tau"] == systematic.TAU_FLOOR_PON


def test_the_normals_estimate_leaves_a_tumour_out_and_raises_the_floor_only_by_its_lower_bound():
    rng = np.random.default_rng(3)
    # five normals whose arms stray by sd 0.02 beyond their noise: excess terms with mean 0.0004
    normals = [rng.normal(0.0, 0.02, 39) ** 2 for _ in range(5)]
    est = systematic.tau_from_normals(normals)
    assert est["left_out"] == 0 and est["normals"] == 5
    assert abs(est["estimate"] - 0.0004) < 3 * est["se"]
    assert est["arm_sd"] ** 2 == pytest.approx(est["estimate"] - systematic.LOO_Z * est["se"], rel=1e-9)
    # a tumour among them (one-copy arm changes at TF 0.2, +-0.13 log2 on 8 of 39 arms) does not move it
    tumour = normals[0] + np.where(np.arange(39) < 8, 0.13 ** 2, 0.0)
    with_tumour = systematic.tau_from_normals(normals + [tumour])
    assert with_tumour["left_out"] == 1 and with_tumour["estimate"] == est["estimate"]
    # normals at the noise the model expects: terms around 0, no raise
    flat = [rng.normal(0.0, 0.001, 39) for _ in range(5)]
    assert systematic.tau_from_normals(flat)["arm_sd"] < systematic.TAU_FLOOR_PON


def _arms(rng, offsets, sigma=0.15, k=100):
    """39 arms of k bins: bin noise sigma around per-arm offsets."""
    x = (np.asarray(offsets)[:, None] + rng.normal(0.0, sigma, (39, k))).ravel()
    return x, np.repeat(np.array([f"a{i}" for i in range(39)], dtype=object), k)


def test_without_a_panel_the_sample_s_own_arm_spread_sets_the_arm_scale():
    """Arm offsets of sd 0.02 (simulator ``region_sd``) are found from the sample's own arm means; noise alone
    gives about 0; a tumour moving 10 of 39 arms by one copy at TF 0.2 (+-0.13) barely moves the estimate,
    where the arms' mean square would take it to ~0.07."""
    rng = np.random.default_rng(5)
    sigma, ns = 0.15, 0.15
    estimates = [systematic.tau_from_arms(*_arms(rng, rng.normal(0.0, 0.02, 39)), sigma, ns) for _ in range(40)]
    assert 0.015 < np.median(estimates) < 0.025, np.median(estimates)
    quiet = [systematic.tau_from_arms(*_arms(rng, np.zeros(39)), sigma, ns) for _ in range(40)]
    assert np.median(quiet) < 0.006 and max(quiet) < 0.015, quiet
    offsets = rng.normal(0.0, 0.02, 39)
    x, arm = _arms(rng, offsets)
    tumour = offsets + np.where(np.arange(39) < 10, np.where(np.arange(39) % 2 == 0, 0.13, -0.13), 0.0)
    xt, _ = _arms(np.random.default_rng(6), tumour)
    own, with_tumour = systematic.tau_from_arms(x, arm, sigma, ns), systematic.tau_from_arms(xt, arm, sigma, ns)
    assert abs(with_tumour - own) < 0.012, (own, with_tumour)
    assert float(np.sqrt(np.mean(tumour ** 2))) > 0.06


def test_the_own_estimate_raises_the_floor_only_without_a_panel():
    rng = np.random.default_rng(7)
    x, arm = _arms(rng, rng.normal(0.0, 0.03, 39))
    seg = np.repeat(np.arange(39), 100)
    m = systematic.variance_model(x, seg, 0.15, 500_000, arm_of_bin=arm)
    assert m["tau"] == m["tau_floor"] == m["tau_own"] > systematic.TAU_FLOOR
    assert "own arm means" in m["source"]
    p = systematic.variance_model(x, seg, 0.15, 500_000, arm_of_bin=arm, with_pon=True)
    assert p["tau"] == systematic.TAU_FLOOR_PON and p["tau_own"] is None
    # too few arms for a spread: the floor
    few = np.isin(arm, [f"a{i}" for i in range(10)])
    assert systematic.tau_from_arms(np.where(few, x, np.nan), arm, 0.15, 0.15) == 0.0
