"""Reference bundle: integrity, aggregation, and FASTA-derived GC against the shipped GC."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from dnadx.core import reference
from dnadx.count.bins import aggregate
from dnadx.count.gc import gc_from_sequence, gc_table

ROOT = Path(__file__).resolve().parents[2]


def test_bundle_checksums_match_manifest():
    assert reference.verify_checksums() == []


def test_build_script_is_deterministic(tmp_path):
    src = ROOT.parent / "shared" / "reference-sources"
    if not src.exists():
        import pytest
        pytest.skip("reference sources not present beside the checkout")
    subprocess.run([sys.executable, ROOT / "reference/build/build_bundle.py", src, tmp_path], check=True,
                   capture_output=True)
    # build_targets.py adds its own rows to the same MANIFEST (variants issue): every row this
    # script writes must be in the shipped MANIFEST, unchanged
    shipped = set((ROOT / "reference/MANIFEST.tsv").read_text().splitlines())
    assert set((tmp_path / "MANIFEST.tsv").read_text().splitlines()) <= shipped


def test_bundle_contents():
    for g, chr1 in (("GRCh38", 248956422), ("GRCh37", 249250621)):
        sizes = reference.chrom_sizes(g)
        assert len(sizes) == 24 and int(sizes.iloc[0]["length"]) == chr1
        fine = reference.fine_bins(g)
        assert len(fine) == sum(-(-int(n) // 10_000) for n in sizes["length"])
        assert fine["mappability"].between(0, 1).all()
        genes = reference.genes(g)
        erbb2 = genes[genes["symbol"] == "ERBB2"].iloc[0]
        assert erbb2["chrom"] == "chr17"
    seg = reference.segment_genes()
    assert seg["segment_index"].nunique() == 536
    amp = seg[seg["segment_id"] == "chr17:35067383-35272328.BeroukhimS2.17q12.amp.ERBB2"]
    assert sorted(amp["entrez_id"]) == sorted([10948, 8557, 5409, 93210, 2064, 84299, 2886, 22806])


def test_aggregate_weights_gc_by_sequence():
    fine = pd.DataFrame({"chrom": "chr1", "start": [0, 10, 20, 30], "end": [10, 20, 30, 35],
                         "gc": [0.4, np.nan, 0.6, 0.5], "mappability": [1.0, 0.0, 0.5, 1.0], "count": [1, 2, 3, 4]})
    out = aggregate(fine, 20)
    assert out["start"].tolist() == [0, 20] and out["end"].tolist() == [20, 35]
    assert out["count"].tolist() == [3, 7]
    assert np.allclose(out["gc"], [0.4, (0.6 * 10 + 0.5 * 5) / 15])
    assert np.allclose(out["mappability"], [0.5, (0.5 * 10 + 1.0 * 5) / 15])


def test_gc_from_sequence_counts_acgt_only():
    seq = "GGCCAATTNN" + "N" * 10 + "gcgA"
    gc = gc_from_sequence(seq, 10)
    assert np.isnan(gc[1]) and gc[0] == 0.5 and gc[2] == 0.75


def test_fasta_gc_agrees_with_shipped_gc(small_bam):
    """The simulated FASTA follows the shipped 10 kb GC; recomputing GC from it must agree."""
    fasta = small_bam.with_suffix(".fa")
    with pysam.FastaFile(str(fasta)) as fa:
        lengths = dict(zip(fa.references, fa.lengths))
        table = gc_table(fa.fetch, lengths, 500_000)
    shipped = aggregate(reference.fine_bins("GRCh38").query("chrom in ['chr21', 'chr22']"), 500_000)
    merged = table.merge(shipped, on=["chrom", "start"], suffixes=("_fa", "_ref")).dropna(subset=["gc_fa", "gc_ref"])
    assert len(merged) > 150
    diff = (merged["gc_fa"] - merged["gc_ref"]).abs()
    assert diff.median() < 0.002 and diff.max() < 0.02


def test_readme_lists_every_checksum():
    text = (ROOT / "reference/README.md").read_text()
    for rel, sha in zip(reference.manifest()["file"], reference.manifest()["sha256"]):
        assert f"`{rel}` | `{sha}`" in text
