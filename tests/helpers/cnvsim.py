"""Helpers for copy-number accuracy tests: simulated analysis bins with known truth.

Counts come from `simulate.fragment_counts`, tested equal to `dnadx count` on the written BAM
(tests/sim/test_simulate.py), so replicate-heavy tests need not write BAMs.
"""

from __future__ import annotations

from dnadx.core import reference
from dnadx.cnv.call import annotate, loci_of_interest, run_cnv
from dnadx.cnv.pon import build_pon
from dnadx.sim.profiles import get_profile, resolve_events
from dnadx.sim.plasma import SimSpec, fragment_counts, simulate

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
