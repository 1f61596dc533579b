"""Shared fixtures: small simulated BAMs made once per test session."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from dnadx.cli import main as dnadx_main

# property tests draw the same examples on every run: a CI result must not depend on luck
# (derandomize); explore new examples locally with --hypothesis-seed=random
settings.register_profile("dnadx", derandomize=True)
settings.load_profile("dnadx")


def run_cli(*args) -> int:
    return dnadx_main([str(a) for a in args])


def run_proc(*args, check=False):
    """Run `python -m dnadx ...` in a subprocess (exit code and stderr as a user sees them)."""
    return subprocess.run([sys.executable, "-m", "dnadx", *map(str, args)], capture_output=True, text=True, check=check)


def simulate_and_score(prefix, profile, tumour_fraction, fragments, seed) -> None:
    """The per-sample chain simulate -> count -> cnv -> score with defaults, outputs under ``prefix``."""
    assert run_cli("simulate", "--prefix", prefix, "--profile", profile, "--tumor-fraction", tumour_fraction,
                   "--fragments", fragments, "--seed", seed) == 0
    assert run_cli("count", f"{prefix}.bam", "--prefix", prefix) == 0
    assert run_cli("cnv", f"{prefix}.counts.tsv.gz", "--prefix", prefix) == 0
    assert run_cli("score", f"{prefix}.cnv.json", "--prefix", prefix) == 0


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
