"""The copy-number figure: colours against the sample's own baseline, one line per segment, same bytes twice."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dnadx.cnv.plot import COLOURS, _segment_lines, _state_colour, baseline_copy, plot_cnv


def _bins():
    rows = []
    for chrom, n, seg0, levels in (("chr1", 6, 0, (0.0, 0.3)), ("chr17", 4, 2, (-0.4, 1.2))):
        for i in range(n):
            seg = seg0 + (i >= n // 2)
            rows.append({"chrom": chrom, "start": i * 500_000, "end": (i + 1) * 500_000, "usable": 1,
                         "log2": levels[i >= n // 2], "segment": seg, "segment_log2": levels[i >= n // 2],
                         "copy_number": {0.0: 3, 0.3: 4, -0.4: 2, 1.2: 9}[levels[i >= n // 2]]})
    return pd.DataFrame(rows)


def test_baseline_is_the_nearest_integer_ploidy_of_a_tumour_else_two():
    assert baseline_copy({"tumor_fraction": 0.0, "ploidy": 2.8}) == 2  # no tumour: the normal genome
    assert baseline_copy({"tumor_fraction": 0.26, "ploidy": 2.8}) == 3
    assert baseline_copy({"tumor_fraction": 0.3, "ploidy": 1.9}) == 2


def test_states_are_coloured_against_the_baseline():
    cn = np.array([3, 2, 4, 8, -1])
    got = _state_colour(cn, np.full(5, 3))
    assert got == [COLOURS["neutral"], COLOURS["loss"], COLOURS["gain"], COLOURS["amp"], COLOURS["na"]]
    # against a diploid baseline the same copy number 3 is a gain (the MBC example was drawn almost all as loss)
    assert _state_colour(np.array([3]), np.array([2])) == [COLOURS["gain"]]


def test_one_line_per_segment_at_its_mean_and_chromosome_offset():
    bins = _bins()
    lines = _segment_lines(bins, {"chr1": 0, "chr17": 3_000_000})
    assert lines == [[(0, 0.0), (1_500_000, 0.0)], [(1_500_000, 0.3), (3_000_000, 0.3)],
                     [(3_000_000, -0.4), (4_000_000, -0.4)], [(4_000_000, 1.2), (5_000_000, 1.2)]]
    zoom = _segment_lines(bins[bins["chrom"] == "chr17"], {"chr17": 0}, scale=1e6)
    assert zoom == [[(0.0, -0.4), (1.0, -0.4)], [(1.0, 1.2), (2.0, 1.2)]]


def test_figure_is_a_png_and_the_same_bytes_twice():
    summary = {"sample": "S", "tumor_fraction": 0.3, "tumor_fraction_ci": [0.28, 0.32], "ploidy": 2.9,
               "sex": "female", "noise_mad": 0.1}
    a = plot_cnv(_bins(), summary, erbb2=("chr17", 1_200_000, 1_300_000))
    assert a[:8] == b"\x89PNG\r\n\x1a\n"
    assert a == plot_cnv(_bins(), summary, erbb2=("chr17", 1_200_000, 1_300_000))
