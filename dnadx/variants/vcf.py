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
from dnadx.variants.calling import FILTERS

TARGET_COLUMNS = ("gene", "refseq", "chrom", "strand", "exon", "exon_start", "exon_end", "cds_start", "cds_end")
KB_COLUMNS = ("kb_id", "gene", "alteration", "kind", "source", "verification", "background_knowledge")
# Smallest p-value written: BCF/htslib read VCF Float as 32-bit (smallest normal ~1.2e-38).
P_FLOOR = 1e-37
ERROR_MODEL_SCHEMA = ("chrom", "pos", "depth", "samples", "A", "C", "G", "T", "indel")


def _shipped(rel: str, script: str) -> Path:
    """A bundle file, its sha256 checked against MANIFEST.tsv at first use; missing: how to rebuild it."""
    path = reference.bundle_dir() / rel
    if not path.exists():
        raise ReferenceError_(f"{path}: missing; rebuild with reference/build/{script}")
    return reference.bundle_path(rel)


def read_targets(genome: str) -> pd.DataFrame:
    """`reference/<build>/targets.tsv` (BED exons/CDS of the MANE transcripts)."""
    return io.read_tsv(_shipped(f"{reference.check_genome(genome)}/targets.tsv", "build_targets.py"), TARGET_COLUMNS, kind="targets", dtype={"chrom": str})


def read_kb() -> pd.DataFrame:
    """`reference/resistance_kb.tsv` (text columns kept as text, empty as '')."""
    return io.read_tsv(_shipped("resistance_kb.tsv", "build_targets.py"), KB_COLUMNS, kind="knowledge base", dtype=str).fillna("")


def read_polymorphisms(genome: str) -> pd.DataFrame:
    """`reference/polymorphisms.tsv` rows of ``genome``: chrom, pos, ref, alt, rsid, hgvs_p (known common
    germline polymorphisms; built by reference/build/build_polymorphisms.py)."""
    g = reference.check_genome(genome)
    df = io.read_tsv(_shipped("polymorphisms.tsv", "build_polymorphisms.py"), ("rsid", "hgvs_p", f"{g}_chrom", f"{g}_pos", f"{g}_ref", f"{g}_alt"), kind="polymorphisms",
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
    '##INFO=<ID=HGVSC,Number=A,Type=String,Description="HGVS c. name on the MANE transcript (percent-encoded)">',
    '##INFO=<ID=HGVSP,Number=A,Type=String,Description="HGVS p. name (percent-encoded: p.Arg248%3D is p.Arg248=)">',
    '##INFO=<ID=CSQ,Number=A,Type=String,Description="Consequence (missense, synonymous, stop_gained, frameshift, ...)">',
    '##INFO=<ID=FAMILY,Number=A,Type=String,Description="Multiple-testing family: hotspot or target">',
    '##INFO=<ID=KB,Number=A,Type=String,Description="resistance_kb.tsv hotspot rows of this exact allele (| between ids, . for none)">',
    '##INFO=<ID=ORIGIN,Number=A,Type=String,Description="somatic, germline_likely, ch_possible or unknown (VAF vs tumour fraction and local copy number, batch normals, matched blood, known polymorphisms)">',
    '##INFO=<ID=AFILT,Number=A,Type=String,Description="Filters of each allele (PASS or names joined by |); FILTER is PASS when an allele passes">',
    '##INFO=<ID=FS,Number=A,Type=Float,Description="Phred-scaled p-value of Fisher\'s exact test for strand bias (as GATK)">',
    '##INFO=<ID=SOR,Number=A,Type=Float,Description="Symmetric odds ratio of the 2x2 strand table (as GATK)">',
)
FORMAT_LINES = (
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype (somatic, tumour-only: every listed allele present)">',
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Fragments supporting REF or a listed ALT (the sum of AD; overlapping mates counted once)">',
    '##FORMAT=<ID=FDP,Number=1,Type=Integer,Description="All fragments covering the position (also other alleles and deletions)">',
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Fragments supporting REF and each ALT">',
    '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Variant allele fraction (alt fragments / FDP)">',
    '##FORMAT=<ID=PV,Number=A,Type=Float,Description="Beta-binomial p-value against the background error model (floored at 1e-37: VCF floats are 32-bit)">',
    '##FORMAT=<ID=PADJ,Number=A,Type=Float,Description="Bonferroni-adjusted p-value within its family (floored at 1e-37)">',
    '##FORMAT=<ID=SB,Number=4,Type=Integer,Description="Per-sample component statistics for strand bias (as GATK): ref forward, ref reverse, alt forward, alt reverse reads">',
    '##FORMAT=<ID=RPOS,Number=A,Type=Float,Description="Median distance of the alt base from the nearer read end">',
    '##FORMAT=<ID=ABQ,Number=A,Type=Float,Description="Median base quality of the alt bases">',
    '##FORMAT=<ID=HMF,Number=A,Type=Integer,Description="Alt fragments whose read has many other mismatches">',
)
FILTER_LINES = tuple(f'##FILTER=<ID={k},Description="{v}">' for k, v in FILTERS.items())
_ENCODE = str.maketrans({"%": "%25", ";": "%3B", "=": "%3D", ",": "%2C", " ": "%20"})  # INFO values (VCF 4.3 1.2)


