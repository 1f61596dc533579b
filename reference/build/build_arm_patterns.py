#!/usr/bin/env python3
"""Breast-cancer chromosome-arm patterns for the tumour-fraction model's state prior (`dnadx.cnv.arm_prior`).

Usage: python reference/build/build_arm_patterns.py TRAINING_DIR [REFERENCE_DIR] [--patterns K]
(TRAINING_DIR = ../shared/dnadx-training; writes REFERENCE_DIR/models/arm_patterns.tsv, then rewrites
REFERENCE_DIR/MANIFEST.tsv with bundle_manifest.py; default REFERENCE_DIR = reference/ next to this script;
K = 6.)

Source: the whole-arm DNADX segment scores of 1052 TCGA BRCA tumours (`her2/CN_score.tsv.gz`, Xia et
al., Nat Commun 10:5666, 2019; a segment score is the mean gene-level copy-number log2 ratio over the
arm's genes). An arm is called gained above +THRESHOLD and lost below -THRESHOLD (the usual arm-level
cut), giving each tumour a vector of -1/0/+1 over the 42 arms (chrY left out: no calls in this cohort).
k-means (scikit-learn, fixed seed) groups the tumours into K patterns; each pattern's row per arm holds
its share of the tumours (weight) and the gain and loss frequency of that arm among them. K = 1 gives
the cohort's frequencies. Deterministic: same input and scikit-learn, identical bytes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from bundle_manifest import write_manifest  # this folder (the script's own)
from sklearn.cluster import KMeans

THRESHOLD = 0.1


def arm_calls(scores: pd.DataFrame, segments: pd.DataFrame, threshold: float = THRESHOLD) -> pd.DataFrame:
    """Tumours x arms, +1 gain / -1 loss / 0, columns named like `1p`, `Xq`."""
    arms = segments[(segments["source"] == "wholearm") & (segments["chrom"].astype(str) != "Y")]
    v = scores[arms["segment_id"]]
    calls = np.sign(v.where(v.abs() > threshold, 0.0)).astype(int)
    calls.columns = [s.split("wholearm")[0].replace(".", "").replace("_", "") for s in arms["segment_id"]]  # 1.p_ -> 1p
    return calls


def arm_patterns(calls: pd.DataFrame, k: int, seed: int = 0) -> pd.DataFrame:
    labels = np.zeros(len(calls), int) if k == 1 else \
        KMeans(n_clusters=k, n_init=50, random_state=seed).fit_predict(calls.to_numpy(float))
    groups = sorted(range(k), key=lambda g: -(labels == g).sum())  # pattern 1 = the largest
    rows = []
    for i, g in enumerate(groups, start=1):
        sub = calls[labels == g]
        for arm in calls.columns:
            rows.append({"pattern": i, "weight": round(len(sub) / len(calls), 4), "n_tumours": len(sub), "arm_name": arm,
                         "gain": round(float((sub[arm] > 0).mean()), 4), "loss": round(float((sub[arm] < 0).mean()), 4)})
    return pd.DataFrame(rows)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("training", type=Path)
    ap.add_argument("reference", type=Path, nargs="?", default=Path(__file__).resolve().parents[1])
    ap.add_argument("--patterns", type=int, default=6)
    a = ap.parse_args(argv)
    segments = pd.read_csv(a.training / "segments.tsv", sep="\t")
    scores = pd.read_csv(a.training / "her2" / "CN_score.tsv.gz", sep="\t", index_col=0)
    table = arm_patterns(arm_calls(scores, segments), a.patterns)
    path = a.reference / "models" / "arm_patterns.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, sep="\t", index=False, lineterminator="\n")
    print(f"wrote {table['pattern'].nunique()} patterns x {table['arm_name'].nunique()} arms to {path}; "
          f"{len(write_manifest(a.reference))} files in {a.reference / 'MANIFEST.tsv'}")


if __name__ == "__main__":
    main()
