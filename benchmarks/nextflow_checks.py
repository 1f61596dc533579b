"""Time the Nextflow-layer checks (tests/nextflow): lint, model, render, and the tasks run by L2.

    .venv/bin/python benchmarks/nextflow_checks.py [--repeats 3]

Prints a Markdown table (median wall seconds) for benchmarks/nextflow.md. Uses the same helpers as
the tests, so the numbers are what `make test` pays.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.nextflow import harness, nftools  # noqa: E402
from tests.nextflow.harness import Stage  # noqa: E402


def timed(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    srcs = [nftools.REPO / p for p in nftools.NF_SOURCES]
    nftools.classes()  # download + compile outside the timings
    rows = []
    t, r = timed(lambda: nftools.lint(*srcs), args.repeats)
    rows.append(("NfLint, all .nf/.config (one JVM)", t, r.stdout.strip().splitlines()[-1]))
    t, r = timed(lambda: nftools.lint(nftools.REPO / "conf", nftools.REPO / "nextflow.config", config_spec=True),
                 args.repeats)
    rows.append(("NfLint + config-spec, configs only", t, ""))
    t, model = timed(lambda: nftools.model(*srcs), args.repeats)
    procs = {p["name"]: dict(p, file=s["file"]) for s in model["scripts"] for p in s["processes"]}
    rows.append(("NfModel model, all files (one JVM)", t, f"{len(procs)} processes"))
    pipe = harness.Pipeline(model, procs)
    rend = nftools.Renderer()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            meta = {"id": "S1", "patient": "S1", "timepoint": "", "type": "plasma", "profile": "erbb2",
                    "tumor_fraction": "0.3", "seed": "1", "sex": "female"}
            t, _ = timed(lambda: rend.render([pipe.job("DNADX_SIMULATE", {"meta": meta, "fragments": 1}, ["script", "outputs"])]),
                         args.repeats)
            rows.append(("render script+outputs, one process (warm JVM)", t, ""))
            n = 0

            def sim():
                nonlocal n
                n += 1
                return harness.run_task(pipe, rend, "DNADX_SIMULATE", {"meta": meta, "fragments": 100_000}, tmp / f"sim{n}")
            t, res = timed(sim, args.repeats)
            rows.append(("DNADX_SIMULATE task, 100k fragments, whole genome", t, f"rc {res.returncode}"))
            bam, bai = res.outputs["bam"]

            def count():
                nonlocal n
                n += 1
                return harness.run_task(pipe, rend, "DNADX_COUNT", {"meta": meta, "bam": Stage(bam), "index": Stage(bai),
                                                                    "fasta": []}, tmp / f"count{n}", cpus=2)
            t, res = timed(count, args.repeats)
            rows.append(("DNADX_COUNT task, same BAM, --threads 2", t, f"rc {res.returncode}"))
    finally:
        rend.close()
    print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}, repeats: {args.repeats} (median)\n")
    print("| step | seconds | note |\n| --- | ---: | --- |")
    for name, t, note in rows:
        print(f"| {name} | {t:.2f} | {note} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
