"""`dnadx count`: fragments per fine bin from a BAM/CRAM."""

from __future__ import annotations

from dnadx.core import files, params
from dnadx.count.bam import CountOptions, count_bins, count_loop, count_reader, default_threads, pysam_build
from dnadx.cli.common import add_prefix, info, nonneg_int, positive_int
from dnadx.count.text import check_bin_size


def register(sub) -> None:
    p = sub.add_parser(
        "count", help="count fragments per fine bin (BAM/CRAM -> counts.tsv.gz + count-qc.json)",
        description="Count each fragment once (read 1 of a pair, or the single-end read, at its leftmost "
                    "base) in fixed bins over chr1-22, X, Y. Drops unmapped, secondary, supplementary, "
                    "QC-fail and duplicate records and MAPQ below --min-mapq; optional fragment-length "
                    "window. Writes PREFIX.counts.tsv.gz and PREFIX.count-qc.json (reads seen, kept, "
                    "dropped per filter, duplicate rate, fragment-length histogram, 90-150 bp fraction).")
    p.add_argument("bam", help="coordinate-sorted, indexed BAM or CRAM (`1` or `chr1` contig names)")
    add_prefix(p)
    p.add_argument("--bin-size", type=positive_int, default=params.FINE_BIN_SIZE,
                   help=f"fine bin size in bp, a multiple of 10000 (default {params.FINE_BIN_SIZE})")
    p.add_argument("--min-mapq", type=nonneg_int, default=params.MIN_MAPQ,
                   help=f"minimum mapping quality of the counted read (default {params.MIN_MAPQ})")
    p.add_argument("--min-fragment", type=positive_int, help="drop paired fragments shorter than this (bp)")
    p.add_argument("--max-fragment", type=positive_int, help="drop paired fragments longer than this (bp)")
    p.add_argument("--fasta", help="reference FASTA (required for CRAM)")
    p.add_argument("--threads", type=positive_int, default=default_threads(),
                   help="worker processes, chromosomes split across them (default: up to 2)")
    p.add_argument("--wig", action="store_true", help="also write PREFIX.counts.wig (HMMcopy readCounter format)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="also report on stderr the pysam build, the counting loop and the BAM reader (bgzf-libdeflate: "
                        "BAM with a .bai, read without htslib; pysam otherwise); count-qc.json records the reader used")
    p.set_defaults(func=run)


def run(args) -> int:
    check_bin_size(args.bin_size)
    opts = CountOptions(bin_size=args.bin_size, min_mapq=args.min_mapq,
                        min_fragment=args.min_fragment, max_fragment=args.max_fragment)
    if args.verbose:
        info(f"dnadx count: {pysam_build()}, {count_loop()} loop, {args.threads} worker process(es), "
             f"reader {count_reader(args.bam, fasta=args.fasta)}")
    fine, qc = count_bins(args.bam, fasta=args.fasta, options=opts, threads=args.threads, encode=True)
    files.write_bytes(fine.gzip_bytes(), f"{args.prefix}.counts.tsv.gz")
    files.write_json(qc, f"{args.prefix}.count-qc.json")
    if args.wig:
        from dnadx.core import io  # pandas: only for the WIG
        io.write_wig(fine.to_frame(), f"{args.prefix}.counts.wig")
    info(f"dnadx count: {qc['reads_kept']:,} fragments kept of {qc['fragments_seen']:,} "
         f"({qc['genome']}, contigs named like {qc['chrom_naming']!r}) -> {args.prefix}.counts.tsv.gz")
    return 0
