"""De novo consensus clustering (dnadx/groups/consensus.py) and the `dnadx cluster` command."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from dnadx.groups import consensus
from dnadx.core import io
from dnadx.sim.segments import simulated_batch
from tests.helpers import run_cli, run_proc

PROFILES = ("erbb2", "basal", "luminal", "flat")
TFS = (0.10, 0.15, 0.20, 0.30, 0.40, 0.50)


def _adjusted(batch) -> pd.DataFrame:
    return pd.DataFrame({k: v[0].set_index("segment_id")["score_adjusted"] for k, v in batch.items()}).T


@pytest.fixture(scope="module")
def mixed():
    """24 samples: 4 profiles x tumour fractions 0.10-0.50."""
    return simulated_batch([(p, tf) for p in PROFILES for tf in TFS], seed=21)


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory, mixed):
    """The mixed batch as `<id>.dnadx.tsv` + `<id>.score.json` files."""
    d = tmp_path_factory.mktemp("batch")
    for name, (tab, prof, tf) in mixed.items():
        io.write_tsv(tab, d / f"{name}.dnadx.tsv")
        io.write_json({"tumor_fraction": tf, "erbb2_call": "amplified" if prof == "erbb2" else "neutral"},
                      d / f"{name}.score.json")
    return d


def test_consensus_recovers_the_simulated_profiles(mixed):
    res = consensus.consensus_cluster(_adjusted(mixed), seed=1)
    truth = [mixed[s][1] for s in res.samples]
    assert adjusted_rand_score(truth, res.labels) >= 0.8
    assert res.k == 4
    ev = res.evidence.set_index("k")
    assert ev.loc[res.k, "chosen"] and ev["pac"].notna().all()


def test_consensus_is_deterministic(mixed):
    a = consensus.consensus_cluster(_adjusted(mixed), seed=3, n_resamples=30)
    b = consensus.consensus_cluster(_adjusted(mixed), seed=3, n_resamples=30)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.stability, b.stability)


def test_too_small_batch_is_reported_not_clustered():
    adj = _adjusted(simulated_batch([("erbb2", 0.3), ("basal", 0.3)], seed=1))
    res = consensus.consensus_cluster(adj)
    assert res.k == 0 and (res.labels == 0).all() and "too small" in res.note


def test_three_samples_cluster_with_a_caveat():
    adj = _adjusted(simulated_batch([("erbb2", 0.3), ("erbb2", 0.4), ("basal", 0.3)], seed=1))
    res = consensus.consensus_cluster(adj, n_resamples=30)
    assert res.k == 2 and "small batch" in res.note
    assert res.labels[0] == res.labels[1] != res.labels[2]


def test_choose_k_prefers_the_finest_stable_partition_without_singletons():
    ev = pd.DataFrame({"k": [2, 3, 4, 5], "pac": [0.0, 0.01, 0.0, 0.0], "min_cluster_size": [6, 6, 6, 1]})
    assert consensus.choose_k(ev) == 4
    ev = pd.DataFrame({"k": [2, 3], "pac": [0.3, 0.05], "min_cluster_size": [2, 2]})
    assert consensus.choose_k(ev) == 3


def test_cluster_description_names_the_erbb2_amplicon(mixed):
    adj = _adjusted(mixed)
    labels = np.array([1 if mixed[s][1] == "erbb2" else 2 for s in adj.index])
    desc = consensus.describe_clusters(adj, labels, n=3)
    top = desc[desc["cluster"] == 1].iloc[0]
    assert "17q12.amp.ERBB2" in top["segment_id"] and top["direction"] == "higher"


def test_cli_writes_clusters_json_and_heatmap(batch_dir, tmp_path):
    inputs = sorted(batch_dir.glob("*.dnadx.tsv"))
    assert run_cli("cluster", *inputs, "--prefix", tmp_path / "cohort", "--resamples", 40) == 0
    tab = pd.read_csv(tmp_path / "cohort.clusters.tsv", sep="\t")
    assert list(tab.columns[:5]) == ["sample", "group", "group_confidence", "cluster", "cluster_stability"]
    assert len(tab) == len(inputs) and tab["cluster"].notna().all()
    truth = tab["sample"].str.split("_").str[0]
    assert adjusted_rand_score(truth, tab["cluster"]) >= 0.8
    ev = json.loads((tmp_path / "cohort.clusters.json").read_text())
    assert ev["k"] == 4 and len(ev["k_selection"]["evidence"]) == 7
    assert all(c["distinctive_segments"] for c in ev["clusters"])
    assert (tmp_path / "cohort.heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_without_annotation_says_insufficient_information(batch_dir, tmp_path):
    for i, src in enumerate(sorted(batch_dir.glob("*.dnadx.tsv"))[:3]):
        (tmp_path / f"s{i}.dnadx.tsv").write_bytes(src.read_bytes())
    assert run_cli("cluster", *sorted(tmp_path.glob("*.dnadx.tsv")), "--prefix", tmp_path / "c", "--no-heatmap") == 0
    tab = pd.read_csv(tmp_path / "c.clusters.tsv", sep="\t")
    assert (tab["group"] == "insufficient_information").all() and (tab["erbb2_call"] == "unknown").all()
    assert not (tmp_path / "c.heatmap.png").exists()


def test_cli_uses_cnv_json_when_no_score_json(batch_dir, tmp_path):
    src = sorted(batch_dir.glob("basal*.dnadx.tsv"))[-1]
    for i in range(3):
        (tmp_path / f"s{i}.dnadx.tsv").write_bytes(src.read_bytes())
        io.write_json({"tumor_fraction": 0.5}, tmp_path / f"s{i}.cnv.json")
    assert run_cli("cluster", *sorted(tmp_path.glob("*.dnadx.tsv")), "--prefix", tmp_path / "c", "--no-heatmap") == 0
    tab = pd.read_csv(tmp_path / "c.clusters.tsv", sep="\t")
    assert (tab["group"] == "basal-like").all() and (tab["tumor_fraction"] == 0.5).all()


def _broken(tmp_path, batch_dir, edit):
    src = sorted(batch_dir.glob("*.dnadx.tsv"))[0]
    df = pd.read_csv(src, sep="\t")
    df = edit(df)
    path = tmp_path / "bad.dnadx.tsv"
    df.to_csv(path, sep="\t", index=False)
    return path


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.iloc[:-1], "535 segment rows, expected 536"),
    (lambda d: d.assign(score_adjusted=d["score_adjusted"].astype(object).where(d.index != 4, "high")),
     "row 6: field 'score_adjusted' must be a number"),
    (lambda d: d.drop(columns="score_raw"), "missing column(s) score_raw"),
    (lambda d: d.iloc[::-1], "row 2: segment_id"),
])
def test_cli_rejects_broken_inputs_with_one_clear_message(tmp_path, batch_dir, edit, message):
    bad = _broken(tmp_path, batch_dir, edit)
    proc = run_proc("cluster", bad, "--prefix", tmp_path / "c")
    assert proc.returncode == 2
    assert message in proc.stderr and "bad.dnadx.tsv" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "c.clusters.tsv").exists()


def test_cli_rejects_bad_names_duplicates_and_bad_tumour_fraction(tmp_path, batch_dir):
    src = sorted(batch_dir.glob("*.dnadx.tsv"))[0]
    wrong = tmp_path / "x.tsv"
    wrong.write_bytes(src.read_bytes())
    proc = run_proc("cluster", wrong, "--prefix", tmp_path / "c")
    assert proc.returncode == 2 and "<sample>.dnadx.tsv" in proc.stderr
    proc = run_proc("cluster", src, src, "--prefix", tmp_path / "c")
    assert proc.returncode == 2 and "more than once" in proc.stderr
    (tmp_path / "t.dnadx.tsv").write_bytes(src.read_bytes())
    io.write_json({"tumor_fraction": 1.7}, tmp_path / "t.score.json")
    proc = run_proc("cluster", tmp_path / "t.dnadx.tsv", "--prefix", tmp_path / "c")
    assert proc.returncode == 2 and "t.score.json" in proc.stderr and "tumor_fraction" in proc.stderr


def test_matplotlib_is_imported_lazily():
    code = "import sys, dnadx.cli.cluster, dnadx.groups.consensus, dnadx.groups.model; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_cli_with_samples_below_the_score_limit(batch_dir, tmp_path):
    """`dnadx score` leaves score_adjusted empty below tumour fraction 0.05 (flat profiles)."""
    srcs = sorted(batch_dir.glob("*.dnadx.tsv"))
    for src in srcs[:6]:
        (tmp_path / src.name).write_bytes(src.read_bytes())
        (tmp_path / src.name.replace(".dnadx.tsv", ".score.json")).write_bytes(
            (batch_dir / src.name.replace(".dnadx.tsv", ".score.json")).read_bytes())
    for i in range(2):
        df = pd.read_csv(srcs[0], sep="\t").assign(score_adjusted=float("nan"))
        df.to_csv(tmp_path / f"low{i}.dnadx.tsv", sep="\t", index=False)
        io.write_json({"tumor_fraction": 0.0, "erbb2_call": "not_assessable"}, tmp_path / f"low{i}.score.json")
    assert run_cli("cluster", *sorted(tmp_path.glob("*.dnadx.tsv")), "--prefix", tmp_path / "c", "--resamples", 30) == 0
    tab = pd.read_csv(tmp_path / "c.clusters.tsv", sep="\t").set_index("sample")
    assert (tab.loc[["low0", "low1"], "group"] == "insufficient_tumour_fraction").all()
    assert tab.loc["low0", "cluster"] == tab.loc["low1", "cluster"]
