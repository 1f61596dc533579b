"""Benchmark of `dnadx train` / `dnadx score` (results recorded in benchmarks/models.md).

1. `dnadx train` on the full training folder: wall time and byte-identity with reference/models.
2. Validation and METABRIC calibration figures of the shipped models (from their model.json).
3. Dilution curve of the ERBB2 call and the HER2 DNA probability on simulated plasma,
   tumour fractions 0.02-0.5, profiles erbb2 (CN 10 amplicon) / flat / basal / luminal:
   --mode pipeline runs `dnadx simulate -> count -> cnv -> score` (needs `dnadx cnv`);
   --mode synthetic builds cnv-shaped bins from simulator truth + Gaussian noise (fast).

Usage: python benchmarks/models.py [--training-dir DIR] [--mode pipeline|synthetic]
       [--fragments N] [--seeds K] > out.md
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dnadx.scores import io as models_io  # noqa: E402
from dnadx.core import reference
from dnadx.scores.score import score_sample  # noqa: E402

TFS = (0.02, 0.05, 0.075, 0.10, 0.15, 0.20, 0.30, 0.50)
PROFILES = ("erbb2", "erbb2_cn8", "flat", "basal", "luminal")
# Focal-only ERBB2 amplicon at CN 8 (no other change): the CN >= 8 case.
CUSTOM = {"erbb2_cn8": [{"gene": "ERBB2", "copy": 8, "width": 1_500_000}]}


def bench_train(training_dir: Path) -> list[str]:
    with tempfile.TemporaryDirectory() as d:
        t = time.time()
        subprocess.run([sys.executable, "-m", "dnadx", "train", "--training-dir", str(training_dir), "--outdir", d],
                       check=True, capture_output=True, cwd=ROOT)
        wall = time.time() - t
        shipped = ROOT / "reference" / "models"
        same = all((Path(d) / f.name).read_bytes() == f.read_bytes() for f in shipped.iterdir())
    return [f"- `dnadx train` (all {len(list(shipped.glob('*.coef.tsv')))} models): {wall:.1f} s wall; "
            f"byte-identical to reference/models: **{same}**"]


def bench_validation() -> list[str]:
    models = models_io.read_models(models_io.shipped_models_dir())
    out = ["| model | status | TCGA test AUC (95% CI) | METABRIC AUC (95% CI) | METABRIC ECE raw -> spread-standardised |",
           "| --- | --- | --- | --- | --- |"]
    for m in models.values():
        met = m.meta["metrics"]
        t = met["tcga_test"]
        mb = met.get("metabric")
        ext = f"{mb['auc']:.3f} ({mb['auc_ci95'][0]:.3f}-{mb['auc_ci95'][1]:.3f})" if mb else "–"
        ece = (f"{mb['calibration']['ece']:.3f} -> {mb['calibration_spread_standardised']['ece']:.3f}"
               if mb else "–")
        out.append(f"| {m.name} | {'exploratory' if m.exploratory else 'validated'} | {t['auc']:.3f} "
                   f"({t['auc_ci95'][0]:.3f}-{t['auc_ci95'][1]:.3f}) | {ext} | {ece} |")
    her2 = models["her2_status"].meta["metrics"]["metabric"]
    out += ["", "HER2 status on METABRIC, calibration bins (mean predicted / observed, n):", "",
            "| bin | raw scores | spread-standardised (x / s) |", "| --- | --- | --- |"]
    for i, (a, b) in enumerate(zip(her2["calibration"]["bins"], her2["calibration_spread_standardised"]["bins"])):
        out.append(f"| {i + 1} | {a['mean_predicted']:.3f} / {a['observed']:.3f} ({a['n']}) | "
                   f"{b['mean_predicted']:.3f} / {b['observed']:.3f} ({b['n']}) |")
    return out


def _pipeline_sample(profile: str, tf: float, seed: int, fragments: int, work: Path) -> dict:
    pre = work / f"{profile}_{tf}_{seed}"
    if profile in CUSTOM:
        (work / f"{profile}.json").write_text(json.dumps(CUSTOM[profile]))
        profile = str(work / f"{profile}.json")
    run = lambda *a: subprocess.run([sys.executable, "-m", "dnadx", *map(str, a)], check=True,  # noqa: E731
                                    capture_output=True, cwd=ROOT)
    run("simulate", "--prefix", pre, "--profile", profile, "--tumor-fraction", tf, "--fragments", fragments,
        "--seed", seed)
    run("count", f"{pre}.bam", "--prefix", pre)
    run("cnv", f"{pre}.counts.tsv.gz", "--prefix", pre)
    run("score", f"{pre}.cnv.json", "--prefix", pre)
    return json.loads(Path(f"{pre}.score.json").read_text())


def _synthetic_sample(profile: str, tf: float, seed: int, sd: float) -> dict:
    from tests.scores.test_score import synthetic_cnv

    d = models_io.shipped_models_dir()
    bins, cnv = synthetic_cnv(CUSTOM.get(profile, profile), tf, seed=seed, sd=sd)
    return score_sample(bins, cnv, genes=reference.genes("GRCh38"), segment_genes=reference.segment_genes(),
                        ranges=models_io.read_segment_ranges(d), models=models_io.read_models(d))[2]


def bench_dilution(mode: str, seeds: int, fragments: int, sd: float, tfs=TFS) -> list[str]:
    rows = {}
    t0 = time.time()
    with tempfile.TemporaryDirectory() as work:
        for profile in PROFILES:
            for tf in tfs:
                res = []
                for seed in range(1, seeds + 1):
                    if mode == "pipeline":
                        res.append(_pipeline_sample(profile, tf, seed, fragments, Path(work)))
                    else:
                        res.append(_synthetic_sample(profile, tf, seed, sd))
                rows[(profile, tf)] = res
    out = [f"Mode `{mode}`, {seeds} seed(s) per cell" + (f", {fragments:,} fragments" if mode == "pipeline" else
                                                         f", bin noise sd {sd}") + f"; {time.time() - t0:.0f} s.", "",
           "| profile | true TF | ERBB2 calls | est. TF (mean) | ERBB2 CN (mean) | ERBB2 log2 source | HER2 DNA probability (mean, min-max) |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for (profile, tf), res in rows.items():
        calls = {}
        for r in res:
            calls[r["erbb2_call"]] = calls.get(r["erbb2_call"], 0) + 1
        probs = [r["her2_dna_probability"] for r in res if r["her2_dna_probability"] is not None]
        cns = [r["erbb2_copy_number"] for r in res if r["erbb2_copy_number"] is not None]
        tfs = [r["tumor_fraction"] for r in res if r["tumor_fraction"] is not None]
        p = f"{np.mean(probs):.2f} ({min(probs):.2f}-{max(probs):.2f})" if probs else "NA (not assessable)"
        src = ", ".join(sorted({r.get("erbb2_log2_source", "") for r in res}))
        out.append(f"| {profile} | {tf} | {', '.join(f'{k} {v}' for k, v in sorted(calls.items()))} | "
                   f"{np.mean(tfs):.3f} | {np.mean(cns):.1f} | {src} | {p} |" if cns else
                   f"| {profile} | {tf} | {', '.join(f'{k} {v}' for k, v in sorted(calls.items()))} | "
                   f"{np.mean(tfs) if tfs else float('nan'):.3f} | – | {src} | {p} |")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--training-dir", type=Path, default=ROOT.parent / "shared" / "dnadx-training")
    ap.add_argument("--mode", choices=("pipeline", "synthetic"), default="synthetic")
    ap.add_argument("--fragments", type=int, default=1_000_000)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--sd", type=float, default=0.1)
    ap.add_argument("--skip-train", action="store_true")
    ap.add_argument("--tfs", default=",".join(map(str, TFS)), help="comma-separated tumour fractions")
    a = ap.parse_args()
    lines = ["## Training", ""]
    lines += ["(skipped)"] if a.skip_train or not a.training_dir.exists() else bench_train(a.training_dir)
    lines += ["", "## Validation", ""] + bench_validation()
    lines += ["", "## Dilution curve", ""] + bench_dilution(a.mode, a.seeds, a.fragments, a.sd,
                                                                  tuple(float(t) for t in a.tfs.split(",")))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
