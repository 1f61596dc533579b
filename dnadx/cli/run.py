"""`dnadx run`: the embedded runner (every stage, parallel over samples, resumable)."""

from __future__ import annotations

import csv
import datetime as _dt
import sys
import time
from io import StringIO
from pathlib import Path

import pandas as pd

from dnadx import __version__
from dnadx.core import io, params, reference
from dnadx.cli import execute_step
from dnadx.cli.common import add_genome, positive_int
from dnadx.core.errors import DataError
from dnadx.pipeline import (MIN_PON_NORMALS, Interrupted, RunConfig, StepTimes, detect_builds, interruptible, outdir_lock,
                            plan, run_steps, sample_prefix, stderr_log)
from dnadx.core.samplesheet import check_builds, read_samplesheet
from dnadx.report.summary import summary_row, summary_table


def register(sub) -> None:
    p = sub.add_parser(
        "run", help="run the whole pipeline on a samplesheet (embedded runner)",
        description="Validates the samplesheet (all problems at once), counts every BAM, builds a panel of "
                    "normals from type=normal rows (3 or more) unless --pon is given, then runs copy number and "
                    "every further stage available, in parallel over samples (--cores). Resumable: a step whose "
                    "outputs exist and whose inputs and command are unchanged is skipped. Per-sample outputs go "
                    "to OUTDIR/<sample>/, batch outputs (summary.tsv, cohort.*, report.html) to OUTDIR/. Every BAM's "
                    "build (from its header contig lengths) must be --genome, checked before any work. SIGTERM "
                    "or ^C stop the workers, leave no partial file and exit 143 / 130; the same command resumes.")
    p.add_argument("--input", required=True, help="samplesheet CSV or TSV (UTF-8, with or without BOM): "
                   "sample,bam[,index][,patient][,timepoint][,type]")
    p.add_argument("--outdir", required=True, help="output folder (created; a second concurrent run is refused)")
    add_genome(p)
    p.add_argument("--fasta", help="reference FASTA (CRAM input; enables variant calling)")
    p.add_argument("--pon", help="panel of normals (PON.pon.tsv.gz) to use instead of building one")
    p.add_argument("--cores", type=positive_int, default=2, help="samples processed in parallel (default 2)")
    p.add_argument("--bin-size", type=positive_int, default=params.ANALYSIS_BIN_SIZE,
                   help=f"analysis bin size (default {params.ANALYSIS_BIN_SIZE})")
    p.set_defaults(func=run)


def _available() -> frozenset:
    from dnadx.cli import build_parser
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return frozenset(sub.choices)


def run(args) -> int:
    samples = read_samplesheet(args.input)
    # a BAM of another build would only fail after its counting; refuse the batch before any work
    check_builds(args.input, samples, detect_builds(samples, Path(args.fasta) if args.fasta else None), args.genome)
    reference.require_intact()  # a batch must not run on a silently changed bundle
    outdir = Path(args.outdir)
    cfg = RunConfig(outdir=outdir, genome=args.genome, fasta=Path(args.fasta) if args.fasta else None,
                    pon=Path(args.pon).resolve() if args.pon else None, cores=args.cores, bin_size=args.bin_size,
                    available=_available())
    try:
        # SIGTERM/^C: the runner stops its workers, deletes their temporary files, releases the lock
        with interruptible(), outdir_lock(outdir):
            failed = _run_batch(args, cfg, samples)
    except Interrupted as exc:
        stderr_log(f"dnadx run: stopped by {exc}: workers stopped, no partial output left, output folder "
                   "unlocked; re-run the same command to resume (finished steps are kept)")
        return 128 + exc.signum
    stderr_log(f"dnadx run: summary -> {outdir / 'summary.tsv'}" +
               (f", report -> {outdir / 'report.html'}" if (outdir / "report.html").exists() else ""))
    if failed:
        names = {s.sample for s in samples}
        bad = [k for k in failed if k in names]
        batch = [k for k in failed if k not in names]
        msg = (f"{len(bad)} sample(s) failed: " + "; ".join(f"{k}: {failed[k]}" for k in bad)) if bad else ""
        if batch:
            msg += ("; " if msg else "") + "batch step(s) failed: " + "; ".join(f"{k}: {failed[k]}" for k in batch)
        raise DataError(msg)
    return 0


