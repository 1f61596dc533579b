#!/usr/bin/env python3
"""Benchmark `dnadx variants` on simulated truth; prints the markdown tables of benchmarks/variants.md.

Usage: python benchmarks/variants_bench.py [WORKDIR] [--seeds 5]

Per seed: a deep targeted chr17 BAM (MANE coding exons at --target-depth 1100, ~500 unique
fragments; 0.1% per-base read errors) with 40 SNVs at 1/2/5/10/20% VAF + 2 indels + 2
hotspots, a matched null BAM (same settings, no variants) and a normal for the error model.
Reports sensitivity by VAF, false-positive calls in tumour and null BAMs, wall time of the
caller, and the 95% detection limit by depth.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dnadx.core import io  # noqa: E402
from dnadx.variants import calling as vc  # noqa: E402
from dnadx.cli import main as dnadx  # noqa: E402
from tests.variants.test_variants_sim import DEEP, _truth_variants  # noqa: E402


def _calls(path: Path) -> set:
    with pysam.VariantFile(str(path)) as vf:
        return {(r.pos, r.alts[0]) for r in vf if list(r.filter.keys()) == ["PASS"]}


def run_seed(d: Path, seed: int) -> tuple[pd.DataFrame, dict]:
    variants = [a for v in _truth_variants() for a in ("--variant", v)]
    assert dnadx(list(map(str, ["simulate", "--prefix", d / "t", *DEEP, "--seed", 100 + seed, *variants]))) == 0
    assert dnadx(list(map(str, ["simulate", "--prefix", d / "n", *DEEP, "--seed", 200 + seed]))) == 0
    assert dnadx(list(map(str, ["simulate", "--prefix", d / "pon", *DEEP, "--seed", 300 + seed, "--tumor-fraction", 0]))) == 0
    assert dnadx(list(map(str, ["variants", "--build-error-model", d / "pon.bam", "--fasta", d / "pon.fa", "--prefix", d / "pon"]))) == 0
    t0 = time.perf_counter()
    assert dnadx(list(map(str, ["variants", d / "t.bam", "--fasta", d / "t.fa", "--prefix", d / "t",
                                "--error-model", d / "pon.error_model.tsv.gz"]))) == 0
    wall = time.perf_counter() - t0
    assert dnadx(list(map(str, ["variants", d / "n.bam", "--fasta", d / "n.fa", "--prefix", d / "n"]))) == 0
    truth = io.read_json(d / "t.truth.json")["variants"]
    called = _calls(d / "t.variants.vcf.gz")
    keys = {(v["pos"], v["alt"]) for v in truth}
    hits = pd.DataFrame([{"seed": seed, "vaf": v["vaf"], "kind": "snv" if len(v["ref"]) == len(v["alt"]) else "indel",
                          "depth": v["depth_fragments"], "called": (v["pos"], v["alt"]) in called} for v in truth])
    qc = io.read_json(d / "t.variants-qc.json")
    return hits, {"seed": seed, "tumour_false_positives": len(called - keys),
                  "null_calls": len(_calls(d / "n.variants.vcf.gz")), "caller_seconds": round(wall, 1),
                  "positions": qc["positions"], "tested_alleles": qc["tested_alleles"]}


def lod_table() -> pd.DataFrame:
    depths = np.array([1, 3, 10, 30, 50, 100, 200, 500, 1000, 2000])
    d = pd.DataFrame({"chrom": "chrT", "pos": range(len(depths)), "gene": "x", "depth": depths})
    lim = vc.position_limits(d, None, 5 * 14679, vc.CallOptions())
    return lim[["depth", "k_crit", "lod95", "assessable"]].replace({np.iinfo(np.int64).max: np.nan})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("workdir", nargs="?")
    ap.add_argument("--seeds", type=int, default=5)
    a = ap.parse_args()
    work = Path(a.workdir or tempfile.mkdtemp(prefix="dnadx-variants-bench-"))
    hits, runs = [], []
    for seed in range(1, a.seeds + 1):
        d = work / f"seed{seed}"
        d.mkdir(parents=True, exist_ok=True)
        h, r = run_seed(d, seed)
        hits.append(h)
        runs.append(r)
    hits = pd.concat(hits)
    sens = hits.groupby(["kind", "vaf"]).agg(n=("called", "size"), called=("called", "sum"),
                                            sensitivity=("called", "mean"), median_depth=("depth", "median"))
    print("## Sensitivity by VAF (all seeds)\n")
    print(sens.reset_index().to_markdown(index=False, floatfmt=".3f"))
    snv = hits[hits["kind"] == "snv"]
    print(f"\nSNV sensitivity at VAF >= 2%: {snv[snv['vaf'] >= 0.02]['called'].mean():.3f} "
          f"({int(snv[snv['vaf'] >= 0.02]['called'].sum())}/{int((snv['vaf'] >= 0.02).sum())})\n")
    print("## Specificity and speed per seed\n")
    print(pd.DataFrame(runs).to_markdown(index=False))
    print("\n## 95% detection limit by fragment depth (default error model, m = 5 x 14679 tests)\n")
    print(lod_table().to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
