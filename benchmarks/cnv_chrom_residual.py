#!/usr/bin/env python3
"""Healthy plasma without real bin effects: are chromosome medians off because of the GC correction?

Usage: python benchmarks/cnv_chrom_residual.py [--shape plateau] [--fragments 1500000] [--n 8] [--seed 50900]

Simulates healthy female plasma with one GC-response family (`dnadx.sim.artefacts`; default the plateau with a
steep high-GC drop, where `cnv_independent.py` finds its largest chromosome excess), 5% per-bin over-dispersion
and *no* real bin effects, runs `run_cnv` without a panel and prints per sample the GC-rich chromosomes' medians,
the largest |chromosome median| and the excess over max(0.03, 3 SE) (`cnv_independent.bins_ok`). Seeds from the
tune block.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cnv_independent as ci  # noqa: E402

from dnadx.cnv.call import annotate, loci_of_interest, run_cnv  # noqa: E402
from dnadx.core import reference  # noqa: E402
from dnadx.sim.artefacts import Artefacts  # noqa: E402
from dnadx.sim.plasma import SimSpec, binned_counts  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", default="plateau", choices=["symmetric", "skewed", "plateau"])
    ap.add_argument("--fragments", type=int, default=1_500_000)
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--seed", type=int, default=50_900)
    a = ap.parse_args(argv)
    ref = reference.fine_bins(ci.GENOME)
    loci = loci_of_interest(reference.genes(ci.GENOME))
    arms, patterns = reference.arms(ci.GENOME), reference.arm_patterns()
    auto = [f"chr{i}" for i in range(1, 23)]
    rows = []
    for seed in range(a.seed, a.seed + a.n):
        art = Artefacts(gc_shape=a.shape, overdispersion=0.05, bin_effects=None)
        spec = SimSpec(events=(), profile="flat", tumour_fraction=0.0, fragments=a.fragments, seed=seed, sex="female",
                       artefacts=art)
        counts, truth = binned_counts(spec, ref, [])
        res = run_cnv(annotate(counts, ref, 500_000), loci=loci, arms=arms, arm_patterns=patterns)
        b = res.bins[(res.bins["usable"] == 1) & res.bins["chrom"].isin(auto)]
        med = b.groupby("chrom")["log2"].median()
        g = truth["artefacts"]["gc_response"]
        gc_max, excess = ci.bins_ok(res.bins)
        rows.append({"seed": seed, "k_high": round(g.get("k_high", g.get("k", 0.0)), 1), "peak": round(g["peak"], 3),
                     **{c: round(float(med[c]), 3) for c in ("chr16", "chr17", "chr19", "chr22")},
                     "max |chrom median|": round(float(med.abs().max()), 3), "chrom excess": round(excess, 4),
                     "GC decile max": round(gc_max, 3), "TF": res.summary["tumor_fraction"]})
    print(pd.DataFrame(rows).to_markdown(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
