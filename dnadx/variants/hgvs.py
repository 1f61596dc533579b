"""HGVS c. and p. names on the MANE Select transcripts of `reference/<build>/targets.tsv`.

Coordinates: genomic positions are 1-based (VCF POS); exon/CDS spans in the targets table are
0-based half-open (BED). Numbering follows HGVS: c.1 is the A of the ATG; 5' UTR bases are
c.-N, 3' UTR bases c.*N; an intronic base is named from the nearest exonic base,
c.N+d (downstream of exon end in transcript orientation) or c.N-d. Minus-strand transcripts
(TP53) are read on the reverse complement, so a genomic G>A is a transcript C>T.
Indels are shifted 3' in transcript orientation (the HGVS 3' rule), within their exon only,
before naming; an insertion equal to the preceding bases is a duplication. A change whose first
altered residue is a stop is named as nonsense (p.Trp3Ter, also for frameshifts); an in-frame
indel creating a stop is stop_gained (p.Ala2_Tyr3insGlyTer, p.Tyr3delinsTrpTer); a stop loss
reads the 3' UTR to the next stop (p.Ter9GlnextTer2, extTer? when none follows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from dnadx.core.errors import InputError

_COMP = str.maketrans("ACGTNacgtn", "TGCANtgcan")
_BASES = "TCAG"
_AA1 = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
CODON_TABLE = {a + b + c: _AA1[16 * i + 4 * j + k]
               for i, a in enumerate(_BASES) for j, b in enumerate(_BASES) for k, c in enumerate(_BASES)}
AA3 = {"A": "Ala", "R": "Arg", "N": "Asn", "D": "Asp", "C": "Cys", "Q": "Gln", "E": "Glu", "G": "Gly",
       "H": "His", "I": "Ile", "L": "Leu", "K": "Lys", "M": "Met", "F": "Phe", "P": "Pro", "S": "Ser",
       "T": "Thr", "W": "Trp", "Y": "Tyr", "V": "Val", "*": "Ter", "X": "Xaa"}
# Intronic bases within this distance of an exon edge are canonical splice sites (GT/AG).
SPLICE_SITE_BASES = 2

Fetch = Callable[[str, int, int], str]  # (chrom, start0, end0) -> sequence on the + strand


def revcomp(seq: str) -> str:
    return seq.translate(_COMP)[::-1]


def translate(seq: str) -> str:
    """Translate a CDS (length need not be a multiple of 3: the trailing partial codon is dropped)."""
    return "".join(CODON_TABLE.get(seq[i:i + 3].upper(), "X") for i in range(0, len(seq) - 2, 3))


@dataclass(frozen=True)
class Transcript:
    """One MANE transcript: exons and CDS pieces in genomic order (BED), strand '+' or '-'."""

    gene: str
    refseq: str
    chrom: str
    strand: str
    exons: tuple  # ((start, end), ...) genomic order
    cds: tuple    # ((start, end), ...) genomic order, coding part of each exon

    @property
    def cds_length(self) -> int:
        return sum(e - s for s, e in self.cds)

    def _tx_order(self, spans):
        return list(spans) if self.strand == "+" else list(reversed(spans))


def transcripts(targets: pd.DataFrame) -> dict[str, Transcript]:
    """Build a Transcript per gene from a targets table (one row per exon)."""
    out = {}
    for gene, sub in targets.groupby("gene", sort=False):
        sub = sub.sort_values("exon_start")
        cds = sub.dropna(subset=["cds_start"])
        out[gene] = Transcript(
            gene=gene, refseq=str(sub["refseq"].iloc[0]), chrom=str(sub["chrom"].iloc[0]),
            strand=str(sub["strand"].iloc[0]),
            exons=tuple((int(s), int(e)) for s, e in zip(sub["exon_start"], sub["exon_end"])),
            cds=tuple((int(s), int(e)) for s, e in zip(cds["cds_start"], cds["cds_end"])))
    return out


def _exonic_t(tx: Transcript, pos0: int) -> int | None:
    """0-based transcript coordinate of an exonic genomic base, else None."""
    t = 0
    for s, e in tx._tx_order(tx.exons):
        if s <= pos0 < e:
            return t + (pos0 - s if tx.strand == "+" else e - 1 - pos0)
        t += e - s
    return None


def _cds_t_start(tx: Transcript) -> int:
    first = tx.cds[0][0] if tx.strand == "+" else tx.cds[-1][1] - 1
    return _exonic_t(tx, first)


def _t_to_c(tx: Transcript, t: int) -> str:
    c0 = t - _cds_t_start(tx)
    if c0 < 0:
        return f"-{-c0}"
    if c0 >= tx.cds_length:
        return f"*{c0 - tx.cds_length + 1}"
    return str(c0 + 1)


def c_position(tx: Transcript, pos: int) -> str:
    """HGVS c. coordinate (without 'c.') of the 1-based genomic position ``pos``."""
    pos0 = pos - 1
    t = _exonic_t(tx, pos0)
    if t is not None:
        return _t_to_c(tx, t)
    best = None
    for s, e in tx.exons:
        for edge in (s, e - 1):
            d = abs(pos0 - edge)
            # tie in the intron middle: the 5' half takes '+' (HGVS), i.e. the upstream edge wins
            key = (d, 0 if (edge < pos0) == (tx.strand == "+") else 1)
            if best is None or key < best[0]:
                best = (key, edge)
    if best is None:
        raise InputError(f"{tx.gene}: transcript has no exons")
    edge = best[1]
    off = pos0 - edge if tx.strand == "+" else edge - pos0
    return f"{_t_to_c(tx, _exonic_t(tx, edge))}{'+' if off > 0 else '-'}{abs(off)}"


def region_of(tx: Transcript, pos: int) -> str:
    """'coding', 'utr', 'splice_site' (intronic within 2 bp of an exon) or 'intron'."""
    c = c_position(tx, pos)
    if "+" in c[1:] or "-" in c[1:]:
        off = int(c.replace("+", "-").rsplit("-", 1)[1])
        return "splice_site" if off <= SPLICE_SITE_BASES else "intron"
    return "utr" if c.startswith(("-", "*")) else "coding"


def cds_sequence(tx: Transcript, fetch: Fetch) -> str:
    """Coding sequence in transcript orientation (5'->3')."""
    seq = "".join(fetch(tx.chrom, s, e) for s, e in tx.cds).upper()
    return seq if tx.strand == "+" else revcomp(seq)


def _cds_index(tx: Transcript, pos0: int) -> int | None:
    """0-based CDS index of a genomic base, None outside the CDS."""
    c = c_position(tx, pos0 + 1)
    return int(c) - 1 if c.isdigit() else None


def _exon_end(tx: Transcript, i: int) -> int:
    """CDS index (exclusive) where the coding part of the exon holding CDS index ``i`` ends."""
    end = 0
    for s, e in tx._tx_order(tx.cds):
        end += e - s
        if i < end:
            return end
    return end


def _shift_3prime(seq: str, i: int, ins: str, dele: int, limit: int | None = None) -> tuple[int, str]:
    """Shift an indel at CDS index ``i`` (insertion before i, or deletion of seq[i:i+dele]) 3', not past
    ``limit`` (the end of its exon: HGVS shifts within the exon only)."""
    limit = len(seq) if limit is None else limit
    if dele:
        while i + dele < limit and seq[i] == seq[i + dele]:
            i += 1
        return i, ""
    while i < limit and ins and ins[0] == seq[i]:
        ins = ins[1:] + seq[i]
        i += 1
    return i, ins


def _protein_change(ref_p: str, mut_p: str, frameshift: bool) -> str:
    """p. name comparing reference and mutated protein (both cut at the first stop)."""
    n = 0
    while n < min(len(ref_p), len(mut_p)) and ref_p[n] == mut_p[n]:
        n += 1
    if n == len(ref_p) == len(mut_p):
        return "p.="
    new = mut_p[n] if n < len(mut_p) else "*"
    if new == "*" and n < len(ref_p):
        # the first changed residue is a stop: a nonsense change, also for a frameshift or an
        # in-frame insertion (HGVS: p.Trp24Ter, not p.Trp24TerfsTer1)
        return f"p.{AA3[ref_p[n]]}{n + 1}Ter"
    if frameshift:
        stop = mut_p.find("*", n)
        ter = f"Ter{stop - n + 1}" if stop >= 0 else "Ter?"
        return f"p.{AA3[ref_p[n]]}{n + 1}{AA3[new]}fs{ter}"
    stop = mut_p.find("*", n)
    if 0 <= stop < len(ref_p) - 1 and "*" not in ref_p[n:len(ref_p) - 1]:
        # an in-frame change creating a stop: the residues up to the new stop replace the changed ones
        new_aa = "".join(AA3[x] for x in mut_p[n:stop + 1])
        k = len(mut_p) - len(ref_p)
        if k > 0 and mut_p[:n] == ref_p[:n] and mut_p[n + k:n + k + 1] == ref_p[n:n + 1] and n > 0:
            return f"p.{AA3[ref_p[n - 1]]}{n}_{AA3[ref_p[n]]}{n + 1}ins{new_aa}"
        return f"p.{AA3[ref_p[n]]}{n + 1}delins{new_aa}"
    k = len(mut_p) - len(ref_p)
    if k > 0 and mut_p[n + k:] == ref_p[n:]:
        ins = mut_p[n:n + k]
        if n >= k and ref_p[n - k:n] == ins:
            a, b = n - k, n - 1
            return f"p.{AA3[ref_p[a]]}{a + 1}dup" if k == 1 else f"p.{AA3[ref_p[a]]}{a + 1}_{AA3[ref_p[b]]}{b + 1}dup"
        return f"p.{AA3[ref_p[n - 1]]}{n}_{AA3[ref_p[n]]}{n + 1}ins{''.join(AA3[x] for x in ins)}"
    if k < 0 and ref_p[n - k:] == mut_p[n:]:
        a, b = n, n - k - 1
        return f"p.{AA3[ref_p[a]]}{a + 1}del" if a == b else f"p.{AA3[ref_p[a]]}{a + 1}_{AA3[ref_p[b]]}{b + 1}del"
    if k == 0 and len(ref_p) > n and (n + 1 >= len(mut_p) or ref_p[n + 1:] == mut_p[n + 1:]):
        if mut_p[n] == "*":
            return f"p.{AA3[ref_p[n]]}{n + 1}Ter"
        if n == 0:
            return "p.Met1?"
        return f"p.{AA3[ref_p[n]]}{n + 1}{AA3[mut_p[n]]}"
    return f"p.{AA3[ref_p[n]]}{n + 1}delins{''.join(AA3[x] for x in mut_p[n:n + max(1, len(mut_p) - len(ref_p) + 1)])}"


def annotate(tx: Transcript, pos: int, ref: str, alt: str, fetch: Fetch) -> dict:
    """HGVS names and consequence of a VCF-style allele (1-based ``pos``, anchored indels).

    Returns
    -------
    dict with ``hgvs_c`` ('NM_...:c.742C>T'), ``hgvs_p`` ('p.Arg248Trp', '' when non-coding,
    'p.?' at splice sites), ``region`` and ``consequence``.
    """
    ref, alt = ref.upper(), alt.upper()
    region = region_of(tx, pos)
    if len(ref) == 1 and len(alt) == 1:
        r, a = (ref, alt) if tx.strand == "+" else (revcomp(ref), revcomp(alt))
        c = f"c.{c_position(tx, pos)}{r}>{a}"
        if region != "coding":
            return _named(tx, c, "p.?" if region == "splice_site" else "", region, region)
        seq = cds_sequence(tx, fetch)
        i = _cds_index(tx, pos - 1)
        if seq[i] != r:
            raise InputError(f"{tx.gene} {tx.chrom}:{pos}: reference base {ref} disagrees with the FASTA "
                             f"({seq[i] if tx.strand == '+' else revcomp(seq[i])}); wrong build or FASTA?")
        p, cons = _codon_change(seq, i, a, lambda: fetch_tail(tx, fetch))
        return _named(tx, c, p, region, cons)
    return _annotate_indel(tx, pos, ref, alt, fetch, region)


def _c_span(tx: Transcript, first0: int, last0: int) -> str:
    """c. position or range ('a' or 'a_b', 5' to 3' on the transcript) of genomic bases first0..last0."""
    a, b = c_position(tx, first0 + 1), c_position(tx, last0 + 1)
    a, b = (a, b) if tx.strand == "+" else (b, a)
    return a if a == b else f"{a}_{b}"


def _splice_or_none(tx: Transcript, first0: int, last0: int) -> str:
    """'p.?' when any of the bases (or the pair flanking an insertion) is a canonical splice site."""
    return "p.?" if any(region_of(tx, g + 1) == "splice_site" for g in range(first0, last0 + 1)) else ""


def _annotate_complex(tx, pos, ref, alt, fetch, region) -> dict:
    """delins (MNV / complex allele): c.a_bdelinsSEQ; p. from the mutated CDS when it lies in the CDS."""
    while ref and alt and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    while ref and alt and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    if len(ref) == len(alt) == 1:  # a substitution written with extra bases
        return annotate(tx, pos, ref, alt, fetch)
    first0, last0 = pos - 1, pos - 2 + len(ref)
    ins = alt if tx.strand == "+" else revcomp(alt)
    c = f"c.{_c_span(tx, first0, last0)}delins{ins}"
    idx = [_cds_index(tx, g) for g in range(first0, last0 + 1)]
    if any(i is None for i in idx):
        return _named(tx, c, _splice_or_none(tx, first0, last0), region, "complex")
    seq, i = cds_sequence(tx, fetch), min(idx)
    mut = seq[:i] + ins + seq[i + len(ref):]
    frameshift = (len(ins) - len(ref)) % 3 != 0
    p = _protein_change(translate(seq), translate(mut + (fetch_tail(tx, fetch) if frameshift else "")), frameshift)
    cons = ("frameshift" if frameshift else "stop_gained" if p.endswith("Ter") else
            "synonymous" if p == "p.=" else "missense" if len(ins) == len(ref) == 1 else "complex")
    return _named(tx, c, p, region, cons)


def _annotate_indel(tx, pos, ref, alt, fetch, region) -> dict:
    if ref[0] != alt[0] or (len(ref) > 1 and len(alt) > 1):
        return _annotate_complex(tx, pos, ref, alt, fetch, region)
    dele = len(ref) - 1
    ins_g = alt[1:]
    if dele:  # deleted bases are 0-based pos .. pos+dele-1
        idx = [_cds_index(tx, pos), _cds_index(tx, pos + dele - 1)]
    else:     # inserted between 0-based pos-1 (anchor) and pos
        idx = [_cds_index(tx, pos - 1), _cds_index(tx, pos)]
    if any(i is None for i in idx):  # UTR, intron or splice region: named on c. offsets, no 3' shift
        if dele:
            c = f"c.{_c_span(tx, pos, pos + dele - 1)}del"
            return _named(tx, c, _splice_or_none(tx, pos, pos + dele - 1), region, "indel_outside_cds")
        ins = ins_g if tx.strand == "+" else revcomp(ins_g)
        c = f"c.{_c_span(tx, pos - 1, pos)}ins{ins}"
        return _named(tx, c, _splice_or_none(tx, pos - 1, pos), region, "indel_outside_cds")
    seq = cds_sequence(tx, fetch)
    if dele:
        i = min(idx)
        i, _ = _shift_3prime(seq, i, "", dele, _exon_end(tx, i))
        mut = seq[:i] + seq[i + dele:]
        c = f"c.{i + 1}del" if dele == 1 else f"c.{i + 1}_{i + dele}del"
    else:
        ins = ins_g if tx.strand == "+" else revcomp(ins_g)
        i = max(idx)  # CDS index the insertion precedes (the later of the two flanking bases)
        i, ins = _shift_3prime(seq, i, ins, 0, _exon_end(tx, i - 1) if i else None)
        mut = seq[:i] + ins + seq[i:]
        k = len(ins)
        if i >= k and seq[i - k:i] == ins:
            c = f"c.{i}dup" if k == 1 else f"c.{i - k + 1}_{i}dup"
        else:
            c = f"c.{i}_{i + 1}ins{ins}"
    frameshift = (len(mut) - len(seq)) % 3 != 0
    # whole translations are compared (no cut at the first stop: simulated CDSs have random stops)
    p = _protein_change(translate(seq), translate(mut + (fetch_tail(tx, fetch) if frameshift else "")), frameshift)
    cons = "frameshift" if frameshift else ("stop_gained" if p.endswith("Ter") else "inframe_indel")
    return _named(tx, c, p, region, cons)


def fetch_tail(tx: Transcript, fetch: Fetch, n: int = 600) -> str:
    """3' UTR sequence after the CDS, so a frameshift can read through to its new stop."""
    if tx.strand == "+":
        end = tx.cds[-1][1]
        return fetch(tx.chrom, end, end + n).upper()
    start = tx.cds[0][0]
    return revcomp(fetch(tx.chrom, max(0, start - n), start).upper())


