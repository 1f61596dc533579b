#!/usr/bin/env python3
"""Accuracy of `dnadx cnv` against simulation truth (tumour fraction, interval coverage, healthy
false positives, ERBB2 amplicon segmentation), with a shared panel of simulated normals.

Usage: python benchmarks/cnv_accuracy.py [--fragments 1000000,3000000,10000000] [--reps 3] [--out results.tsv]
(1 M read pairs of 2 x 150 bp ~ 0.1x; each depth gets its own panel of normals at that depth.)
Counts come from `simulate.fragment_counts` (tested equal to `dnadx count` on the written BAM).
"""

from __future__ import annotations

import argparse
import time
import zlib

import numpy as np
import pandas as pd

from dnadx.core import reference
from dnadx.cnv.call import annotate, loci_of_interest, run_cnv
from dnadx.cnv.pon import build_pon
from dnadx.sim.profiles import get_profile, resolve_events
from dnadx.sim.plasma import SimSpec, fragment_counts, simulate

GENOME = "GRCh38"


def sim_bins(profile, tf, seed, fragments, sex="female", bin_size=500_000):
    sizes = reference.chrom_sizes(GENOME)
    lengths = dict(zip(sizes["chrom"], sizes["length"].astype(int)))
    events = resolve_events(get_profile(profile), arms=reference.arms(GENOME), genes=reference.genes(GENOME))
    spec = SimSpec(events=tuple(events), profile=profile, tumour_fraction=tf, fragments=fragments, seed=seed, sex=sex)
    sim = simulate(spec, reference.fine_bins(GENOME), events, lengths)
    counts = fragment_counts(sim, lengths)
    return annotate(counts, reference.fine_bins(GENOME), bin_size), sim.truth


def panel(n, fragments, bin_size=500_000, seed0=9000):
    normals = {f"N{i}": sim_bins("flat", 0.0, seed0 + i, fragments, sex="female" if i % 2 == 0 else "male",
                                 bin_size=bin_size)[0] for i in range(n)}
    return build_pon(normals)[0]


def evaluate(bins, truth, pon, loci):
    t0 = time.perf_counter()
    res = run_cnv(bins, pon=pon, loci=loci, arms=reference.arms(GENOME), arm_patterns=reference.arm_patterns())
    dt = time.perf_counter() - t0
    s = res.summary
    segs = res.segments
    long_altered = segs[(segs["copy_number"] != segs["normal_copy"]) & (segs["end"] - segs["start"] > 10_000_000)]
    erbb2 = s["genes_of_interest"].get("ERBB2", {})
    lo, hi = s["tumor_fraction_ci"]
    return {"tf_true": truth["tumor_fraction"], "tf_est": s["tumor_fraction"], "ci_lo": lo, "ci_hi": hi,
            "covered": lo <= truth["tumor_fraction"] <= hi, "ploidy": s["ploidy"], "sex": s["sex"],
            "noise": s["noise_mad"], "n_segments": s["n_segments"],
            "long_altered_segments": len(long_altered),
            "erbb2_cn": erbb2.get("copy_number"), "seconds": dt}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--fragments", default="1000000", help="comma-separated read-pair counts (depths)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--tfs", default="0,0.03,0.05,0.1,0.2,0.3,0.5")
    ap.add_argument("--profiles", default="erbb2,basal,luminal,atypical")
    ap.add_argument("--normals", type=int, default=5)
    ap.add_argument("--no-pon", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    loci = loci_of_interest(reference.genes(GENOME))
    rows = []
    for fragments in [int(x) for x in args.fragments.split(",")]:
        pon = None if args.no_pon else panel(args.normals, fragments)
        for tf in [float(x) for x in args.tfs.split(",")]:
            for profile in args.profiles.split(",") if tf > 0 else ["flat"]:
                for rep in range(args.reps if tf > 0 else 3 * args.reps):
                    seed = 100 * rep + int(tf * 1000) + zlib.crc32(profile.encode()) % 97
                    sex = "male" if tf == 0 and rep % 2 else "female"
                    bins, truth = sim_bins(profile, tf, seed, fragments, sex=sex)
                    r = evaluate(bins, truth, pon, loci)
                    r.update(profile=profile, rep=rep, fragments=fragments)
                    rows.append(r)
                    print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}, flush=True)
    df = pd.DataFrame(rows)
    df["abs_err"] = (df["tf_est"] - df["tf_true"]).abs()
    df["bias"] = df["tf_est"] - df["tf_true"]
    # the healthy criterion: estimate <= 0.01, upper bound <= 0.03, no altered segment > 10 Mb
    df["clean"] = (df["tf_est"] <= 0.01) & (df["ci_hi"] <= 0.03) & (df["long_altered_segments"] == 0)
    print(df.groupby(["fragments", "tf_true"]).agg(n=("abs_err", "size"), mean_abs_err=("abs_err", "mean"), max_abs_err=("abs_err", "max"),
                                      bias=("bias", "mean"), clean=("clean", "mean"),
                                      coverage=("covered", "mean"), detected=("ci_lo", lambda v: (v > 0).mean()),
                                      long_altered=("long_altered_segments", "mean"), sec=("seconds", "mean")).to_string())
    if args.out:
        df.to_csv(args.out, sep="\t", index=False)


if __name__ == "__main__":
    main()
