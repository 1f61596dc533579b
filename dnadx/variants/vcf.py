"""Files of the variant stage: reference targets/knowledge base, FASTA access, VCF 4.3 output.

The VCF is written as text, BGZF-compressed and tabix-indexed with pysam (htslib), atomically:
both `<prefix>.variants.vcf.gz` and its `.tbi` appear only when complete.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from dnadx import __version__
from dnadx.core import io, reference
from dnadx.core.errors import InputError, ReferenceError_

TARGET_COLUMNS = ("gene", "refseq", "chrom", "strand", "exon", "exon_start", "exon_end", "cds_start", "cds_end")
KB_COLUMNS = ("kb_id", "gene", "alteration", "kind", "source", "verification", "background_knowledge")
# Smallest p-value written: BCF/htslib read VCF Float as 32-bit (smallest normal ~1.2e-38).
P_FLOOR = 1e-37
ERROR_MODEL_SCHEMA = ("chrom", "pos", "depth", "samples", "A", "C", "G", "T", "indel")


def read_targets(genome: str) -> pd.DataFrame:
    """`reference/<build>/targets.tsv` (BED exons/CDS of the MANE transcripts)."""
    path = reference.bundle_dir() / reference.check_genome(genome) / "targets.tsv"
    if not path.exists():
        raise ReferenceError_(f"{path}: missing; rebuild with reference/build/build_targets.py")
    return io.read_tsv(path, TARGET_COLUMNS, kind="targets", dtype={"chrom": str})


def read_kb() -> pd.DataFrame:
    """`reference/resistance_kb.tsv` (text columns kept as text, empty as '')."""
    path = reference.bundle_dir() / "resistance_kb.tsv"
    if not path.exists():
        raise ReferenceError_(f"{path}: missing; rebuild with reference/build/build_targets.py")
    return io.read_tsv(path, KB_COLUMNS, kind="knowledge base", dtype=str).fillna("")


def read_polymorphisms(genome: str) -> pd.DataFrame:
    """`reference/polymorphisms.tsv` rows of ``genome``: chrom, pos, ref, alt, rsid, hgvs_p (known common
    germline polymorphisms; built by reference/build/build_polymorphisms.py)."""
    path = reference.bundle_dir() / "polymorphisms.tsv"
    if not path.exists():
        raise ReferenceError_(f"{path}: missing; rebuild with reference/build/build_polymorphisms.py")
    g = reference.check_genome(genome)
    df = io.read_tsv(path, ("rsid", "hgvs_p", f"{g}_chrom", f"{g}_pos", f"{g}_ref", f"{g}_alt"), kind="polymorphisms",
                     dtype=str)
    return pd.DataFrame({"chrom": df[f"{g}_chrom"], "pos": df[f"{g}_pos"].astype(int), "ref": df[f"{g}_ref"],
                         "alt": df[f"{g}_alt"], "rsid": df["rsid"], "hgvs_p": df["hgvs_p"]})


def read_error_model(path) -> pd.DataFrame:
    df = io.read_tsv(path, ERROR_MODEL_SCHEMA, kind="error model", dtype={"chrom": str})
    bad = df[list(ERROR_MODEL_SCHEMA[1:])].apply(pd.to_numeric, errors="coerce")
    if bad.isna().any().any() or (bad < 0).any().any():
        row = int(np.flatnonzero((bad.isna() | (bad < 0)).any(axis=1).to_numpy())[0]) + 2
        raise InputError(f"{path}: row {row}: counts must be non-negative numbers; rebuild it with "
                         "`dnadx variants --build-error-model NORMAL.bam ... --prefix P`")
    return df


def open_fasta(path) -> pysam.FastaFile:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: FASTA not found")
    try:
        return pysam.FastaFile(str(path))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read FASTA ({exc}); it must be plain or bgzipped with a .fai index") from exc


def fasta_fetcher(fa: pysam.FastaFile):
    """(chrom, start0, end0) -> sequence, accepting `chr17` for a FASTA that names it `17`."""
    names = set(fa.references)

    def fetch(chrom: str, start: int, end: int) -> str:
        name = chrom if chrom in names else chrom.removeprefix("chr")
        if name not in names:
            raise InputError(f"FASTA has no contig {chrom!r} (nor {name!r}); is it the reference of this BAM?")
        return fa.fetch(name, max(0, start), end)

    return fetch


INFO_LINES = (
    '##INFO=<ID=GENE,Number=1,Type=String,Description="Target gene (MANE Select transcript)">',
    '##INFO=<ID=HGVSC,Number=1,Type=String,Description="HGVS c. name on the MANE transcript">',
    '##INFO=<ID=HGVSP,Number=1,Type=String,Description="HGVS p. name">',
    '##INFO=<ID=CSQ,Number=1,Type=String,Description="Consequence (missense, synonymous, stop_gained, frameshift, ...)">',
    '##INFO=<ID=FAMILY,Number=1,Type=String,Description="Multiple-testing family: hotspot or target">',
    '##INFO=<ID=KB,Number=.,Type=String,Description="resistance_kb.tsv hotspot rows of this exact allele">',
    '##INFO=<ID=ORIGIN,Number=1,Type=String,Description="somatic, germline_likely, ch_possible or unknown (VAF vs tumour fraction and local copy number, batch normals, matched blood, known polymorphisms)">',
)
FORMAT_LINES = (
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Fragment depth (overlapping mates counted once)">',
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Fragments supporting REF and ALT">',
    '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Variant allele fraction (alt fragments / depth)">',
    '##FORMAT=<ID=PV,Number=A,Type=Float,Description="Beta-binomial p-value against the background error model (floored at 1e-37: VCF floats are 32-bit)">',
    '##FORMAT=<ID=PADJ,Number=A,Type=Float,Description="Bonferroni-adjusted p-value within its family (floored at 1e-37)">',
    '##FORMAT=<ID=SB,Number=4,Type=Integer,Description="Alt reads forward, reverse; alt reads near a read end; alt fragments from high-mismatch reads">',
)
FILTER_LINES = (
    '##FILTER=<ID=not_significant,Description="Adjusted p-value >= alpha">',
    '##FILTER=<ID=low_alt,Description="Fewer alt fragments than the minimum">',
    '##FILTER=<ID=strand_bias,Description="All alt reads on one strand">',
    '##FILTER=<ID=read_end,Description="Most alt bases near read ends">',
    '##FILTER=<ID=mismatch,Description="Most alt fragments from reads with many other mismatches">',
)


def vcf_text(records: pd.DataFrame, *, sample: str, contigs: dict[str, int], source_bam: str,
             options: dict) -> str:
    """VCF 4.3 text of the tested alleles (records: chrom, pos, vcf_ref, vcf_alt, depth, ...)."""
    head = ["##fileformat=VCFv4.3", f"##source=dnadx-variants {__version__}", f"##input={source_bam}",
            "##dnadx_options=" + ",".join(f"{k}:{v}" for k, v in sorted(options.items()))]
    head += [f"##contig=<ID={c},length={n}>" for c, n in contigs.items()]
    head += list(FILTER_LINES) + list(INFO_LINES) + list(FORMAT_LINES)
    head.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", sample]))
    order = {c: i for i, c in enumerate(contigs)}
    recs = records.assign(_o=records["chrom"].map(order)).sort_values(["_o", "pos", "vcf_alt"], kind="stable")
    body = []
    for r in recs.itertuples(index=False):
        info = [f"GENE={r.gene}", f"FAMILY={r.family}"]
        for key, val in (("HGVSC", r.hgvs_c), ("HGVSP", r.hgvs_p), ("CSQ", r.consequence), ("KB", r.kb_ids),
                         ("ORIGIN", getattr(r, "origin", ""))):
            if isinstance(val, str) and val:
                info.append(f"{key}={val}")
        qual = min(999.0, -10 * np.log10(max(float(r.p_value), 1e-100)))
        fmt = (f"{int(r.depth)}:{int(r.depth) - int(r.alt_fragments)},{int(r.alt_fragments)}:{r.vaf:.4g}:"
               f"{max(r.p_value, P_FLOOR):.3g}:{max(r.p_adjusted, P_FLOOR):.3g}:{int(r.alt_fwd)},{int(r.alt_rev)},{int(r.alt_read_end)},{int(r.alt_high_mismatch)}")
        body.append("\t".join([r.chrom, str(int(r.pos)), ".", r.vcf_ref, r.vcf_alt, f"{qual:.1f}",
                               r.filters, ";".join(info), "DP:AD:AF:PV:PADJ:SB", fmt]))
    return "\n".join(head + body) + "\n"


def write_vcf(text: str, path) -> None:
    """BGZF-compress ``text`` to ``path`` and write ``path``.tbi, both atomically."""
    path = Path(path)
    with io.atomic_path(path) as tmp:
        plain = Path(str(tmp) + ".vcf")
        plain.write_text(text)
        try:
            pysam.tabix_compress(str(plain), str(tmp), force=True)
            pysam.tabix_index(str(tmp), preset="vcf", force=True, keep_original=True)
        finally:
            plain.unlink(missing_ok=True)
        os.replace(str(tmp) + ".tbi", str(path) + ".tbi")
