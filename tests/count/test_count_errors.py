"""Bad input to `dnadx count`: one clear message, non-zero exit, no traceback."""

from __future__ import annotations

import shutil

import pysam
import pytest

from tests.helpers import assert_fails, run_proc


@pytest.fixture()
def copy_bam(small_bam, tmp_path):
    def _copy(name="c.bam", index=True):
        dst = tmp_path / name
        shutil.copy(small_bam, dst)
        if index:
            shutil.copy(str(small_bam) + ".bai", str(dst) + ".bai")
        return dst
    return _copy


def test_missing_index(copy_bam, tmp_path):
    bam = copy_bam(index=False)
    assert_fails(run_proc("count", bam, "--prefix", tmp_path / "o"), 2, "no index", "samtools index")


def test_missing_file(tmp_path):
    assert_fails(run_proc("count", tmp_path / "nope.bam", "--prefix", tmp_path / "o"), 2, "file not found")


def test_not_a_bam(tmp_path):
    p = tmp_path / "x.bam"
    p.write_text("hello\n")
    assert_fails(run_proc("count", p, "--prefix", tmp_path / "o"), 2, "not a BAM or CRAM")


def test_truncated_bam(copy_bam, tmp_path):
    bam = copy_bam()
    data = bam.read_bytes()
    bam.write_bytes(data[: len(data) // 2])
    shutil.copystat(str(bam) + ".bai", bam)  # keep the index "fresh" so truncation is what is found
    assert_fails(run_proc("count", bam, "--prefix", tmp_path / "o"), 2, "truncated")


def test_unsorted_bam(small_bam, tmp_path):
    bam = tmp_path / "u.bam"
    with pysam.AlignmentFile(str(small_bam)) as src:
        header = src.header.to_dict()
        header["HD"]["SO"] = "unsorted"
        reads = list(src.fetch(until_eof=True))[:200]
    with pysam.AlignmentFile(str(bam), "wb", header=header) as out:
        for r in reversed(reads):
            out.write(r)
    assert_fails(run_proc("count", bam, "--prefix", tmp_path / "o"), 2, "not coordinate-sorted", "samtools sort")


def test_cram_without_reference(small_bam, tmp_path):
    cram = tmp_path / "s.cram"
    pysam.view("-C", "-T", str(small_bam.with_suffix(".fa")), "-o", str(cram), str(small_bam), catch_stdout=False)
    pysam.index(str(cram))
    assert_fails(run_proc("count", cram, "--prefix", tmp_path / "o"), 2, "CRAM", "--fasta")


def _header_only(small_bam, path, *, lengths=None):
    with pysam.AlignmentFile(str(small_bam)) as src:
        header = src.header.to_dict()
    if lengths:
        for sq in header["SQ"]:
            sq["LN"] = lengths
    with pysam.AlignmentFile(str(path), "wb", header=header):
        pass
    pysam.index(str(path))


def test_empty_bam(small_bam, tmp_path):
    bam = tmp_path / "e.bam"
    _header_only(small_bam, bam)
    assert_fails(run_proc("count", bam, "--prefix", tmp_path / "o"), 4, "contains no reads")
    assert not (tmp_path / "o.counts.tsv.gz").exists()


def test_wrong_build(small_bam, tmp_path):
    bam = tmp_path / "w.bam"
    _header_only(small_bam, bam, lengths=1_000_000)
    assert_fails(run_proc("count", bam, "--prefix", tmp_path / "o"), 3, "match neither GRCh38 nor GRCh37", "chr1")


def test_no_reads_pass_filters(small_bam, tmp_path):
    assert_fails(run_proc("count", small_bam, "--prefix", tmp_path / "o", "--min-mapq", 61), 4,
                 "no reads passed the filters", "low_mapq")
    assert not (tmp_path / "o.counts.tsv.gz").exists()


def test_bad_option_value(small_bam, tmp_path):
    r = run_proc("count", small_bam, "--prefix", tmp_path / "o", "--bin-size", 12345)
    assert r.returncode == 2 and "multiple of the 10000" in r.stderr and "Traceback" not in r.stderr
