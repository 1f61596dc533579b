"""Writing simulated alignments and FASTA (the I/O edge of `dnadx simulate`)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from dnadx import __version__
from dnadx.core import io


def _header(chrom_lengths: dict[str, int], naming: str, sample: str) -> list[str]:
    lines = ["@HD\tVN:1.6\tSO:coordinate"]
    for c, n in chrom_lengths.items():
        lines.append(f"@SQ\tSN:{_name(c, naming)}\tLN:{n}")
    lines.append(f"@RG\tID:{sample}\tSM:{sample}\tPL:ILLUMINA")
    lines.append(f"@PG\tID:dnadx-simulate\tPN:dnadx\tVN:{__version__}")
    return lines


def _name(chrom: str, naming: str) -> str:
    return chrom[3:] if naming == "1" and chrom.startswith("chr") else chrom


def alignment_lines(frags: pd.DataFrame, *, read_length: int, paired: bool, naming: str, sample: str,
                    sequences: dict[str, bytearray] | None = None, variant_alt: dict | None = None,
                    variants=(), edit_read=None) -> list[str]:
    """SAM records for fragments, coordinate-sorted (read 1 forward unless ``flip``).

    ``edit_read(f, pos, seq) -> (seq, cigar)``, if given, may rewrite each read's sequence and
    CIGAR (indels, sequencing errors: `dnadx.sim.variants.read_editor`).
    """
    n = len(frags)
    start = frags["start"].to_numpy()
    flen = frags["length"].to_numpy()
    rl = np.minimum(flen, read_length)
    left, right = start, start + flen - rl
    flip = frags["flip"].to_numpy()
    if paired:
        # two records per fragment: the left one forward, the right one reverse; read 1 is the
        # left one unless the fragment is flipped
        fid = np.repeat(np.arange(n), 2)
        is_r2 = np.tile([False, True], n)
        is_left = is_r2 == flip[fid]
    else:
        fid = np.arange(n)
        is_r2 = np.zeros(n, bool)
        is_left = ~flip
    pos = np.where(is_left, left[fid], right[fid])
    chrom_codes = pd.factorize(frags["chrom"])[0][fid]
    order = np.lexsort((is_r2, fid, pos, chrom_codes))
    chroms = frags["chrom"].to_numpy()
    mapq = frags["mapq"].to_numpy()
    dup = frags["duplicate"].to_numpy()
    alt_of = {}
    for i, (rows, _) in (variant_alt or {}).items():
        for r in rows.tolist():
            alt_of.setdefault(r, []).append(variants[i])
    lines = []
    for j in order.tolist():
        f = int(fid[j])
        r2 = bool(is_r2[j])
        lft = bool(is_left[j])
        p = int(pos[j])
        L = int(rl[f])
        flag = (0x400 if dup[f] else 0) | (0 if lft else 0x10)
        if paired:
            flag |= 0x1 | 0x2 | (0x80 if r2 else 0x40) | (0x20 if lft else 0)
            mate = f"=\t{int(right[f] if lft else left[f]) + 1}\t{int(flen[f]) if lft else -int(flen[f])}"
        else:
            mate = "*\t0\t0"
        c = chroms[f]
        if sequences is not None and c in sequences:
            seq = bytearray(sequences[c][p:p + L])
            for v in alt_of.get(f, ()):
                off = int(v["pos"]) - 1 - p
                if 0 <= off < L and len(v["ref"]) == 1 and len(v["alt"]) == 1:
                    seq[off] = ord(v["alt"])
            cigar = f"{L}M"
            if edit_read is not None:
                seq, cigar = edit_read(f, p, seq)
            sq, ql = seq.decode(), "I" * L
        else:
            sq, ql, cigar = "*", "*", f"{L}M"
        lines.append(f"{'d' if dup[f] else 'f'}{f}\t{flag}\t{_name(c, naming)}\t{p + 1}\t{mapq[f]}\t{cigar}\t{mate}\t{sq}\t{ql}\tRG:Z:{sample}")
    return lines


def write_bam(frags: pd.DataFrame, path, *, chrom_lengths: dict[str, int], read_length: int, paired: bool,
              naming: str = "chr1", sample: str = "sample", sequences=None, variant_alt=None, variants=(),
              edit_read=None) -> None:
    """Write a coordinate-sorted, indexed BAM (atomically, index included)."""
    path = Path(path)
    header = _header(chrom_lengths, naming, sample)
    body = alignment_lines(frags, read_length=read_length, paired=paired, naming=naming, sample=sample,
                           sequences=sequences, variant_alt=variant_alt, variants=variants, edit_read=edit_read)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, sam = tempfile.mkstemp(suffix=".sam", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(header) + "\n")
            if body:
                fh.write("\n".join(body) + "\n")
        with io.atomic_path(path) as tmp:
            pysam.view("--no-PG", "-b", "-o", str(tmp), sam, catch_stdout=False)
            pysam.index(str(tmp), str(tmp) + ".bai")
            os.replace(str(tmp) + ".bai", str(path) + ".bai")
    finally:
        if os.path.exists(sam):
            os.unlink(sam)


def write_fasta(sequences: dict[str, bytearray], path, *, naming: str = "chr1", width: int = 60) -> None:
    """Write a FASTA (+ .fai) of the simulated chromosomes."""
    path = Path(path)
    with io.atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            for c, seq in sequences.items():
                fh.write(f">{_name(c, naming)}\n".encode())
                mv = memoryview(bytes(seq))
                fh.write(b"\n".join(mv[i:i + width] for i in range(0, len(mv), width)) + b"\n")
    pysam.faidx(str(path))
