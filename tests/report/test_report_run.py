"""End to end: `dnadx run` on a tiny simulated batch, then `dnadx report`; the page rendered in
headless Chromium (Debian `chromium`) without console errors, with a screenshot.

Batch (300k fragments each, no panel of normals):
  patient A: T1 ERBB2-amplified (profile erbb2, TF 0.3) -> T2 basal-like (TF 0.3): amplicon gone, flagged
  patient B: T1 ERBB2-amplified (same BAM as A_T1)      -> T2 flat at TF 0.02: not_assessable, never a switch
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dnadx.scores import erbb2
from dnadx.variants import resistance
from tests.helpers import run_cli

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-logging=stderr", "--v=0"]
CONSOLE = re.compile(r":CONSOLE[:(]")


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    d = tmp_path_factory.mktemp("report_batch")
    for sample, profile, tf, seed in (("A_T1", "erbb2", 0.3, 11), ("A_T2", "basal", 0.3, 12),
                                      ("B_T2", "flat", 0.02, 14)):
        assert run_cli("simulate", "--prefix", d / sample, "--profile", profile, "--tumor-fraction", tf,
                       "--fragments", 300_000, "--seed", seed, "--sample", sample) == 0
    sheet = d / "sheet.csv"
    sheet.write_text("sample,bam,patient,timepoint,type\nA_T1,A_T1.bam,A,1,plasma\nA_T2,A_T2.bam,A,2,plasma\n"
                     "B_T1,A_T1.bam,B,1,plasma\nB_T2,B_T2.bam,B,2,plasma\n")
    out = d / "out"
    assert run_cli("run", "--input", sheet, "--outdir", out, "--cores", 2) == 0
    assert run_cli("report", out, "--samplesheet", sheet) == 0
    return out


def test_summary_has_one_row_per_sample_with_qc(batch):
    s = pd.read_csv(batch / "summary.tsv", sep="\t", dtype={"timepoint": str})
    assert s["sample"].tolist() == ["A_T1", "A_T2", "B_T1", "B_T2"]
    assert set(s["qc_status"]) <= {"pass", "warn", "fail"}
    b2 = s.set_index("sample").loc["B_T2"]
    assert b2["tumor_fraction_low"] < 0.05 and "copy-number calls not assessable" in b2["qc_reasons"]
    assert s.set_index("sample").loc["A_T1", "erbb2_copy_number"] >= 6


def test_amplicon_loss_flagged_and_low_tf_not(batch):
    lon = json.loads((batch / "multiqc" / "dnadx_longitudinal_mqc.json").read_text())["data"]
    a = lon["A: A_T1 -> A_T2"]
    assert a["event"] == "her2_switch_amplified_to_not" and a["flagged"] == "yes"
    b = lon["B: B_T1 -> B_T2"]
    assert b["event"] == "not_assessable" and b["flagged"] == "no"
    page = (batch / "report.html").read_text()
    flagged_rows = re.findall(r'<tr class="flag">(.*?)</tr>', page)
    assert any("A_T1" in r and "her2_switch_amplified_to_not" in r for r in flagged_rows)
    assert not any("B_T2" in r for r in flagged_rows)
    # `dnadx run` passed each patient's earlier timepoint to `dnadx variants --previous-cnv`: resistance.tsv
    # and summary.tsv give the same answers as the report
    summary = pd.read_csv(batch / "summary.tsv", sep="\t", dtype=str).fillna("").set_index("sample")
    for sample, event, flagged in (("A_T2", "her2_switch_amplified_to_not", True), ("B_T2", "not_assessable", False)):
        res = pd.read_csv(batch / sample / f"{sample}.resistance.tsv", sep="\t", dtype=str).fillna("")
        change = res[res["alteration"].isin([*erbb2.EVENTS.values(), resistance.CHANGE_ALTERATION])].iloc[0]
        assert change["detail"].startswith(event + ":") and (change["status"] == "called") == flagged
        assert ("HER2 switching" in summary.loc[sample, "resistance"]) == flagged
    assert summary.loc["A_T1", "erbb2_call"] == "amplified" and summary.loc["B_T2", "erbb2_call"] == "not_assessable"


def test_report_is_self_contained(batch):
    page = (batch / "report.html").read_text()
    refs = re.findall(r"""(?:src|href)\s*=\s*['"]([^'"]*)['"]""", page)
    assert refs, "no images or links found"
    assert all(r.startswith(("data:", "#")) for r in refs), [r for r in refs if not r.startswith(("data:", "#"))]
    assert "<script" not in page.lower()
    for name in ("A_T1", "B_T2"):
        assert f"id='s-{name}'" in page
    # methods: version and reference checksums
    assert "dnadx 0.1.0" in page and re.search(r"[0-9a-f]{64}", page)


def chromium_render(page: Path, shot: Path, profile: Path) -> tuple[int, list[str], str]:
    """Open ``page`` in headless Chromium, save a screenshot; return (exit code, console lines, stderr)."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("Chromium not found: install it with `apt-get install chromium` (Debian); CI installs it in .ci/run")
    proc = subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,3000",
                           f"--screenshot={shot}", page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=120)
    console = [ln for ln in proc.stderr.splitlines() if CONSOLE.search(ln)]
    return proc.returncode, console, proc.stderr


