#!/usr/bin/env python3
"""How detectable is tumour fraction 0.03 at all? An oracle test against dnadx's calls, same samples.

Usage: python benchmarks/cnv_oracle.py [--fragments 800000,1500000,7500000] [--healthy 24] [--reps 8] [--jobs 2] [--pon]
       [--seeds oracle|tune] [--threshold 2.25]

The samples are `cnv_independent.py`'s (GC shapes, over-dispersion, real bin effects; clean condition), without a
panel or against one of 5 normals (--pon), from their own seed blocks (`--seeds oracle`: 90 000+, to measure;
`--seeds tune`: 60 000+, to set a threshold). For each tumour at TF 0.03 (erbb2, luminal, basal) the oracle knows the
truth: every bin's expected log2 mu_b. Its statistic is the matched filter T = sum mu_b x_b / sqrt(sum mu_b^2) over
usable autosomal bins (x_b: dnadx's corrected log2), the most powerful test of "healthy" against exactly that
tumour when the bins' errors are Gaussian and independent (Neyman-Pearson). Its threshold for a 5% false-positive
rate is the same statistic on the healthy samples of that depth (mean + 1.645 sd: it even knows their systematic
offset along the template). Reported per depth: the oracle's detection of TF 0.03, dnadx's (lower bound > 0) on
the same samples, and the oracle z (E[T] over the healthy sd). dnadx does not know the segments, states or TF.
The columns "arm-pattern filter" are a prototype between the two (`pattern_stat`): it knows only the 6 TCGA breast
arm patterns (`reference/models/arm_patterns.tsv`); it is dnadx's own arm-pattern test (`dnadx/cnv/pattern_test.py`) and
its threshold is --threshold (default dnadx's, 2.25; the analytic Bonferroni bound would be 2.39).
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cnv_independent as ci  # noqa: E402

from dnadx.cnv import arm_prior, pattern_test  # noqa: E402
from dnadx.cnv.call import loci_of_interest, run_cnv  # noqa: E402
from dnadx.core import params, reference  # noqa: E402
from dnadx.count.bins import aggregate  # noqa: E402
from dnadx.sim.plasma import copy_numbers  # noqa: E402

SEEDS = {"oracle": 90_000, "tune": 60_000}  # disjoint from each other and from cnv_independent.py's blocks
TUMOURS = ("erbb2", "luminal", "basal")
TF = 0.03


def expected_log2(truth, bins) -> np.ndarray:
    """The true expected log2 per analysis bin (copy ratios averaged over its fine bins, then log2)."""
    fine = ci._CACHE["fine"]
    normal, tumour = copy_numbers(fine, truth["events"], truth["sex"])
    p, phi = truth["tumor_fraction"], truth["ploidy"]
    ratio = ((1 - p) * normal + p * tumour) / (2 * (1 - p) + p * phi)
    agg = aggregate(fine[["chrom", "start", "end"]].assign(r=ratio, one=1.0), 500_000, sum_cols=("r", "one"), mean_cols=())
    mu = np.log2(np.maximum(agg["r"] / agg["one"], 1e-6)).to_numpy()
    key = pd.Series(mu, index=pd.MultiIndex.from_frame(agg[["chrom", "start"]]))
    return key.reindex(pd.MultiIndex.from_frame(bins[["chrom", "start"]])).to_numpy()


def _panel(fragments: int, base: int):
    """A panel of 5 normals at 0.6x the depth, as `cnv_independent.py` builds it (one per depth and process)."""
    if (fragments, base) not in _E:
        _E[fragments, base] = ci.panel(5, int(fragments * 0.6), base + 900, effects=_effects())[1][0]
    return _E[fragments, base]


def one(task):
    profile, tf, seed, fragments, base, with_pon = task
    b, truth = ci.sim_bins(profile, tf, seed, fragments, effects=_effects())
    arms = reference.arms(ci.GENOME)
    res = run_cnv(b, pon=_panel(fragments, base) if with_pon else None, loci=loci_of_interest(reference.genes(ci.GENOME)),
                  arms=arms, arm_patterns=reference.arm_patterns())
    out = res.bins
    ok = (out["usable"] == 1).to_numpy() & out["chrom"].isin(params.AUTOSOMES).to_numpy()
    x = np.where(ok, out["log2"].to_numpy(float), np.nan)
    mu = expected_log2(truth, out) if tf > 0 else None
    arm = arm_prior.segment_arms(out, arms)  # each bin's arm, by its midpoint
    return {"profile": profile, "tf": tf, "seed": seed, "fragments": fragments, "x": x, "mu": mu, "arm": arm,
            "sigma": res.summary["noise_mad"], "tau": res.summary["systematic_sd"]["tau"],
            "noise_segment": res.summary["systematic_sd"].get("noise_segment", res.summary["noise_mad"]),
            "ci_lo": res.summary["tumor_fraction_ci"][0], "tf_est": res.summary["tumor_fraction"]}


_E = {}  # per process: the real bin effects ("e") and the panels ((fragments, base))


def pattern_stat(run, patterns) -> float:
    """dnadx's arm-pattern test (`dnadx.cnv.pattern_test.arm_contrast`) on the sample's corrected log2, with the
    sigma and tau dnadx used: the largest centred, standardised contrast of the (10%-trimmed) arm means along a TCGA
    arm pattern. The numbers in benchmarks/README.md before stop 25's trimmed means came from a plain-mean copy."""
    return float(pattern_test.arm_contrast(run["x"], run["arm"], run["sigma"], run["tau"], patterns,
                                           noise_factor=(run["noise_segment"] / run["sigma"]) ** 2)["statistic"])


