#!/usr/bin/env python3
"""Speed and memory of `dnadx count` against `samtools view -c -F 0xF04 -q 20` (single-threaded) on
the same sequence-bearing BAM, interleaved round by round so machine load hits every method alike.

Usage:
  python benchmarks/count_speed.py [--python wheel=.venv/bin/python --python libdeflate=.venv-src/bin/python]
                                   [--pairs 1000000 5000000] [--rounds 5] [--data DIR] [--seed 1] [--python-loop]
                                   [--pysam-reader]

Each `--python LABEL=EXE` is one install of dnadx (e.g. the PyPI pysam wheel and `make venv
PYSAM=source`); each runs `dnadx count --threads 1` and `--threads 2` (with `--python-loop`, also
with DNADX_COUNT_LOOP=python: the pure-pysam per-record loop instead of dnadx/count/_fastcount.pyx; with
`--pysam-reader`, also with DNADX_COUNT_READER=pysam: htslib reads the BAM instead of dnadx/count/bgzf.py). BAMs come from
`benchmarks/make_bench_bam.py` (generated once into --data, default benchmarks/.data, git-ignored).
Every round times each method once with GNU time (`%e %U %S %M`: wall, CPU, peak RSS of the
largest process, workers included). Reported: median wall, median CPU, max RSS, and the median of
the per-round ratio to samtools; the 1-minute load average before each round. Outputs are checked:
every install and thread count writes the same counts table and count-qc.json (apart from its `reader`
field, which names the reader that ran), and `reads_kept`
equals `samtools view -c -f 64 -F 3844 -q 20`. Prints a Markdown table for benchmarks/README.md.
Needs `samtools` and `/usr/bin/time` (Debian packages samtools, time).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMTOOLS = "samtools view -c -F 0xF04 -q 20"


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float, int]:
    """(wall s, CPU s = user + sys, peak RSS MB) of one run."""
    out = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", *cmd], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {out.stderr[-800:]}")
    wall, user, sys_, rss = out.stderr.strip().splitlines()[-1].split()
    return float(wall), float(user) + float(sys_), int(rss) // 1024


def outputs(prefix: Path) -> tuple[bytes, dict]:
    qc = json.loads(Path(f"{prefix}.count-qc.json").read_text())
    qc.pop("reader", None)  # names the path that ran; everything else must agree
    return gzip.decompress(Path(f"{prefix}.counts.tsv.gz").read_bytes()), qc


def pythons(specs: list[str]) -> dict[str, tuple[str, str]]:
    """LABEL=EXE specs -> {"LABEL: pysam build": (EXE, "compiled" or "python" loop as installed)}."""
    found = {}
    for spec in specs:
        label, _, exe = spec.partition("=")
        if not exe:
            raise SystemExit(f"--python {spec!r}: expected LABEL=PATH_TO_PYTHON")
        build = subprocess.run([exe, "-c", "from dnadx.count.bam import count_loop, pysam_build; "
                                "print(f'{pysam_build()}\\t{count_loop()}')"],
                               capture_output=True, text=True)
        if build.returncode != 0:
            raise SystemExit(f"{exe}: cannot import dnadx: {build.stderr[-300:]}")
        pysam_text, loop = build.stdout.strip().split("\t")
        found[f"{label}: {pysam_text}"] = (exe, loop)
    return found


def bench_one(bam: Path, installs: dict[str, tuple[str, str]], rounds: int, out: Path,
              python_loop: bool = False, pysam_reader: bool = False) -> tuple[list[tuple], list[float], int]:
    methods = {SAMTOOLS: ["samtools", "view", "-c", "-F", "0xF04", "-q", "20", str(bam)]}
    envs = {}
    runs = []  # output prefixes of every dnadx run, for the equality check
    for i, (label, (exe, built)) in enumerate(installs.items()):
        variants = [("", "")] + [("python", "")] * python_loop + [("", "pysam")] * pysam_reader
        for loop, reader in variants:
            for t in (1, 2):
                how = "pysam reader, " * bool(reader) + ("Python loop" if loop else built + " loop")
                name = f"dnadx count --threads {t} ({label}, {how})"
                prefix = out / f"i{i}_t{t}{'_py' if loop else ''}{'_pysam' if reader else ''}"
                methods[name] = [exe, "-m", "dnadx", "count", str(bam), "--prefix", str(prefix), "--threads", str(t)]
                envs[name] = {**os.environ, "DNADX_COUNT_LOOP": loop, "DNADX_COUNT_READER": reader}
                runs.append(prefix)
    res: dict[str, list] = {m: [] for m in methods}
    loads = []
    for _ in range(rounds):
        loads.append(os.getloadavg()[0])
        for m, cmd in methods.items():
            res[m].append(timed(cmd, envs.get(m)))
    # correctness: all dnadx runs agree, and the kept reads equal samtools' read-1 count
    expected = int(subprocess.run(["samtools", "view", "-c", "-f", "64", "-F", "3844", "-q", "20", str(bam)],
                                  capture_output=True, text=True, check=True).stdout)
    first = None
    for prefix in runs:
        got = outputs(prefix)
        first = first or got
        if got != first or got[1]["reads_kept"] != expected:
            raise SystemExit(f"{bam}: run {prefix.name} disagrees (kept {got[1]['reads_kept']}, samtools {expected})")
    ref = res[SAMTOOLS]
    rows = []
    for m, vals in res.items():
        ratio = statistics.median(v[0] / r[0] for v, r in zip(vals, ref))
        rows.append((m, statistics.median(v[0] for v in vals), statistics.median(v[1] for v in vals),
                     max(v[2] for v in vals), ratio))
    return rows, loads, first[1]["reads_seen"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--python", action="append", default=[], metavar="LABEL=EXE",
                    help="an install to time (repeatable; default: this interpreter as 'this')")
    ap.add_argument("--pairs", type=int, nargs="+", default=[1_000_000, 5_000_000])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default=str(HERE / ".data"))
    ap.add_argument("--python-loop", action="store_true",
                    help="also time each install with DNADX_COUNT_LOOP=python (the pure-pysam loop)")
    ap.add_argument("--pysam-reader", action="store_true",
                    help="also time each install with DNADX_COUNT_READER=pysam (htslib reads the BAM, not bgzf.py)")
    args = ap.parse_args(argv)
    if not shutil.which("samtools") or not Path("/usr/bin/time").exists():
        raise SystemExit("needs samtools and /usr/bin/time: apt-get install -y samtools time")
    installs = pythons(args.python or [f"this={sys.executable}"])
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    lines = []
    for n in args.pairs:
        bam = data / f"real_{n}_s{args.seed}.bam"
        if not bam.exists():
            subprocess.run([sys.executable, str(HERE / "make_bench_bam.py"), str(n), str(bam), "--seed", str(args.seed)],
                           check=True)
        rows, loads, records = bench_one(bam, installs, args.rounds, data, args.python_loop, args.pysam_reader)
        lines.append(f"| **{records:,} records** ({bam.stat().st_size / 1e6:.0f} MB) | | | | | |")
        lines += [f"| `{m}` | {w:.2f} | {c:.2f} | {rss} | **{r:.2f}** | {min(loads):.1f}-{max(loads):.1f} |"
                  for m, w, c, rss, r in rows]
    print(f"{args.rounds} rounds, medians; ratio = median of per-round wall / samtools wall")
    print("| method | wall s | CPU s | peak RSS MB | ratio to samtools | load (1 min) |")
    print("|---|---|---|---|---|---|")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
