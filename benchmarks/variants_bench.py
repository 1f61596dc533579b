#!/usr/bin/env python3
"""Benchmark `dnadx variants` on simulated truth; prints the markdown tables of benchmarks/variants.md.

Usage: python benchmarks/variants_bench.py [WORKDIR] [--seeds 5]
       python benchmarks/variants_bench.py [WORKDIR] --grid [--seeds 1]   (depth x PoN grid, one seed)

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
from dnadx.variants import vcf as vcf_io  # noqa: E402
from dnadx.cli import main as dnadx  # noqa: E402
from tests.variants.test_variants_sim import DEEP, _truth_variants  # noqa: E402


def _calls(path: Path) -> set:
    """(POS, ALT) of every allele of a PASS record."""
    with pysam.VariantFile(str(path)) as vf:
        return {(r.pos, a) for r in vf if list(r.filter.keys()) == ["PASS"] for a in r.alts}


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


GRID_VAFS = (0.005, 0.01, 0.02, 0.05)
DEPTHS = (0.1, 1, 300)
BASE = ("--chroms", "chr17", "--fragments", 2000, "--fasta", "--deep-targets", "--real-codons", "--error-rate", 0.001)


def _run(*args) -> None:
    assert dnadx([str(a) for a in args]) == 0, args


def _grid_truth() -> list[str]:
    """10 SNVs per VAF, spread over the ERBB2/TP53 coding exons (at least 60 bp apart)."""
    t = vcf_io.read_targets("GRCh38").dropna(subset=["cds_start"])
    t = t[t["gene"].isin(["ERBB2", "TP53"])]
    pos = np.concatenate([np.arange(int(s) + 10, int(e) - 10, 60) for s, e in zip(t["cds_start"], t["cds_end"])])
    pick = pos[np.linspace(0, len(pos) - 1, 10 * len(GRID_VAFS)).astype(int)] + 1
    return [f"chr17:{p}:{'C>T' if i % 2 else 'A>G'}:{GRID_VAFS[i % len(GRID_VAFS)]}" for i, p in enumerate(pick)]


def depth_case(d: Path, depth: float, seed: int) -> tuple[list[dict], list[dict]]:
    d.mkdir(parents=True, exist_ok=True)
    common = [*BASE, "--target-depth", depth]
    _run("simulate", "--prefix", d / "t", *common, "--seed", seed, "--tumor-fraction", 0.3,
         *[a for v in _grid_truth() for a in ("--variant", v)])
    normals = [f"n{i}" for i in range(5)]
    for i, n in enumerate(normals):
        _run("simulate", "--prefix", d / n, *common, "--seed", seed * 100 + i, "--tumor-fraction", 0)
    # every simulated BAM has its own random genome: each normal's errors are counted against its own
    # FASTA, and the three tables summed (as normals sharing one reference would give)
    for n in normals[:3]:
        _run("variants", "--build-error-model", d / f"{n}.bam", "--fasta", d / f"{n}.fa", "--prefix", d / n)
    tables = [io.read_tsv(d / f"{n}.error_model.tsv.gz", dtype={"chrom": str}) for n in normals[:3]]
    io.write_tsv(pd.concat(tables).groupby(["chrom", "pos"], as_index=False).sum(), d / "pon.error_model.tsv.gz")
    truth = io.read_json(d / "t.truth.json")["variants"]
    sens, spec = [], []
    for pon in (False, True):
        extra = ["--error-model", d / "pon.error_model.tsv.gz"] if pon else []
        tag = "pon" if pon else "nopon"
        _run("variants", d / "t.bam", "--fasta", d / "t.fa", "--prefix", d / f"t.{tag}", *extra)
        called = _calls(d / f"t.{tag}.variants.vcf.gz")
        qc = io.read_json(d / f"t.{tag}.variants-qc.json")
        for v in truth:
            sens.append({"target_depth": depth, "pon": pon, "vaf": v["vaf"], "depth": v["depth_fragments"],
                         "called": (v["pos"], v["alt"]) in called})
        fp = len(called - {(v["pos"], v["alt"]) for v in truth})
        for n in normals[3:]:
            _run("variants", d / f"{n}.bam", "--fasta", d / f"{n}.fa", "--prefix", d / f"{n}.{tag}", *extra)
            fp += len(_calls(d / f"{n}.{tag}.variants.vcf.gz"))
        spec.append({"target_depth": depth, "pon": pon, "false_positive_calls": fp,
                     "positions_x_bams": 3 * qc["positions"], "median_fragment_depth": qc["median_depth"],
                     "background": "learned" if qc["background"]["learned_from_normals"] else "default"})
    return sens, spec


def grid(work: Path, seed: int) -> None:
    """Sensitivity at VAF 0.5-5% and false positives over target depth 0.1x / 1x / 300x, without and with
    the error model of three normals (benchmarks/variants.md, "Depth x PoN grid")."""
    sens, spec = [], []
    for depth in DEPTHS:
        s, p = depth_case(work / f"depth{depth:g}", depth, seed)
        sens += s
        spec += p
    s = pd.DataFrame(sens)
    table = s.pivot_table(index=["target_depth", "pon"], columns="vaf", values="called", aggfunc="mean")
    table.columns = [f"sens VAF {c:.1%}" for c in table.columns]
    depth = s.groupby(["target_depth", "pon"])["depth"].median().rename("median depth at the SNVs")
    print("### Sensitivity (10 SNVs per VAF)\n")
    print(pd.concat([depth, table], axis=1).reset_index().to_markdown(index=False, floatfmt=".2f"))
    print("\n### Specificity (PASS calls in the tumour BAM that are not planted + in two held-out normals)\n")
    print(pd.DataFrame(spec).to_markdown(index=False))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("workdir", nargs="?")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--grid", action="store_true", help="the depth x PoN grid instead (seed = --seeds)")
    a = ap.parse_args()
    work = Path(a.workdir or tempfile.mkdtemp(prefix="dnadx-variants-bench-"))
    if a.grid:
        return grid(work, a.seeds)
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
