"""`dnadx score` command line: output files and their contract, and clear errors on bad input."""

from __future__ import annotations

import json

import pandas as pd

from dnadx.core import io
from tests.helpers import run_cli, run_proc
from tests.scores.test_score import synthetic_cnv


def _write_cnv(tmp_path, profile="erbb2", tf=0.3, **kw):
    bins, cnv = synthetic_cnv(profile, tf, seed=21, **kw)
    bins["drop_reason"] = ["" if u else "low_mappability" for u in bins["usable"]]
    io.write_tsv(bins, tmp_path / "s.bins.tsv.gz")
    io.write_json(dict(cnv, files={"bins": "s.bins.tsv.gz", "seg": "s.seg"}), tmp_path / "s.cnv.json")
    return tmp_path / "s.cnv.json"


def test_score_writes_the_three_outputs(tmp_path):
    cnv = _write_cnv(tmp_path)
    assert run_cli("score", cnv, "--prefix", tmp_path / "out" / "s") == 0
    scores = pd.read_csv(tmp_path / "out" / "s.dnadx.tsv", sep="\t")
    assert list(scores.columns) == ["segment_index", "segment_id", "n_genes", "n_genes_mapped", "n_genes_used",
                                    "score_raw", "score_adjusted"]
    assert len(scores) == 536
    # Only Y.p has no value: a female profile has no chrY bins (Y.q's genes include X/PAR loci).
    assert scores.loc[scores["score_raw"].isna(), "segment_id"].tolist() == ["Y.p.wholearm.chrY:1-12000000"]
    genes = pd.read_csv(tmp_path / "out" / "s.genes.tsv.gz", sep="\t")
    assert {"entrez_id", "symbol", "log2", "usable_bins", "flag"} <= set(genes.columns)
    assert (genes["flag"].fillna("") == "no_usable_bin").any()  # 3% of bins were dropped
    s = json.loads((tmp_path / "out" / "s.score.json").read_text())
    for key in ("erbb2_log2", "erbb2_copy_number", "erbb2_copy_number_ci", "erbb2_call", "erbb2_amplicon_score",
                "her2_dna_probability", "predictions", "predictions_input"):
        assert key in s, key
    assert s["erbb2_call"] == "amplified" and s["her2_dna_probability"] > 0.7
    assert s["predictions"]["pam50_lumb"]["exploratory"] is True
    assert s["files"] == {"genes": "s.genes.tsv.gz", "dnadx": "s.dnadx.tsv"}
    # Deterministic: a second run gives identical bytes.
    assert run_cli("score", cnv, "--prefix", tmp_path / "again" / "s") == 0
    for name in ("s.dnadx.tsv", "s.genes.tsv.gz", "s.score.json"):
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "again" / name).read_bytes()


def test_score_errors_name_the_file_and_field(tmp_path):
    (tmp_path / "nobins.cnv.json").write_text(json.dumps({"sample": "x", "tumor_fraction": 0.2}))
    r = run_proc("score", tmp_path / "nobins.cnv.json", "--prefix", tmp_path / "o")
    assert r.returncode == 2 and "no 'files.bins' entry" in r.stderr and "Traceback" not in r.stderr
    io.write_tsv(pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [10]}), tmp_path / "bad.bins.tsv.gz")
    (tmp_path / "bad.cnv.json").write_text(json.dumps({"files": {"bins": "bad.bins.tsv.gz"}}))
    r = run_proc("score", tmp_path / "bad.cnv.json", "--prefix", tmp_path / "o")
    assert r.returncode == 2 and "bad.bins.tsv.gz: missing column(s) usable, segment, segment_log2" in r.stderr
    r = run_proc("score", tmp_path / "absent.cnv.json", "--prefix", tmp_path / "o")
    assert r.returncode == 2 and "absent.cnv.json: file not found" in r.stderr
