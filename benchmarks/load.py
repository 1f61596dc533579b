"""Load: N simulated 0.1x plasma samples through `dnadx run --cores 2`; wall time and peak memory.

Usage: python benchmarks/load.py [--sizes 4 8 16] [--fragments 1500000] [--workdir /tmp/dnadx-load] [--sim-jobs 2]

0.1x of GRCh38 with 2 x 100 bp reads is ~1.55 M fragments. The largest batch's samples are simulated
once (seeds 1..N, profiles cycling erbb2/basal/luminal/flat, tumour fraction 0.05-0.3) and the smaller
batches use the first N of them. Peak memory is the largest sum of resident memory (VmRSS) over the
runner and all its worker processes, polled every 0.25 s (short spikes between polls can be missed),
and the largest single process of the run (ru_maxrss from wait4). The 1-minute load average is
sampled with the memory and its mean over each run is reported (the machine is shared).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import subprocess
import sys
import time
from pathlib import Path

PROFILES = ("erbb2", "basal", "luminal", "flat")


def _tree_rss_kb(root: int) -> int:
    """Sum of VmRSS (kB) of ``root`` and all its descendants, from /proc."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
                parent[int(d)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, grew = {root}, True
    while grew:
        new = {p for p, pp in parent.items() if pp in tree and p not in tree}
        tree |= new
        grew = bool(new)
    total = 0
    for p in tree:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def _simulate_one(workdir: Path, i: int, fragments: int) -> None:
    prefix = workdir / f"L{i:03d}"
    if Path(f"{prefix}.bam.bai").exists():
        return
    profile = PROFILES[(i - 1) % len(PROFILES)]
    tf = 0.0 if profile == "flat" else round(0.05 + 0.25 * ((i * 7) % 10) / 9, 3)
    subprocess.run([sys.executable, "-m", "dnadx", "simulate", "--prefix", str(prefix), "--profile", profile,
                    "--tumor-fraction", str(tf), "--fragments", str(fragments), "--seed", str(i),
                    "--sample", prefix.name], check=True, capture_output=True)


def simulate(workdir: Path, n: int, fragments: int, jobs: int = 1) -> None:
    """Samples 1..n (each its own seed: the same BAMs whatever ``jobs``)."""
    with cf.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for fut in [pool.submit(_simulate_one, workdir, i, fragments) for i in range(1, n + 1)]:
            fut.result()


def run_batch(workdir: Path, n: int, cores: int) -> dict:
    sheet = workdir / f"samplesheet-{n}.csv"
    sheet.write_text("sample,bam\n" + "".join(f"L{i:03d},L{i:03d}.bam\n" for i in range(1, n + 1)))
    out = workdir / f"run-{n}"
    subprocess.run(["rm", "-rf", str(out)], check=True)
    t0 = time.perf_counter()
    log = workdir / f"run-{n}.log"  # a file, not a pipe: 100 samples log more than a pipe buffer holds
    with open(log, "w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "dnadx", "run", "--input", str(sheet), "--outdir", str(out),
                                 "--cores", str(cores)], stdout=subprocess.DEVNULL, stderr=fh)
    peak = 0
    loads = []
    while True:  # wait4: the rusage of this run alone (not of the simulations before it)
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, _tree_rss_kb(proc.pid))
        loads.append(os.getloadavg()[0])
        time.sleep(0.25)
    wall = time.perf_counter() - t0
    err = log.read_text()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"run of {n} samples failed ({code}): {err[-2000:]}")
    return {"samples": n, "wall_s": round(wall, 1), "s_per_sample": round(wall / n, 2),
            "peak_tree_rss_mb": round(peak / 1024), "max_single_rss_mb": round(usage.ru_maxrss / 1024),
            "load_1min_mean": round(sum(loads) / max(1, len(loads)), 1), "load_1min_max": round(max(loads, default=0), 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "step_seconds": json.loads((out / "provenance.json").read_text()).get("step_seconds", {})}


def print_stages(rows: list[dict]) -> None:
    """Where each run's time went (provenance.json step_seconds): per stage, steps, summed wall-clock and
    worker CPU seconds, and wall-clock per step."""
    print("\n| samples | stage | steps | wall s (sum over steps) | CPU s (sum) | wall s per step |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        for stage, t in r["step_seconds"].items():
            print(f"| {r['samples']} | {stage} | {t['steps']} | {t['wall_s']:.1f} | {t['cpu_s']:.1f} | "
                  f"{t['wall_s'] / max(1, t['steps']):.2f} |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[4, 8, 16])
    ap.add_argument("--fragments", type=int, default=1_500_000)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--workdir", default="/tmp/dnadx-load")
    ap.add_argument("--sim-jobs", type=int, default=2, help="simulations run in parallel (before any timed run)")
    args = ap.parse_args(argv)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    simulate(workdir, max(args.sizes), args.fragments, args.sim_jobs)
    print(f"simulated {max(args.sizes)} samples in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    rows = []
    for n in sorted(args.sizes):
        rows.append(run_batch(workdir, n, args.cores))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    load = os.getloadavg()
    print("| samples | wall s | s per sample | CPU s, runner + workers | peak RSS, runner + workers (MB) | "
          "largest single process (MB) | load 1-min mean (max) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['samples']} | {r['wall_s']} | {r['s_per_sample']} | {r['cpu_s']} | {r['peak_tree_rss_mb']} | "
              f"{r['max_single_rss_mb']} | {r['load_1min_mean']} ({r['load_1min_max']}) |")
    print_stages(rows)
    print(f"\nfragments per sample {args.fragments}, --cores {args.cores}, load average at the end "
          f"{load[0]:.1f} (shared machine)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
