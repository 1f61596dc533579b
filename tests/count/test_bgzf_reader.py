"""The BGZF reader (dnadx/count/bgzf.py) against the pysam path: the same counts, histogram and tallies on
many simulated BAMs (records split across BGZF blocks of random sizes, empty contigs, unplaced reads at the
end, reads at position 0 whose CIGAR covers no reference base), and a fallback to pysam on anything else."""

from __future__ import annotations

import gzip
import json
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import pysam
import pytest
from hypothesis import given, settings, strategies as st

from dnadx.count import bam, bgzf
from dnadx.count.bam import CountOptions
from tests.count.test_count import flag_case_bam
from tests.helpers import run_cli

needs_reader = pytest.mark.skipif(not bgzf.available(), reason="BGZF reader not available (deflate wheel or "
                                                                "compiled loop missing: the first test fails)")

CONTIGS = {"c1": 60_000, "c2": 25_000, "c3": 40_000, "c4": 10_000}
EOF_BLOCK = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def test_reader_is_available_and_can_be_turned_off():
    assert bgzf.available() and bam.count_reader() == "bgzf-libdeflate"
    code = "from dnadx.count.bam import count_reader; print(count_reader())"
    for var, value in (("DNADX_COUNT_READER", "pysam"), ("DNADX_COUNT_LOOP", "python")):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, var: value})
        assert r.stdout.strip() == "pysam", var


def rebgzf(path, sizes) -> None:
    """Rewrite a BAM as BGZF blocks of the given uncompressed sizes (cycled): records then span blocks."""
    raw = gzip.decompress(path.read_bytes())
    out, i, k = bytearray(), 0, 0
    while i < len(raw):
        chunk = raw[i:i + sizes[k % len(sizes)]]
        i, k = i + len(chunk), k + 1
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = c.compress(chunk) + c.flush()
        out += b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00"
        out += struct.pack("<H", len(body) + 25) + body + struct.pack("<II", zlib.crc32(chunk), len(chunk))
    path.write_bytes(bytes(out) + EOF_BLOCK)


def write_bam(path, records, unplaced=0, sizes=None):
    header = pysam.AlignmentHeader.from_dict({"HD": {"VN": "1.6", "SO": "coordinate"},
                                              "SQ": [{"SN": c, "LN": n} for c, n in CONTIGS.items()]})
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for k, (tid, pos, flag, mapq, tlen, cigar, with_seq) in enumerate(sorted(records, key=lambda r: r[:2])):
            a = pysam.AlignedSegment(header)
            a.query_name, a.flag, a.reference_id, a.reference_start = f"r{k}", flag, tid, pos
            a.mapping_quality, a.template_length = mapq, tlen
            if cigar:
                a.cigarstring = cigar
            if with_seq:  # as long as the CIGAR says (htslib refuses a mismatch), or 100 without one
                a.query_sequence = "A" * (a.infer_query_length() if cigar else 100)
            out.write(a)
        for k in range(unplaced):
            a = pysam.AlignedSegment(header)
            a.query_name, a.flag, a.reference_id, a.reference_start = f"u{k}", 0x4D, -1, -1
            out.write(a)
    if sizes:
        rebgzf(path, sizes)
    pysam.index(str(path))
    return path


def both(path, opts=CountOptions(bin_size=1000)):
    """Per contig: (pysam path result, BGZF reader result)."""
    spans = bgzf.spans(path, len(CONTIGS))
    assert spans is not None
    with bam.open_alignment(path) as f:
        for tid, (contig, n) in enumerate(CONTIGS.items()):
            yield (bam._count_contig_py(f, path, contig, n, opts),
                   bam._count_contig_bgzf(path, tid, spans[tid], contig, n, opts))


def assert_same(py, fast):
    assert py[0] == fast[0] and py[3:] == fast[3:], (py[3:], fast[3:])
    assert np.array_equal(py[1], fast[1]) and np.array_equal(py[2], fast[2])


