"""Simulator extensions for the variant caller: real hotspot codons, deep targets, errors, indels.

* ``plant_codons`` writes the real reference codons of the listed hotspots (transcript
  orientation, complemented on TP53's minus strand) into a simulated chromosome sequence, so
  HGVS names of planted variants can be checked against the literature (p.Leu755Ser ...).
* ``target_regions`` gives the MANE coding exons (+ splice sites) to sequence deeply, like a
  hybrid-capture panel on top of the low-pass background.
* ``read_editor`` returns the hook `bam_write.alignment_lines(edit_read=...)` calls for every
  read: it applies indel variants to the fragments chosen to carry them (CIGAR with I/D) and
  independent substitution errors at ``error_rate`` per base (so the two mates of a fragment
  can disagree, and normals carry a background for the error model).
Pure functions; the CLI (`dnadx simulate`) writes the files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dnadx.variants import hgvs
from dnadx.variants.pileup import coding_regions

# Reference codons (transcript orientation) at the knowledge-base hotspots: the codons on
# which the source's HGVS names are defined (TP53 R175 CGC, R248 CGG, R273 CGT are the classic
# CpG hotspots; ERBB2 L755 TTG, TOP1 E418 GAA). Each one's base at the named c. position
# equals the knowledge base's REF (checked in tests/variants/test_hgvs.py).
REAL_CODONS = {
    "ERBB2": {310: "TCC", 755: "TTG", 769: "GAC", 777: "GTG", 798: "ACC"},
    "TP53": {175: "CGC", 248: "CGG", 273: "CGT"},
    "TOP1": {418: "GAA"},
}


def genomic_of_c(tx: hgvs.Transcript, c: int) -> int:
    """1-based genomic position of coding position c.{c} (c >= 1)."""
    left = c - 1
    for s, e in tx._tx_order(tx.cds):
        if left < e - s:
            return (s + left + 1) if tx.strand == "+" else (e - left)
        left -= e - s
    raise ValueError(f"{tx.gene}: c.{c} beyond the CDS ({tx.cds_length} bp)")


def plant_codons(sequences: dict[str, bytearray], transcripts: dict[str, hgvs.Transcript],
                 codons: dict = REAL_CODONS) -> list[tuple[str, int, str]]:
    """Write ``codons`` into ``sequences`` (in place); returns (chrom, pos, base) planted."""
    planted = []
    for gene, by_codon in codons.items():
        tx = transcripts.get(gene)
        if tx is None or tx.chrom not in sequences:
            continue
        for number, codon in by_codon.items():
            for j, base in enumerate(codon):
                pos = genomic_of_c(tx, 3 * (number - 1) + j + 1)
                g = base if tx.strand == "+" else hgvs.revcomp(base)
                sequences[tx.chrom][pos - 1] = ord(g)
                planted.append((tx.chrom, pos, g))
    return planted


def target_regions(targets: pd.DataFrame, chroms=None) -> tuple:
    """Coding regions (+ splice sites) as (chrom, start, end) for `SimSpec.target_regions`."""
    reg = coding_regions(targets)
    if chroms:
        reg = reg[reg["chrom"].isin(chroms)]
    return tuple((r.chrom, int(r.start), int(r.end)) for r in reg.itertuples(index=False))


def read_editor(sequences: dict[str, bytearray], frag_chroms, variants, variant_alt: dict, *,
                error_rate: float, seed: int):
    """Hook ``(f, p, seq) -> (seq, cigar)`` applying indels and sequencing errors to one read.

    ``frag_chroms`` gives the chromosome of fragment row f; ``variants``/``variant_alt`` are the
    simulator's planted variants and the fragment rows chosen to carry each.
    """
    rng = np.random.default_rng(seed + 104729)
    indel_of: dict[int, list[dict]] = {}
    for i, (rows, _) in variant_alt.items():
        v = variants[i]
        if len(v["ref"]) != len(v["alt"]):
            for r in rows.tolist():
                indel_of.setdefault(r, []).append(v)
    lookup = np.frombuffer(b"ACGT", dtype=np.uint8)

    def edit(f: int, p: int, seq: bytearray) -> tuple[bytearray, str]:
        L = len(seq)
        cigar = f"{L}M"
        for v in indel_of.get(f, ()):
            anchor = int(v["pos"]) - 1 - p  # read offset of the VCF anchor base
            if not 0 <= anchor < L - 1:
                continue
            ref = sequences[frag_chroms[f]]
            if len(v["alt"]) > len(v["ref"]):  # insertion after the anchor
                ins = v["alt"][1:].encode()
                if anchor + 1 + len(ins) >= L:
                    continue  # the insertion would run off the read end
                new = bytes(seq[:anchor + 1]) + ins + bytes(seq[anchor + 1:])
                seq = bytearray(new[:L])
                cigar = f"{anchor + 1}M{len(ins)}I{L - anchor - 1 - len(ins)}M"
            else:  # deletion of the bases after the anchor
                dl = len(v["ref"]) - len(v["alt"])
                new = bytes(seq[:anchor + 1]) + bytes(ref[p + anchor + 1 + dl:p + L + dl])
                seq = bytearray(new[:L])
                cigar = f"{anchor + 1}M{dl}D{L - anchor - 1}M"
            break  # one indel per read is enough for the simulator
        if error_rate > 0:
            n = rng.binomial(L, error_rate)
            if n:
                at = rng.integers(0, L, n)
                arr = np.frombuffer(bytes(seq), dtype=np.uint8).copy()
                shift = rng.integers(1, 4, n)
                idx = (np.searchsorted(lookup, arr[at]) + shift) % 4  # a different base
                arr[at] = lookup[idx]
                seq = bytearray(arr.tobytes())
        return seq, cigar

    return edit
