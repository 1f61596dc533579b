"""Longitudinal HER2/ERBB2 logic on hand-made cnv/score dicts (fast; the end-to-end test is in
test_report_run.py)."""

from __future__ import annotations

import pytest

from dnadx.report import longitudinal as L
from dnadx.report import qc
from dnadx.scores import erbb2
from tests.helpers.erbb2case import erbb2_case


def cnv(sample, tf, ci, erbb2_cn, *, noise=0.15, ploidy=2.0, status="pass", usable=1):
    return {"sample": sample, "tumor_fraction": tf, "tumor_fraction_ci": list(ci), "ploidy": ploidy,
            "noise_mad": noise, "bin_size": 500_000, "reads_kept": 2_000_000, "qc_status": status, "qc_reasons": [],
            "genes_of_interest": {"ERBB2": {"copy_number": erbb2_cn, "usable_bins": usable,
                                            "status": "assessable" if usable else "no_usable_bins",
                                            "drop_reasons": [] if usable else ["low_mappability"]}}}


def state(sample, patient, tp, tf, copy, *, ci=None, width=2_000_000, noise=0.1, score=None, seed=1, type_="plasma"):
    c, bins = erbb2_case(sample, tf, copy, ci=ci, width=width, noise=noise, seed=seed)
    return L.sample_state({"sample": sample, "patient": patient, "timepoint": tp, "type": type_}, c, score, bins)


def test_state_uses_the_one_erbb2_rule():
    c, bins = erbb2_case("s", 0.3, 10)
    st = L.sample_state({"sample": "s", "patient": "p", "timepoint": "1", "type": "plasma"}, c, None, bins)
    assert st["call"] == erbb2.sample_state(c, bins)["call"] == "amplified"
    # without a bins table the call `dnadx score` made (with the same rule) is shown
    st = L.sample_state({"sample": "s", "patient": "p", "timepoint": "1", "type": "plasma"}, c,
                        {"erbb2_call": "gain", "erbb2_call_reason": "from score"}, None)
    assert st["call"] == "gain" and st["call_source"] == "dnadx score"


def test_amplicon_disappears_is_flagged():
    t = L.transitions([state("A1", "A", "1", 0.3, 10), state("A2", "A", "2", 0.3, 2)])
    assert t["event"].tolist() == ["her2_switch_amplified_to_not"] and t["flagged"].all()


def test_low_tumour_fraction_timepoint_is_not_a_switch():
    t = L.transitions([state("B1", "B", "1", 0.3, 10), state("B2", "B", "2", 0.02, 2, ci=(0.0, 0.05))])
    assert t["event"].tolist() == ["not_assessable"] and not t["flagged"].any()
    assert "not assessable" in t["detail"].iloc[0]


def test_neutral_call_at_modest_tf_but_undetectable_amplicon_is_not_flagged():
    # the later sample's own call says neutral, but at the low end of its tumour-fraction interval
    # 6 copies over the amplicon's 5 bins would not stand out of the noise: no switch
    prev = state("C1", "C", "1", 0.3, 10)
    cur = state("C2", "C", "2", 0.08, 2, ci=(0.01, 0.12), noise=0.08, width=20_000_000)
    assert cur["call"] == "neutral", cur["call_reason"]
    t = L.transitions([prev, cur])
    assert t["event"].tolist() == ["not_assessable"] and not t["flagged"].any()
    assert "is not detectable" in t["detail"].iloc[0]


def test_low_tf_in_between_compares_with_last_assessable_and_orders_timepoints():
    states = [state("D3", "D", "10", 0.3, 2), state("D1", "D", "2", 0.3, 10),
              state("D2", "D", "3", 0.01, 2, ci=(0.0, 0.03))]
    t = L.transitions(states)
    assert t[["from_sample", "to_sample", "event"]].values.tolist() == [
        ["D1", "D2", "not_assessable"], ["D1", "D3", "her2_switch_amplified_to_not"]]
    assert L.earlier_timepoints(states) == {"D1": [], "D2": ["D1"], "D3": ["D1", "D2"]}


def test_gain_neutral_and_loss_and_stable():
    t = L.transitions([state("E1", "E", "1", 0.4, 3, width=10_000_000), state("E2", "E", "2", 0.4, 2),
                       state("E3", "E", "3", 0.4, 2, seed=2), state("E4", "E", "4", 0.4, 1, width=10_000_000)])
    assert t["event"].tolist() == ["her2_switch_gain_to_neutral", "stable", "erbb2_loss"]
    assert t["flagged"].tolist() == [True, False, True]


def test_single_timepoint_and_normals_have_no_transitions():
    t = L.transitions([state("F1", "F", "1", 0.3, 10), state("N1", "F", "2", 0.0, 2, ci=(0.0, 0.03), type_="normal")])
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


def test_qc_says_when_only_the_arm_pattern_test_found_the_tumour():
    pattern = dict(cnv("s", 0.02, (0.003, 0.05), 2), tumor_call_decided_by="arm_pattern_test")
    r = qc.assess({"type": "plasma"}, pattern)
    assert r["status"] == "warn" and any("arm-pattern test alone" in x and "below" in x for x in r["reasons"])
    model = dict(pattern, tumor_call_decided_by="uninformed")
    assert not any("arm-pattern" in x for x in qc.assess({"type": "plasma"}, model)["reasons"])
