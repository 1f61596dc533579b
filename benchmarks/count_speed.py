#!/usr/bin/env python3
"""Speed and memory of `dnadx count` against `samtools view -c -F 0xF04 -q 20` on the same BAM, in the
same run, interleaved round by round (so machine load hits both alike).

Usage: python benchmarks/count_speed.py [--fragments 1000000 5000000] [--rounds 3] [--data DIR]
Needs `samtools` on PATH (Debian package). BAMs are simulated once into --data (default
benchmarks/.data, git-ignored). Prints a Markdown table for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def timed(cmd: list[str]) -> tuple[float, int]:
    out = subprocess.run(["/usr/bin/time", "-f", "%e %M", *cmd], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {out.stderr[-500:]}")
    wall, rss = out.stderr.strip().splitlines()[-1].split()
    return float(wall), int(rss) // 1024


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--fragments", type=int, nargs="+", default=[1_000_000, 5_000_000])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--data", default=str(HERE / ".data"))
    args = ap.parse_args(argv)
    if not shutil.which("samtools") or not Path("/usr/bin/time").exists():
        raise SystemExit("needs samtools and /usr/bin/time: apt-get install -y samtools time")
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    rows = []
    for n in args.fragments:
        bam = data / f"bench_{n}.bam"
        if not bam.exists():
            subprocess.run([py, "-m", "dnadx", "simulate", "--prefix", str(bam.with_suffix("")), "--fragments", str(n),
                            "--profile", "erbb2", "--tumor-fraction", "0.2", "--seed", "1"], check=True)
        reads = int(subprocess.run(["samtools", "view", "-c", str(bam)], capture_output=True, text=True).stdout)
        methods = {
            "samtools view -c -F 0xF04 -q 20": ["samtools", "view", "-c", "-F", "0xF04", "-q", "20", str(bam)],
            "dnadx count --threads 1": [py, "-m", "dnadx", "count", str(bam), "--prefix", str(data / "o1"), "--threads", "1"],
            "dnadx count --threads 2": [py, "-m", "dnadx", "count", str(bam), "--prefix", str(data / "o2"), "--threads", "2"],
        }
        res = {m: [] for m in methods}
        for _ in range(args.rounds):
            for m, cmd in methods.items():
                res[m].append(timed(cmd))
        ref = statistics.median(w for w, _ in res["samtools view -c -F 0xF04 -q 20"])
        for m, vals in res.items():
            wall = statistics.median(w for w, _ in vals)
            rows.append((f"{reads / 1e6:.1f} M", m, wall, wall / ref, max(r for _, r in vals)))
    print("| BAM records | method | wall s (median) | ratio to samtools | peak RSS MB |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | `{r[1]}` | {r[2]:.2f} | {r[3]:.2f} | {r[4]} |")


if __name__ == "__main__":
    main()
