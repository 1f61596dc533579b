"""`dnadx cnv`: copy number, tumour fraction and ploidy of one sample."""

from __future__ import annotations

from pathlib import Path

from dnadx.core import io, params, reference
from dnadx.cli.common import add_genome, add_prefix, info, positive_int
from dnadx.cnv.call import annotate, loci_of_interest, overlaps, run_cnv, seg_table
from dnadx.cnv.pon import panel_from_matrix, pon_normals_path
from dnadx.core.errors import InputError
from dnadx.cnv.plot import plot_cnv


def register(sub) -> None:
    p = sub.add_parser(
        "cnv", help="copy number, tumour fraction (with interval) and ploidy from counts",
        description="GC and mappability correction, optional panel-of-normals normalisation, PELT "
                    "segmentation with a focal test at ERBB2/TP53/ARID1B/TOP1/CCND1/MYC, and a "
                    "tumour-fraction/ploidy model over clonal copy-number states with a profile-likelihood "
                    "95%% interval. Writes PREFIX.bins.tsv.gz, PREFIX.seg, PREFIX.cnv.json, PREFIX.cnv.png.")
    p.add_argument("counts", help="PREFIX.counts.tsv.gz from `dnadx count`, or an HMMcopy readCounter WIG")
    add_prefix(p)
    p.add_argument("--pon", help="panel of normals from `dnadx pon` (PON.pon.tsv.gz); optional")
    p.add_argument("--leave-out", metavar="NORMAL",
                   help="rebuild the panel without this normal (its name in the panel; needs --pon and the "
                        "PON.pon-normals.tsv.gz written beside it): how a normal of the panel is itself called")
    add_genome(p)
    p.add_argument("--bin-size", type=positive_int, default=params.ANALYSIS_BIN_SIZE,
                   help=f"analysis bin size in bp (default {params.ANALYSIS_BIN_SIZE}; 100000 and 1000000 supported)")
    p.add_argument("--gc-wig", help="ichorCNA-style GC wig (with --map-wig) instead of the shipped annotation")
    p.add_argument("--map-wig", help="ichorCNA-style mappability wig (with --gc-wig)")
    p.add_argument("--sample", help="sample id written in the outputs (default: prefix file name)")
    p.add_argument("--state-prior", choices=("breast", "uninformed"), default="breast",
                   help="copy-state prior of the tumour-fraction model: 'breast' (default) weighs the arms "
                        "breast cancers usually alter (6 TCGA patterns + an uninformed share; evidence >= 2 to "
                        "call a tumour), 'uninformed' treats every arm alike (evidence >= 3), e.g. for other cancers")
    p.set_defaults(func=run)


def read_annotation(args):
    if bool(args.gc_wig) != bool(args.map_wig):
        raise InputError("--gc-wig and --map-wig go together; give both or neither")
    if args.gc_wig:
        gc = io.read_wig(args.gc_wig, value_name="gc")
        mp = io.read_wig(args.map_wig, value_name="mappability")
        for t in (gc, mp):
            t["chrom"] = reference.normalise_chroms(t["chrom"])
        gc.loc[gc["gc"] < 0, "gc"] = float("nan")
        ann = gc.merge(mp[["chrom", "start", "mappability"]], on=["chrom", "start"], how="inner")
        ann["mappability"] = ann["mappability"].clip(0, 1)
        return ann
    return reference.fine_bins(args.genome)


def run(args) -> int:
    if args.bin_size not in params.SUPPORTED_ANALYSIS_BIN_SIZES:
        info(f"dnadx cnv: note: --bin-size {args.bin_size} is outside the validated sizes "
             f"{params.SUPPORTED_ANALYSIS_BIN_SIZES}")
    counts = io.read_counts(args.counts)
    counts["chrom"] = reference.normalise_chroms(counts["chrom"])
    bins = annotate(counts, read_annotation(args), args.bin_size)
    pon = io.read_pon(args.pon) if args.pon else None
    sample = args.sample or Path(args.prefix).name
    genes = reference.genes(args.genome)
    if args.leave_out:
        if not args.pon:
            raise InputError("--leave-out needs --pon (the panel to rebuild without that normal)")
        matrix = io.read_pon_normals(pon_normals_path(args.pon))
        matrix = bins[["chrom", "start", "end"]].merge(matrix.drop(columns="end"), on=["chrom", "start"], how="left")
        # the normals' arm-scale estimate holds for the panel without one of them too
        pon, _ = panel_from_matrix(matrix, bins, protect=overlaps(bins, loci_of_interest(genes)), leave_out=args.leave_out,
                                   arms=reference.arms(args.genome),
                                   arm_sd=float(pon["arm_sd"].max()) if "arm_sd" in pon else 0.0)
    res = run_cnv(bins, pon=pon, loci=loci_of_interest(genes), arms=reference.arms(args.genome),
                  arm_patterns=reference.arm_patterns() if args.state_prior == "breast" else None, sample=sample)
    erbb2 = genes[genes["symbol"] == "ERBB2"].iloc[0]
    name = Path(args.prefix).name
    summary = dict(res.summary, genome=args.genome, pon=Path(args.pon).name if args.pon else None,
                   pon_left_out=args.leave_out,
                   files={"bins": f"{name}.bins.tsv.gz", "seg": f"{name}.seg", "png": f"{name}.cnv.png"})
    io.write_tsv(res.bins, f"{args.prefix}.bins.tsv.gz")
    io.write_tsv(seg_table(res.segments, sample), f"{args.prefix}.seg")
    io.write_bytes(plot_cnv(res.bins, summary, erbb2=("chr17", int(erbb2["start"]), int(erbb2["end"]))),
                   f"{args.prefix}.cnv.png")
    io.write_json(summary, f"{args.prefix}.cnv.json")
    lo, hi = summary["tumor_fraction_ci"]
    info(f"dnadx cnv: {sample}: tumour fraction {summary['tumor_fraction']:.3f} [{lo:.3f}, {hi:.3f}], "
         f"ploidy {summary['ploidy']:.2f}, sex {summary['sex']}, QC {summary['qc_status']}")
    return 0