FLAGS = st.sampled_from([0x0, 0x1 | 0x40, 0x1 | 0x80, 0x1 | 0x40 | 0x400, 0x4, 0x1 | 0x40 | 0x100, 0x800, 0x200,
                         0x1 | 0x40 | 0x4, 0x10, 0x1 | 0x40 | 0x10])
CIGARS = st.sampled_from(["50M", "10S40M", "20S", "5I", "3M2D3M", "2N", "4000M", None])
RECORD = st.tuples(st.integers(0, len(CONTIGS) - 1), st.integers(0, 9_999), FLAGS,
                   st.sampled_from([0, 19, 20, 60, 255]), st.integers(-1200, 1200), CIGARS, st.booleans())


@needs_reader
@settings(max_examples=60, deadline=None)
@given(records=st.lists(RECORD, max_size=300), unplaced=st.integers(0, 5),
       sizes=st.one_of(st.none(), st.lists(st.integers(40, 70_000), min_size=1, max_size=5)),
       window=st.sampled_from([(None, None), (100, 999), (1, None)]))
def test_same_counts_as_pysam_on_simulated_bams(tmp_path_factory, records, unplaced, sizes, window):
    # positions at 0 and in the last bin of each contig are drawn too
    records = [(t, p if p % 7 else (0 if p % 2 else CONTIGS[list(CONTIGS)[t]] - 1 - p % 5), *r)
               for t, p, *r in records]
    path = write_bam(tmp_path_factory.mktemp("prop") / "p.bam", records, unplaced, sizes)
    opts = CountOptions(bin_size=1000, min_fragment=window[0], max_fragment=window[1])
    for py, fast in both(path, opts):
        assert_same(py, fast)


@needs_reader
def test_edge_cases_by_hand(tmp_path):
    """Empty first and middle contigs, unplaced reads at the end, a record split over three blocks, reads at
    position 0 with and without reference bases, the last base of a contig."""
    recs = [(1, 0, 0x41, 60, 170, "20S", True), (1, 0, 0x41, 60, 170, "5I", False), (1, 0, 0x41, 60, 170, "1M", 0),
            (1, 0, 0x4, 0, 0, None, True), (1, 24_999, 0x0, 60, 0, "1M", True), (1, 5, 0x41, 60, 170, "90000M", True)]
    recs += [(3, i * 7, 0x41 if i % 3 else 0x81, 60, 150 + i, "50M", True) for i in range(1000)]
    path = write_bam(tmp_path / "e.bam", recs, unplaced=4, sizes=[997, 1500, 65_000, 333])
    spans = bgzf.spans(path, len(CONTIGS))
    assert spans[0] is None and spans[2] is None and spans[1] and spans[3]
    results = list(both(path))
    for py, fast in results:
        assert_same(py, fast)
    assert results[1][1][4] == 6
    assert results[3][1][1].sum() == 666 and results[0][1][4] == 0


@needs_reader
def test_fallback_to_pysam_on_a_corrupt_block(tmp_path):
    path = write_bam(tmp_path / "c.bam", [(0, i, 0x0, 60, 0, "10M", True) for i in range(2000)], sizes=[3000])
    data = bytearray(path.read_bytes())
    data[-28 - 8] ^= 0xFF  # the CRC of the last data block: htslib would also refuse it
    path.write_bytes(bytes(data))
    spans = bgzf.spans(path, len(CONTIGS))
    with pytest.raises(bgzf.Fallback, match="CRC"):
        bgzf.count_contig(path, 0, spans[0], 60, CountOptions(bin_size=1000), 1000)