def _enc(value) -> str:
    return str(value).translate(_ENCODE) if isinstance(value, str) and value else "."


def vcf_text(records: pd.DataFrame, *, sample: str, contigs: dict[str, int], source_bam: str,
             options: dict, fasta: str | None = None) -> str:
    """VCF 4.3 text of the tested alleles (records: chrom, vcf_pos or pos, vcf_ref, vcf_alt, depth, ...).

    The alleles sharing a position and REF (several bases at one SNV site) make one multi-allelic
    record: AD = REF and each ALT's fragments, DP their sum, FDP every fragment at the position.
    """
    head = ["##fileformat=VCFv4.3", f"##source=dnadx-variants {__version__}", f"##input={source_bam}",
            "##dnadx_options=" + ",".join(f"{k}:{v}" for k, v in sorted(options.items()))]
    head += [f"##reference=file://{fasta}"] if fasta else []
    head += [f"##contig=<ID={c},length={n}>" for c, n in contigs.items()]
    head += list(FILTER_LINES) + list(INFO_LINES) + list(FORMAT_LINES)
    head.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", sample]))
    order = {c: i for i, c in enumerate(contigs)}
    pos_col = "vcf_pos" if "vcf_pos" in records else "pos"
    recs = records.assign(_o=records["chrom"].map(order), _p=records[pos_col].astype(int))
    recs = recs.sort_values(["_o", "_p", "vcf_ref", "vcf_alt"], kind="stable")
    body = [_record(site) for _, site in recs.groupby(["_o", "_p", "vcf_ref"], sort=False)]
    return "\n".join(head + body) + "\n"


def _record(site: pd.DataFrame) -> str:
    """One VCF line for the alleles of one site (same chrom, POS, REF)."""
    r0 = site.iloc[0]
    alts = list(site["vcf_alt"])
    passed = (site["filters"] == "PASS").any()
    flt = "PASS" if passed else ";".join(sorted({f for v in site["filters"] for f in v.split(";")}))
    info = [f"GENE={r0['gene']}"]
    per_allele = {"HGVSC": site["hgvs_c"], "HGVSP": site["hgvs_p"], "CSQ": site["consequence"],
                  "FAMILY": site["family"], "KB": site["kb_ids"].astype(str).str.replace(",", "|"),
                  "ORIGIN": site["origin"] if "origin" in site else pd.Series([""] * len(site)),
                  "AFILT": site["filters"].str.replace(";", "|")}
    for key, vals in per_allele.items():
        if any(isinstance(v, str) and v for v in vals):
            info.append(f"{key}=" + ",".join(_enc(v) for v in vals))
    info.append("FS=" + ",".join(f"{x:.3f}" for x in site["fs"]))
    info.append("SOR=" + ",".join(f"{x:.3f}" for x in site["sor"]))
    qual = min(999.0, -10 * np.log10(max(float(site["p_value"].min()), 1e-100)))
    ad = [int(r0["ref_fragments"])] + [int(x) for x in site["alt_fragments"]]
    sb = [int(r0["ref_fwd"]), int(r0["ref_rev"]), int(site["alt_fwd"].sum()), int(site["alt_rev"].sum())]
    fmt = [
        "0/" + "/".join(str(i + 1) for i in range(len(alts))), str(sum(ad)), str(int(r0["depth"])),
        ",".join(map(str, ad)), ",".join(f"{x:.4g}" for x in site["vaf"]),
        ",".join(f"{max(x, P_FLOOR):.3g}" for x in site["p_value"]),
        ",".join(f"{max(x, P_FLOOR):.3g}" for x in site["p_adjusted"]), ",".join(map(str, sb)),
        ",".join(_num(x) for x in site["alt_pos_median"]), ",".join(_num(x) for x in site["alt_bq_median"]),
        ",".join(str(int(x)) for x in site["alt_high_mismatch"]),
    ]
    return "\t".join([str(r0["chrom"]), str(int(r0["_p"])), ".", r0["vcf_ref"], ",".join(alts), f"{qual:.1f}", flt,
                      ";".join(info), "GT:DP:FDP:AD:AF:PV:PADJ:SB:RPOS:ABQ:HMF", ":".join(fmt)])


def _num(x) -> str:
    return "." if x is None or not np.isfinite(x) else f"{x:g}"


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
