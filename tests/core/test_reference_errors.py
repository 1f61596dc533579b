"""Reference bundle faults (missing file, checksum mismatch) and a stale BAM index: clear errors."""

from __future__ import annotations

from pathlib import Path

import os
import shutil
import time

from dnadx.core import reference
from tests.helpers import assert_fails, run_proc

# files listed in the bundle manifest (header line excluded)
N_FILES = sum(1 for line in (Path(__file__).resolve().parents[2] / "reference" / "MANIFEST.tsv").read_text().splitlines()[1:] if line.strip())


def _bundle_copy(tmp_path):
    dst = tmp_path / "ref"
    shutil.copytree(reference.bundle_dir(), dst)
    return dst


def _sheet(tmp_path, bam):
    sheet = tmp_path / "s.csv"
    sheet.write_text(f"sample,bam\nS1,{bam}\n")
    return sheet


def test_checksum_mismatch_stops_run(small_bam, tmp_path, monkeypatch):
    ref = _bundle_copy(tmp_path)
    with open(ref / "GRCh38" / "arms.tsv", "a") as fh:
        fh.write("# edited\n")
    monkeypatch.setenv("DNADX_REFERENCE", str(ref))
    r = run_proc("run", "--input", _sheet(tmp_path, small_bam), "--outdir", tmp_path / "o")
    assert r.returncode == 3 and "arms.tsv: missing or changed" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()


def test_missing_reference_file(small_bam, tmp_path, monkeypatch):
    ref = _bundle_copy(tmp_path)
    os.unlink(ref / "GRCh38" / "chrom_sizes.tsv")
    monkeypatch.setenv("DNADX_REFERENCE", str(ref))
    r = run_proc("count", small_bam, "--prefix", tmp_path / "x")
    assert r.returncode == 3 and "chrom_sizes.tsv: reference file missing" in r.stderr


def test_stale_index(small_bam, tmp_path):
    bam = tmp_path / "s.bam"
    shutil.copy(small_bam, bam)
    shutil.copy(str(small_bam) + ".bai", str(bam) + ".bai")
    old = time.time() - 3600
    os.utime(str(bam) + ".bai", (old, old))
    r = run_proc("count", bam, "--prefix", tmp_path / "x")
    assert r.returncode == 2 and "older than the alignment file" in r.stderr and "samtools index" in r.stderr


def test_changed_file_caught_at_first_use(small_bam, tmp_path, monkeypatch):
    """Any command checks a bundle file's sha256 against MANIFEST.tsv when it first reads it."""
    ref = _bundle_copy(tmp_path)
    with open(ref / "GRCh38" / "chrom_sizes.tsv", "a") as fh:
        fh.write("chrUn\t10\n")
    monkeypatch.setenv("DNADX_REFERENCE", str(ref))
    r = run_proc("count", small_bam, "--prefix", tmp_path / "x")
    assert_fails(r, 3, "chrom_sizes.tsv: changed since the bundle was built", "MANIFEST.tsv")


def test_reference_command_reports_bundle_and_checksums(tmp_path, monkeypatch):
    r = run_proc("reference")
    assert r.returncode == 0, r.stderr
    assert f"bundle: {reference.bundle_dir()}" in r.stdout and "builds: GRCh38, GRCh37" in r.stdout
    assert f"checksums: {N_FILES}/{N_FILES} files match MANIFEST.tsv" in r.stdout
    ref = _bundle_copy(tmp_path)
    os.unlink(ref / "GRCh37" / "arms.tsv")
    monkeypatch.setenv("DNADX_REFERENCE", str(ref))
    r = run_proc("reference")
    assert "found via: DNADX_REFERENCE" in r.stdout and f"checksums: {N_FILES - 1}/{N_FILES} files match" in r.stdout
    assert_fails(r, 3, "GRCh37/arms.tsv: missing or changed")


def test_version_names_the_bundle(tmp_path, monkeypatch):
    r = run_proc("--version")
    assert r.returncode == 0 and f"reference bundle: {reference.bundle_dir()} (source checkout" in r.stderr
    monkeypatch.setenv("DNADX_REFERENCE", str(tmp_path))
    r = run_proc("--version")
    assert r.returncode == 0 and f"reference bundle: {tmp_path} (DNADX_REFERENCE, not found" in r.stderr
