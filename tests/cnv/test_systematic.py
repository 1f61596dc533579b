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
