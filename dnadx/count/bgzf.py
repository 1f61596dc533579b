"""The fast BAM reader of `dnadx count`: BGZF blocks inflated with libdeflate (the `deflate` wheel), records
walked in compiled code (`_fastcount.walk_records`) from the contig's first record as the .bai index gives it.

The PyPI pysam wheel's htslib inflates with zlib, ~0.4 µs per record more than libdeflate
(benchmarks/README.md); this reader needs no source build. It handles BAM with a .bai index; CRAM, .csi
indexes, and any block or record it does not expect (bad magic, CRC mismatch, a truncated file, a malformed
record) go to the pysam path, which gives the same counts or the established error message. The counting
rule and filter order are those of `dnadx.count.bam` (byte-identical outputs, tested on many simulated BAMs).
`DNADX_COUNT_READER=pysam` (or `DNADX_COUNT_LOOP=python`) in the environment turns it off (comparisons, bug
reports).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

READER = "bgzf-libdeflate"  # the name the count QC json records for this reader
_MAGIC = b"\x1f\x8b\x08\x04"
_READ = 4 << 20
_NO_RECORD = (1 << 64) - 1


class Fallback(Exception):
    """This reader cannot handle the input; the caller counts the contig with pysam instead."""


def _load():
    # the record walk is compiled code: DNADX_COUNT_LOOP=python (no compiled code) turns the reader off too
    if os.environ.get("DNADX_COUNT_READER") == "pysam" or os.environ.get("DNADX_COUNT_LOOP") == "python":
        return None
    try:
        import deflate

        from dnadx.count import _fastcount
        _fastcount.walk_records  # noqa: B018 - an older build of the extension lacks it
    except (ImportError, AttributeError):
        return None
    return deflate, _fastcount


_LIBS = _load()


def available() -> bool:
    return _LIBS is not None


def spans(bam_path: Path, n_ref: int) -> list[tuple[int, int] | None] | None:
    """Per reference id, (first, last) BGZF virtual offsets of its records from the .bai beside the BAM,
    None for a reference without records; None when there is no readable .bai (e.g. only a .csi)."""
    if _LIBS is None:
        return None
    for cand in (Path(str(bam_path) + ".bai"), bam_path.with_suffix(".bai")):
        if cand.exists():
            out = np.zeros((max(n_ref, 1), 2), dtype=np.uint64)
            if _LIBS[1].bai_spans(cand.read_bytes(), out) != n_ref:
                return None
            return [None if int(b) == _NO_RECORD else (int(b), int(e)) for b, e in out[:n_ref]]
    return None


def _blocks(fh, coffset: int):
    """Inflated BGZF blocks from file offset ``coffset`` to the end; raise Fallback on anything unexpected."""
    deflate = _LIBS[0]
    fh.seek(coffset)
    buf, p = b"", 0
    while True:
        if len(buf) - p < 18:
            buf, p = buf[p:] + fh.read(_READ), 0
            if not buf:
                return
            if len(buf) < 18:
                raise Fallback("truncated block header")
        if buf[p:p + 4] != _MAGIC:
            raise Fallback("not a BGZF block")
        xlen = struct.unpack_from("<H", buf, p + 10)[0]
        if len(buf) - p < 12 + xlen:
            buf, p = buf[p:] + fh.read(_READ), 0
            if len(buf) < 12 + xlen:
                raise Fallback("truncated block header")
        size = _block_size(buf, p, xlen)
        if size < 12 + xlen + 8:
            raise Fallback("BGZF block size smaller than its header")
        if len(buf) - p < size:
            buf, p = buf[p:] + fh.read(max(_READ, size)), 0
            if len(buf) < size:
                raise Fallback("truncated block")
        crc, isize = struct.unpack_from("<II", buf, p + size - 8)
        try:
            data = deflate.deflate_decompress(memoryview(buf)[p + 12 + xlen:p + size - 8], isize) if isize else b""
        except deflate.DeflateError as exc:
            raise Fallback(f"inflate failed ({exc})") from None
        if deflate.crc32(data) != crc:
            raise Fallback("CRC mismatch")
        p += size
        yield data


def _block_size(buf: bytes, p: int, xlen: int) -> int:
    """Total size of the block at ``p`` from its BC extra subfield (BSIZE + 1)."""
    q, end = p + 12, p + 12 + xlen
    while q + 4 <= end:
        si1, si2, slen = buf[q], buf[q + 1], struct.unpack_from("<H", buf, q + 2)[0]
        if si1 == 66 and si2 == 67 and slen == 2 and q + 6 <= end:
            return struct.unpack_from("<H", buf, q + 4)[0] + 1
        q += 4 + slen
    raise Fallback("BGZF block without a BSIZE field")


def count_contig(path: Path, tid: int, span: tuple[int, int] | None, nbins: int, opts, hist_max: int):
    """(counts, hist, tally) for reference ``tid`` as `_fastcount.count_contig` fills them; raise Fallback.

    A -3 status (a record beyond the contig's bins) is returned as ``tally is None`` so the caller raises
    its own message.
    """
    walk = _LIBS[1].walk_records
    counts = np.zeros(nbins, dtype=np.int64)
    hist = np.zeros(hist_max + 1, dtype=np.int64)
    tally = np.zeros(11, dtype=np.int64)
    if span is None:
        return counts, hist, tally
    args = (tid, opts.bin_size, opts.min_mapq, opts.min_fragment or 0, opts.max_fragment or 1 << 40,
            counts, hist, tally)
    skip = span[0] & 0xFFFF
    tail = b""
    first = True
    with open(path, "rb") as fh:
        for block in _blocks(fh, span[0] >> 16):
            if skip:
                block, skip = block[skip:], 0
            data = tail + block if tail else block
            used, status = walk(data, *args)
            if first and (used or status):
                if status == 1 and used == 0:  # the index pointed at another reference's record
                    raise Fallback("index start is not a record of this reference")
                first = False
            if status == 1:
                return counts, hist, tally
            if status == -3:
                return counts, hist, None
            if status == -4:
                raise Fallback("malformed record")
            tail = data[used:]
    if tail:
        raise Fallback("file ends inside a record")
    return counts, hist, tally
