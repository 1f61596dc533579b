"""`dnadx cnv` against simulation truth, with a shared panel of 5 simulated normals (1 M fragments,
500 kb bins). Tolerances are the issue's: |error| <= 0.02 each and mean <= 0.01 for true tumour
fractions 0.05-0.50; healthy estimate <= 0.01 with upper bound <= 0.03 and no altered segment > 10 Mb;
the ERBB2 amplicon (CN 10 over 1.5 Mb) segmented and called from tumour fraction 0.10 always, and
segmented and called at 0.05 in most replicates (at 1 M fragments its expected z is ~3.4, so single replicates can miss)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers.cnvsim import cnv, make_pon, sim_bins


@pytest.fixture(scope="module")
def pon():
    return make_pon()[0]


CASES = [(p, tf) for tf in (0.05, 0.1, 0.2, 0.3, 0.5) for p in ("erbb2", "basal", "luminal")]


@pytest.fixture(scope="module")
def fits(pon):
    out = []
    for i, (profile, tf) in enumerate(CASES):
        bins, truth = sim_bins(profile, tf, seed=700 + i)
        out.append((profile, tf, cnv(bins, pon)))
    return out


def test_tumour_fraction_error(fits):
    errors = [abs(r.summary["tumor_fraction"] - tf) for _, tf, r in fits]
    worst = max(range(len(errors)), key=errors.__getitem__)
    assert max(errors) <= 0.02, f"worst case {fits[worst][:2]}: error {errors[worst]:.4f}"
    assert np.mean(errors) <= 0.01, np.mean(errors)


def test_interval_covers_truth(fits):
    covered = [r.summary["tumor_fraction_ci"][0] <= tf <= r.summary["tumor_fraction_ci"][1] for _, tf, r in fits]
    assert np.mean(covered) >= 0.85, [(p, tf, r.summary["tumor_fraction_ci"]) for (p, tf, r), c in zip(fits, covered) if not c]


def test_erbb2_amplicon_called_when_tumour_fraction_allows(fits):
    for profile, tf, r in fits:
        cn = r.summary["genes_of_interest"]["ERBB2"]["copy_number"]
        if profile == "erbb2" and tf >= 0.1:  # 0.05: see test_erbb2_amplicon_at_five_percent
            assert cn >= 6, (tf, cn)
        else:
            assert cn <= 4, (profile, tf, cn)


def test_healthy_plasma_is_not_called_tumour(pon):
    """Eight healthy samples (seeds fixed before the run), four male: no long altered segment in any, sex
    right. The two detection rules together call a healthy sample by chance (the arm-pattern test's
    threshold is set for at most 1 in 20 healthy samples with real bin effects; on this simulator it passed
    2 of 80 with and without a panel, seeds 300-339; 0 of 80 with stop 28's code, 2 of 80 with stop 29's variance model, both with this one
    panel, whose common offset raises every sample's T by ~0.2): at most one of the eight may be called, and only at the
    limit (lower bound < 0.005); an uncalled one's upper bound, the detection limit at 95% power, is <= 0.055
    (0.0225-0.0275 when it was the 50%-power limit, x 1.86)."""
    called = []
    for seed in range(8):
        bins, _ = sim_bins("flat", 0.0, seed=300 + seed, sex="male" if seed % 2 else "female")
        r = cnv(bins, pon)
        s = r.summary
        lo, hi = s["tumor_fraction_ci"]
        if lo > 0:
            called.append((seed, s["tumor_fraction"], lo, hi, s["tumor_call_decided_by"]))
            assert lo < 0.005 and s["tumor_fraction"] <= 0.03, called
        else:
            assert s["tumor_fraction"] == 0 and hi <= 0.055, (seed, s["tumor_fraction_ci"])
        segs = r.segments
        long_altered = segs[(segs["copy_number"] >= 0) & (segs["copy_number"] != segs["normal_copy"])
                            & (segs["end"] - segs["start"] > 10_000_000)]
        assert long_altered.empty, seed
        assert s["sex"] == ("male" if seed % 2 else "female")
    assert len(called) <= 1, called


def test_three_percent_detected_in_most_replicates(pon):
    """The low end: tumour fraction 0.03 at 1 M fragments detected (interval excludes 0) in at least a third of
    the replicates. Since issue 17 the systematic per-segment variance is estimated, not set (floor 0.008 with
    a panel: `dnadx.cnv.systematic`), so an arm offset of 0.02 log2 on this residual-free simulator no longer
    counts as 5 standard errors; that keeps healthy plasma with real bin effects at tumour fraction 0 and costs
    detection here: 5 of 12 (7 of 12 with the old fixed 0.0025). Seeds fixed before the run."""
    detected = []
    for i, profile in enumerate(("erbb2", "basal", "luminal") * 4):
        bins, _ = sim_bins(profile, 0.03, seed=800 + i)
        s = cnv(bins, pon).summary
        detected.append((profile, s["tumor_fraction_ci"][0] > 0, s["tumor_evidence_loglik"]))
    assert sum(d for _, d, _ in detected) >= 4, detected


def test_erbb2_amplicon_segmented_at_five_percent():
    """At TF 0.05 (1 M fragments) the amplicon's expected focal z is ~3.4: with the one-sided gain test
    at ERBB2 (z >= 2.5) it must be segmented out as a focal gain in most replicates and called (copy
    number >= 6) where the genome-wide tumour fraction is detected (the ERBB2 call at low tumour
    fraction is `dnadx score`'s, tested there). Before the one-sided test: 8 and 7 of these 12."""
    segmented = called = 0
    for seed in range(50, 62):
        bins, _ = sim_bins("erbb2", 0.05, seed=seed)
        r = cnv(bins)  # no panel: must work without one
        b = r.bins
        row = b[(b["chrom"] == "chr17") & (b["start"] <= 39_700_000) & (b["end"] > 39_700_000)].iloc[0]
        seg = b[b["segment"] == row["segment"]]
        segmented += len(seg) <= 4 and row["segment_log2"] > 0.1
        called += r.summary["genes_of_interest"]["ERBB2"]["copy_number"] >= 6
    assert segmented >= 10, segmented  # 11 with the one-sided test
    assert called >= 8, called  # 9 (two of the other three: no tumour detected without a panel)


def test_deterministic(pon):
    bins, _ = sim_bins("basal", 0.2, seed=11)
    a, b = cnv(bins, pon), cnv(bins.copy(), pon)
    assert a.summary == b.summary
    assert a.bins.equals(b.bins)
