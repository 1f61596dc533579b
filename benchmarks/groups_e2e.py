#!/usr/bin/env python3
"""End-to-end groups and clusters from simulated plasma BAMs (simulate -> count -> cnv -> score -> cluster).

Usage: python benchmarks/groups_e2e.py [OUTDIR] [FRAGMENTS]   (needs `dnadx cnv` and `dnadx score`)

4 profiles x tumour fractions 0.05, 0.10, 0.15, 0.25, 0.40, one BAM each (default 400,000
fragments, ~0.013x), no PoN. Prints a markdown table of the estimated tumour fraction, the
group, its confidence and the cluster, plus the adjusted Rand index of the clusters.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dnadx.cli import main as dnadx  # noqa: E402

TRUTH = {"erbb2": "ERBB2-amplified", "basal": "basal-like", "luminal": "luminal-like", "flat": "quiet"}
TFS = (0.05, 0.10, 0.15, 0.25, 0.40)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="groups_e2e_"))
    fragments = int(sys.argv[2]) if len(sys.argv) > 2 else 400_000
    out.mkdir(parents=True, exist_ok=True)
    names, t0 = [], time.perf_counter()
    for i, (prof, tf) in enumerate((p, tf) for p in TRUTH for tf in TFS):
        name = f"{prof}_tf{round(tf * 100):02d}"
        pre = out / name
        if not Path(f"{pre}.dnadx.tsv").exists():
            for argv in (["simulate", "--prefix", pre, "--profile", prof, "--tumor-fraction", tf,
                          "--fragments", fragments, "--seed", 500 + i],
                         ["count", f"{pre}.bam", "--prefix", pre], ["cnv", f"{pre}.counts.tsv.gz", "--prefix", pre],
                         ["score", f"{pre}.cnv.json", "--prefix", pre]):
                assert dnadx([str(a) for a in argv]) == 0, argv
        names.append(name)
    chain = time.perf_counter() - t0
    t0 = time.perf_counter()
    assert dnadx(["cluster", *[str(out / f"{n}.dnadx.tsv") for n in names], "--prefix", str(out / "cohort")]) == 0
    secs = time.perf_counter() - t0
    tab = pd.read_csv(out / "cohort.clusters.tsv", sep="\t")
    tab.insert(1, "true_tf", [float(n.split("_tf")[1]) / 100 for n in tab["sample"]])
    tab.insert(1, "expected", [TRUTH[n.split("_")[0]] for n in tab["sample"]])
    cols = ["sample", "expected", "true_tf", "tumor_fraction", "group", "group_confidence", "cluster", "erbb2_call"]
    print(f"### End to end from simulated BAMs ({fragments:,} fragments each, no PoN)\n")
    print("| " + " | ".join(cols) + " |\n|" + " --- |" * len(cols))
    for r in tab[cols].itertuples(index=False):
        print("| " + " | ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in r) + " |")
    from sklearn.metrics import adjusted_rand_score

    ok = tab[tab["true_tf"] >= 0.15]
    print(f"\nTF >= 0.15: {(ok['group'] == ok['expected']).mean():.3f} of groups as expected "
          "(flat: quiet or insufficient_tumour_fraction both count as correct below)")
    flat_ok = ok["expected"].eq("quiet") & ok["group"].isin(["quiet", "insufficient_tumour_fraction"])
    print(f"TF >= 0.15 counting flat -> insufficient_tumour_fraction as correct: "
          f"{((ok['group'] == ok['expected']) | flat_ok).mean():.3f}")
    print(f"clusters vs profiles, all samples: ARI {adjusted_rand_score(tab['expected'], tab['cluster']):.3f}; "
          f"TF >= 0.15: ARI {adjusted_rand_score(ok['expected'], ok['cluster']):.3f}")
    print(f"chain {chain:.0f} s for {len(names)} samples; `dnadx cluster` {secs:.1f} s")


if __name__ == "__main__":
    main()
