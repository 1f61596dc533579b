"""`dnadx score`: DNADX segment scores, ERBB2 call and HER2-related predictions from cnv outputs."""

from __future__ import annotations

from pathlib import Path

from dnadx.core import io, reference
from dnadx.scores import io as models_io
from dnadx.cli.common import add_prefix, info
from dnadx.core.errors import InputError
from dnadx.scores.score import score_sample

# Columns `dnadx score` needs from `<id>.bins.tsv.gz` (cnv contract, common brief).
BINS_NEEDED = ("chrom", "start", "end", "usable", "segment", "segment_log2")


def register(sub) -> None:
    p = sub.add_parser(
        "score", help="DNADX segment scores, ERBB2 call and HER2 predictions (cnv outputs -> dnadx.tsv)",
        description="Read PREFIX_OF_CNV.cnv.json and the bins table it names; write PREFIX.genes.tsv.gz "
                    "(gene-level log2, flagged when no usable bin covers the gene), PREFIX.dnadx.tsv (536 "
                    "DNADX segment scores, raw and tumour-fraction-adjusted, with genes used) and "
                    "PREFIX.score.json (ERBB2 log2, copy number + interval, call, amplicon score, "
                    "HER2 DNA probability and the other models, flagged exploratory where so).")
    p.add_argument("cnv_json", help="<id>.cnv.json written by `dnadx cnv`")
    add_prefix(p)
    p.add_argument("--models", help="folder of model files (default: the bundle's reference/models)")
    p.set_defaults(func=run)


def run(args) -> int:
    cnv_path = Path(args.cnv_json)
    cnv = io.read_json(cnv_path)
    rel = (cnv.get("files") or {}).get("bins")
    if not rel:
        raise InputError(f"{cnv_path}: no 'files.bins' entry; give the cnv.json written by `dnadx cnv`")
    bins = io.read_tsv(cnv_path.parent / rel, BINS_NEEDED, kind="cnv bins", dtype={"chrom": str})
    genome = cnv.get("genome") or "GRCh38"
    bins["chrom"] = reference.normalise_chroms(bins["chrom"])
    model_dir = Path(args.models) if args.models else models_io.shipped_models_dir()
    models = models_io.read_models(model_dir)
    ranges = models_io.read_segment_ranges(model_dir)
    genes = reference.genes(reference.check_genome(genome))
    gtab, scores, summary = score_sample(bins, cnv, genes=genes, segment_genes=reference.segment_genes(),
                                         ranges=ranges, models=models)
    prefix = args.prefix
    name = Path(prefix).name
    summary["files"] = {"genes": f"{name}.genes.tsv.gz", "dnadx": f"{name}.dnadx.tsv"}
    io.write_tsv(gtab, f"{prefix}.genes.tsv.gz")
    io.write_tsv(scores, f"{prefix}.dnadx.tsv")
    io.write_json(summary, f"{prefix}.score.json")
    p = summary["her2_dna_probability"]
    info(f"dnadx score: ERBB2 {summary['erbb2_call']} (log2 {summary['erbb2_log2']:.2f}), HER2 DNA probability "
         f"{'NA' if p is None else format(p, '.2f')} -> {prefix}.dnadx.tsv, {prefix}.score.json")
    return 0
