"""`dnadx report`: summary.tsv, report.html and MultiQC custom content for a results folder."""

from __future__ import annotations

from pathlib import Path

from dnadx import __version__
from dnadx.core import io
from dnadx.report import multiqc, io as report_io
from dnadx.cli.common import info
from dnadx.core.errors import InputError
from dnadx.report.build import build_report
from dnadx.report.html import render


def register(sub) -> None:
    p = sub.add_parser(
        "report", help="summary.tsv, self-contained report.html and MultiQC files for a results folder",
        description="Reads every stage output present in RESULTS_DIR (layout of `dnadx run`: RESULTS_DIR/<sample>/"
                    "<sample>.*, or flat RESULTS_DIR/<sample>.*) and writes RESULTS_DIR/summary.tsv, "
                    "RESULTS_DIR/report.html (figures embedded, no network) and MultiQC custom-content files. "
                    "Stages that did not run are shown as 'not run'. Samples, patients and timepoints come from "
                    "--samplesheet, else RESULTS_DIR/samplesheet.csv, else provenance.json / the cnv.json files "
                    "found (then every sample is its own patient).")
    p.add_argument("results", help="results folder (dnadx run --outdir, or the Nextflow report staging folder)")
    p.add_argument("--samplesheet", help="CSV or TSV with sample[,patient][,timepoint][,type] (other columns ignored; "
                                          "read like `dnadx run --input`)")
    p.add_argument("--multiqc-dir", help="folder for the *_mqc.json files (default RESULTS_DIR/multiqc)")
    p.add_argument("--title", default="dnadx report", help="report title (default 'dnadx report')")
    p.set_defaults(func=run)


def run(args) -> int:
    results = Path(args.results)
    if not results.is_dir():
        raise InputError(f"{results}: results folder not found; give the --outdir of `dnadx run`")
    problems: list[str] = []
    batch = report_io.load_batch(results, problems)
    sheet = Path(args.samplesheet) if args.samplesheet else results / "samplesheet.csv"
    if args.samplesheet or sheet.exists():
        metas = report_io.read_sheet(sheet)
    else:
        metas = report_io.discover_samples(results, batch.get("provenance"))
    if not metas:
        raise InputError(f"{results}: no samples found (no <sample>.cnv.json and no samplesheet); "
                         "run `dnadx run` first or pass --samplesheet")
    samples = [report_io.load_sample(results, m, problems) for m in metas]
    rep = build_report(samples, batch, models=report_io.load_models_table(problems),
                       manifest=report_io.load_manifest(problems), version=__version__, problems=problems)
    io.write_tsv(rep.summary, results / "summary.tsv")
    io.write_text(render(rep, title=args.title), results / "report.html")
    mqc = Path(args.multiqc_dir) if args.multiqc_dir else results / "multiqc"
    calls = {x["meta"]["sample"]: x["erbb2"]["call"] for x in rep.samples}
    for name, content in multiqc.files(rep.summary, rep.transitions, calls).items():
        io.write_json(content, mqc / name)
    for p in problems:
        info(f"dnadx report: warning: {p}")
    flagged = rep.transitions[rep.transitions["flagged"].astype(bool)] if len(rep.transitions) else rep.transitions
    for r in flagged.to_dict("records"):
        info(f"dnadx report: patient {r['patient']}: {r['event']} ({r['from_sample']} -> {r['to_sample']})")
    info(f"dnadx report: {len(samples)} samples -> {results / 'summary.tsv'}, {results / 'report.html'}, {mqc}/")
    return 0
