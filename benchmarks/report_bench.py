"""Time `dnadx report` on a results folder and report output sizes.

python benchmarks/report_bench.py RESULTS_DIR [--samplesheet SHEET] [--repeats 3]
(e.g. the folder of `python -m dnadx.cli.demo --outdir D --fragments 300000`: D/results, D/samplesheet.csv)
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--samplesheet")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    cmd = [sys.executable, "-m", "dnadx", "report", a.results] + (["--samplesheet", a.samplesheet] if a.samplesheet else [])
    times = []
    for _ in range(a.repeats):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    html = Path(a.results) / "report.html"
    n = sum(1 for _ in open(Path(a.results) / "summary.tsv")) - 1
    print(f"samples {n}; wall s (min of {a.repeats}) {min(times):.2f}; peak RSS {rss:.0f} MB; "
          f"report.html {html.stat().st_size / 1e6:.2f} MB ({html.stat().st_size / 1e3 / n:.0f} kB/sample)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
