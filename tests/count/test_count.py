"""`dnadx count`: counts equal an independent pysam count; filters; naming; CRAM; QC."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest

from dnadx.count.bam import CountOptions, count_loop, count_reads
from tests.helpers import run_cli, run_proc


def independent_count(bam_path, bin_size=10_000, min_mapq=20, lo=None, hi=None):
    """A second implementation with pysam's properties, whole-file iteration (no index use)."""
    out = {}
    with pysam.AlignmentFile(str(bam_path)) as bam:
        for r in bam.fetch(until_eof=True):
            if r.is_unmapped or r.is_secondary or r.is_supplementary or r.is_qcfail or r.is_duplicate:
                continue
            if r.is_paired and not r.is_read1:
                continue
            if r.mapping_quality < min_mapq:
                continue
            if r.is_paired and ((lo and abs(r.template_length) < lo) or (hi and abs(r.template_length) > hi)):
                continue
            name = r.reference_name if r.reference_name.startswith("chr") else "chr" + r.reference_name
            key = (name, r.reference_start // bin_size * bin_size)
            out[key] = out.get(key, 0) + 1
    return out


def as_dict(counts: pd.DataFrame):
    nz = counts[counts["count"] > 0]
    return dict(zip(zip(nz["chrom"], nz["start"]), nz["count"]))


def test_counts_equal_independent_count(small_bam):
    counts, qc = count_reads(small_bam)
    assert as_dict(counts) == independent_count(small_bam)
    assert qc["reads_kept"] == counts["count"].sum() > 30000
    assert qc["dropped"]["duplicate"] > 0 and qc["dropped"]["low_mapq"] > 0
    assert qc["genome"] == "GRCh38" and qc["chrom_naming"] == "chr1"
    # every fine bin of every canonical contig present, last bin ends at the contig end
    assert counts.groupby("chrom")["end"].max()["chr21"] == 46709983


def test_two_workers_give_identical_counts(small_bam):
    one, qc1 = count_reads(small_bam, threads=1)
    two, qc2 = count_reads(small_bam, threads=2)
    pd.testing.assert_frame_equal(one, two)
    assert qc1 == qc2


def test_fragment_window_and_mapq_options(small_bam):
    opts = CountOptions(min_mapq=30, min_fragment=100, max_fragment=150)
    counts, qc = count_reads(small_bam, options=opts)
    assert as_dict(counts) == independent_count(small_bam, min_mapq=30, lo=100, hi=150)
    assert qc["dropped"]["fragment_length"] > 0
    # tumour-free sample: 90-150 bp fraction is the tail of the ~167 bp nucleosomal peak
    _, full = count_reads(small_bam)
    assert 0.05 < full["short_fragment_fraction"] < 0.4


def test_fine_bins_aggregate_to_coarser(small_bam):
    fine, _ = count_reads(small_bam)
    coarse, _ = count_reads(small_bam, options=CountOptions(bin_size=100_000))
    from dnadx.count.bins import aggregate
    agg = aggregate(fine, 100_000)
    assert agg["count"].tolist() == coarse["count"].tolist()


def test_numeric_contig_names_and_single_end(tmp_path):
    assert run_cli("simulate", "--prefix", tmp_path / "n", "--chroms", "chr22", "--fragments", 5000,
                   "--chrom-naming", "1", "--single-end") == 0
    with pysam.AlignmentFile(str(tmp_path / "n.bam")) as bam:
        assert bam.references[0] == "1"
    counts, qc = count_reads(tmp_path / "n.bam")
    assert qc["chrom_naming"] == "1" and set(counts["chrom"]) >= {"chr1", "chr22"}
    assert qc["single_end_reads"] == qc["reads_kept"] > 4000
    assert as_dict(counts) == independent_count(tmp_path / "n.bam")


def test_cram_with_reference(small_bam, tmp_path):
    cram = tmp_path / "s.cram"
    fasta = small_bam.with_suffix(".fa")
    pysam.view("-C", "-T", str(fasta), "-o", str(cram), str(small_bam), catch_stdout=False)
    pysam.index(str(cram))
    counts, _ = count_reads(cram, fasta=fasta)
    ref, _ = count_reads(small_bam)
    assert counts["count"].tolist() == ref["count"].tolist()


def test_cli_writes_counts_qc_and_wig(small_bam, tmp_path):
    assert run_cli("count", small_bam, "--prefix", tmp_path / "x", "--wig", "--threads", 1) == 0
    qc = json.loads((tmp_path / "x.count-qc.json").read_text())
    from dnadx.core import io
    counts = io.read_counts(tmp_path / "x.counts.tsv.gz")
    wig = io.read_counts(tmp_path / "x.counts.wig")
    assert counts["count"].sum() == wig["count"].sum() == qc["reads_kept"]
    assert np.array_equal(counts["start"], wig["start"])


@pytest.mark.parametrize("threads", [1, 2])
def test_counts_file_same_text_as_generic_tsv_and_deterministic(small_bam, tmp_path, threads):
    """`dnadx count` deflates each contig's rows in the worker that counted it and joins the pieces into
    one gzip member: the file must read back (gzip, pandas) as exactly the generic TSV of the same table,
    be a single member, and its bytes must not depend on the run or on the number of workers."""
    import gzip
    import zlib

    from dnadx.core import io
    counts, _ = count_reads(small_bam)
    io.write_tsv(counts, tmp_path / "generic.tsv")
    for name in ("a", "b"):
        assert run_cli("count", small_bam, "--prefix", tmp_path / name, "--threads", threads) == 0
    assert run_cli("count", small_bam, "--prefix", tmp_path / "one", "--threads", 1) == 0
    data = (tmp_path / "a.counts.tsv.gz").read_bytes()
    assert gzip.decompress(data).decode() == (tmp_path / "generic.tsv").read_text()
    assert io.read_counts(tmp_path / "a.counts.tsv.gz").equals(io.read_counts(tmp_path / "generic.tsv"))
    assert data == (tmp_path / "b.counts.tsv.gz").read_bytes() == (tmp_path / "one.counts.tsv.gz").read_bytes()
    assert data[4:8] == b"\0\0\0\0"  # mtime 0
    d = zlib.decompressobj(31)
    d.decompress(data)
    assert d.eof and d.unused_data == b""  # one member: nothing after the first member's trailer


def test_truncated_counts_file_fails_wherever_it_is_cut(small_bam, tmp_path):
    """Separate gzip members per contig would read cleanly when cut between two (chromosomes silently
    lost); one member fails at any cut, including the ends of the contigs' deflate pieces."""
    from dnadx.core import io
    from dnadx.count.bam import count_bins
    from dnadx.count.text import HEADER, deflate_piece
    fine, _ = count_bins(small_bam, encode=True)
    data = fine.gzip_bytes()
    ends = np.cumsum([len(deflate_piece(HEADER)[2])] + [len(z) for *_, z in fine.pieces]) + 10
    for cut in sorted({*ends[:-1].tolist(), len(data) // 2, len(data) - 8, len(data) - 1}):
        (tmp_path / "cut.counts.tsv.gz").write_bytes(data[:cut])
        with pytest.raises(io.InputError, match="truncated or corrupt gzip"):
            io.read_counts(tmp_path / "cut.counts.tsv.gz")


def test_count_command_does_not_import_the_modelling_stack(small_bam, tmp_path):
    import subprocess
    import sys
    code = ("import sys; from dnadx.cli import main; "
            f"rc = main(['count', {str(small_bam)!r}, '--prefix', {str(tmp_path / 'x')!r}, '--threads', '1']); "
            "print(rc, sorted(m for m in ('scipy', 'sklearn', 'matplotlib', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[0] == "0 []"  # pandas alone costs ~0.2 s per call


def test_pysam_build_reports_libdeflate_like_the_library_bytes(small_bam, tmp_path, capsys):
    import re

    import pysam.libchtslib

    from dnadx.count.bam import pysam_build
    text = pysam_build()
    m = re.fullmatch(r"pysam (\S+) \(libdeflate: (yes|no|unknown)\)", text)
    assert m and m.group(1) == pysam.__version__
    raw = Path(pysam.libchtslib.__file__).read_bytes()  # the check of ../shared/PERFORMANCE.md
    assert m.group(2) == ("yes" if b"libdeflate=yes" in raw else "no")
    assert run_cli("count", small_bam, "--prefix", tmp_path / "v", "--threads", 1, "--verbose") == 0
    assert f"dnadx count: {text}, {count_loop()} loop, 1 worker process(es)" in capsys.readouterr().err


# --- the compiled loop (dnadx/count/_fastcount.pyx) against the pure-pysam loop -------------------------------

FLAG_BITS = (0x1, 0x4, 0x40, 0x80, 0x100, 0x200, 0x400, 0x800)
LENGTHS = {"chr21": 46709983, "chr22": 50818468, "chrUn_test": 5000}


def flag_case_bam(path, beyond=False):
    """Every combination of the filter-relevant flag bits x MAPQ around the threshold x template
    lengths around the window and the histogram cap, on two canonical contigs (first and last bin
    included) and one other contig, plus unplaced reads. ``beyond``: one read past chr22's end."""
    header = pysam.AlignmentHeader.from_dict({
        "HD": {"VN": "1.6", "SO": "coordinate"},
        "SQ": [{"SN": c, "LN": n} for c, n in LENGTHS.items()]})
    rng = np.random.default_rng(11)
    recs = []
    for tid, (chrom, n) in enumerate(LENGTHS.items()):
        for i, bits in enumerate(range(1 << len(FLAG_BITS))):
            flag = sum(b for j, b in enumerate(FLAG_BITS) if bits >> j & 1)
            for mapq in (0, 19, 20, 30, 60, 255):
                for tlen in (0, 1, -99, 100, 150, -151, 999, 1000, -1001, 5000):
                    pos = int(rng.integers(0, n - 150)) if (i + mapq) % 7 else (0 if tlen > 0 else n - 1)
                    recs.append((tid, pos, flag, mapq, tlen))
    if beyond:
        recs.append((1, LENGTHS["chr22"] + 20_000, 0x41, 60, 170))
    recs.sort()
    tmp = path.with_suffix(".tmp.bam")
    with pysam.AlignmentFile(str(tmp), "wb", header=header) as out:
        for k, (tid, pos, flag, mapq, tlen) in enumerate(recs):
            a = pysam.AlignedSegment(header)
            a.query_name, a.flag, a.reference_id, a.reference_start = f"r{k}", flag, tid, pos
            a.mapping_quality, a.template_length = mapq, tlen
            if not flag & 0x4:
                a.cigarstring = "1M"
            if flag & 0x1:
                a.next_reference_id, a.next_reference_start = tid, pos
            out.write(a)
        for k in range(7):  # unplaced: no coordinate
            a = pysam.AlignedSegment(header)
            a.query_name, a.flag, a.reference_id, a.reference_start = f"u{k}", 0x4D, -1, -1
            out.write(a)
    tmp.rename(path)
    pysam.index(str(path))
    return path


@pytest.fixture(scope="module")
def flag_bam(tmp_path_factory):
    return flag_case_bam(tmp_path_factory.mktemp("flags") / "flags.bam")


def test_compiled_count_loop_is_built():
    from dnadx.count import bam
    assert bam.count_loop() == "compiled", ("dnadx/count/_fastcount.pyx was not compiled: reinstall with "
                                            "`pip install -v -e .` and read the setup.py warning")
    import os
    import subprocess
    import sys
    code = "from dnadx.count.bam import count_loop; print(count_loop())"
    forced = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, "DNADX_COUNT_LOOP": "python"})
    assert forced.stdout.strip() == "python"


needs_compiled = pytest.mark.skipif(count_loop() != "compiled",
                                    reason="compiled loop not built (test_compiled_count_loop_is_built fails)")


@needs_compiled
@pytest.mark.parametrize("opts", [CountOptions(), CountOptions(min_mapq=0), CountOptions(min_mapq=255, bin_size=7),
                                  CountOptions(min_mapq=30, min_fragment=100, max_fragment=999, bin_size=1_000_000),
                                  CountOptions(min_fragment=1)])
def test_compiled_and_python_loops_agree_on_every_flag_mapq_length_case(flag_bam, opts):
    from dnadx.count import bam
    with bam.open_alignment(flag_bam) as f:
        for chrom, n in LENGTHS.items():
            py = bam._count_contig_py(f, flag_bam, chrom, n, opts)
            fast = bam._count_contig_fast(f, flag_bam, chrom, n, opts)
            assert py[0] == fast[0] and py[3:] == fast[3:]
            assert np.array_equal(py[1], fast[1]) and np.array_equal(py[2], fast[2])
            assert fast[1].dtype == py[1].dtype == np.int64 and fast[2].dtype == py[2].dtype
            assert fast[4] > 10_000 and fast[1].sum() > 0
            drops = fast[3]
            assert all(drops[k] for k in ("unmapped", "secondary", "supplementary", "qcfail", "duplicate"))
            assert (drops["low_mapq"] > 0) == (opts.min_mapq > 0)
            assert (drops["fragment_length"] > 0) == bool(opts.min_fragment)


@needs_compiled
@pytest.mark.parametrize("threads", [1, 2])
def test_compiled_and_python_loops_write_identical_files(flag_bam, tmp_path, monkeypatch, threads):
    from dnadx.count import bam
    assert run_cli("count", flag_bam, "--prefix", tmp_path / "fast", "--threads", threads, "--min-fragment", 100) == 0
    monkeypatch.setattr(bam, "_FAST", None)
    assert bam.count_loop() == "python"
    assert run_cli("count", flag_bam, "--prefix", tmp_path / "py", "--threads", threads, "--min-fragment", 100) == 0
    for suffix in (".counts.tsv.gz", ".count-qc.json"):
        assert (tmp_path / f"fast{suffix}").read_bytes() == (tmp_path / f"py{suffix}").read_bytes()
    qc = json.loads((tmp_path / "fast.count-qc.json").read_text())
    assert qc["records_without_coordinate"] == 7 and qc["records_on_other_contigs"] > 0
    assert all(qc["dropped"].values()) and qc["second_mates_skipped"] > 0 and qc["single_end_reads"] > 0


def test_record_beyond_contig_end_is_a_clear_error_in_both_loops(tmp_path, monkeypatch):
    from dnadx.count import bam
    path = flag_case_bam(tmp_path / "beyond.bam", beyond=True)
    r = run_proc("count", path, "--prefix", tmp_path / "x", "--threads", 1)
    assert r.returncode == 2 and "starts beyond the contig length" in r.stderr and "Traceback" not in r.stderr
    monkeypatch.setattr(bam, "_FAST", None)
    with pytest.raises(bam.InputError, match="chr22 starts beyond the contig length in the header .50818468 bp."):
        count_reads(path)
