"""Resistance annotation end to end on `dnadx count` + `dnadx cnv` outputs of simulated plasma."""

from __future__ import annotations

import pandas as pd
import pytest

from dnadx.core import io
from tests.helpers import run_cli


def _cnv_and_variants(bam, prefix, *extra) -> pd.DataFrame:
    assert run_cli("count", bam, "--prefix", prefix) == 0
    assert run_cli("cnv", f"{prefix}.counts.tsv.gz", "--prefix", prefix) == 0
    assert run_cli("variants", bam, "--prefix", prefix, "--cnv", f"{prefix}.cnv.json", *extra) == 0
    return pd.read_csv(f"{prefix}.resistance.tsv", sep="\t")


@pytest.fixture(scope="module")
def baseline(genome_bam, tmp_path_factory):
    """The session's whole-genome ERBB2-amplified plasma (tumour fraction 0.3, ~0.01x)."""
    d = tmp_path_factory.mktemp("her2")
    return d / "base", _cnv_and_variants(genome_bam, d / "base")


def test_low_pass_erbb2_amplification_from_copy_number(baseline):
    prefix, res = baseline
    cnv = io.read_json(f"{prefix}.cnv.json")
    amp = res[(res["level"] == "copy_number") & (res["alteration"] == "amplification")].iloc[0]
    assert amp["status"] == "called" and amp["copy_number"] >= 6
    assert amp["tumor_fraction"] == pytest.approx(cnv["tumor_fraction"]) and 0.2 < amp["tumor_fraction"] < 0.4
    # point mutations: not assessable at this depth, each with its depth; said once per sample
    assert (res["level"] == "sample").sum() == 1 and res.loc[res["level"] == "sample", "status"].iloc[0] == "not_assessable"
    snv = res[res["level"].isin(["gene", "hotspot"])]
    assert (snv["status"] == "not_assessable").all() and snv["depth"].notna().all()
    # no spurious losses in this profile (17p and ARID1B are copy 2)
    losses = res[(res["level"] == "copy_number") & res["alteration"].str.contains("loss")]
    assert set(losses["status"]) == {"not_detected"}


def test_her2_switching_and_17p_loss_in_a_later_sample(baseline, tmp_path):
    """Later sample of the same patient: basal-like (17p loss, no ERBB2 amplicon)."""
    prefix, _ = baseline
    assert run_cli("simulate", "--prefix", tmp_path / "later", "--profile", "basal", "--tumor-fraction", 0.3,
                   "--fragments", 200000, "--seed", 6) == 0
    res = _cnv_and_variants(tmp_path / "later.bam", tmp_path / "later", "--previous-cnv", f"{prefix}.cnv.json")
    cn = res[res["level"] == "copy_number"].set_index("alteration")
    switch = cn.loc["HER2 switching: amplified -> not amplified"]
    assert switch["status"] == "called" and "base" in switch["detail"] and "amplified" in switch["detail"]
    assert switch["detail"].startswith("her2_switch_amplified_to_not:")
    assert cn.loc["amplification", "status"] == "not_detected"
    assert cn.loc["17p loss", "status"] == "called" and cn.loc["17p loss", "copy_number"] == 1
    assert cn.loc["17p loss", "kb_id"] == "KB009"
    assert 0.2 < cn.loc["17p loss", "tumor_fraction"] < 0.4