def test_chromium_detects_console_errors(tmp_path):
    """Negative control: the console check below would see a broken page."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'><title>x</title></head><body>"
                   "<script>console.error('boom'); notDefined();</script></body></html>")
    code, console, err = chromium_render(bad, tmp_path / "bad.png", tmp_path / "profile")
    assert code == 0, err[-2000:]
    assert any("boom" in ln for ln in console) and any("notDefined" in ln for ln in console)


def test_report_renders_in_chromium_without_console_errors(batch, tmp_path):
    shot = batch / "report.screenshot.png"
    code, console, err = chromium_render(batch / "report.html", shot, tmp_path / "profile")
    assert code == 0, err[-2000:]
    assert console == []
    import matplotlib.image as mpimg
    pixels = mpimg.imread(shot)
    assert pixels.shape[1] == 1280 and pixels.shape[0] >= 1000
    # something was drawn: the header bar is dark, the page white, the plots in between
    assert float(np.std(pixels[..., :3])) > 0.05
    assert float(pixels[:40, :, :3].mean()) < 0.4  # the dark header rendered with its CSS


def test_report_with_every_optional_stage_renders_in_chromium(tmp_path):
    """Fixture outputs of score/variants/cluster (tests/data/report): those sections render cleanly too."""
    data = Path(__file__).resolve().parents[1] / "data" / "report"
    d = tmp_path / "results"
    d.mkdir()
    for p in data.glob("P1_T1.*"):
        shutil.copy(p, d / p.name)
    shutil.copy(data / "cohort.clusters.tsv", d)
    assert run_cli("report", d) == 0
    page = (d / "report.html").read_text()
    assert "dnadx score: not run" not in page and "dnadx variants: not run" not in page
    code, console, err = chromium_render(d / "report.html", tmp_path / "shot.png", tmp_path / "profile")
    assert code == 0 and console == [], err[-2000:]


def test_flat_layout_and_sheet_without_bam(batch, tmp_path):
    """The Nextflow report process stages files flat with a sample,patient,timepoint,type sheet."""
    flat = tmp_path / "results"
    flat.mkdir()
    for p in batch.glob("*/*"):
        if p.is_file() and p.parent.name in {"A_T1", "A_T2", "B_T1", "B_T2"}:
            shutil.copy(p, flat / p.name)
    for p in batch.glob("cohort.*"):  # batch-level outputs (clusters) are staged too
        shutil.copy(p, flat / p.name)
    (flat / "samplesheet.csv").write_text("sample,patient,timepoint,type\nA_T1,A,1,plasma\nA_T2,A,2,plasma\n"
                                          "B_T1,B,1,plasma\nB_T2,B,2,plasma\n")
    assert run_cli("report", flat, "--multiqc-dir", flat) == 0
    assert (flat / "report.html").exists() and (flat / "dnadx_summary_mqc.json").exists()
    a = pd.read_csv(batch / "summary.tsv", sep="\t")
    b = pd.read_csv(flat / "summary.tsv", sep="\t")
    pd.testing.assert_frame_equal(a, b)
