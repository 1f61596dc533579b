"""Helpers for copy-number accuracy tests: simulated analysis bins with known truth.

Counts come from `simulate.fragment_counts`, tested equal to `dnadx count` on the written BAM
(tests/sim/test_simulate.py), so replicate-heavy tests need not write BAMs.
"""

from __future__ import annotations

from dnadx.core import reference
from dnadx.cnv.call import annotate, loci_of_interest, run_cnv
from dnadx.cnv.pon import build_pon
from dnadx.sim.profiles import get_profile, resolve_events
from dnadx.sim.artefacts import Artefacts
from dnadx.sim.plasma import SimSpec, binned_counts, fragment_counts, simulate

GENOME = "GRCh38"


def sim_bins(profile: str, tf: float, seed: int, fragments: int = 1_000_000, sex: str = "female",
             bin_size: int = 500_000, events=None):
    sizes = reference.chrom_sizes(GENOME)
    lengths = dict(zip(sizes["chrom"], sizes["length"].astype(int)))
    ev = events if events is not None else get_profile(profile)
    resolved = resolve_events(ev, arms=reference.arms(GENOME), genes=reference.genes(GENOME))
    spec = SimSpec(events=tuple(resolved), profile=profile, tumour_fraction=tf, fragments=fragments, seed=seed,
                   sex=sex)
    sim = simulate(spec, reference.fine_bins(GENOME), resolved, lengths)
    return annotate(fragment_counts(sim, lengths), reference.fine_bins(GENOME), bin_size), sim.truth


def make_pon(n: int = 5, fragments: int = 1_000_000, bin_size: int = 500_000):
    normals = {f"N{i}": sim_bins("flat", 0.0, 9000 + i, fragments, sex="female" if i % 2 == 0 else "male",
                                 bin_size=bin_size)[0] for i in range(n)}
    return build_pon(normals)


def cnv(bins, pon=None):
    return run_cnv(bins, pon=pon, loci=loci_of_interest(reference.genes(GENOME)), arms=reference.arms(GENOME),
                   arm_patterns=reference.arm_patterns())


def plasma_bins(profile: str, tf: float, seed: int, fragments: int = 1_000_000, *, empty: float = 0.0,
                sex: str = "female", effects=None, bin_size: int = 500_000, events=None):
    """Analysis bins of plasma unlike the model's assumptions (`dnadx.sim.artefacts`): a GC response of
    a drawn shape (symmetric, skewed or plateau), per-bin over-dispersion 3-10%, ``empty`` share of
    empty bins (and a fifth of that several-fold high), optional systematic bin ``effects``."""
    fine = reference.fine_bins(GENOME)
    ev = resolve_events(events if events is not None else get_profile(profile), arms=reference.arms(GENOME),
                        genes=reference.genes(GENOME))
    art = Artefacts(gc_shape="mixed", empty_bins=empty, extreme_bins=empty / 5, bin_effects=effects)
    spec = SimSpec(events=tuple(ev), profile=profile, tumour_fraction=tf, fragments=fragments, seed=seed, sex=sex,
                   artefacts=art)
    counts, truth = binned_counts(spec, fine, ev)
    return annotate(counts, fine, bin_size), truth


def synthetic_effects(seed: int = 1, sd: float = 0.03) -> "pd.DataFrame":
    """Systematic per-500 kb-bin log2 effects shared by a batch, smooth along the genome (an AR(1) series,
    correlation 0.8 between neighbours) with the real panels' size (sd ~0.03-0.04; ../shared/real-data)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    sizes = reference.chrom_sizes(GENOME)
    frames = []
    for c, length in zip(sizes["chrom"], sizes["length"].astype(int)):
        start = np.arange(0, length, 500_000)
        e = np.zeros(len(start))
        for i in range(len(start)):
            e[i] = (0.8 * e[i - 1] if i else 0.0) + rng.normal(0, sd * 0.6)
        frames.append(pd.DataFrame({"chrom": c, "start": start, "end": np.minimum(start + 500_000, length), "log2": e}))
    return pd.concat(frames, ignore_index=True)
