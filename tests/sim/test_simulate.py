"""`dnadx simulate`: deterministic, truthful, and the copy-number signal is where the truth says."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pysam

from dnadx.core import reference
from dnadx.count.bam import count_reads
from dnadx.count.bins import aggregate
from tests.helpers import run_cli, run_proc


def _md5(p):
    return hashlib.md5(p.read_bytes()).hexdigest()


def test_same_seed_same_bam(tmp_path):
    for name in ("a", "b"):
        assert run_cli("simulate", "--prefix", tmp_path / name, "--chroms", "chr22", "--fragments", 3000, "--seed", 9,
                       "--profile", "erbb2", "--tumor-fraction", 0.2, "--sample", "S") == 0
    assert _md5(tmp_path / "a.bam") == _md5(tmp_path / "b.bam")
    assert (tmp_path / "a.truth.json").read_text().replace("a.bam", "x") == \
        (tmp_path / "b.truth.json").read_text().replace("b.bam", "x")
    assert run_cli("simulate", "--prefix", tmp_path / "c", "--chroms", "chr22", "--fragments", 3000, "--seed", 10) == 0
    assert _md5(tmp_path / "a.bam") != _md5(tmp_path / "c.bam")


def test_truth_and_copy_number_signal(genome_bam):
    truth = json.loads(genome_bam.with_suffix(".truth.json").read_text())
    assert truth["tumor_fraction"] == 0.3 and truth["sex"] == "female"
    assert any(e["label"] == "ERBB2" and e["copy"] == 10 for e in truth["events"])
    assert 2.0 < truth["ploidy"] < 2.3
    counts, qc = count_reads(genome_bam)
    # female: no chrY reads kept
    assert counts.loc[counts["chrom"] == "chrY", "count"].sum() == 0
    fine = reference.fine_bins("GRCh38")
    b = aggregate(counts.merge(fine, on=["chrom", "start", "end"]), 1_000_000)
    usable = b[(b["mappability"] > 0.9) & b["gc"].between(0.35, 0.55)]
    per_mb = usable["count"].median()
    amp = usable[(usable["chrom"] == "chr17") & (usable["start"] == 39_000_000)]["count"].iloc[0]
    # ERBB2 amplicon (CN 10 at TF 0.3): expected ratio (0.7*2 + 0.3*10)/2 = 2.2 over half the Mb
    assert amp / per_mb > 1.4
    # tumour fragments are shorter: short-fragment fraction above the healthy one
    assert qc["short_fragment_fraction"] > 0.15


def test_male_has_chry_reads_and_single_copy_x(tmp_path):
    assert run_cli("simulate", "--prefix", tmp_path / "m", "--sex", "male", "--fragments", 100000, "--seed", 2) == 0
    counts, _ = count_reads(tmp_path / "m.bam")
    per = counts.groupby("chrom")["count"].sum()
    sizes = reference.chrom_sizes().set_index("chrom")["length"]
    x_density = per["chrX"] / sizes["chrX"]
    auto_density = per[[f"chr{i}" for i in range(1, 23)]].sum() / sizes[[f"chr{i}" for i in range(1, 23)]].sum()
    assert 0.35 < x_density / auto_density < 0.65
    assert per["chrY"] > 100


def test_variants_are_planted_in_reads(tmp_path):
    assert run_cli("simulate", "--prefix", tmp_path / "v", "--chroms", "chr17", "--fragments", 2000, "--fasta",
                   "--variant", "chr17:39723967:T>C:0.5", "--target-depth", 200) == 0
    truth = json.loads((tmp_path / "v.truth.json").read_text())
    v = truth["variants"][0]
    assert v["depth_fragments"] > 100 and 0.35 < v["alt_fragments"] / v["depth_fragments"] < 0.65
    with pysam.FastaFile(str(tmp_path / "v.fa")) as fa:
        assert fa.fetch("chr17", 39723966, 39723967) == "T"
    alt = ref = 0
    with pysam.AlignmentFile(str(tmp_path / "v.bam")) as bam:
        for col in bam.pileup("chr17", 39723966, 39723967, truncate=True, stepper="nofilter", min_base_quality=0):
            for pr in col.pileups:
                if pr.query_position is None or pr.alignment.is_duplicate:
                    continue
                base = pr.alignment.query_sequence[pr.query_position]
                alt += base == "C"
                ref += base == "T"
    assert alt > 50 and ref > 50


def test_simulate_rejects_bad_arguments(tmp_path):
    r = run_proc("simulate", "--prefix", tmp_path / "x", "--tumor-fraction", 1.5)
    assert r.returncode == 2 and "within [0, 1]" in r.stderr
    r = run_proc("simulate", "--prefix", tmp_path / "x", "--profile", "nonsense")
    assert r.returncode == 2 and "unknown" in r.stderr and "Traceback" not in r.stderr
    r = run_proc("simulate", "--prefix", tmp_path / "x", "--variant", "chr17:1:T>C:0.1")
    assert r.returncode == 2 and "--fasta" in r.stderr


def test_fragment_counts_shortcut_equals_counting_the_bam(tmp_path):
    """benchmarks use simulate.fragment_counts for replicates; it must equal `dnadx count` on the BAM."""
    from dnadx.sim.bam_write import write_bam
    from dnadx.sim.plasma import SimSpec, fragment_counts, simulate
    from dnadx.sim.profiles import get_profile, resolve_events
    sizes = reference.chrom_sizes()
    lengths = dict(zip(sizes["chrom"], sizes["length"].astype(int)))
    events = resolve_events(get_profile("basal"), arms=reference.arms(), genes=reference.genes())
    spec = SimSpec(events=tuple(events), tumour_fraction=0.4, fragments=30000, seed=4, chroms=("chr8", "chr17"))
    sim = simulate(spec, reference.fine_bins(), events, lengths)
    write_bam(sim.fragments, tmp_path / "f.bam", chrom_lengths=lengths, read_length=100, paired=True)
    counted, _ = count_reads(tmp_path / "f.bam")
    direct = fragment_counts(sim, lengths)
    assert counted["count"].tolist() == direct["count"].tolist()


def test_artefacts_on_the_command_line(tmp_path):
    """What real plasma has: a plateau GC response with a steep high-GC drop, empty and extreme 500 kb bins,
    and systematic bin effects from a table, all recorded in the truth."""
    effects = tmp_path / "effects.tsv"
    effects.write_text("chr\tstart\tend\tmedian\n22\t20000001\t20500000\t1.0\n")  # ichorCNA layout, 1-based
    assert run_cli("simulate", "--prefix", tmp_path / "a", "--chroms", "chr22", "--fragments", 40000, "--seed", 5,
                   "--gc-shape", "plateau", "--empty-bins", 0.05, "--extreme-bins", 0.05,
                   "--bin-effects", effects, "--region-sd", 0.02) == 0
    truth = json.loads((tmp_path / "a.truth.json").read_text())
    art = truth["artefacts"]
    assert art["region_sd"] == 0.02
    assert art["gc_response"]["shape"] == "plateau" and 0.38 <= art["gc_response"]["peak"] <= 0.50
    assert 0.03 <= art["overdispersion"] <= 0.10 and art["bin_effects_bins"] == 50
    assert art["empty_blocks"] and art["extreme_blocks"]
    assert run_cli("count", tmp_path / "a.bam", "--prefix", tmp_path / "a") == 0
    counts = pd.read_csv(tmp_path / "a.counts.tsv.gz", sep="\t")
    c22 = counts[counts["chrom"] == "chr22"]
    for block in art["empty_blocks"]:
        start = int(block.split(":")[1]) * 500_000
        assert c22.loc[(c22["start"] >= start) & (c22["start"] < start + 500_000), "count"].sum() == 0
    # +1 log2 at chr22:20.0-20.5 Mb: about twice the reads of its neighbours (if not made empty/extreme)
    near = c22[(c22["start"] >= 19_000_000) & (c22["start"] < 22_000_000)].assign(b=lambda d: d["start"] // 500_000)
    per = near.groupby("b")["count"].sum()
    if "chr22:40" not in art["empty_blocks"] + art["extreme_blocks"]:
        assert per[40] > 1.4 * np.median(per.drop(40))


def test_binned_counts_match_fragment_counts_in_distribution():
    """The fast path used by the benchmarks draws the same per-bin expectation as simulating fragments."""
    from dnadx.sim.artefacts import Artefacts
    from dnadx.sim.plasma import SimSpec, binned_counts, fragment_counts, simulate
    fine = reference.fine_bins("GRCh38")
    sizes = reference.chrom_sizes("GRCh38")
    lengths = dict(zip(sizes["chrom"], sizes["length"].astype(int)))
    spec = SimSpec(tumour_fraction=0.0, fragments=200_000, seed=3, chroms=("chr17", "chr19"),
                   artefacts=Artefacts(gc_shape="skewed", overdispersion=0.0))
    fast, _ = binned_counts(spec, fine, [])
    slow = fragment_counts(simulate(spec, fine, [], lengths), lengths)
    f = fast.groupby("chrom")["count"].sum()
    s = slow[slow["chrom"].isin(["chr17", "chr19"])].groupby("chrom")["count"].sum()
    assert abs(f["chr17"] / f.sum() - s["chr17"] / s.sum()) < 0.01
    assert abs(f.sum() - s.sum()) / s.sum() < 0.02


def test_region_offsets_are_the_samples_own_and_leave_the_other_draws_alone():
    """``region_sd``: each 40 Mb region of a sample moved by its own N(0, sd) log2 offset; without it the weights
    are those of before (its draws come from their own generator)."""
    from dnadx.sim.artefacts import REGION_MB, Artefacts, log_weights
    fine = reference.fine_bins("GRCh38")
    fine = fine[fine["chrom"].isin([f"chr{i}" for i in range(1, 23)])].reset_index(drop=True)
    base, truth0 = log_weights(Artefacts(gc_shape="skewed", overdispersion=0.0), fine, 11)
    moved, truth = log_weights(Artefacts(gc_shape="skewed", overdispersion=0.0, region_sd=0.02), fine, 11)
    again, _ = log_weights(Artefacts(gc_shape="skewed", overdispersion=0.0, region_sd=0.02), fine, 12)
    assert truth["region_sd"] == 0.02 and truth0["region_sd"] == 0.0
    region = (fine["chrom"] + ":" + (fine["start"] // int(REGION_MB * 1e6)).astype(str)).to_numpy()
    shift = pd.Series((moved - base) / np.log(2)).groupby(region)
    assert (shift.std().fillna(0) < 1e-9).all()  # one offset per region
    offsets = shift.first()
    assert len(offsets) > 60 and 0.015 < offsets.std() < 0.025, offsets.std()
    base12, _ = log_weights(Artefacts(gc_shape="skewed", overdispersion=0.0), fine, 12)
    other = pd.Series((again - base12) / np.log(2)).groupby(region).first()
    assert abs(np.corrcoef(offsets, other.reindex(offsets.index))[0, 1]) < 0.3  # another sample, its own offsets
    kept, _ = log_weights(Artefacts(gc_shape="skewed", overdispersion=0.0), fine, 11)
    np.testing.assert_array_equal(kept, base)