def _codon_change(seq: str, i: int, alt: str, tail=lambda: "") -> tuple[str, str]:
    """p. name and consequence of the substitution of CDS base i by ``alt``; ``tail()`` gives the 3' UTR
    (a stop loss reads through it to the next stop)."""
    n = i // 3
    codon = seq[3 * n:3 * n + 3]
    mut = codon[:i % 3] + alt + codon[i % 3 + 1:]
    ra, ma = CODON_TABLE.get(codon, "X"), CODON_TABLE.get(mut, "X")
    if ra == ma:
        return f"p.{AA3[ra]}{n + 1}=", "synonymous"
    if n == 0 and ra == "M":
        return "p.Met1?", "start_lost"
    if ma == "*":
        return f"p.{AA3[ra]}{n + 1}Ter", "stop_gained"
    if ra == "*":
        # HGVS extension p.Ter110GlnextTer17: the new stop counted from the first codon after the old one
        stop = translate(tail()).find("*")
        return f"p.Ter{n + 1}{AA3[ma]}extTer{stop + 1 if stop >= 0 else '?'}", "stop_lost"
    return f"p.{AA3[ra]}{n + 1}{AA3[ma]}", "missense"


def _named(tx, c, p, region, consequence) -> dict:
    return {"hgvs_c": f"{tx.refseq}:{c}", "hgvs_p": p, "region": region, "consequence": consequence}
