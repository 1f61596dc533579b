"""Focal test at the genes of interest: two-sided everywhere, plus a one-sided gain test at ERBB2."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dnadx.cnv import segmentation

SIGMA = 0.1


def _bins(chrom: str, shift: float) -> pd.DataFrame:
    """100 flat 500 kb bins; bins 40-42 shifted by ``shift`` (a 3-bin window: z = shift / (0.1 * 0.586))."""
    log2 = np.zeros(100)
    log2[40:43] = shift
    start = np.arange(100, dtype=np.int64) * 500_000
    return pd.DataFrame({"chrom": chrom, "start": start, "end": start + 500_000, "log2": log2})


def _split(chrom: str, gene: str, z: float) -> dict:
    b = _bins(chrom, z * SIGMA * np.sqrt(1 / 3 + 1 / 97))
    loci = pd.DataFrame({"symbol": [gene], "chrom": [chrom], "start": [20_600_000], "end": [20_640_000]})
    seg_id, tests = segmentation.focal_split(b, np.zeros(len(b), dtype=np.int64), loci, SIGMA)
    (t,) = tests
    assert t["bins"] == 3 and np.isclose(t["z"], z)
    assert (len(set(seg_id)) == 3) == t["split"]  # before, window, after
    return t


def test_gain_at_erbb2_is_split_below_the_two_sided_threshold():
    t = _split("chr17", "ERBB2", 2.7)
    assert t["split"] and t["gain_threshold"] == segmentation.FOCAL_GAIN_Z["ERBB2"]
    assert (t["start"], t["end"]) == (20_000_000, 21_500_000)


def test_one_sided_test_is_for_gains_at_erbb2_only():
    assert not _split("chr17", "ERBB2", -2.7)["split"]  # a loss needs the two-sided threshold
    assert _split("chr17", "ERBB2", -3.2)["split"]
    t = _split("chr8", "MYC", 2.7)
    assert not t["split"] and t["gain_threshold"] is None
    assert not _split("chr17", "ERBB2", 2.3)["split"]


def test_one_sided_gain_needs_a_minimum_size():
    """At higher depth z 2.7 is a small shift (here 0.04 log2): not an amplicon."""
    b = _bins("chr17", 0.04)
    loci = pd.DataFrame({"symbol": ["ERBB2"], "chrom": ["chr17"], "start": [20_600_000], "end": [20_640_000]})
    sigma = 0.04 / (2.7 * np.sqrt(1 / 3 + 1 / 97))
    _, (t,) = segmentation.focal_split(b, np.zeros(len(b), dtype=np.int64), loci, sigma)
    assert np.isclose(t["z"], 2.7) and not t["split"]
