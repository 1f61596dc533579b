"""Fragment-level pileup over target coding regions (+ splice sites).

One observation per *fragment* (read pair), not per read: the two mates of a short cfDNA
fragment overlap (~167 bp fragments, 2 x 100 bp reads), and counting both would double the
evidence for every base, errors included. Per position and fragment:

* reads dropped before piling up: unmapped, secondary, QC-fail, duplicate, supplementary
  (flags 0xF04) and MAPQ < ``min_mapq``;
* a read's base counts only if its base quality >= ``min_baseq`` (deletions take the quality
  of the next base, as in htslib);
* mates agreeing -> one observation; mates disagreeing -> the fragment is dropped at that
  position (``discordant``) rather than guessed;
* alleles: ``A/C/G/T``; ``+SEQ`` insertion after the base; ``-N`` deletion of the next N
  bases; ``*`` a base inside a deletion (covered, counted in depth, never an allele).

For every non-reference allele with enough fragments it also records the evidence the filters
of `calling` need: alt and ref reads per strand (strand bias: Fisher's test and GATK's symmetric
odds ratio), the median distance of the alt base from the nearer read end (read position), the
median base quality of the alt bases, and alt fragments whose read carries more than
``max_mismatches`` other mismatches. Duplicates never reach the pileup (flag 0x400), and the
overlapping mates of a fragment count once, so neither can inflate these counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from dnadx.core import params
from dnadx.variants.hgvs import SPLICE_SITE_BASES

DEPTH_COLUMNS = ("chrom", "pos", "gene", "ref", "depth", "reads", "discordant", "ref_fragments")
ALLELE_COLUMNS = ("chrom", "pos", "gene", "ref", "allele", "alt_fragments", "alt_fwd", "alt_rev", "ref_fwd", "ref_rev",
                  "alt_pos_median", "alt_bq_median", "alt_high_mismatch")


@dataclass(frozen=True)
class PileupOptions:
    """Read and base filters of the pileup (defaults as bcftools/mosdepth users expect)."""

    min_mapq: int = params.MIN_MAPQ
    # Q20: 1% error; cfDNA callers (e.g. bcftools -Q 20, UMI-less ctDNA pipelines) use 20-30.
    min_baseq: int = 20
    exclude_flags: int = params.EXCLUDE_FLAGS
    # Reads with more mismatches than this (besides the allele itself) are likely mis-mapped.
    max_mismatches: int = 4
    # Alleles with fewer fragments cannot be called (variant_calling.MIN_ALT_FRAGMENTS = 3), so
    # their per-read evidence (strand, read end, mismatches) is not collected.
    evidence_min_fragments: int = 3


def coding_regions(targets: pd.DataFrame, *, pad: int = SPLICE_SITE_BASES) -> pd.DataFrame:
    """CDS pieces of the targets padded by ``pad`` bp (canonical splice sites), BED, merged per gene."""
    cds = targets.dropna(subset=["cds_start"])
    rows = [(r.chrom, int(r.cds_start) - pad, int(r.cds_end) + pad, r.gene) for r in cds.itertuples()]
    out = pd.DataFrame(rows, columns=["chrom", "start", "end", "gene"]).sort_values(["chrom", "start"])
    merged = []
    for r in out.itertuples(index=False):
        if merged and merged[-1][0] == r.chrom and merged[-1][3] == r.gene and r.start <= merged[-1][2]:
            merged[-1][2] = max(merged[-1][2], r.end)
        else:
            merged.append([r.chrom, r.start, r.end, r.gene])
    return pd.DataFrame(merged, columns=["chrom", "start", "end", "gene"])


def _allele(token: str) -> str:
    """pysam pileup token ('a', 'T+2TT', 'c-1n', '*') -> allele key."""
    if len(token) == 1:
        return token.upper()
    base, sign = token[0], token[1]
    if sign == "+":
        return "+" + token[2:].lstrip("0123456789").upper()
    if sign == "-":
        return "-" + str(len(token[2:].lstrip("0123456789")))
    return base.upper()


def _fragments(names, alleles, ok):
    """Collapse reads to fragments: returns (allele per fragment, read index per fragment, n discordant)."""
    names = pd.factorize(np.asarray(names, dtype=object))[0][ok]  # integer codes: fast to sort
    alleles = np.asarray(alleles, dtype=object)[ok]
    idx = np.flatnonzero(ok)
    if not len(names):
        return alleles, idx, 0
    order = np.argsort(names, kind="stable")
    names, alleles, idx = names[order], alleles[order], idx[order]
    same_next = np.zeros(len(names), bool)
    same_next[:-1] = names[1:] == names[:-1]
    second = np.zeros(len(names), bool)
    second[1:] = same_next[:-1]
    agree = np.ones(len(names), bool)
    agree[:-1] = ~same_next[:-1] | (alleles[1:] == alleles[:-1])
    keep = ~second & agree
    discordant = int((same_next & ~agree).sum())
    return alleles[keep], idx[keep], discordant


def _mismatches(aln, ref_window: str, win_start: int) -> int:
    """Mismatches + indels of a read against the reference window (for the mismatch filter)."""
    seq = aln.query_sequence or ""
    n = sum(1 for op, _ in aln.cigartuples or () if op in (1, 2))  # insertions, deletions
    for qs, rs in aln.get_aligned_pairs(matches_only=True):
        k = rs - win_start
        if 0 <= k < len(ref_window) and seq[qs].upper() != ref_window[k]:
            n += 1
    return n


def pileup(alignments, regions: pd.DataFrame, *, fetch_ref: Callable[[str, int, int], str] | None = None,
           options: PileupOptions = PileupOptions(), contig: Callable[[str], str] = lambda c: c):
    """Pile up fragments over ``regions`` (chrom, start, end, gene; BED).

    Parameters
    ----------
    alignments : an open pysam.AlignmentFile (indexed).
    regions : target regions; positions are reported 1-based (VCF POS).
    fetch_ref : (chrom, start0, end0) -> reference sequence; None = depth only (ref 'N').
    contig : maps a UCSC chrom name to the BAM's contig name (e.g. 'chr17' -> '17').

    Returns
    -------
    (depth, alleles) DataFrames with DEPTH_COLUMNS and ALLELE_COLUMNS.
    """
    depth_rows, allele_rows = [], []
    for reg in regions.itertuples(index=False):
        pad = 200
        ref_win = fetch_ref(reg.chrom, max(0, reg.start - pad), reg.end + pad).upper() if fetch_ref else ""
        win0 = max(0, reg.start - pad)
        covered = set()
        # multiple_iterators=False: pysam's default for pileup (True) reopens the file and reloads its index
        # for every region, ~13 ms each for a 0.1x BAM's 4 MB .bai: 1 s of every `dnadx variants` (issue 19);
        # each region is read to its end before the next, so one handle serves them all
        for col in alignments.pileup(contig(reg.chrom), reg.start, reg.end, truncate=True, stepper="all",
                                     flag_filter=options.exclude_flags, min_mapping_quality=options.min_mapq,
                                     min_base_quality=0, ignore_overlaps=False, ignore_orphans=False,
                                     max_depth=1_000_000, multiple_iterators=False):
            pos0 = col.reference_pos
            covered.add(pos0)
            ref = ref_win[pos0 - win0] if ref_win else "N"
            tokens = col.get_query_sequences(add_indels=True)
            alleles = [t.upper() if len(t) == 1 else _allele(t) for t in tokens]
            # MAPQ is checked here too: pysam's pileup does not apply min_mapping_quality reliably
            ok = ((np.asarray(col.get_query_qualities()) >= options.min_baseq)
                  & (np.asarray(col.get_mapping_qualities()) >= options.min_mapq))
            frag_alleles, frag_idx, discordant = _fragments(col.get_query_names(), alleles, ok)
            depth_rows.append((reg.chrom, pos0 + 1, reg.gene, ref, len(frag_alleles), int(ok.sum()), discordant,
                               int((frag_alleles == ref).sum())))
            if not ref_win:
                continue
            alt_mask = (frag_alleles != ref) & (frag_alleles != "*")
            if not alt_mask.any():
                continue
            if options.evidence_min_fragments > 1:
                # strand/read-end/mismatch evidence costs a walk over the column's reads: only for
                # alleles with enough fragments to be called at all; the rest get counts only
                vals, counts = np.unique(frag_alleles[alt_mask], return_counts=True)
                few = set(vals[counts < options.evidence_min_fragments].tolist())
                allele_rows.extend((reg.chrom, pos0 + 1, reg.gene, ref, a, int(c), 0, 0, 0, 0, np.nan, np.nan, 0)
                                   for a, c in zip(vals.tolist(), counts.tolist()) if a in few)
                alt_mask &= ~np.isin(frag_alleles, list(few))
                if not alt_mask.any():
                    continue
            allele_rows.extend(_alt_evidence(col, reg, pos0, ref, frag_alleles[alt_mask], frag_idx[alt_mask],
                                             alleles, ok, options, ref_win, win0))
        for pos0 in range(reg.start, reg.end):  # zero-coverage positions are reported, not skipped
            if pos0 not in covered:
                depth_rows.append((reg.chrom, pos0 + 1, reg.gene, ref_win[pos0 - win0] if ref_win else "N", 0, 0, 0, 0))
    depth = pd.DataFrame(depth_rows, columns=DEPTH_COLUMNS).sort_values(["chrom", "pos"], kind="stable")
    alleles = pd.DataFrame(allele_rows, columns=ALLELE_COLUMNS)
    return depth.drop_duplicates(["chrom", "pos"]).reset_index(drop=True), alleles


def _alt_evidence(col, reg, pos0, ref, frag_alleles, frag_idx, read_alleles, ok, options, ref_win, win0):
    """Per alt allele: fragments; alt and ref reads per strand; median alt distance from the nearer
    read end and median alt base quality; alt fragments from high-mismatch reads."""
    reads = col.pileups
    names = np.asarray(col.get_query_names())
    read_alleles = np.asarray(read_alleles, dtype=object)
    quals = np.asarray(col.get_query_qualities())
    reverse = np.array([pr.alignment.is_reverse for pr in reads], dtype=bool)
    is_ref = ok & (read_alleles == ref)
    ref_fwd, ref_rev = int((is_ref & ~reverse).sum()), int((is_ref & reverse).sum())
    out = []
    for allele in sorted(set(frag_alleles.tolist())):
        frag_reads = frag_idx[frag_alleles == allele]
        # only the reads of this allele's fragments are visited (vectorised selection: deep BAMs)
        sel = np.flatnonzero(ok & (read_alleles == allele) & np.isin(names, names[frag_reads]))
        dist = []
        for i in sel.tolist():
            pr = reads[i]
            qp = pr.query_position_or_next
            if qp is not None:
                dist.append(min(qp, pr.alignment.query_length - 1 - qp))
        expected = 1  # the allele itself: one mismatch or one indel operation
        high_mm = sum(1 for i in frag_reads.tolist()
                      if _mismatches(reads[i].alignment, ref_win, win0) - expected > options.max_mismatches)
        out.append((reg.chrom, pos0 + 1, reg.gene, ref, allele, len(frag_reads), int((~reverse[sel]).sum()),
                    int(reverse[sel].sum()), ref_fwd, ref_rev, float(np.median(dist)) if dist else np.nan,
                    float(np.median(quals[sel])) if len(sel) else np.nan, high_mm))
    return out
