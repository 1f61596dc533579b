"""Healthy plasma that breaks the model's assumptions stays healthy all the way to summary.tsv (issue 17, item 5):
BAMs simulated with drawn GC-response shapes (skewed, symmetric, plateau with a steep high-GC drop), 6% per-bin
over-dispersion, 1% empty bins and shared systematic bin effects of the real panels' size, through `dnadx run`
with a panel built from three of them. Seeds chosen before the first run, never used to set a default.
Tolerances: tumour fraction 0 with an upper bound within 0.1 (the detection limit at 95% power: the benchmark's
healthy maximum, 0.0525 at 0.05x when it was the 50%-power limit, x 1.86; benchmarks/README.md); the cluster stage's "too little tumour" group, no ERBB2 call, no HER2 prediction and no
copy-number event in the resistance column."""

from __future__ import annotations

import pandas as pd
import pytest

from dnadx.core import io
from tests.helpers import run_cli
from tests.helpers.cnvsim import synthetic_effects

SAMPLES = [("N1", "normal", "skewed", 7301), ("N2", "normal", "symmetric", 7302), ("N3", "normal", "plateau", 7303),
           ("H1", "plasma", "skewed", 7304), ("H2", "plasma", "symmetric", 7305), ("H3", "plasma", "plateau", 7306)]


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    d = tmp_path_factory.mktemp("healthy_e2e")
    io.write_tsv(synthetic_effects(23), d / "effects.tsv")
    rows = ["sample,bam,patient,timepoint,type"]
    for sample, kind, shape, seed in SAMPLES:
        assert run_cli("simulate", "--prefix", d / sample, "--profile", "flat", "--fragments", 800_000, "--seed", seed,
                       "--sample", sample, "--gc-shape", shape, "--overdispersion", 0.06, "--empty-bins", 0.01,
                       "--bin-effects", d / "effects.tsv") == 0
        rows.append(f"{sample},{sample}.bam,{sample},1,{kind}")
    (d / "samplesheet.csv").write_text("\n".join(rows) + "\n")
    assert run_cli("run", "--input", d / "samplesheet.csv", "--outdir", d / "results", "--cores", 2) == 0
    return pd.read_csv(d / "results" / "summary.tsv", sep="\t", dtype=str).fillna("").set_index("sample")


def test_every_healthy_sample_is_healthy_in_the_summary(summary):
    assert sorted(summary.index) == sorted(s for s, *_ in SAMPLES)
    for sample, row in summary.iterrows():
        assert float(row["tumor_fraction"]) == 0 and float(row["tumor_fraction_low"]) == 0, sample
        assert float(row["tumor_fraction_high"]) <= 0.1, sample
        assert row["group"] == "insufficient_tumour_fraction", sample
        assert row["erbb2_call"] not in ("amplified", "gain", "loss"), sample
        assert row["her2_dna_probability"] == "", sample
        assert "ERBB2" not in row["resistance"] and "HER2" not in row["resistance"], sample
