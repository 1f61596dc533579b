"""The background error model learned from the normals (dnadx/variants/background.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dnadx.variants import background as bgm


def _model(sites: int, depth: int, mu: float, spread: float, seed: int = 0, normals: int = 5) -> pd.DataFrame:
    """Error-model table whose per-site SNV error rates are Beta(spread mu, spread (1 - mu))."""
    rng = np.random.default_rng(seed)
    rate = rng.beta(spread * mu, spread * (1 - mu), sites)
    x = rng.binomial(depth, rate * 3)  # errors over the three non-reference bases
    return pd.DataFrame({"chrom": "chr17", "pos": np.arange(1, sites + 1), "depth": depth, "samples": normals,
                         "A": 0, "C": x // 2, "G": x - x // 2, "T": 0, "indel": rng.binomial(depth, 1e-4, sites)})


def test_rate_and_spread_are_learned_from_many_sites():
    bg = bgm.fit(_model(3000, 3000, 2e-3, 2000))
    assert bg.learned and bg.normals == 5 and bg.sites == 3000
    assert bg.snv_rate == pytest.approx(2e-3, rel=0.1)
    assert 1000 < bg.spread < 4000 and bg.weight == bg.spread  # true spread 2000
    tight = bgm.fit(_model(3000, 3000, 2e-3, 1e6, seed=1))  # no site-to-site variation beyond binomial
    assert tight.spread > 2e4
    d = bgm.describe(bg)
    assert d["learned_from_normals"] and d["normals"] == 5 and "fitted to the normals" in d["note"]


def test_few_sites_fall_back_to_the_defaults():
    bg = bgm.fit(_model(50, 3000, 2e-3, 2000))
    assert not bg.learned and (bg.snv_rate, bg.spread, bg.weight) == (bgm.DEFAULT_SNV_RATE, bgm.PRIOR_STRENGTH,
                                                                        bgm.MODEL_PRIOR_WEIGHT)
    assert "defaults" in bgm.describe(bg)["note"] and bgm.describe(bgm.fit(None))["normals"] == 0


def test_a_noisy_site_is_shrunk_towards_the_global_rate():
    model = _model(3000, 3000, 2e-3, 2000)
    model.loc[0, ["C", "G"]] = [30, 30]  # 60 / 3000 errors: 20x the rate at site 1
    bg = bgm.fit(model)
    a, b = bgm.beta(bg, ["chr17", "chr17", "chr9"], [1, 2, 1], ["snv", "C", "snv"])
    mean = a / (a + b)
    site1 = (bg.weight * bg.snv_rate + 20) / (bg.weight + 3000)
    assert mean[0] == pytest.approx(site1) and bg.snv_rate < mean[0] < 20 / 3000
    assert mean[2] == pytest.approx(bg.snv_rate)  # a site the normals never saw: the global rate
    assert (a + b) == pytest.approx(np.full(3, bg.spread))


def test_sites_with_a_real_allele_in_the_normals_stay_out_of_the_global_fit():
    model = _model(3000, 3000, 2e-3, 2000)
    model.loc[:299, ["C", "G"]] = [750, 750]  # 10% of sites heterozygous in the normals
    bg = bgm.fit(model)
    assert bg.allelic_sites == 300 and bg.snv_rate == pytest.approx(2e-3, rel=0.1) and 1000 < bg.spread < 4000
    a, b = bgm.beta(bg, ["chr17"], [1], ["C"])
    assert a[0] / (a[0] + b[0]) > 0.1  # ... but keep their own, high rate there
