#!/usr/bin/env python3
"""Measure the reference groups and the consensus clustering (numbers for benchmarks/groups.md).

Usage: python benchmarks/groups_bench.py [TRAINING_DIR]   (default /work/shared/dnadx-training)

Prints markdown tables:
1. METABRIC (held out): the shipped model vs plain supervised baselines (same TCGA training
   data, no scale-free features), 3-class and 4-class PAM50 balanced accuracy;
2. simulated plasma: reference-group accuracy and confidence by profile and tumour fraction,
   at the default and at a 2x noisier segmentation;
3. consensus clustering: adjusted Rand index by batch size and noise, with run time;
4. `dnadx cluster` wall time for 24 and 96 samples.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "reference" / "build"))

from dnadx.groups import consensus, model as groups  # noqa: E402
from dnadx.core import io
from dnadx.cli import main as dnadx_main  # noqa: E402
from dnadx.groups.io import bundled_group_model  # noqa: E402
from dnadx.sim.segments import simulated_batch  # noqa: E402

TRUTH = {"erbb2": "ERBB2-amplified", "basal": "basal-like", "luminal": "luminal-like", "flat": "quiet"}
NOISY = {"sd_bin": 0.24, "n_spurious": 30, "sd_spurious": 0.08}


def md(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    out = ["| " + " | ".join(map(str, cols)) + " |", "|" + " --- |" * len(cols)]
    for r in df.itertuples(index=False):
        out.append("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in r) + " |")
    return "\n".join(out)


def metabric(training: Path) -> None:
    import train_groups as tg
    from sklearn.linear_model import LogisticRegression

    segs = tg.segment_table(training)
    x = tg.load_scores(training / "subtype" / "CN_score.tsv.gz")
    m = tg.load_scores(training / "subtype" / "METABRIC_CN_score.tsv.gz")
    y = tg.pam50(training / "subtype", "", x.index)
    ym = tg.pam50(training / "subtype", "METABRIC_", m.index)
    keep = (y != "Normal").to_numpy()
    model = bundled_group_model()
    rows = [{"model": "shipped: ERBB2 excess rule + scale-free basal/luminal LR", "classes": 3,
             "balanced_accuracy": tg.balanced_accuracy(ym.map(tg.PAM50_TO_GROUP), groups.predict_groups(model, m.to_numpy(float)))}]
    is_arm = segs["is_arm"].to_numpy(bool)
    for feats, f in (("raw scores", lambda a: a), ("scale-free z", lambda a: groups.pattern_features(a, is_arm))):
        for n_cls in (3, 4):
            yt, yv = y[keep], ym
            if n_cls == 3:
                yt, yv = yt.map(tg.PAM50_TO_GROUP), yv.map(tg.PAM50_TO_GROUP)
            clf = LogisticRegression(C=1e-3, max_iter=5000, class_weight="balanced")
            clf.fit(f(x.to_numpy(float))[keep], yt)
            rows.append({"model": f"plain LR on {feats} (C=1e-3)", "classes": n_cls,
                         "balanced_accuracy": tg.balanced_accuracy(yv, clf.predict(f(m.to_numpy(float))))})
    print("### METABRIC, held out (n = 1689, PAM50)\n")
    print(md(pd.DataFrame(rows)))
    print()


def plasma(model) -> None:
    tfs = (0.03, 0.05, 0.10, 0.15, 0.20, 0.30, 0.50)
    for label, noise in (("default noise", {}), ("2x noisier segmentation", NOISY)):
        design = [(p, tf) for p in TRUTH for tf in tfs for _ in range(10)]
        rows = []
        for name, (tab, prof, tf) in simulated_batch(design, seed=101, **noise).items():
            r = groups.assign_group(model, tab["score_raw"].to_numpy(), tab["score_adjusted"].to_numpy(), tf)
            rows.append({"profile": prof, "tf": tf, "correct": r["group"] == TRUTH[prof],
                         "insufficient": r["group"] == groups.INSUFFICIENT_TF, "conf": r["group_confidence"],
                         "high_conf_wrong": (r["group"] != TRUTH[prof]) and r["group"] in groups.PATTERN_GROUPS
                         and r["group_confidence"] >= groups.HIGH_CONFIDENCE})
        df = pd.DataFrame(rows)
        tab = df.pivot_table(index="tf", columns="profile", values="correct", aggfunc="mean")[list(TRUTH)]
        tab.insert(0, "tumour_fraction", tab.index)
        print(f"### Simulated plasma, reference groups correct ({label}; 10 samples per cell)\n")
        print(md(tab.reset_index(drop=True)))
        hi = df[df["tf"] >= 0.15]
        print(f"\nTF >= 0.15: {hi['correct'].mean():.3f} correct; median confidence "
              f"{df[df['tf'] >= 0.15]['conf'].median():.3f}; high-confidence wrong tumour group: "
              f"{int(df['high_conf_wrong'].sum())} of {len(df)}; TF < 0.05 -> insufficient: "
              f"{df[df['tf'] < 0.05]['insufficient'].mean():.3f}\n")


def clustering() -> None:
    rows = []
    from sklearn.metrics import adjusted_rand_score

    for label, noise in (("default", {}), ("2x noisier", NOISY)):
        for per_profile in (2, 4, 6, 12):
            aris, ks, secs = [], [], []
            for rep in range(3):
                tfs = np.linspace(0.10, 0.50, per_profile)
                design = [(p, float(round(tf, 2))) for p in TRUTH for tf in tfs]
                batch = simulated_batch(design, seed=1000 + rep, **noise)
                adj = pd.DataFrame({k: v[0].set_index("segment_id")["score_adjusted"] for k, v in batch.items()}).T
                t = time.perf_counter()
                res = consensus.consensus_cluster(adj, seed=1)
                secs.append(time.perf_counter() - t)
                aris.append(adjusted_rand_score([batch[s][1] for s in res.samples], res.labels))
                ks.append(res.k)
            rows.append({"noise": label, "samples": 4 * per_profile, "ARI_min": min(aris), "ARI_mean": float(np.mean(aris)),
                         "k_chosen": ",".join(map(str, ks)), "seconds": float(np.mean(secs))})
    print("### Consensus clustering of simulated batches (TF 0.10-0.50, 3 batches each)\n")
    print(md(pd.DataFrame(rows)))
    print()


def cli_time() -> None:
    rows = []
    for n in (24, 96):
        design = [(p, 0.1 + 0.4 * i / (n // 4 - 1)) for p in TRUTH for i in range(n // 4)]
        with tempfile.TemporaryDirectory() as d:
            paths = []
            for name, (tab, prof, tf) in simulated_batch(design, seed=7).items():
                io.write_tsv(tab, f"{d}/{name}.dnadx.tsv")
                io.write_json({"tumor_fraction": tf, "erbb2_call": "neutral"}, f"{d}/{name}.score.json")
                paths.append(f"{d}/{name}.dnadx.tsv")
            t = time.perf_counter()
            assert dnadx_main(["cluster", *paths, "--prefix", f"{d}/cohort"]) == 0
            rows.append({"samples": n, "seconds": time.perf_counter() - t})
    print("### `dnadx cluster` wall time (one process, includes heatmap)\n")
    print(md(pd.DataFrame(rows)))


def main() -> None:
    training = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/dnadx-training")
    model = bundled_group_model()
    if (training / "subtype").exists():
        metabric(training)
    plasma(model)
    clustering()
    cli_time()


if __name__ == "__main__":
    main()
