"""The error catalogue (README.md "## Errors", plus proposed rows in docs/errors.md) is real: every
row's exit code is produced by a real command here, with one line on stderr and no traceback."""

from __future__ import annotations

import fcntl
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd
import pysam
import pytest

from dnadx.core import errors, reference
from tests.helpers import run_proc

ROOT = Path(__file__).resolve().parents[2]
CLASSES = {"input": errors.InputError, "reference": errors.ReferenceError_, "data": errors.DataError,
           "environment": errors.EnvironmentFault}


def catalogue_rows(path: Path, heading: str = "## Errors") -> list[tuple[int, str, str]]:
    """(exit, class, examples) of every row of the first `| exit | class | ... |` table under ``heading``."""
    text = path.read_text()
    start = text.index(heading)
    rows, in_table = [], False
    for line in text[start:].splitlines()[1:]:
        if line.startswith("## "):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else None
        if cells is None:
            if in_table:
                break
            continue
        in_table = True
        if cells[0].isdigit():
            rows.append((int(cells[0]), cells[1], " ".join(cells[2:])))
    return rows


README_ROWS = catalogue_rows(ROOT / "README.md")
PROPOSED_ROWS = catalogue_rows(ROOT / "docs" / "errors.md", "## Proposed rows")


def _header_bam(path: Path, *, length: int | None = None, genome: str = "GRCh38") -> Path:
    """A coordinate-sorted, indexed BAM with the ``genome`` contigs (or all of length ``length``) and no reads."""
    sizes = reference.chrom_sizes(genome)
    header = {"HD": {"VN": "1.6", "SO": "coordinate"},
              "SQ": [{"SN": c, "LN": int(length or n)} for c, n in zip(sizes["chrom"], sizes["length"])]}
    with pysam.AlignmentFile(str(path), "wb", header=header):
        pass
    pysam.index(str(path))
    return path


@dataclass
class Case:
    name: str
    exit: int
    cls: str
    row_phrase: str  # words of the catalogue row this case demonstrates
    argv: Callable[[Path], list]
    needle: str
    whole_stderr_one_line: bool = True


def _read_beyond_contig(d: Path) -> list:
    """A BAM whose only read starts past the end of chr21 as the header gives it."""
    bam = _header_bam(d / "h.bam")
    with pysam.AlignmentFile(str(bam)) as src, pysam.AlignmentFile(str(d / "b.bam"), "wb", template=src) as out:
        a = pysam.AlignedSegment(src.header)
        a.query_name, a.flag, a.reference_id, a.reference_start = "r", 0, src.get_tid("chr21"), 46_709_983 + 20_000
        a.mapping_quality, a.cigarstring = 60, "1M"
        out.write(a)
    pysam.index(str(d / "b.bam"))
    return ["count", d / "b.bam", "--prefix", d / "o"]


def _bad_sheet(d: Path) -> list:
    _header_bam(d / "e.bam")
    (d / "s.csv").write_text("sample,bam\nx;rm -rf,e.bam\n")
    return ["run", "--input", d / "s.csv", "--outdir", d / "o"]


def _failing_sample(d: Path) -> list:
    _header_bam(d / "e.bam")
    (d / "s.csv").write_text("sample,bam\nE1,e.bam\n")
    return ["run", "--input", d / "s.csv", "--outdir", d / "o", "--cores", 1]


def _mixed_builds(d: Path) -> list:
    _header_bam(d / "a.bam")
    _header_bam(d / "b.bam", genome="GRCh37")
    (d / "s.csv").write_text("sample,bam\nA,a.bam\nB,b.bam\n")
    return ["run", "--input", d / "s.csv", "--outdir", d / "o"]


def _locked(d: Path) -> list:
    _header_bam(d / "e.bam")
    (d / "s.csv").write_text("sample,bam\nE1,e.bam\n")
    (d / "o" / ".dnadx").mkdir(parents=True)
    return ["run", "--input", d / "s.csv", "--outdir", d / "o"]


def _unwritable(d: Path) -> list:
    _header_bam(d / "e.bam")
    (d / "s.csv").write_text("sample,bam\nE1,e.bam\n")
    (d / "f").write_text("a file, not a folder\n")
    return ["run", "--input", d / "s.csv", "--outdir", d / "f" / "o"]


def _inf_count(d: Path) -> list:
    (d / "c.counts.tsv").write_text("chrom\tstart\tend\tcount\nchr1\t0\t10000\t3\nchr1\t10000\t20000\tinf\n")
    return ["cnv", d / "c.counts.tsv", "--prefix", d / "o"]