@needs_reader
def test_record_htslib_refuses_goes_to_pysam_and_its_error(tmp_path):
    """A CIGAR that disagrees with SEQ: htslib refuses the record; the reader hands the contig to pysam, so
    `dnadx count` reports the same read error as before."""
    path = write_bam(tmp_path / "m.bam", [(0, 10, 0x0, 60, 0, "10M", True)], sizes=[65_000])  # one block: the
    raw = bytearray(gzip.decompress(path.read_bytes()))  # index (made now, htslib refuses to index it later) stays valid
    at = raw.index(b"r0\x00") + 3  # the CIGAR: one op, 10M -> 12M
    raw[at:at + 4] = struct.pack("<I", 12 << 4)
    path.write_bytes(gzip.compress(bytes(raw)))
    rebgzf(path, [65_000])
    spans = bgzf.spans(path, len(CONTIGS))
    with pytest.raises(bgzf.Fallback, match="malformed"):
        bgzf.count_contig(path, 0, spans[0], 60, CountOptions(bin_size=1000), 1000)
    with bam.open_alignment(path) as f, pytest.raises(bam.InputError, match="read error in c1"):
        bam._count_contig_py(f, path, "c1", CONTIGS["c1"], CountOptions(bin_size=1000))


@needs_reader
def test_count_files_identical_and_reader_recorded(flag_bam_path, tmp_path, monkeypatch):
    """`dnadx count` with the BGZF reader and with pysam (both thread counts): byte-identical counts, the same
    QC apart from the `reader` field that names the path."""
    for threads in (1, 2):
        assert run_cli("count", flag_bam_path, "--prefix", tmp_path / f"f{threads}", "--threads", threads) == 0
    monkeypatch.setattr(bgzf, "_LIBS", None)
    assert bam.count_reader() == "pysam"
    assert run_cli("count", flag_bam_path, "--prefix", tmp_path / "p", "--threads", 1) == 0
    want = json.loads((tmp_path / "p.count-qc.json").read_text())
    assert want.pop("reader") == "pysam"
    for threads in (1, 2):
        assert (tmp_path / f"f{threads}.counts.tsv.gz").read_bytes() == (tmp_path / "p.counts.tsv.gz").read_bytes()
        got = json.loads((tmp_path / f"f{threads}.count-qc.json").read_text())
        assert got.pop("reader") == "bgzf-libdeflate" and got == want


@needs_reader
def test_csi_indexed_bam_uses_pysam(small_bam, tmp_path):
    """Inputs the reader does not handle are counted by pysam: a BAM indexed only with .csi."""
    csi = tmp_path / "s.bam"
    csi.write_bytes(small_bam.read_bytes())
    pysam.index(str(csi), "-c")
    assert bam.count_reader(csi) == "pysam" and bam.count_reader(small_bam) == "bgzf-libdeflate"
    assert run_cli("count", csi, "--prefix", tmp_path / "c", "--threads", 1) == 0
    assert run_cli("count", small_bam, "--prefix", tmp_path / "b", "--threads", 1) == 0
    assert json.loads((tmp_path / "c.count-qc.json").read_text())["reader"] == "pysam"
    assert (tmp_path / "c.counts.tsv.gz").read_bytes() == (tmp_path / "b.counts.tsv.gz").read_bytes()


@pytest.fixture(scope="module")
def flag_bam_path(tmp_path_factory):
    """Every filter-relevant flag x MAPQ x template length case (tests/count/test_count.py)."""
    return flag_case_bam(tmp_path_factory.mktemp("flags") / "flags.bam")


@needs_reader
@pytest.mark.parametrize("cut", [5, 14, 20, 100, -30])
def test_file_cut_anywhere_in_a_block_falls_back(tmp_path, cut):
    path = write_bam(tmp_path / "t.bam", [(0, i, 0x0, 60, 0, "10M", True) for i in range(500)], sizes=[2000])
    spans = bgzf.spans(path, len(CONTIGS))
    data = path.read_bytes()
    start = spans[0][0] >> 16
    blocks = [start]  # block starts from the first record's block on
    while blocks[-1] < len(data) - 28:
        blocks.append(blocks[-1] + struct.unpack_from("<H", data, blocks[-1] + 16)[0] + 1)
    end = blocks[2] + cut if cut > 0 else blocks[3] + cut  # inside the header, extra field, data or trailer
    path.write_bytes(data[:end])
    with pytest.raises(bgzf.Fallback, match="truncated"):
        bgzf.count_contig(path, 0, spans[0], 60, CountOptions(bin_size=1000), 1000)
