"""Longitudinal HER2/ERBB2 logic on hand-made cnv/score dicts (fast; the end-to-end test is in
test_report_run.py)."""

from __future__ import annotations

import math

import pytest

from dnadx.report import longitudinal as L
from dnadx.report import qc


def cnv(sample, tf, ci, erbb2_cn, *, noise=0.15, ploidy=2.0, status="pass", usable=1):
    return {"sample": sample, "tumor_fraction": tf, "tumor_fraction_ci": list(ci), "ploidy": ploidy,
            "noise_mad": noise, "bin_size": 500_000, "reads_kept": 2_000_000, "qc_status": status, "qc_reasons": [],
            "genes_of_interest": {"ERBB2": {"copy_number": erbb2_cn, "usable_bins": usable,
                                            "status": "assessable" if usable else "no_usable_bins",
                                            "drop_reasons": [] if usable else ["low_mappability"]}}}


def state(sample, patient, tp, c, score=None, erbb2_bins=None):
    return L.sample_state({"sample": sample, "patient": patient, "timepoint": tp, "type": "plasma"}, c, score,
                          erbb2_bins=erbb2_bins)


def test_detectable_copy_number_formula():
    # p = 0.3, phi = 2, sigma = 0.15, n = 2: se = sqrt(0.15^2/2 + 0.05^2)
    se = math.sqrt(0.15 ** 2 / 2 + 0.05 ** 2)
    c = L.detectable_copy_number(0.3, 2.0, 0.15, 2)
    assert math.log2((2 * 0.7 + 0.3 * c) / (2 * 0.7 + 0.3 * 2)) == pytest.approx(3 * se)
    assert L.detectable_copy_number(0.0, 2.0, 0.15, 2) == math.inf
    # lower tumour fraction -> a larger amplification is needed
    assert L.detectable_copy_number(0.05, 2.0, 0.15, 2) > L.detectable_copy_number(0.2, 2.0, 0.15, 2)


@pytest.mark.parametrize("cn,expected", [(10, "amplified"), (3, "gain"), (2, "neutral"), (1, "loss")])
def test_cnv_call_at_high_tumour_fraction(cn, expected):
    assert L.cnv_erbb2_call(cnv("s", 0.3, (0.27, 0.33), cn))[0] == expected


def test_cnv_call_not_assessable_when_low_tf_or_no_bins():
    assert L.cnv_erbb2_call(cnv("s", 0.02, (0.0, 0.04), 2))[0] == "not_assessable"
    assert L.cnv_erbb2_call(cnv("s", 0.3, (0.27, 0.33), None, usable=0))[0] == "not_assessable"
    assert L.cnv_erbb2_call(cnv("s", 0.3, (0.27, 0.33), 10, status="fail"))[0] == "not_assessable"
    # point estimate above the limit but the interval reaches 0: an amplicon might be missed
    assert L.cnv_erbb2_call(cnv("s", 0.06, (0.0, 0.12), 2))[0] == "not_assessable"


def test_amplicon_disappears_is_flagged():
    t = L.transitions([state("A1", "A", "1", cnv("A1", 0.3, (0.27, 0.33), 10)),
                       state("A2", "A", "2", cnv("A2", 0.3, (0.27, 0.33), 2))])
    assert t["event"].tolist() == ["her2_switch_amplified_to_not"] and t["flagged"].all()


def test_low_tumour_fraction_timepoint_is_not_a_switch():
    t = L.transitions([state("B1", "B", "1", cnv("B1", 0.3, (0.27, 0.33), 10)),
                       state("B2", "B", "2", cnv("B2", 0.02, (0.0, 0.05), 2))])
    assert t["event"].tolist() == ["not_assessable"] and not t["flagged"].any()
    assert "not assessable" in t["detail"].iloc[0]


def test_neutral_call_at_modest_tf_but_undetectable_amplicon_is_not_flagged():
    # the later sample's own call says neutral (e.g. from `dnadx score`), but at the low end of its
    # tumour-fraction interval 6 copies would not stand out of the noise: no switch
    prev = state("C1", "C", "1", cnv("C1", 0.3, (0.27, 0.33), 10))
    cur = state("C2", "C", "2", cnv("C2", 0.08, (0.03, 0.12), 2, noise=0.3), score={"erbb2_call": "neutral"})
    assert cur["call"] == "neutral"
    t = L.transitions([prev, cur])
    assert t["event"].tolist() == ["not_assessable"] and not t["flagged"].any()
    assert "is not detectable" in t["detail"].iloc[0]


