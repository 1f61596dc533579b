"""Shipped DNADX predictors (reference/models): load, formula, predictions on known profiles.

These need no external data: the coefficient files are part of the bundle.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from dnadx.scores import enet, io as models_io, train
from dnadx.core import reference
from dnadx.scores.models import cohort_spread_ratio, predict_all

ERBB2 = "chr17:35067383-35272328.BeroukhimS2.17q12.amp.ERBB2"


@pytest.fixture(scope="module")
def shipped():
    return models_io.read_models(models_io.shipped_models_dir())


def test_every_task_is_shipped_with_536_segments_in_bundle_order(shipped):
    assert list(shipped) == list(train.TASK_NAMES)
    seg = reference.segments()["segment_id"].tolist()
    for m in shipped.values():
        assert m.coefs["segment_id"].tolist() == seg
        assert (m.coefs["scale"] > 0).all() and (m.coefs["train_min"] <= m.coefs["train_max"]).all()
        assert 1 <= m.n_nonzero < 536


def test_exploratory_flag_follows_external_validation(shipped):
    for m in shipped.values():
        ext = m.meta["metrics"].get("metabric", {}).get("auc")
        assert m.exploratory == (ext is None or ext < train.VALIDATED_AUC), m.name
    assert not shipped["her2_status"].exploratory
    assert shipped["her2_status"].meta["metrics"]["metabric"]["auc"] >= 0.93


def test_prediction_follows_the_documented_formula(shipped):
    m = shipped["pam50_basal"]
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.3, 536)
    c = m.coefs
    xc = np.clip(x, c["train_min"], c["train_max"])
    eta = m.intercept + (((xc - c["center"]) / c["scale"]) * c["coef"]).sum()
    assert m.decision(x)[0] == pytest.approx(eta, rel=1e-9)
    assert m.predict(x)[0] == pytest.approx(1 / (1 + np.exp(-(m.platt_a + m.platt_b * eta))), rel=1e-9)


def test_her2_probability_on_known_profiles(shipped):
    m = shipped["her2_status"]
    seg = reference.segments()["segment_id"]
    flat = np.zeros(536)
    amp = flat.copy()
    i = seg.tolist().index(ERBB2)
    amp[i] = 3.0  # CN 16 in a diploid genome at 100% tumour: log2(16/2)
    assert m.predict(flat)[0] < 0.1
    assert m.predict(amp)[0] > 0.9
    levels = np.zeros((6, 536))
    levels[:, i] = [-0.5, 0, 0.5, 1, 2, 3]
    assert (np.diff(m.predict(levels)) > 0).all()
    # Spread standardisation: a cohort at 0.4x the amplitude, divided by s = 0.4, is back on scale.
    assert m.predict(amp * 0.4, spread=0.4)[0] == pytest.approx(m.predict(amp)[0])


def test_missing_segments_count_only_when_the_model_uses_them(shipped):
    m = shipped["her2_status"]
    seg = reference.segments()["segment_id"].tolist()
    x = np.zeros(536)
    x[0] = np.nan  # 1p arm: not a term of the HER2 model
    assert m.missing_terms(x) == 0 and np.isfinite(m.predict(x)[0])
    x[seg.index(ERBB2)] = np.nan
    assert m.missing_terms(x) == 1
    out = predict_all(shipped, np.zeros(536))
    assert set(out) == set(shipped) and all(0 < v["probability"] < 1 for v in out.values())


def test_cohort_spread_ratio_recovers_a_known_compression(shipped):
    m = shipped["her2_status"]
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (400, 536)) * m.coefs["scale"].to_numpy() * 0.36
    assert cohort_spread_ratio(x, m) == pytest.approx(0.36, rel=0.05)


def test_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 300)
    s = np.round(y + rng.normal(0, 1, 300), 1)
    assert enet.auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_elastic_net_recovers_the_true_support():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(600, 40))
    eta = 2.0 * z[:, 3] - 1.5 * z[:, 7]
    y = (rng.random(600) < 1 / (1 + np.exp(-eta))).astype(float)
    lmax = enet.lambda_max(z, y, 0.9)
    w, b = enet.fit(z, y, lam=0.1 * lmax, alpha=0.9, max_iter=5000)
    assert set(np.flatnonzero(np.abs(w) > 0.05)) == {3, 7}
    assert w[3] > 0 > w[7]
    assert enet.lambda_max(z, y, 0.9) > 0
    w0, _ = enet.fit(z, y, lam=1.01 * lmax, alpha=0.9)
    assert not w0.any()  # above lambda_max every coefficient is zero


def test_platt_recovers_known_calibration():
    rng = np.random.default_rng(4)
    eta = rng.normal(0, 2, 5000)
    y = (rng.random(5000) < 1 / (1 + np.exp(-(0.5 + 1.5 * eta)))).astype(float)
    a, b = train.platt(eta, y)
    assert a == pytest.approx(0.5, abs=0.15) and b == pytest.approx(1.5, abs=0.15)


def test_split_is_stratified_and_deterministic():
    y = np.array([0] * 80 + [1] * 20)
    strata = np.array([1, 2] * 50)
    m1 = train.split(y, strata, np.random.default_rng(train.SEED))
    m2 = train.split(y, strata, np.random.default_rng(train.SEED))
    assert (m1 == m2).all() and m1.sum() == 70
    assert y[m1].sum() == 14 and strata[m1 & (y == 1)].tolist().count(1) == 7  # 70% of each cell


def test_calibration_table_of_a_perfect_predictor():
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    p = y.astype(float)
    t = train.calibration_table(y, p, bins=2)
    assert t["brier"] == 0 and t["ece"] == 0 and sum(b["n"] for b in t["bins"]) == 10


def test_model_file_round_trip(tmp_path, shipped):
    m = shipped["rppa_her2"]
    models_io.write_model(m, tmp_path)
    back = models_io.read_model(tmp_path, "rppa_her2")
    pd.testing.assert_frame_equal(back.coefs, m.coefs)
    assert (back.intercept, back.platt_a, back.platt_b, back.exploratory) == (m.intercept, m.platt_a, m.platt_b, m.exploratory)