def _effects():
    if "e" not in _E:
        _E["e"] = ci.real_effects()
    return _E["e"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fragments", default="800000,1500000,7500000")
    ap.add_argument("--healthy", type=int, default=24)
    ap.add_argument("--reps", type=int, default=8)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--pon", action="store_true", help="every sample against a panel of 5 normals (0.6x depth)")
    ap.add_argument("--seeds", choices=sorted(SEEDS), default="oracle",
                    help="seed block: 'tune' to set the prototype's threshold (e.g. --reps 0 --healthy 48), 'oracle' to test it")
    ap.add_argument("--threshold", type=float, default=pattern_test.THRESHOLD, help="the arm-pattern filter's threshold")
    a = ap.parse_args(argv)
    ci._CACHE.setdefault("fine", reference.fine_bins(ci.GENOME))
    tasks = []
    for f in (int(x) for x in a.fragments.split(",")):
        base = SEEDS[a.seeds] + f // 100_000 * 100
        tasks += [("flat", 0.0, base + i, f, base, a.pon) for i in range(a.healthy)]
        tasks += [(p, TF, base + 50 + 10 * r + j, f, base, a.pon) for r in range(a.reps) for j, p in enumerate(TUMOURS)]
    with ProcessPoolExecutor(a.jobs) as ex:
        runs = list(ex.map(one, tasks))
    pats = reference.arm_patterns()
    rows = []
    for f in sorted({r["fragments"] for r in runs}):
        healthy = [r for r in runs if r["fragments"] == f and r["tf"] == 0]
        tumours = [r for r in runs if r["fragments"] == f and r["tf"] > 0]
        hits, zs = 0, []
        for t in tumours:
            w = np.nan_to_num(t["mu"])
            stat = lambda x: float(np.nansum(w * x) / np.sqrt(np.sum(w[np.isfinite(x)] ** 2)))  # noqa: E731
            null = np.array([stat(h["x"]) for h in healthy])
            thr = null.mean() + 1.645 * null.std(ddof=1)
            hits += stat(t["x"]) > thr
            zs.append(np.sqrt(np.sum(w[np.isfinite(t["x"])] ** 2)) / null.std(ddof=1))
        tz = [pattern_stat(t, pats) for t in tumours]
        hz = [pattern_stat(h, pats) for h in healthy]
        hq = np.quantile(hz, [0.95, 1.0]) if hz else [np.nan, np.nan]
        if not tumours:
            rows.append({"read pairs": f, "healthy": len(healthy),
                         "dnadx healthy called": f"{sum(h['tf_est'] > 0 for h in healthy)}/{len(healthy)}",
                         f"arm-pattern filter > {a.threshold:g}": f"{sum(ph > a.threshold for ph in hz)}/{len(healthy)}",
                         "healthy filter value, mean (sd)": f"{np.mean(hz):.2f} ({np.std(hz, ddof=1):.2f})",
                         "healthy filter value, 95th percentile / max": f"{hq[0]:.2f} / {hq[1]:.2f}"})
            continue
        rows.append({"read pairs": f, "healthy": len(healthy), "TF 0.03 tumours": len(tumours),
                     "oracle detects (5% FP)": f"{hits}/{len(tumours)}",
                     "dnadx detects (lower bound > 0)": f"{sum(t['ci_lo'] > 0 for t in tumours)}/{len(tumours)}",
                     "dnadx healthy called": f"{sum(h['tf_est'] > 0 for h in healthy)}/{len(healthy)}",
                     f"arm-pattern filter at {a.threshold:g}: detects / healthy called":
                         f"{sum(pt > a.threshold for pt in tz)}/{len(tumours)} / {sum(ph > a.threshold for ph in hz)}/{len(healthy)}",
                     "healthy filter value, mean (sd)": f"{np.mean(hz):.2f} ({np.std(hz, ddof=1):.2f})",
                     "dnadx or filter: detects / healthy called":
                         f"{sum(t['ci_lo'] > 0 or pt > a.threshold for t, pt in zip(tumours, tz))}/{len(tumours)} / "
                         f"{sum(h['tf_est'] > 0 or ph > a.threshold for h, ph in zip(healthy, hz))}/{len(healthy)}",
                     # its threshold from the healthy samples, as the oracle's: mean + 1.645 sd
                     "arm-pattern filter at healthy mean + 1.645 sd: detects":
                         f"{sum(pt > np.mean(hz) + 1.645 * np.std(hz, ddof=1) for pt in tz)}/{len(tumours)}",
                     "oracle z, median [min, max]": f"{np.median(zs):.2f} [{min(zs):.2f}, {max(zs):.2f}]"})
    print(pd.DataFrame(rows).to_markdown(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
