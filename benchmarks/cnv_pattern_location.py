#!/usr/bin/env python3
"""Which arm location should the arm-pattern test (`dnadx/cnv/pattern_test.py`) use? Plain mean, 10%-trimmed mean,
or the mean of bins within 4 or 5 bin-noise MADs of the arm median (the choice: 5), on the plasma of
`cnv_independent.py` (GC shapes, over-dispersion, real bin effects) at 500 kb and 1 Mb, clean and with 1% empty bins.

Usage: python benchmarks/cnv_pattern_location.py [--jobs 2]

Seeds 30 000+ (a block of their own: not the tune, report or oracle blocks). Per bin size x condition x depth
(0.05x, 0.1x): 12 healthy samples and 10 tumours (erbb2/luminal/basal at 0.03, erbb2/luminal at 0.05). Each sample
is run through `run_cnv` once; T is then computed from its corrected log2 with each location. Reported per bin size
and condition: healthy samples over the threshold, their T sd and max, and tumours detected by the state model or T.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import trim_mean

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cnv_independent as ci  # noqa: E402

from dnadx.cnv import arm_prior, pattern_test  # noqa: E402
from dnadx.cnv.call import loci_of_interest, run_cnv  # noqa: E402
from dnadx.core import params, reference  # noqa: E402


def contrast(m: pd.Series, k: pd.Series, sigma: float, tau: float, factor: float) -> float:
    """The test's statistic (`pattern_test.contrast`) from given arm locations m (variance factor x sigma^2 / k + tau^2)."""
    return pattern_test.contrast(k, m, sigma, tau, reference.arm_patterns(), noise_factor=factor)["statistic"]


def one(task):
    profile, tf, seed, fragments, bin_size, empty = task
    b, _ = ci.sim_bins(profile, tf, seed, fragments, empty=empty, effects=ci.real_effects(), bin_size=bin_size)
    arms = reference.arms(ci.GENOME)
    r = run_cnv(b, loci=loci_of_interest(reference.genes(ci.GENOME)), arms=arms, arm_patterns=reference.arm_patterns())
    out, s = r.bins, r.summary
    arm = arm_prior.segment_arms(out, arms)
    sel = ((out["usable"] == 1) & out["chrom"].isin(params.AUTOSOMES)).to_numpy() & (arm != "")
    x, a = out["log2"].to_numpy()[sel], arm[sel]
    sigma, tau = s["noise_mad"], s["systematic_sd"]["tau"]
    g = pd.Series(x).groupby(a)
    res = {"plain": contrast(g.mean(), g.count(), sigma, tau, 1.0),
           "trim10": contrast(g.apply(lambda v: trim_mean(v, 0.1)), g.count(), sigma, tau, 1.06)}
    for c in (4.0, 5.0):
        med = g.transform("median").to_numpy()
        keep = np.abs(x - med) <= c * sigma
        gc = pd.Series(x[keep]).groupby(a[keep])
        res[f"clip{c:g}"] = contrast(gc.mean(), gc.count(), sigma, tau, 1.0)
    model = s["tumor_fraction_ci"][0] > 0 and s["tumor_call_decided_by"] != "arm_pattern_test"
    return [{"tf": tf, "bin": bin_size, "empty": empty, "location": k, "T": v, "model_called": model}
            for k, v in res.items()]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args(argv)
    cases = [("erbb2", 0.03), ("luminal", 0.03), ("basal", 0.03), ("erbb2", 0.05), ("luminal", 0.05)]
    tasks = []
    for bs in (500_000, 1_000_000):
        for empty in (0.0, 0.01):
            for f in (800_000, 1_500_000):
                base = 30_000 + (bs // 500_000) * 5_000 + int(empty * 100) * 1000 + f // 100_000 * 10
                tasks += [("flat", 0.0, base + i, f, bs, empty) for i in range(12)]
                tasks += [(p, tf, base + 200 + 10 * i + j, f, bs, empty) for i in range(2) for j, (p, tf) in enumerate(cases)]
    with ProcessPoolExecutor(a.jobs) as ex:
        d = pd.DataFrame([r for rows in ex.map(one, tasks) for r in rows])
    thr = pattern_test.THRESHOLD
    out = []
    for (bs, empty, loc), g in d.groupby(["bin", "empty", "location"]):
        h, t3, t5 = g[g.tf == 0], g[g.tf == 0.03], g[g.tf == 0.05]
        out.append({"bin": bs, "empty bins": empty, "location": loc,
                    f"healthy > {thr:g}": f"{int((h['T'] > thr).sum())}/{len(h)}",
                    "healthy T sd / max": f"{h['T'].std():.2f} / {h['T'].max():.2f}",
                    "TF 0.03 detected": f"{int(((t3['T'] > thr) | t3['model_called']).sum())}/{len(t3)}",
                    "TF 0.05 detected": f"{int(((t5['T'] > thr) | t5['model_called']).sum())}/{len(t5)}"})
    print(pd.DataFrame(out).to_markdown(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