def _report_sheet(outdir: Path, samples) -> Path:
    """The validated rows as a plain UTF-8 CSV for `dnadx report` (the input may be TSV, have a BOM, CRLF...)."""
    buf = StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["sample", "patient", "timepoint", "type"])
    writer.writerows([s.sample, s.patient, s.timepoint, s.type] for s in samples)
    path = outdir / ".dnadx" / "samplesheet.csv"
    io.write_text(buf.getvalue(), path)
    return path


def _run_batch(args, cfg: RunConfig, samples) -> dict[str, str]:
    """Every step, then summary.tsv, provenance.json and the report; returns the failures."""
    outdir = cfg.outdir
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    stderr_log(f"dnadx run: {len(samples)} samples -> {outdir} ({args.cores} cores)")
    normals = sum(s.type == "normal" for s in samples)
    if cfg.pon is None and 0 < normals < MIN_PON_NORMALS:  # the Nextflow path warns the same way
        stderr_log(f"dnadx run: warning: {normals} normal sample(s): a panel of normals needs at least "
                   f"{MIN_PON_NORMALS}; copy number runs without one")
    times = StepTimes()
    failed = run_steps(cfg, plan(samples, cfg), execute=execute_step, log=stderr_log, times=times)
    t0 = time.perf_counter()
    rows = []
    for s in samples:
        prefix = sample_prefix(cfg, s.sample)
        cnv = io.read_json(f"{prefix}.cnv.json") if Path(f"{prefix}.cnv.json").exists() else None
        score = io.read_json(f"{prefix}.score.json") if Path(f"{prefix}.score.json").exists() else None
        resistance = None
        if Path(f"{prefix}.resistance.tsv").exists():
            from dnadx.variants.resistance import summarise
            resistance = summarise(io.read_tsv(f"{prefix}.resistance.tsv", kind="resistance"))
        rows.append(summary_row(vars(s), cnv, score, None, resistance, failed.get(s.sample)))
    io.write_tsv(summary_table(rows), outdir / "summary.tsv")
    times.add("summary", time.perf_counter() - t0, 0.0)
    _write_provenance(args, samples, failed, started, times)
    if "report" in cfg.available:
        # the report stage rewrites summary.tsv with its QC-combined rows and writes report.html;
        # a report failure is logged, never allowed to hide the per-sample results
        from dnadx.cli import main as dnadx_main
        t0 = time.perf_counter()
        if dnadx_main(["report", str(outdir), "--samplesheet", str(_report_sheet(outdir, samples))]) != 0:
            stderr_log("dnadx run: warning: report stage failed; summary.tsv is the runner's own")
        times.add("report", time.perf_counter() - t0, 0.0)
        _write_provenance(args, samples, failed, started, times)
    stderr_log("dnadx run: time per stage (wall-clock summed over steps): " + ", ".join(
        f"{k} {t['wall_s']:.1f} s / {t['steps']} step(s)" for k, t in times.as_dict().items()))
    return failed


def _write_provenance(args, samples, failed: dict, started: str, times: StepTimes) -> None:
    """provenance.json: versions, command, samples, failures, the bundle's manifest and where the time went
    (`step_seconds`: per stage, steps run and their wall-clock and worker CPU seconds; summary and report
    run in the runner, wall-clock only). The only output with timestamps and timings."""
    io.write_json({"dnadx_version": __version__, "started": started,
                   "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                   "command": ["dnadx", *sys.argv[1:]], "genome": args.genome, "bin_size": args.bin_size,
                   "samples": [s.sample for s in samples], "failed": failed,
                   "step_seconds": times.as_dict(),
                   "reference_manifest": reference.manifest().to_dict(orient="records")},
                  Path(args.outdir) / "provenance.json")
