"""Helpers shared by the tests (fixtures live in tests/conftest.py): run the CLI in-process or as a user
would, the per-sample simulate -> score chain, and the one-line-error assertion."""

from __future__ import annotations

import subprocess
import sys

from dnadx.cli import main as dnadx_main


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


def assert_fails(result, code, *needles):
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for n in needles:
        assert n in result.stderr, result.stderr
