"""`dnadx pon`: panel of normals from healthy-donor plasma counts (or an ichorCNA panel)."""

from __future__ import annotations

from pathlib import Path

from dnadx.core import io, params, reference
from dnadx.cli.common import add_genome, add_prefix, info, positive_int
from dnadx.cnv import pon_check
from dnadx.cnv.call import annotate, loci_of_interest, overlaps
from dnadx.cnv.pon import MIN_NORMALS, from_ichor, pon_normals_path


def register(sub) -> None:
    p = sub.add_parser(
        "pon", help="build a panel of normals (per-bin centre, spread, usable flag) from healthy plasma",
        description="Corrects each normal like `dnadx cnv`, then stores per analysis bin the median and MAD "
                    "of the log2 ratios across normals (male chrX/Y shifted to one copy's level) and flags "
                    "unusable bins with a reason (low mappability, extreme GC, no sequence, pon_offset, "
                    "pon_variance, pon_missing). At least 3 normals are required, 15 or more recommended. "
                    "Writes PREFIX.pon.tsv.gz, PREFIX.pon.json (metadata), PREFIX.pon-normals.tsv.gz (each "
                    "normal's corrected log2, for leave-one-out panels) and PREFIX.pon-loo.tsv: the self-check, "
                    "each normal called against a panel of the others: a normal whose tumour-fraction interval "
                    "excludes 0 is flagged, and left out of the panel when the copy-state model called it (worst "
                    "first, re-checking the rest, while more than 3 remain; its column stays in "
                    "PREFIX.pon-normals.tsv.gz as excluded:NAME); the same calls estimate the batch's arm-scale "
                    "systematic sd (column arm_sd). With --ichor, converts an ichorCNA HD_ULP_PoN median table instead.")
    p.add_argument("counts", nargs="+", help="counts of healthy-donor plasma (PREFIX.counts.tsv.gz or WIG)")
    add_prefix(p)
    add_genome(p)
    p.add_argument("--bin-size", type=positive_int, default=params.ANALYSIS_BIN_SIZE,
                   help=f"analysis bin size in bp (default {params.ANALYSIS_BIN_SIZE}); must match `dnadx cnv`")
    p.add_argument("--ichor", action="store_true",
                   help="the single input is an ichorCNA HD_ULP_PoN_*_median.tsv(.gz) table to convert")
    p.set_defaults(func=run)


def run(args) -> int:
    fine = reference.fine_bins(args.genome)
    if args.ichor:
        from dnadx.count.bins import aggregate
        bins = aggregate(fine, args.bin_size, sum_cols=())
        table = from_ichor(io.read_tsv(args.counts[0], ("chr", "start", "end", "median"), kind="ichorCNA panel"), bins)
        meta = {"source": Path(args.counts[0]).name, "format": "ichorCNA median table",
                "missing_bins": int((table["usable"] == 0).sum())}
    else:
        normals = {}
        for path in args.counts:
            counts = io.read_counts(path)
            counts["chrom"] = reference.normalise_chroms(counts["chrom"])
            normals[Path(path).name.split(".counts")[0]] = annotate(counts, fine, args.bin_size)
        first = normals[sorted(normals)[0]]
        loci = loci_of_interest(reference.genes(args.genome))
        protect = overlaps(first, loci)
        done = []
        table, meta = pon_check.checked_panel(
            normals, protect=protect, arms=reference.arms(args.genome), loci=loci, arm_patterns=reference.arm_patterns(),
            progress=lambda n: (done.append(n), info(f"dnadx pon: leave-one-out call {len(done)}: {n}")))
        matrix, loo = meta.pop("matrix"), meta.pop("loo")
        if meta["warning"]:
            info(f"dnadx pon: warning: {meta['warning']}")
        for n in meta["leave_one_out"]["flagged_normals"]:
            left = n in meta["leave_one_out"]["excluded_normals"]
            info(f"dnadx pon: warning: normal {n} shows tumour signal against the other normals "
                 f"(see {args.prefix}.pon-loo.tsv); " + ("left out of the panel" if left else
                                                         "kept: the arm-pattern test alone flagged it"
                                                         if n in meta["leave_one_out"]["pattern_only"] else
                                                         f"kept: a panel needs at least {MIN_NORMALS} normals")
                 + "; check it is healthy plasma")
        io.write_tsv(matrix.round(6), pon_normals_path(f"{args.prefix}.pon.tsv.gz"))
        io.write_tsv(loo, f"{args.prefix}.pon-loo.tsv")
    meta.update(genome=args.genome, bin_size=args.bin_size)
    io.write_tsv(table, f"{args.prefix}.pon.tsv.gz")
    io.write_json(meta, f"{args.prefix}.pon.json")
    info(f"dnadx pon: {int(table['usable'].sum())} usable of {len(table)} bins -> {args.prefix}.pon.tsv.gz")
    return 0