def test_low_tf_in_between_compares_with_last_assessable_and_orders_timepoints():
    states = [state("D3", "D", "10", cnv("D3", 0.3, (0.27, 0.33), 2)),
              state("D1", "D", "2", cnv("D1", 0.3, (0.27, 0.33), 10)),
              state("D2", "D", "3", cnv("D2", 0.01, (0.0, 0.03), 2))]
    t = L.transitions(states)
    assert t[["from_sample", "to_sample", "event"]].values.tolist() == [
        ["D1", "D2", "not_assessable"], ["D1", "D3", "her2_switch_amplified_to_not"]]


def test_gain_neutral_and_loss_and_stable():
    # a one-copy gain over the default 1 Mb is below detection at this noise; over the gain's own
    # 10 Mb segment (20 bins) it is not
    t = L.transitions([state("E1", "E", "1", cnv("E1", 0.4, (0.37, 0.43), 3)),
                       state("E2", "E", "2", cnv("E2", 0.4, (0.37, 0.43), 2))])
    assert t["event"].tolist() == ["not_assessable"] and "is not detectable" in t["detail"].iloc[0]
    t = L.transitions([state("E1", "E", "1", cnv("E1", 0.4, (0.37, 0.43), 3), erbb2_bins=20),
                       state("E2", "E", "2", cnv("E2", 0.4, (0.37, 0.43), 2)),
                       state("E3", "E", "3", cnv("E3", 0.4, (0.37, 0.43), 2)),
                       state("E4", "E", "4", cnv("E4", 0.4, (0.37, 0.43), 1), erbb2_bins=20)])
    assert t["event"].tolist() == ["her2_switch_gain_to_neutral", "stable", "erbb2_loss"]
    assert t["flagged"].tolist() == [True, False, True]


def test_single_timepoint_and_normals_have_no_transitions():
    t = L.transitions([state("F1", "F", "1", cnv("F1", 0.3, (0.27, 0.33), 10)),
                       L.sample_state({"sample": "N1", "patient": "F", "timepoint": "2", "type": "normal"},
                                      cnv("N1", 0.0, (0.0, 0.03), 2), None)])
    assert t.empty


def test_timepoint_key_orders_numbers_and_labels():
    tps = ["T10", "T2", "", "baseline"]
    assert sorted(["3", "10", "2.5"], key=L.timepoint_key) == ["2.5", "3", "10"]
    assert sorted(tps, key=L.timepoint_key) == ["baseline", "T2", "T10", ""]


def test_qc_combines_checks_and_never_beats_cnv_status():
    good = cnv("s", 0.3, (0.27, 0.33), 10)
    assert qc.assess({"type": "plasma"}, good)["status"] == "pass"
    low = cnv("s", 0.01, (0.0, 0.04), 2)
    r = qc.assess({"type": "plasma"}, low)
    assert r["status"] == "warn" and any("not distinguishable from 0" in x for x in r["reasons"])
    assert qc.assess({"type": "normal"}, low)["status"] == "pass"
    nobins = cnv("s", 0.3, (0.27, 0.33), None, usable=0)
    r = qc.assess({"type": "plasma"}, nobins)
    assert r["status"] == "warn" and any("no usable bins at ERBB2" in x for x in r["reasons"])
    noisy = dict(good, noise_mad=0.6, reads_kept=10_000)
    r = qc.assess({"type": "plasma"}, noisy)
    assert r["status"] == "fail" and len(r["reasons"]) == 2
    r = qc.assess({"type": "plasma"}, dict(good, qc_status="fail", qc_reasons=["something cnv saw"]))
    assert r["status"] == "fail" and "something cnv saw" in r["reasons"][-1]
    assert qc.assess({"type": "plasma"}, None, failure="cnv failed (exit code 4)")["status"] == "fail"
