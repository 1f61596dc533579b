"""Reference bundle: integrity, aggregation, and FASTA-derived GC against the shipped GC."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest

from dnadx.core import reference
from dnadx.core.errors import ReferenceError_
from dnadx.scores import io as models_io
from dnadx.variants import vcf as vcf_io
from dnadx.count.bins import aggregate
from dnadx.count.gc import gc_from_sequence, gc_table
from tests.helpers import run_proc

ROOT = Path(__file__).resolve().parents[2]


def test_bundle_checksums_match_manifest():
    assert reference.verify_checksums() == []


def test_build_script_is_deterministic(tmp_path):
    src = ROOT.parent / "shared" / "reference-sources"
    if not src.exists():
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
        assert rel == "README.md" or f"`{rel}` | `{sha}`" in text  # the README's own sha256: MANIFEST.tsv only


def _bundle_manifest():
    """reference/build/bundle_manifest.py (a script folder, not a package), loaded by path."""
    spec = importlib.util.spec_from_file_location("bundle_manifest", ROOT / "reference/build/bundle_manifest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_manifest_covers_every_shipped_file():
    bm = _bundle_manifest()
    assert bm.stale(ROOT / "reference") == []
    listed = set(pd.read_csv(ROOT / "reference/MANIFEST.tsv", sep="\t")["file"])
    assert listed == set(bm.shipped_files(ROOT / "reference"))
    for rel in ("README.md", "polymorphisms.tsv", "resistance_kb.tsv", "models/arm_patterns.tsv", "models/models.tsv",
                "models/her2_status.coef.tsv", "models/MODEL_CARD.md", "models/groups/model.tsv"):
        assert rel in listed, rel
    assert not {f for f in listed if f.startswith("build/") or f == "MANIFEST.tsv"}  # not shipped / itself


def test_manifest_check_catches_planted_changes(tmp_path, monkeypatch):
    """A temp copy of the bundle with an unlisted file, a changed model, a changed README and a deleted table:
    the check names each, `dnadx` refuses the changed model at first use, `make manifest`'s code repairs it."""
    bm = _bundle_manifest()
    ref = tmp_path / "reference"
    shutil.copytree(ROOT / "reference", ref, ignore=shutil.ignore_patterns("__pycache__"))
    assert bm.stale(ref) == []
    (ref / "models/groups/extra.tsv").write_text("x\n")
    coef = ref / "models/her2_status.coef.tsv"
    coef.write_bytes(coef.read_bytes().replace(b"\t", b"\t1", 1))
    with open(ref / "README.md", "a") as fh:
        fh.write("an edit\n")
    (ref / "polymorphisms.tsv").unlink()
    (ref / "build" / "scratch.py").write_text("")  # build/ is not shipped: not reported
    assert bm.stale(ref) == ["models/groups/extra.tsv: not in MANIFEST.tsv",
                             "polymorphisms.tsv: listed in MANIFEST.tsv but absent",
                             "README.md: sha256/bytes differ from MANIFEST.tsv",
                             "models/her2_status.coef.tsv: sha256/bytes differ from MANIFEST.tsv"]
    r = subprocess.run([sys.executable, ref / "build/bundle_manifest.py", "--check", ref], capture_output=True,
                       text=True)
    assert r.returncode == 1 and "out of date (4 file(s)); run `make manifest`" in r.stderr
    assert f"{ref / 'models/groups/extra.tsv'}: not in MANIFEST.tsv" in r.stderr

    monkeypatch.setenv("DNADX_REFERENCE", str(ref))
    with pytest.raises(ReferenceError_, match="her2_status.coef.tsv: changed since the bundle was built"):
        models_io.shipped_models_dir()
    n = len(bm.shipped_files(ROOT / "reference"))
    r = run_proc("reference")  # the changed README and model and the missing table, of every listed file
    assert r.returncode == 3 and f"checksums: {n - 3}/{n} files match MANIFEST.tsv" in r.stdout
    assert "README.md: missing or changed since the bundle was built (3 file(s)" in r.stderr

    with open(ref / "resistance_kb.tsv", "a") as fh:  # the variant tables are checked at first use too
        fh.write("\n")
    with pytest.raises(ReferenceError_, match="resistance_kb.tsv: changed since the bundle was built"):
        vcf_io.read_kb()
    with pytest.raises(ReferenceError_, match="polymorphisms.tsv: missing; rebuild with reference/build/build_pol"):
        vcf_io.read_polymorphisms("GRCh38")

    (ref / "build" / "scratch.py").unlink()
    assert subprocess.run([sys.executable, ref / "build/bundle_manifest.py", ref], capture_output=True).returncode == 0
    assert bm.stale(ref) == []
    assert "models/groups/extra.tsv" in (ref / "MANIFEST.tsv").read_text().split()
    assert "`models/groups/extra.tsv`" in (ref / "README.md").read_text()