def _duplicated_bin(d: Path) -> list:
    (d / "c.counts.tsv").write_text("chrom\tstart\tend\tcount\nchr1\t0\t10000\t3\nchr1\t10000\t20000\t4\n"
                                    "1\t10000\t20000\t4\n")
    return ["cnv", d / "c.counts.tsv", "--prefix", d / "o"]


def _binary_wig(d: Path) -> list:
    (d / "c.wig").write_bytes(b"fixedStep chrom=chr1 start=1 step=10000\n\x80\xff\n")
    return ["cnv", d / "c.wig", "--prefix", d / "o"]


CASES = [
    Case("unsafe_sample_id", 2, "input", "unsafe ids", _bad_sheet, "row 2: sample: 'x;rm -rf' is not a safe id"),
    Case("file_not_found", 2, "input", "file not found",
         lambda d: ["cnv", d / "missing.counts.tsv.gz", "--prefix", d / "o"], "file not found"),
    Case("bad_option", 2, "input", "bad option value",
         lambda d: ["count", _header_bam(d / "e.bam"), "--prefix", d / "o", "--bin-size", 12345], "--bin-size"),
    Case("wrong_build", 3, "reference", "match neither GRCh38 nor GRCh37",
         lambda d: ["count", _header_bam(d / "w.bam", length=1_000_000), "--prefix", d / "o"],
         "match neither GRCh38 nor GRCh37"),
    Case("no_reads", 4, "data", "BAM contains no reads",
         lambda d: ["count", _header_bam(d / "e.bam"), "--prefix", d / "o"], "contains no reads"),
    Case("sample_failed_in_run", 4, "data", "a sample failed inside `dnadx run`", _failing_sample,
         "1 sample(s) failed: E1", whole_stderr_one_line=False),
    Case("mixed_builds", 2, "input", "samplesheet mixes genome builds", _mixed_builds,
         "but sample B (row 3) is GRCh37"),
    Case("inf_count", 2, "input", "non-integer counts", _inf_count, "row 3: field 'count' must be a non-negative integer"),
    Case("duplicated_bin", 2, "input", "a bin that appears twice in counts", _duplicated_bin,
         "row 4: bin 1:10000-20000 appears twice (first at row 3)"),
    Case("binary_wig", 2, "input", "not a text WIG", _binary_wig, "not a text WIG file"),
    Case("read_beyond_contig", 2, "input", "a read starts beyond its contig's length", _read_beyond_contig,
         "chr21 starts beyond the contig length in the header"),
    Case("outdir_locked", 5, "environment", "another `dnadx run` is using the output folder", _locked,
         "another `dnadx run` is using this output folder"),
    Case("unwritable_outdir", 5, "environment", "output folder cannot be created", _unwritable, "is a file"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case_gives_its_exit_code(case, tmp_path):
    argv = case.argv(tmp_path)
    if case.name == "outdir_locked":
        with open(tmp_path / "o" / ".dnadx" / "lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            r = run_proc(*argv)
    else:
        r = run_proc(*argv)
    assert r.returncode == case.exit, r.stderr
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    if case.whole_stderr_one_line:
        assert len(lines) == 1, r.stderr
    assert lines[-1].startswith(f"dnadx {argv[0]}: error: ") and case.needle in lines[-1], r.stderr
    assert case.exit == CLASSES[case.cls].exit_code
    if case.name == "sample_failed_in_run":  # others complete; the failure is in summary.tsv
        summary = pd.read_csv(tmp_path / "o" / "summary.tsv", sep="\t")
        assert summary.loc[0, "qc_status"] == "fail" and "count failed" in summary.loc[0, "qc_reasons"]


@pytest.mark.parametrize("row", README_ROWS + PROPOSED_ROWS, ids=lambda r: f"{r[0]}-{r[2][:30]}")
def test_every_catalogue_row_is_exercised(row):
    code, cls, examples = row
    assert cls in CLASSES and CLASSES[cls].exit_code == code, row
    assert any(c.exit == code and c.cls == cls and c.row_phrase in examples for c in CASES), \
        f"no test command produces the catalogue row {row}"


def test_catalogue_parsed():
    assert {r[0] for r in README_ROWS} == {2, 3, 4, 5} and len(README_ROWS) >= 5
    assert PROPOSED_ROWS, "docs/errors.md lists the proposed additions"
    # every exit code a case produces is documented
    assert {c.exit for c in CASES} <= {r[0] for r in README_ROWS + PROPOSED_ROWS}
    assert not [c for c in CASES if not any(c.row_phrase in r[2] for r in README_ROWS + PROPOSED_ROWS)]
    assert re.search(r"never a traceback", (ROOT / "README.md").read_text())
