"""`dnadx run` on a samplesheet mixing genome builds: refused before any work, one message naming
the sample, its detected build and the batch build (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dnadx.core.errors import InputError
from dnadx.core.samplesheet import Sample, check_builds
from tests.helpers import run_cli, run_proc
from tests.helpers import assert_fails  # exit code, one line, no traceback


@pytest.fixture(scope="module")
def bams(tmp_path_factory) -> Path:
    """Two GRCh38 BAMs and one GRCh37 BAM (chr21 only, a few reads: only the header matters here)."""
    d = tmp_path_factory.mktemp("builds")
    for name, genome, seed in (("A38", "GRCh38", 1), ("B38", "GRCh38", 2), ("C37", "GRCh37", 3)):
        assert run_cli("simulate", "--prefix", d / name, "--genome", genome, "--fragments", 2000,
                       "--chroms", "chr21", "--seed", seed, "--sample", name) == 0
    return d


def test_mixed_builds_refused_before_any_work(bams):
    (bams / "mixed.csv").write_text("sample,bam\nA38,A38.bam\nC37,C37.bam\nB38,B38.bam\n")
    r = run_proc("run", "--input", bams / "mixed.csv", "--outdir", bams / "o")
    assert_fails(r, 2, "mixed genome builds", "the batch is GRCh38", "C37 (row 3) is GRCh37",
                 "realign it to GRCh38", "--genome GRCh37")
    assert "A38" not in r.stderr and "B38" not in r.stderr
    assert not (bams / "o").exists()  # refused before the output folder was created


def test_mixed_builds_against_grch37_batch(bams):
    (bams / "mixed.csv").write_text("sample,bam\nA38,A38.bam\nC37,C37.bam\nB38,B38.bam\n")
    r = run_proc("run", "--input", bams / "mixed.csv", "--outdir", bams / "o37", "--genome", "GRCh37")
    assert_fails(r, 2, "the batch is GRCh37", "A38 (row 2) is GRCh38, B38 (row 4) is GRCh38", "realign them")
    assert not (bams / "o37").exists()


def test_whole_batch_of_another_build(bams):
    (bams / "g37.csv").write_text("sample,bam\nC37,C37.bam\n")
    r = run_proc("run", "--input", bams / "g37.csv", "--outdir", bams / "o2")
    assert_fails(r, 2, "every BAM is GRCh37", "batch build is GRCh38", "pass --genome GRCh37")
    assert not (bams / "o2").exists()


def _sample(sid):
    return Sample(sid, Path(f"{sid}.bam"), None, sid, "", "plasma")


def test_check_builds_ignores_unreadable_headers():
    samples = [_sample("a"), _sample("b")]
    check_builds("s.csv", samples, {"a": "GRCh38", "b": None}, "GRCh38")  # b's count step reports its problem
    check_builds("s.csv", samples, {"a": "GRCh37", "b": "GRCh37"}, "GRCh37")
    with pytest.raises(InputError, match=r"b \(row 3\) is GRCh37"):
        check_builds("s.csv", samples, {"a": "GRCh38", "b": "GRCh37"}, "GRCh38")
