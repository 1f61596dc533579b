"""The breast-cancer arm prior of the tumour-fraction model: the shipped frequencies, the per-segment
terms, and their effect on the state prior."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dnadx.cnv import arm_prior, tumour_fraction
from dnadx.core import reference
from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]
TRAINING = ROOT.parent / "shared" / "dnadx-training"


@pytest.mark.skipif(not TRAINING.exists(), reason=f"DNADX training folder not present at {TRAINING}")
def test_arm_patterns_rebuild_byte_for_byte(tmp_path):
    subprocess.run([sys.executable, ROOT / "reference/build/build_arm_patterns.py", TRAINING, tmp_path],
                   check=True, capture_output=True)
    shipped = ROOT / "reference/models/arm_patterns.tsv"
    assert (tmp_path / "models/arm_patterns.tsv").read_bytes() == shipped.read_bytes()


def test_shipped_patterns_show_the_known_breast_cancer_arms():
    t = reference.arm_patterns()
    assert t.groupby("pattern")["arm_name"].count().eq(42).all() and "Yp" not in set(t["arm_name"])
    assert t.groupby("pattern")["weight"].first().sum() == pytest.approx(1, abs=1e-3)
    assert ((t["gain"] + t["loss"]) <= 1).all()
    w = t["weight"]
    pooled = t.assign(g=t["gain"] * w, l=t["loss"] * w).groupby("arm_name")[["g", "l"]].sum()
    for arm in ("1q", "8q", "16p", "20q"):  # recurrent gains (TCGA 2012; Curtis et al. 2012)
        assert pooled.loc[arm, "g"] > 0.4 and pooled.loc[arm, "g"] > 4 * pooled.loc[arm, "l"], arm
    for arm in ("16q", "17p"):  # recurrent losses
        assert pooled.loc[arm, "l"] > 0.5 and pooled.loc[arm, "l"] > 4 * pooled.loc[arm, "g"], arm
    # a basal-like pattern: 5q and 15q loss with 8q and 10p gain, in one pattern
    basal = t[t["arm_name"].isin(["5q", "15q"])].groupby("pattern")["loss"].min()
    k = int(basal.idxmax())
    p = t[t["pattern"] == k].set_index("arm_name")
    assert basal.max() > 0.6 and p.loc["8q", "gain"] > 0.6 and p.loc["10p", "gain"] > 0.5


def test_segment_arms_and_pattern_terms():
    arms = reference.arms("GRCh38")
    q = arms[arms["arm_name"] == "1q"].iloc[0]
    segs = pd.DataFrame({"chrom": ["chr1", "chr1", "chrY"], "start": [0, int(q["start"]) + 1_000_000, 0],
                         "end": [1_000_000, int(q["start"]) + 2_000_000, 1_000_000]})
    names = arm_prior.segment_arms(segs, arms)
    assert list(names) == ["1p", "1q", "Yp"]
    pats = pd.DataFrame({"pattern": [1, 1, 2, 2], "weight": [0.75, 0.75, 0.25, 0.25], "arm_name": ["1p", "1q"] * 2,
                         "gain": [0.1, 0.9, 0.0, 0.3], "loss": [0.3, 0.0, 0.0, 0.3]})
    terms = arm_prior.pattern_terms(names, pats)
    (w1, mass1, up1), (w2, mass2, up2) = terms
    assert w1 + w2 == pytest.approx(1 - arm_prior.UNIFORM_SHARE) and w1 == pytest.approx(3 * w2)
    floor = arm_prior.FREQ_FLOOR
    assert mass1[:2] == pytest.approx([0.4, 0.9 + floor]) and up1[:2] == pytest.approx([0.25, 0.9 / (0.9 + floor)])
    assert mass2[0] == pytest.approx(2 * floor)  # an arm never altered in a pattern is still possible
    assert mass1[2] == pytest.approx((0.1 + 0.9) / 2 + (0.3 + floor) / 2)  # chrY: the pattern's mean arm


def test_log_prior_uninformed_terms_change_nothing_and_direction_moves_mass():
    n = np.array([2, 2])
    mb = np.array([50.0, 50.0])
    base = tumour_fraction.log_prior(n, mb, 0.25)
    same = tumour_fraction.log_prior(n, mb, np.full(2, 0.25), up=np.full(2, 0.5))
    assert np.allclose(base, same)
    p = np.exp(tumour_fraction.log_prior(n, mb, np.array([0.5, 0.25]), up=np.array([0.9, 0.1])))
    assert np.allclose(p.sum(axis=1), 1)
    neutral = tumour_fraction.STATES == 2
    assert p[0, neutral][0] == pytest.approx(0.5) and p[1, neutral][0] == pytest.approx(0.75)
    gain, loss = tumour_fraction.STATES == 3, tumour_fraction.STATES == 1
    assert p[0, gain][0] > 5 * p[0, loss][0] and p[1, loss][0] > 5 * p[1, gain][0]
    capped = np.exp(tumour_fraction.log_prior(n[:1], mb[:1], np.array([2.5])))
    assert capped[0, neutral][0] == pytest.approx(1 - tumour_fraction.MAX_ALTERED)


def _arm_segments(changes: dict, p: float, sigma: float, seed: int):
    """One segment per autosomal arm (500 kb bins), mean log2 at tumour fraction p with noise sd sigma/sqrt(k)."""
    arms = reference.arms("GRCh38")
    arms = arms[arms["chrom"].isin([f"chr{i}" for i in range(1, 23)]) & (arms["end"] - arms["start"] > 20e6)]
    k = ((arms["end"] - arms["start"]) // 500_000).to_numpy(float)
    c = np.array([changes.get(a, 2) for a in arms["arm_name"]], float)
    mu = tumour_fraction.expected_log2(c, 2.0, p, 2.0)
    rng = np.random.default_rng(seed)
    segs = pd.DataFrame({"chrom": arms["chrom"].to_numpy(), "start": arms["start"].to_numpy(),
                         "end": arms["end"].to_numpy(), "log2": mu + rng.normal(0, sigma / np.sqrt(k)),
                         "n_bins": k.astype(int), "normal_copy": 2, "autosome": True})
    segs["arm_name"] = arm_prior.segment_arms(segs, arms)
    return segs


def test_patterns_raise_the_evidence_of_a_breast_pattern_not_of_noise():
    luminal = {"1q": 3, "16q": 1, "8p": 1, "17q": 3}
    atypical = {"2q": 3, "3q": 1, "7q": 1, "12q": 1, "19p": 3}
    pats = reference.arm_patterns()
    gain, cost, healthy, healthy_evidence = [], [], [], []
    for seed in range(6):
        for changes, out in ((luminal, gain), (atypical, cost)):
            segs = _arm_segments(changes, 0.03, 0.11, seed)
            with_p = tumour_fraction.fit(segs, 0.11, patterns=pats).evidence
            without = tumour_fraction.fit(segs, 0.11).evidence
            out.append(with_p - without)
        segs = _arm_segments({}, 0.0, 0.11, seed)
        healthy_evidence.append(tumour_fraction.fit(segs, 0.11, patterns=pats).evidence)
        healthy.append(healthy_evidence[-1] - tumour_fraction.fit(segs, 0.11).evidence)
    assert np.median(gain) > 1.5, gain  # the recurrent arms carry more evidence with the patterns
    assert min(cost) >= -np.log(1 / arm_prior.UNIFORM_SHARE) - 1e-6, cost  # bounded cost of breaking them
    # noise gains little on average (p = 0 is alike under every component) and stays uncalled
    assert np.mean(healthy) < 0.3 and max(healthy_evidence) < tumour_fraction.GLOBAL_EVIDENCE, (healthy, healthy_evidence)


def test_cnv_cli_records_and_switches_the_state_prior(tmp_path):
    p = tmp_path / "s"
    assert run_cli("simulate", "--prefix", p, "--profile", "luminal", "--tumor-fraction", 0.2,
                   "--fragments", 200000, "--seed", 4) == 0
    assert run_cli("count", f"{p}.bam", "--prefix", p) == 0
    out = {}
    for prior in ("breast", "uninformed"):
        assert run_cli("cnv", f"{p}.counts.tsv.gz", "--prefix", tmp_path / prior, "--state-prior", prior) == 0
        out[prior] = json.loads((tmp_path / f"{prior}.cnv.json").read_text())
    assert out["breast"]["state_prior"] == "breast_arm_patterns" and out["uninformed"]["state_prior"] == "uninformed"
    for s in out.values():  # evident without the patterns: decided by the uninformed prior, estimate unchanged
        assert s["tumor_call_decided_by"] == "uninformed" and s["tumor_evidence_needed"] == 3.0
    assert out["breast"]["tumor_fraction"] == out["uninformed"]["tumor_fraction"]
    for s in out.values():  # a clear tumour is found either way
        assert s["tumor_detected"] and abs(s["tumor_fraction"] - 0.2) <= 0.05, s["tumor_fraction"]
