#!/usr/bin/env python3
"""Why PELT + a focal test: ERBB2 amplicon (CN 10, 1.5 Mb, on a 17q gain) segmentation rate and
healthy false-positive rate for several PELT penalties, with and without the focal test.

Usage: python benchmarks/segmentation.py [--reps 8] [--fragments 1000000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dnadx.cnv import segmentation  # noqa: E402
from tests.helpers.cnvsim import cnv, make_pon, sim_bins  # noqa: E402


def erbb2_segmented(result) -> bool:
    """ERBB2 sits in a segment of <= 4 bins whose state is amplified (>= 6)."""
    b = result.bins
    row = b[(b["chrom"] == "chr17") & (b["start"] <= 39_700_000) & (b["end"] > 39_700_000)].iloc[0]
    seg = b[b["segment"] == row["segment"]]
    return len(seg) <= 4 and row["copy_number"] >= 6


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=8)
    ap.add_argument("--fragments", type=int, default=1_000_000)
    args = ap.parse_args(argv)
    pon = make_pon(fragments=args.fragments)[0]
    samples = {tf: [sim_bins("erbb2", tf, 4000 + r, args.fragments)[0] for r in range(args.reps)] for tf in (0.05, 0.1)}
    healthy = [sim_bins("flat", 0.0, 5000 + r, args.fragments)[0] for r in range(args.reps)]
    print("| PELT beta | focal test | ERBB2 segmented+called TF 0.05 | TF 0.10 | healthy: samples with a segment > 10 Mb altered | healthy: segments per sample |")
    print("|---|---|---|---|---|---|")
    default_beta, default_z = segmentation.PENALTY_BETA, segmentation.FOCAL_Z
    for beta in (2.0, 3.0, 5.0):
        for focal in (True, False):
            segmentation.PENALTY_BETA = beta
            segmentation.segment.__kwdefaults__["beta"] = beta
            segmentation.FOCAL_Z = default_z if focal else 1e9
            segmentation.focal_split.__kwdefaults__["z_threshold"] = segmentation.FOCAL_Z
            segmentation.focal_split.__kwdefaults__["gain_z"] = None if focal else {}
            hits = {tf: sum(erbb2_segmented(cnv(b, pon)) for b in bs) for tf, bs in samples.items()}
            fp, nseg = 0, 0
            for b in healthy:
                r = cnv(b, pon)
                s = r.segments
                fp += bool(((s["copy_number"] != s["normal_copy"]) & (s["end"] - s["start"] > 10_000_000)).any())
                nseg += len(s)
            print(f"| {beta} | {'yes' if focal else 'no'} | {hits[0.05]}/{args.reps} | {hits[0.1]}/{args.reps} | "
                  f"{fp}/{args.reps} | {nseg / args.reps:.1f} |", flush=True)
    segmentation.PENALTY_BETA, segmentation.FOCAL_Z = default_beta, default_z
    segmentation.segment.__kwdefaults__["beta"] = default_beta
    segmentation.focal_split.__kwdefaults__["z_threshold"] = default_z
    segmentation.focal_split.__kwdefaults__["gain_z"] = None


if __name__ == "__main__":
    main()
