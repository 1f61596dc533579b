"""`dnadx variants`: point mutations in ERBB2/TP53/ARID1B/TOP1 + resistance annotation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dnadx.variants import background, evidence, hgvs, origin, resistance, vcf as vcf_io
from dnadx.core import io, reference
from dnadx.variants import calling as vc
from dnadx.count.bam import open_alignment
from dnadx.cli.common import add_prefix, info, nonneg_int
from dnadx.core.errors import InputError
from dnadx.variants.pileup import PileupOptions, coding_regions, pileup


def register(sub) -> None:
    p = sub.add_parser(
        "variants", help="SNVs/indels in ERBB2, TP53, ARID1B, TOP1 and resistance annotation",
        description="Fragment-level pileup over the MANE coding regions (+ splice sites), a beta-binomial test "
                    "against a background error model with Bonferroni correction, and for every gene and "
                    "hotspot: called, not_detected (with the 95% detection limit) or not_assessable. Writes "
                    "PREFIX.resistance.tsv (always; with --cnv also copy-number events) and, with --fasta, "
                    "PREFIX.variants.vcf.gz(.tbi). With --build-error-model NORMAL.bam ... writes "
                    "PREFIX.error_model.tsv.gz instead.")
    p.add_argument("bam", nargs="?", help="plasma BAM/CRAM (coordinate-sorted, indexed)")
    add_prefix(p)
    p.add_argument("--fasta", help="reference FASTA (+.fai) the BAM was aligned to; needed for calls and HGVS")
    p.add_argument("--error-model", help="PREFIX.error_model.tsv.gz from --build-error-model (default: built-in rates)")
    p.add_argument("--build-error-model", nargs="+", metavar="NORMAL_BAM", help="build a background error model "
                   "from healthy-donor BAMs and exit")
    p.add_argument("--cnv", help="PREFIX.cnv.json of this sample (`dnadx cnv`) for copy-number events")
    p.add_argument("--previous-cnv", nargs="+", metavar="EARLIER.cnv.json",
                   help="cnv.json of the earlier timepoints of the same patient, earliest first (each with its "
                        "bins table beside it): HER2 switching / ERBB2 loss against the latest assessable one")
    p.add_argument("--matched-blood", help="BAM of matched blood cells: TP53 calls present there are flagged as "
                   "clonal haematopoiesis")
    p.add_argument("--sample", help="sample id (default: prefix file name)")
    p.add_argument("--min-mapq", type=nonneg_int, default=PileupOptions.min_mapq, help="minimum MAPQ (default 20)")
    p.add_argument("--min-baseq", type=nonneg_int, default=PileupOptions.min_baseq, help="minimum base quality (default 20)")
    p.set_defaults(func=run)


def _pile(path, fasta, opts, positions: pd.DataFrame | None = None):
    """Open a BAM, detect its build, pile up the target coding regions (or only ``positions``)."""
    bam = open_alignment(path, fasta=fasta)
    try:
        genome = reference.genome_from_lengths(dict(zip(bam.references, bam.lengths)))
        names = {reference.normalise_chrom(n): n for n in bam.references}
        lengths = dict(zip(bam.references, bam.lengths))
        targets = vcf_io.read_targets(genome)
        regions = coding_regions(targets) if positions is None else pd.DataFrame(
            {"chrom": positions["chrom"], "start": positions["pos"] - 1, "end": positions["pos"], "gene": positions["gene"]})
        regions = regions[regions["chrom"].isin(names)]
        fa = vcf_io.open_fasta(fasta) if fasta else None
        fetch = vcf_io.fasta_fetcher(fa) if fa else None
        in_fa = regions["chrom"].map(lambda c: fa is not None and (c in fa.references or c.removeprefix("chr") in fa.references))
        # contigs the FASTA lacks (e.g. a one-chromosome simulation) get depth only
        depth, alleles = pileup(bam, regions[in_fa], fetch_ref=fetch, options=opts, contig=names.__getitem__)
        if (~in_fa).any():
            d2, _ = pileup(bam, regions[~in_fa], fetch_ref=None, options=opts, contig=names.__getitem__)
            depth = pd.concat([depth, d2], ignore_index=True)
    finally:
        bam.close()
    return genome, targets, fetch, depth, alleles, {"names": names, "lengths": lengths}


def _duplicates(path, fasta, regions: pd.DataFrame) -> int:
    """Reads flagged duplicate (0x400) over the target regions: excluded from the pileup, counted for the QC."""
    bam = open_alignment(path, fasta=fasta)
    try:
        names = {reference.normalise_chrom(n): n for n in bam.references}
        return int(sum(bam.count(names[r.chrom], r.start, r.end, read_callback=lambda a: a.is_duplicate)
                       for r in regions.itertuples(index=False) if r.chrom in names))
    finally:
        bam.close()


def _annotate_records(rec: pd.DataFrame, targets, fetch, hot: pd.DataFrame) -> pd.DataFrame:
    if not len(rec):
        return rec.assign(vcf_pos=[], vcf_ref=[], vcf_alt=[], hgvs_c=[], hgvs_p=[], consequence=[], kb_ids=[])
    tx = hgvs.transcripts(targets)
    rows = []
    for r in rec.itertuples(index=False):
        ref, alt = vc.vcf_alleles(r.ref, r.allele, fetch, r.chrom, int(r.pos))
        pos, ref, alt = vc.left_normalise(fetch, r.chrom, int(r.pos), ref, alt)
        ann = hgvs.annotate(tx[r.gene], pos, ref, alt, fetch)
        ids = evidence.matching_kb_ids(hot, r.chrom, int(r.pos), r.allele)
        rows.append((pos, ref, alt, ann["hgvs_c"], ann["hgvs_p"], ann["consequence"], ",".join(ids)))
    extra = pd.DataFrame(rows, columns=["vcf_pos", "vcf_ref", "vcf_alt", "hgvs_c", "hgvs_p", "consequence", "kb_ids"])
    return pd.concat([rec.reset_index(drop=True), extra], axis=1)


def _read_cnv(path):
    if not path:
        return None, None
    cnv = io.read_json(path)
    rel = (cnv.get("files") or {}).get("bins")
    bins = io.read_tsv(Path(path).parent / rel, ("chrom", "start", "end", "usable", "copy_number"), kind="bins",
                       dtype={"chrom": str}) if rel else None
    return cnv, bins


def _build_model(args, opts) -> int:
    if not args.fasta:
        raise InputError("--build-error-model needs --fasta (errors are judged against the reference)")
    piles = [_pile(b, args.fasta, opts)[3:5] for b in args.build_error_model]
    model = vc.build_error_model(piles)
    io.write_tsv(model, f"{args.prefix}.error_model.tsv.gz")
    info(f"dnadx variants: error model from {len(piles)} normal(s), {len(model):,} positions -> "
         f"{args.prefix}.error_model.tsv.gz")
    return 0


def run(args) -> int:
    opts = PileupOptions(min_mapq=args.min_mapq, min_baseq=args.min_baseq)
    if args.build_error_model:
        return _build_model(args, opts)
    if not args.bam:
        raise InputError("give a BAM to call, or --build-error-model NORMAL_BAM ...")
    sample = args.sample or Path(args.prefix).name
    model = vc.fit_background(vcf_io.read_error_model(args.error_model) if args.error_model else None)
    cnv, bins = _read_cnv(args.cnv)
    previous = [_read_cnv(p) for p in args.previous_cnv] if args.previous_cnv else None
    genome, targets, fetch, depth, alleles, header = _pile(args.bam, args.fasta, opts)
    dups = _duplicates(args.bam, args.fasta, coding_regions(targets))
    kb = vcf_io.read_kb()
    hot = evidence.hotspots(kb, genome)
    copt = vc.CallOptions()
    # TF-aware assessability: the VAF of a clonal heterozygous mutation at the low end of the tumour-fraction
    # interval (0 when no tumour is detected), at diploid copy number
    tf_low = ((cnv.get("tumor_fraction_ci") or [None])[0] if cnv.get("tumor_detected", True) else 0.0) if cnv else None
    clonal = vc.clonal_het_vaf(tf_low)
    limits = vc.position_limits(depth, model, len(vc.ALLELE_CLASSES) * len(depth), copt, clonal)
    tested = vc.score_alleles(depth, alleles, hot, model, copt)
    records = tested[tested["p_adjusted"] < copt.alpha] if len(tested) else tested
    records = _annotate_records(records, targets, fetch, hot) if fetch else records
    calls = records[records["called"]] if len(records) else records
    genes = list(dict.fromkeys(targets["gene"]))
    at_hot = depth.merge(hot[["chrom", "pos"]].drop_duplicates(), on=["chrom", "pos"])
    hot_limits = vc.position_limits(at_hot, model, max(len(evidence.hotspot_alleles(hot)), 1), copt, clonal)
    assessment = vc.assess(limits, calls, hot, genes, hotspot_limits=hot_limits,
                           tumour=None if clonal is None else (tf_low, clonal))
    blood = None
    if args.matched_blood and len(calls):
        _, _, _, bdepth, balleles, _ = _pile(args.matched_blood, args.fasta, opts,
                                          positions=calls[["chrom", "pos", "gene"]].drop_duplicates())
        bd = bdepth.set_index(["chrom", "pos"])["depth"]
        blood = {(c, int(p), a): (int(n), int(bd.get((c, p), 0)))
                 for c, p, a, n in zip(balleles["chrom"], balleles["pos"], balleles["allele"], balleles["alt_fragments"])}
        blood.update({(c, int(p), a): blood.get((c, int(p), a), (0, int(bd.get((c, p), 0))))
                      for c, p, a in zip(calls["chrom"], calls["pos"], calls["allele"])})
    if fetch:  # origin of every tested allele (germline / CH / somatic), with the blood seen above
        records = origin.annotate(records, cnv=cnv, bins=bins, model=model,
                                  polymorphisms=vcf_io.read_polymorphisms(genome), blood=blood)
        calls = records[records["called"]] if len(records) else records
    loci = resistance.gene_loci(targets)
    events = resistance.copy_number_events(cnv, bins, loci, reference.arms(genome), previous=previous)
    table = resistance.annotate(sample, assessment, calls, events, kb)
    io.write_tsv(table, f"{args.prefix}.resistance.tsv")
    if fetch:
        # contigs as the BAM names them (`17` or `chr17`), in its header order and lengths
        vcf_io.write_vcf(vcf_io.vcf_text(records.assign(chrom=records["chrom"].map(header["names"])),
                                         sample=sample, contigs=header["lengths"], fasta=Path(args.fasta).name,
                                         source_bam=Path(args.bam).name,
                                         options={"genome": genome, "min_mapq": opts.min_mapq, "min_baseq": opts.min_baseq,
                                                  "error_model": Path(args.error_model).name if args.error_model else "default"}),
                         f"{args.prefix}.variants.vcf.gz")
    else:
        info("dnadx variants: no --fasta: depth-based assessability only, no calls, no VCF")
    io.write_json({"sample": sample, "genome": genome, "positions": int(len(depth)),
                   "median_depth": float(np.median(depth["depth"])) if len(depth) else 0.0,
                   "assessable_share": float(limits["assessable"].mean()) if len(limits) else 0.0,
                   "tested_alleles": int(len(tested)), "calls": int(len(calls)),
                   "background": background.describe(model),
                   # every tested allele per FILTER (declared in the VCF header), and how reads were counted
                   "filters": vc.filter_counts(tested), "filter_thresholds": vc.FILTERS,
                   "reads": {"duplicate_reads_excluded": dups, "mate_overlaps_counted_once":
                             int(depth["reads"].sum() - depth["depth"].sum() - 2 * depth["discordant"].sum()),
                             "discordant_mates_dropped": int(depth["discordant"].sum()),
                             "min_mapq": opts.min_mapq, "min_baseq": opts.min_baseq}},
                  f"{args.prefix}.variants-qc.json")
    info(f"dnadx variants: {len(calls)} call(s); median fragment depth {float(np.median(depth['depth'])) if len(depth) else 0:g} "
         f"-> {args.prefix}.resistance.tsv")
    return 0
