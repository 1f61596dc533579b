"""DNADX segment scores, gene-level log2 and the ERBB2 call on hand-built and truth-derived tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dnadx.scores import io as models_io
from dnadx.core import reference
from dnadx.count.bins import make_bins
from dnadx.scores.erbb2 import AMPLICON_SEGMENT, MIN_TF, copy_number, expected_log2
from dnadx.sim.profiles import get_profile, resolve_events
from dnadx.scores.score import score_sample
from dnadx.scores.segments import adjust_for_tumour_fraction, gene_log2, segment_scores
from dnadx.sim.plasma import copy_numbers


def synthetic_cnv(profile, tf: float, *, sd: float = 0.08, seed: int = 0, bin_size: int = 500_000,
                  drop: float = 0.03) -> tuple[pd.DataFrame, dict]:
    """A `dnadx cnv`-shaped bins table and cnv dict built from a simulator profile's truth.

    log2 = the contract's expectation log2((2(1-p) + p c) / (2(1-p) + p phi)) for the true
    tumour copy number c of each bin, plus N(0, sd) noise; segments are the runs of equal c.
    """
    rng = np.random.default_rng(seed)
    sizes = reference.chrom_sizes("GRCh38")
    bins = make_bins(sizes[sizes["chrom"] != "chrY"], bin_size)
    raw = get_profile(profile) if isinstance(profile, str) else profile
    events = resolve_events(raw, arms=reference.arms("GRCh38"), genes=reference.genes("GRCh38"))
    _, c = copy_numbers(bins, events, "female")
    phi = float(np.average(c, weights=(bins["end"] - bins["start"])))
    expect = np.log2((2 * (1 - tf) + tf * c) / (2 * (1 - tf) + tf * phi))
    bins["log2"] = expect + rng.normal(0, sd, len(bins))
    bins["usable"] = (rng.random(len(bins)) > drop).astype(int)
    change = (bins["chrom"] != bins["chrom"].shift()) | (pd.Series(c) != pd.Series(c).shift())
    bins["segment"] = np.cumsum(change.to_numpy())
    bins["copy_number"] = c
    seg_mean = bins[bins["usable"] == 1].groupby("segment")["log2"].mean()
    bins["segment_log2"] = bins["segment"].map(seg_mean)
    cnv = {"sample": f"{profile}_{tf}", "genome": "GRCh38", "tumor_fraction": tf,
           "tumor_fraction_ci": [max(tf - 0.02, 0.0), tf + 0.02], "ploidy": phi, "noise_mad": sd}
    return bins, cnv


@pytest.fixture(scope="module")
def shipped():
    d = models_io.shipped_models_dir()
    return models_io.read_models(d), models_io.read_segment_ranges(d)


def _score(bins, cnv, shipped):
    models, ranges = shipped
    return score_sample(bins, cnv, genes=reference.genes("GRCh38"), segment_genes=reference.segment_genes(),
                        ranges=ranges, models=models)


def test_gene_log2_rules_on_a_hand_built_table():
    bins = pd.DataFrame({"chrom": "chr1", "start": [0, 100, 200, 300, 400, 500],
                         "end": [100, 200, 300, 400, 500, 600], "usable": [1, 0, 1, 1, 0, 1],
                         "segment": [1, 1, 1, 2, 2, 3], "segment_log2": [0.5, 0.5, 0.5, -0.4, -0.4, 1.0]})
    genes = pd.DataFrame({"entrez_id": [1, 2, 3, 4, 5], "symbol": list("ABCDE"),
                          "chrom": ["chr1", "chr1", "chr1", "chr1", "chr2"],
                          "start": [10, 120, 250, 420, 0], "end": [20, 180, 350, 480, 10]})
    g = gene_log2(bins, genes).set_index("symbol")
    assert g.loc["A", "log2"] == 0.5 and g.loc["A", "flag"] == "" and g.loc["A", "usable_bins"] == 1
    # B sits in a dropped bin between two usable bins of segment 1: enclosing segment, flagged.
    assert g.loc["B", "log2"] == 0.5 and g.loc["B", "flag"] == "no_usable_bin" and g.loc["B", "usable_bins"] == 0
    # C spans a breakpoint (segments 1 and 2): mean of its two usable bins.
    assert g.loc["C", "log2"] == pytest.approx(0.05) and g.loc["C", "usable_bins"] == 2
    # D is in a dropped bin between segments 2 and 3: no value.
    assert np.isnan(g.loc["D", "log2"]) and g.loc["D", "flag"] == "no_segment"
    assert np.isnan(g.loc["E", "log2"]) and g.loc["E", "flag"] == "chrom_not_analysed"


def test_segment_scores_match_a_direct_computation():
    rng = np.random.default_rng(7)
    sg = reference.segment_genes()
    genes = reference.genes("GRCh38")[["entrez_id"]].copy()
    genes["log2"] = rng.normal(0, 0.5, len(genes))
    genes.loc[rng.random(len(genes)) < 0.05, "log2"] = np.nan  # genes without a usable bin/segment
    out = segment_scores(genes, sg, tumour_fraction=0.4)
    assert len(out) == 536 and out["segment_index"].tolist() == list(range(1, 537))
    val = dict(zip(genes["entrez_id"], genes["log2"]))
    for idx in (1, 17, 436, 536):  # 1p arm, a focal peak, the ERBB2 amplicon, the last segment
        ids = sg.loc[sg["segment_index"] == idx, "entrez_id"].tolist()
        have = [val[i] for i in ids if i in val and not np.isnan(val[i])]
        row = out.iloc[idx - 1]
        assert row["n_genes"] == len(ids) and row["n_genes_mapped"] == sum(i in val for i in ids)
        assert row["n_genes_used"] == len(have)
        assert row["score_raw"] == pytest.approx(np.mean(have))
        adj = [np.log2(max((2 ** v - 1) / 0.4 + 1, 2 ** -3)) for v in have]
        assert row["score_adjusted"] == pytest.approx(np.mean(adj))
    # The 125 unmapped GRCh38 ids (191 segment x gene pairs) count in n_genes only.
    unmapped = ~sg["entrez_id"].isin(genes["entrez_id"])
    assert sg.loc[unmapped, "entrez_id"].nunique() == 125
    assert (out["n_genes"] - out["n_genes_mapped"]).sum() == unmapped.sum() == 191


def test_adjustment_inverts_dilution_and_clips():
    for c in (1, 2, 4, 10):
        obs = expected_log2(c, 0.25, 2.0)
        assert adjust_for_tumour_fraction(np.array([obs]), 0.25)[0] == pytest.approx(np.log2(c / 2))
        assert copy_number(obs, 0.25, 2.0) == pytest.approx(c)
    assert adjust_for_tumour_fraction(np.array([-2.0]), 0.1)[0] == -3.0  # eps floor
    genes = pd.DataFrame({"entrez_id": [2064], "log2": [3.0]})
    sg = pd.DataFrame({"segment_index": [1], "segment_id": ["s"], "entrez_id": [2064]})
    ranges = pd.DataFrame({"segment_id": ["s"], "tcga_min": [-1.0], "tcga_max": [2.0]})
    assert segment_scores(genes, sg, tumour_fraction=0.5, ranges=ranges)["score_adjusted"].iloc[0] == 2.0
    assert np.isnan(segment_scores(genes, sg, tumour_fraction=0.01)["score_adjusted"].iloc[0])


@pytest.mark.parametrize("tf", [0.10, 0.2, 0.4])
def test_erbb2_amplified_with_copy_number_interval(tf, shipped):
    bins, cnv = synthetic_cnv("erbb2", tf, seed=int(tf * 100))
    _, scores, s = _score(bins, cnv, shipped)
    assert s["erbb2_call"] == "amplified", s["erbb2_call_reason"]
    lo, hi = s["erbb2_copy_number_ci"]
    assert lo <= 10 <= hi and abs(s["erbb2_copy_number"] - 10) < 2.5
    assert s["erbb2_amplicon_score"] > 1.5 and s["erbb2_amplicon_genes_used"] == 8


def test_erbb2_cn8_amplified_at_the_tf_limit_of_the_issue(shipped):
    bins, cnv = synthetic_cnv([{"gene": "ERBB2", "copy": 8, "width": 1_500_000}], 0.10, seed=8)
    s = _score(bins, cnv, shipped)[2]
    assert s["erbb2_call"] == "amplified", s["erbb2_call_reason"]
    assert s["erbb2_copy_number_ci"][0] <= 8 <= s["erbb2_copy_number_ci"][1]


@pytest.mark.parametrize("profile", ["flat", "basal", "luminal"])
def test_erbb2_neutral_without_an_erbb2_event(profile, shipped):
    bins, cnv = synthetic_cnv(profile, 0.3, seed=3)
    s = _score(bins, cnv, shipped)[2]
    assert s["erbb2_call"] in ("neutral", "gain"), s["erbb2_call_reason"]
    if profile == "flat":
        assert s["erbb2_call"] == "neutral"
    assert s["her2_dna_probability"] < 0.2


def test_erbb2_loss_and_not_assessable(shipped):
    bins, cnv = synthetic_cnv([{"arm": "17q", "copy": 1}], 0.5, seed=4)
    assert _score(bins, cnv, shipped)[2]["erbb2_call"] == "loss"
    bins, cnv = synthetic_cnv("erbb2", MIN_TF - 0.01, seed=5)
    s = _score(bins, cnv, shipped)[2]
    assert s["erbb2_call"] == "not_assessable" and "below the limit" in s["erbb2_call_reason"]
    assert s["her2_dna_probability"] is None and s["predictions_status"].startswith("not_assessable")
    # Above the limit but too noisy to exclude CN 8: still not assessable, never "neutral".
    bins, cnv = synthetic_cnv("flat", 0.06, sd=0.6, seed=6)
    s = _score(bins, cnv, shipped)[2]
    assert s["erbb2_call"] == "not_assessable" and s["erbb2_detectable_copy_number"] > 8


def test_her2_probability_separates_amplified_from_others(shipped):
    for tf in (0.15, 0.3, 0.5):
        amp = _score(*synthetic_cnv("erbb2", tf, seed=11), shipped)[2]
        assert amp["her2_dna_probability"] > 0.7, tf
        for profile in ("flat", "basal", "luminal"):
            other = _score(*synthetic_cnv(profile, tf, seed=12), shipped)[2]
            assert other["her2_dna_probability"] < 0.2, (profile, tf)
    assert amp["predictions"]["pam50_lumb"]["exploratory"] and not amp["predictions"]["her2_status"]["exploratory"]


def test_focal_amplicon_is_called_when_the_genome_wide_tf_is_zero(shipped):
    # The only change is the amplicon, so a genome-wide estimator reports p ~ 0 [0, 0.03].
    bins, cnv = synthetic_cnv([{"gene": "ERBB2", "copy": 8, "width": 1_500_000}], 0.10, seed=9)
    cnv.update(tumor_fraction=0.0, tumor_fraction_ci=[0.0, 0.03], ploidy=2.0)
    s = _score(bins, cnv, shipped)[2]
    assert s["erbb2_call"] == "amplified" and s["erbb2_copy_number_ci"][1] is None
    assert s["erbb2_copy_number_ci"][0] >= 6 and "lower bound" in s["erbb2_call_reason"]
    # A flat tumour at the same estimate: nothing to see, not assessable (never neutral).
    bins, cnv = synthetic_cnv("flat", 0.10, seed=9)
    cnv.update(tumor_fraction=0.0, tumor_fraction_ci=[0.0, 0.03], ploidy=2.0)
    assert _score(bins, cnv, shipped)[2]["erbb2_call"] == "not_assessable"


def test_amplicon_merged_into_a_larger_segment_is_found_by_the_focal_window(shipped):
    bins, cnv = synthetic_cnv("erbb2", 0.10, seed=10)
    chr17 = bins["chrom"] == "chr17"
    bins.loc[chr17, "segment"] = -17  # segmentation missed the amplicon: one chr17 segment
    bins.loc[chr17, "segment_log2"] = bins.loc[chr17 & (bins["usable"] == 1), "log2"].mean()
    s = _score(bins, cnv, shipped)[2]
    assert s["erbb2_log2_source"] == "focal_window" and s["erbb2_call"] == "amplified", s["erbb2_call_reason"]
    flat, cnv = synthetic_cnv("basal", 0.10, seed=10)
    assert _score(flat, cnv, shipped)[2]["erbb2_log2_source"] == "segment"
