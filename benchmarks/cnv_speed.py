#!/usr/bin/env python3
"""Time of `dnadx cnv` per sample at 500 kb (issue 17's target: under 2 s), on the plasma of
`benchmarks/cnv_independent.py` (GC shapes, over-dispersion, real bin effects) at 0.1x, healthy to TF 0.5.

Usage: python benchmarks/cnv_speed.py [--fragments 1500000] [--reps 3] [--seed 90000] [--pon]

Per sample, interleaved round by round: the whole command (`dnadx cnv COUNTS --prefix P`: start-up, reading,
correction, segmentation, the tumour-fraction model, plot and outputs; wall time of the process) and the
stage alone (`run_cnv` in this process, `time.perf_counter`). Reported: medians over --reps, the worst
sample, and the 1-minute load average before each round (the machine is shared; a busy one slows both).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cnv_independent as ci  # noqa: E402  (the same simulated plasma)

from dnadx.cnv.call import loci_of_interest, run_cnv  # noqa: E402
from dnadx.core import io, reference  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fragments", type=int, default=1_500_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=90_000)
    ap.add_argument("--pon", action="store_true", help="with a panel of 5 normals (0.6x depth)")
    args = ap.parse_args(argv)
    effects = ci.real_effects()
    loci = loci_of_interest(reference.genes(ci.GENOME))
    arms, patterns = reference.arms(ci.GENOME), reference.arm_patterns()
    tmp = Path(tempfile.mkdtemp(prefix="dnadx-cnv-speed-"))
    pon = None
    if args.pon:
        _, (pon, _) = ci.panel(5, int(args.fragments * 0.6), args.seed + 500, effects=effects)
        io.write_tsv(pon, tmp / "panel.pon.tsv.gz")
    samples = []
    for j, (profile, tf) in enumerate(ci.CASES[3:]):  # one healthy sample and the nine tumours
        counts, _ = ci.sim_counts(profile, tf, args.seed + j, args.fragments, effects=effects)
        path = tmp / f"s{j}.counts.tsv.gz"
        io.write_tsv(counts, path)
        samples.append((f"{profile} {tf}", path, ci.annotate(counts, ci._CACHE["fine"], 500_000)))
    cmd_times = {s[0]: [] for s in samples}
    stage_times = {s[0]: [] for s in samples}
    loads = []
    for _ in range(args.reps):
        loads.append(os.getloadavg()[0])
        for name, path, bins in samples:
            cmd = [sys.executable, "-m", "dnadx", "cnv", str(path), "--prefix", str(tmp / "out"), "--genome", ci.GENOME]
            if pon is not None:
                cmd += ["--pon", str(tmp / "panel.pon.tsv.gz")]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            cmd_times[name].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            run_cnv(bins, pon=pon, loci=loci, arms=arms, arm_patterns=patterns)
            stage_times[name].append(time.perf_counter() - t0)
    rows = [{"sample": n, "dnadx cnv s": statistics.median(cmd_times[n]), "run_cnv s": statistics.median(stage_times[n])}
            for n in cmd_times]
    table = pd.DataFrame(rows)
    print(f"{args.fragments} read pairs, 500 kb, panel: {'yes' if pon is not None else 'no'}, "
          f"medians of {args.reps}; load (1 min) before each round: {', '.join(f'{x:.1f}' for x in loads)}")
    print(table.to_markdown(index=False, floatfmt=".2f"))
    print(f"worst: dnadx cnv {table['dnadx cnv s'].max():.2f} s, run_cnv {table['run_cnv s'].max():.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
