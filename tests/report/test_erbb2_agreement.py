"""The five ERBB2 transitions of issue 18 (and a healthy later timepoint) give one answer in
`dnadx variants --previous-cnv` (resistance.tsv), summary.tsv (erbb2_call, resistance) and the report
(transitions in report.html and the MultiQC longitudinal table)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dnadx.scores import erbb2
from tests.helpers import run_cli
from tests.helpers.erbb2case import erbb2_case, write_case
from tests.scores.test_erbb2_rule import TRANSITIONS

CASES = dict(TRANSITIONS, amp_to_healthy=(TRANSITIONS["amp_to_gain"][0], (0.0, 2, 2_000_000, (0.0, 0.02)),
                                          "not_assessable", False))


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    d = tmp_path_factory.mktemp("erbb2_agree")
    assert run_cli("simulate", "--prefix", d / "bam", "--chroms", "chr17", "--fragments", 3000, "--seed", 2) == 0
    results, sheet = d / "results", ["sample,patient,timepoint,type"]
    for case, (a, b, _, _) in sorted(CASES.items()):
        previous = []
        for tp, (tf, copy, width, ci) in ((1, a), (2, b)):
            sample = f"{case}_T{tp}"
            json_path = write_case(results / sample, *erbb2_case(sample, tf, copy, width=width, ci=ci, seed=tp))
            argv = ["variants", d / "bam.bam", "--prefix", results / sample / sample, "--cnv", json_path]
            assert run_cli(*argv, *(["--previous-cnv", *previous] if previous else [])) == 0
            previous.append(json_path)
            sheet.append(f"{sample},{case},{tp},plasma")
    (d / "sheet.csv").write_text("\n".join(sheet) + "\n")
    assert run_cli("report", results, "--samplesheet", d / "sheet.csv") == 0
    summary = pd.read_csv(results / "summary.tsv", sep="\t", dtype=str).fillna("").set_index("sample")
    mqc = json.loads((results / "multiqc" / "dnadx_longitudinal_mqc.json").read_text())["data"]
    return results, summary, mqc, (results / "report.html").read_text()


@pytest.mark.parametrize("case", sorted(CASES))
def test_one_answer_in_variants_summary_and_report(batch, case):
    results, summary, mqc, html = batch
    _, _, event, flagged = CASES[case]
    t2 = f"{case}_T2"
    res = pd.read_csv(results / t2 / f"{t2}.resistance.tsv", sep="\t", dtype=str).fillna("")
    cn = res[(res["level"] == "copy_number") & (res["gene"] == "ERBB2")]
    change = cn[~cn["alteration"].isin(["amplification", "copy loss"])].iloc[0]
    # variants: the change row is called (and named by its event) exactly when the rule flags it
    assert (change["status"] == "called") == flagged, change["detail"]
    assert change["detail"].startswith(event + ":"), change["detail"]
    if flagged:
        assert change["alteration"] == erbb2.EVENTS[event]
    # report: the same event for the same pair of samples
    row = mqc[f"{case}: {case}_T1 -> {t2}"]
    assert (row["event"], row["flagged"]) == (event, "yes" if flagged else "no")
    assert f"<td>{event}</td>" in html
    # summary.tsv: erbb2_call matches variants' amplification/loss rows, resistance names the flagged change
    for sample in (f"{case}_T1", t2):
        r = pd.read_csv(results / sample / f"{sample}.resistance.tsv", sep="\t", dtype=str).fillna("")
        rows = r[(r["level"] == "copy_number") & (r["gene"] == "ERBB2")].set_index("alteration")["status"]
        call = summary.loc[sample, "erbb2_call"]
        assert (rows["amplification"] == "called") == (call == "amplified")
        assert (rows["copy loss"] == "called") == (call == "loss")
        assert (rows["amplification"] == "not_assessable") == (call == "not_assessable")
        line = summary.loc[sample, "resistance"]
        assert ("ERBB2 amplification" in line) == (call == "amplified"), line
        assert ("ERBB2 copy loss" in line) == (call == "loss"), line
    assert (erbb2.EVENTS.get(event, "?") in summary.loc[t2, "resistance"]) == flagged


def test_healthy_timepoint_reads_no_erbb2_event(batch):
    _, summary, _, _ = batch
    row = summary.loc["amp_to_healthy_T2"]
    assert row["erbb2_call"] == "not_assessable"
    assert "ERBB2" not in row["resistance"], row["resistance"]
