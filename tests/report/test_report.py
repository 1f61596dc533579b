"""`dnadx report` on fixtures: graceful degradation, escaping, summary/MultiQC contents, CLI errors.

Fixtures in tests/data/report/ are real outputs of cnv/score/variants/cluster (see its README).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from dnadx.core import io
from dnadx.report import multiqc
from dnadx.report.build import build_report
from dnadx.report.html import render
from dnadx.report.summary import group_of, resistance_summary
from tests.helpers import run_cli, run_proc

DATA = Path(__file__).resolve().parents[1] / "data" / "report"


def meta(sample, patient="P1", tp="1", kind="plasma"):
    return {"sample": sample, "patient": patient, "timepoint": tp, "type": kind}


def tiny_png() -> bytes:
    import io as _io

    import matplotlib.image as mpimg
    import numpy as np
    buf = _io.BytesIO()
    mpimg.imsave(buf, np.eye(8), format="png")
    return buf.getvalue()


def full_sample():
    return {"meta": meta("P1_T1"), "cnv": io.read_json(DATA / "P1_T1.cnv.json"),
            "score": io.read_json(DATA / "P1_T1.score.json"), "dnadx": io.read_tsv(DATA / "P1_T1.dnadx.tsv"),
            "resistance": io.read_tsv(DATA / "P1_T1.resistance.tsv"), "bins": None, "cnv_png": None,
            "count_qc": None}


def test_nothing_but_metadata_renders_and_fails_qc():
    rep = build_report([{"meta": meta("X1")}], {})
    page = render(rep)
    assert rep.summary.loc[0, "qc_status"] == "fail"
    assert "no copy-number output" in rep.summary.loc[0, "qc_reasons"]
    for stage in ("dnadx cnv: not run", "dnadx score: not run", "dnadx variants: not run", "dnadx cluster: not run"):
        assert stage in page
    assert rep.stages == {"cnv": "not run", "score": "not run", "cluster": "not run", "variants": "not run"}


def test_cnv_only_says_not_run_for_the_optional_stages():
    s = {"meta": meta("P1_T1"), "cnv": io.read_json(DATA / "P1_T1.cnv.json")}
    rep = build_report([s], {})
    page = render(rep)
    assert "dnadx score: not run" in page and "dnadx variants: not run" in page and "dnadx cluster: not run" in page
    # the one ERBB2 rule reads the bins table: without it (and without score.json) nothing can be called,
    # and summary.tsv says so rather than leaving the call empty
    assert rep.samples[0]["erbb2"]["call"] == rep.summary.loc[0, "erbb2_call"] == "not_assessable"
    assert "no copy-number bins" in rep.samples[0]["erbb2"]["call_reason"]


def test_erbb2_call_from_cnv_and_bins_without_score():
    from tests.helpers.erbb2case import erbb2_case
    cnv, bins = erbb2_case("P1_T1", 0.3, 10)
    rep = build_report([{"meta": meta("P1_T1"), "cnv": cnv, "bins": bins}], {})
    assert rep.samples[0]["erbb2"]["call"] == rep.summary.loc[0, "erbb2_call"] == "amplified"
    assert rep.samples[0]["erbb2"]["call_source"] == "copy number (dnadx cnv)"


def test_all_optional_outputs_present():
    clusters = io.read_tsv(DATA / "cohort.clusters.tsv")
    rep = build_report([full_sample()], {"clusters": clusters, "heatmap": tiny_png()})
    row = rep.summary.iloc[0]
    assert row["erbb2_call"] == "amplified" and row["group"] == "ERBB2-amplified"
    assert row["resistance"] == "ERBB2 amplification"
    assert row["her2_dna_probability"] == pytest.approx(0.810415, abs=1e-4)
    page = render(rep)
    assert "not run" not in page.split("id='methods'")[0]
    assert "Largest |score_adjusted|" in page and "17q12.amp.ERBB2" in page
    # model-card caveats and exploratory models marked
    assert "Research use only" in page and re.search(r'<tr class="na"><td>pam50_her2', page)
    # resistance: not_assessable rows keep their explanation
    assert "too low to call point mutations" in page
    assert "cohort heatmap" in page


def test_values_are_escaped():
    s = full_sample()
    s["resistance"].loc[0, "detail"] = "<script>alert(1)</script>"
    page = render(build_report([s], {}))
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_low_tf_timepoint_after_amplified_is_not_assessable_with_real_score_outputs():
    t2 = {"meta": meta("P1_T2", tp="2"), "cnv": io.read_json(DATA / "P1_T2.cnv.json"),
          "score": io.read_json(DATA / "P1_T2.score.json")}
    rep = build_report([full_sample(), t2], {})
    t = rep.transitions
    assert t["event"].tolist() == ["not_assessable"] and not t["flagged"].any()


def test_summary_helpers():
    res = io.read_tsv(DATA / "P1_T1.resistance.tsv")
    assert resistance_summary(res) == "ERBB2 amplification"
    none = res[res["status"] != "called"]
    assert resistance_summary(none) == "none called (point mutations not assessable)"
    assert resistance_summary(None) is None
    clusters = io.read_tsv(DATA / "cohort.clusters.tsv")
    assert group_of(clusters, "P2_T1")["group"] == "basal-like"
    assert group_of(clusters, "nope") is None and group_of(None, "P2_T1") is None


def test_multiqc_files():
    rep = build_report([full_sample(), {"meta": meta("P9", "P9")}], {})
    files = multiqc.files(rep.summary, rep.transitions, {"P1_T1": "amplified", "P9": "not_assessable"})
    gs = files["dnadx_general_stats_mqc.json"]
    assert gs["plot_type"] == "generalstats"
    assert gs["data"]["P1_T1"]["tumor_fraction"] == pytest.approx(0.295, abs=1e-3)
    assert gs["data"]["P9"] == {}  # nothing measured: no invented zeros
    tab = files["dnadx_summary_mqc.json"]
    assert tab["id"] == "dnadx_summary" and tab["data"]["P9"]["qc_status"] == "fail"
    assert "dnadx_longitudinal_mqc.json" not in files
    json.dumps(files)  # serialisable as written


def copy_flat(tmp_path: Path, names) -> Path:
    d = tmp_path / "results"
    d.mkdir()
    for n in names:
        shutil.copy(DATA / n, d / n)
    return d


def test_cli_writes_outputs_and_survives_a_corrupt_optional_file(tmp_path):
    d = copy_flat(tmp_path, ["P1_T1.cnv.json", "P1_T1.score.json", "P1_T1.dnadx.tsv", "P1_T2.cnv.json"])
    (d / "P1_T2.score.json").write_text("{not json")
    r = run_proc("report", d)
    assert r.returncode == 0, r.stderr
    assert "P1_T2.score.json: unreadable" in r.stderr
    s = pd.read_csv(d / "summary.tsv", sep="\t")
    assert s["sample"].tolist() == ["P1_T1", "P1_T2"]  # discovered from the cnv.json files
    assert "unreadable, left out of the report" in (d / "report.html").read_text()
    assert sorted(p.name for p in (d / "multiqc").iterdir()) == ["dnadx_general_stats_mqc.json",
                                                                 "dnadx_summary_mqc.json"]


def test_cli_errors(tmp_path):
    r = run_proc("report", tmp_path / "missing")
    assert r.returncode == 2 and "results folder not found" in r.stderr and "Traceback" not in r.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run_proc("report", empty)
    assert r.returncode == 2 and "no samples found" in r.stderr
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("bam,patient\nx.bam,P\n")
    r = run_proc("report", empty, "--samplesheet", sheet)
    assert r.returncode == 2 and "'sample' column" in r.stderr


def test_report_is_deterministic(tmp_path):
    d = copy_flat(tmp_path, ["P1_T1.cnv.json", "P1_T1.score.json", "P1_T1.dnadx.tsv", "P1_T1.resistance.tsv",
                             "cohort.clusters.tsv"])
    assert run_cli("report", d) == 0
    first = {p.name: p.read_bytes() for p in [d / "report.html", d / "summary.tsv", *(d / "multiqc").iterdir()]}
    assert run_cli("report", d) == 0
    again = {p.name: p.read_bytes() for p in [d / "report.html", d / "summary.tsv", *(d / "multiqc").iterdir()]}
    assert first == again


def test_panel_self_check_names_a_normal_left_out_of_the_panel():
    """The methods section shows the panel's leave-one-out check and names a normal it left out of the panel."""
    loo = pd.DataFrame({"normal": ["N1", "N2", "N3", "N4"], "tumor_fraction": [0.0, 0.0, 0.0, 0.18],
                        "tumor_fraction_low": [0.0, 0.0, 0.0, 0.15], "tumor_fraction_high": [0.06, 0.05, 0.06, 0.21],
                        "ploidy": [2.0] * 4, "largest_altered_segment": ["", "", "", "chr1:1-2 CN 3"],
                        "largest_altered_mb": [0.0, 0.0, 0.0, 120.0], "flag": ["", "", "", "tumour_signal"],
                        "in_panel": [True, True, True, False]})
    page = render(build_report([full_sample()], {"pon_check": loo}))
    assert "Tumour signal in N4; left out of the panel: N4" in page
    loo["in_panel"] = True  # a panel of three keeps its flagged normal
    page = render(build_report([full_sample()], {"pon_check": loo}))
    assert "Tumour signal in N4:" in page and "left out of the panel: N4" not in page
    page = render(build_report([full_sample()], {"pon_check": loo.assign(flag="", tumor_fraction_low=0.0)}))
    assert "No normal shows tumour signal." in page


def test_an_ambiguous_ploidy_shows_its_competing_reading_in_the_overview():
    """The issue asks for ploidy_ambiguous in summary.tsv and in the report: the overview's ploidy cell carries the
    competing reading (before stop 32 only the parameters table said True)."""
    s = full_sample()
    s["cnv"] = dict(s["cnv"], ploidy=2.95, ploidy_ambiguous=True,
                    ploidy_alternatives=[{"tumor_fraction": 0.26, "ploidy": 2.0, "loglik": -70.0, "delta_loglik": -12.0,
                                          "tumor_fraction_ci": [0.24, 0.28]}])
    rep = build_report([s], {})
    assert rep.summary.loc[0, "ploidy_ambiguous"] == "TF 0.260 at ploidy 2.00"
    overview = render(rep).split("id='overview'")[1].split("<h2")[0]
    assert "2.95 <span class='na'>(ambiguous: TF 0.260 at ploidy 2.00)</span>" in overview
    plain = render(build_report([full_sample()], {})).split("id='overview'")[1].split("<h2")[0]
    assert "ambiguous" not in plain
