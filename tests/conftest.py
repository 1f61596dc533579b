"""Shared fixtures: small simulated BAMs made once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

from tests.helpers import run_cli

# property tests draw the same examples on every run: a CI result must not depend on luck
# (derandomize); explore new examples locally with --hypothesis-seed=random
settings.register_profile("dnadx", derandomize=True)
settings.load_profile("dnadx")


@pytest.fixture(scope="session")
def small_bam(tmp_path_factory) -> Path:
    """chr21+chr22, 40k fragments, ERBB2-free flat profile at the default filters."""
    d = tmp_path_factory.mktemp("small")
    assert run_cli("simulate", "--prefix", d / "s", "--chroms", "chr21,chr22", "--fragments", 40000, "--seed", 3,
                   "--fasta") == 0
    return d / "s.bam"


@pytest.fixture(scope="session")
def genome_bam(tmp_path_factory) -> Path:
    """Whole-genome ERBB2 profile, tumour fraction 0.3, 200k fragments."""
    d = tmp_path_factory.mktemp("genome")
    assert run_cli("simulate", "--prefix", d / "g", "--profile", "erbb2", "--tumor-fraction", 0.3,
                   "--fragments", 200000, "--seed", 5) == 0
    return d / "g.bam"
