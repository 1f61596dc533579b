"""`dnadx run` end to end on a small simulated batch: outputs, summary contract, resume, lock, errors;
plus the `dnadx pon`/`dnadx cnv` command lines."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from dnadx.cli import COMMANDS
from dnadx.core.samplesheet import read_samplesheet
from dnadx.pipeline import RunConfig, plan
from dnadx.report.summary import COLUMNS
from tests.helpers import assert_fails, run_cli, run_proc

BATCH = [("N1", "normal", "flat", 0.0, 11), ("N2", "normal", "flat", 0.0, 12), ("N3", "normal", "flat", 0.0, 13),
         ("P1", "plasma", "erbb2", 0.3, 21), ("P2", "plasma", "flat", 0.0, 22)]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    d = tmp_path_factory.mktemp("batch")
    rows = ["sample,bam,patient,timepoint,type"]
    for sample, kind, profile, tf, seed in BATCH:
        assert run_cli("simulate", "--prefix", d / sample, "--profile", profile, "--tumor-fraction", tf,
                       "--fragments", 300000, "--seed", seed, "--sample", sample) == 0
        rows.append(f"{sample},{sample}.bam,{sample[:2]},1,{kind}")
    (d / "samplesheet.csv").write_text("\n".join(rows) + "\n")
    out = d / "results"
    assert run_cli("run", "--input", d / "samplesheet.csv", "--outdir", out, "--cores", 2) == 0
    return d, out


def _digest(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and ".dnadx" not in p.parts
            and p.name != "provenance.json"}


def test_outputs_and_summary_contract(batch):
    _, out = batch
    summary = pd.read_csv(out / "summary.tsv", sep="\t")
    assert list(summary.columns) == COLUMNS and list(summary["sample"]) == [b[0] for b in BATCH]
    p1 = summary.set_index("sample").loc["P1"]
    # 300k fragments, 3 normals: a smoke check; accuracy is tested in test_cnv_accuracy.py
    assert abs(p1["tumor_fraction"] - 0.3) < 0.05 and p1["tumor_fraction_low"] > 0.15
    assert p1["erbb2_copy_number"] >= 6
    assert summary.set_index("sample").loc["P2", "tumor_fraction"] == 0
    for s in ("P1", "N1"):
        cnv = json.loads((out / s / f"{s}.cnv.json").read_text())
        for key in ("tumor_fraction", "tumor_fraction_ci", "ploidy", "sex", "bin_size", "reads_kept"):
            assert key in cnv
        for kind in ("counts.tsv.gz", "count-qc.json", "bins.tsv.gz", "seg", "cnv.png"):
            assert (out / s / f"{s}.{kind}").exists()
    assert (out / s / f"{s}.cnv.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "pon" / "pon.pon.tsv.gz").exists()
    bins = pd.read_csv(out / "P1" / "P1.bins.tsv.gz", sep="\t")
    for col in ("raw_log2", "log2", "segment", "segment_log2", "copy_number", "usable", "drop_reason"):
        assert col in bins
    cnv = json.loads((out / "P1" / "P1.cnv.json").read_text())
    assert sum(cnv["dropped_bins"].values()) == int((bins["usable"] == 0).sum())


def _rerun_skips_all_and_reproduces(sheet, out):
    before = _digest(out)
    r = run_proc("run", "--input", sheet, "--outdir", out, "--cores", 2)
    assert r.returncode == 0, r.stderr
    steps = [line for line in r.stderr.splitlines() if line.startswith("[")]
    assert len(steps) >= 2 * len(BATCH) + 1 and all(line.endswith("up to date, skipped") for line in steps)
    assert _digest(out) == before


def test_resume_skips_and_reproduces(batch):
    d, out = batch
    _rerun_skips_all_and_reproduces(d / "samplesheet.csv", out)


def test_fresh_run_gives_identical_outputs(batch, tmp_path):
    d, out = batch
    assert run_cli("run", "--input", d / "samplesheet.csv", "--outdir", tmp_path / "again", "--cores", 1) == 0
    assert _digest(tmp_path / "again") == _digest(out)


def test_steps_as_separate_commands_give_the_same_bytes(batch, tmp_path):
    """Nextflow runs each step as its own `dnadx <stage>` process; `dnadx run` runs them in long-lived workers
    (many steps per process, reference tables cached in it): the same command lines must give the same bytes,
    images included. P2 is last in the sheet: each of its steps was handed to a worker that had already run
    a step of the same stage. (tests/nextflow/test_nf_processes.py compares the modules' task chain too.)"""
    d, out = batch
    sep = tmp_path / "separate"
    for kept in ("N1", "N2", "N3", "P1", "pon"):  # inputs of the steps below that other steps made
        shutil.copytree(out / kept, sep / kept)
    steps = [s for wave in plan(read_samplesheet(d / "samplesheet.csv"),
                                RunConfig(outdir=sep, available=frozenset(COMMANDS)))
             for s in wave if s.sample == "P2" or s.name == "cluster"]
    assert [s.name for s in steps] == ["count:P2", "cnv:P2", "score:P2", "variants:P2", "cluster"]
    for s in steps:
        r = run_proc(*s.argv)
        assert r.returncode == 0, r.stderr
    made = [p for s in steps for p in s.outputs]
    assert len(made) == 2 + 4 + 3 + 1 + 2
    for p in made:
        assert p.read_bytes() == (out / p.relative_to(sep)).read_bytes(), p


def test_second_concurrent_run_is_refused(batch):
    import fcntl
    d, out = batch
    with open(out / ".dnadx" / "lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        r = run_proc("run", "--input", d / "samplesheet.csv", "--outdir", out)
    assert r.returncode == 5 and "another `dnadx run`" in r.stderr


def test_samplesheet_problems_reported_together(batch, tmp_path):
    d, _ = batch
    sheet = tmp_path / "bad.csv"
    sheet.write_text("sample,bam,type\n"
                     f"ok,{d / 'P1.bam'},plasma\n"
                     f"ok,{d / 'P2.bam'},plasma\n"
                     f"x;rm -rf,{d / 'P1.bam'},plasma\n"
                     f"y,{d / 'missing.bam'},tumour\n")
    r = run_proc("run", "--input", sheet, "--outdir", tmp_path / "o")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    for needle in ("row 3: sample: 'ok' duplicates row 2", "row 4: sample", "row 5: bam", "row 5: type"):
        assert needle in r.stderr, r.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("name, encode", [
    ("excel.csv", lambda text: ("\ufeff" + text.replace("\n", "\r\n")).encode()),  # Excel "CSV UTF-8": BOM + CRLF
    ("sheet.tsv", lambda text: text.replace(",", "\t").encode()),
])
def test_samplesheet_as_people_save_it(batch, name, encode):
    """The batch's own sheet saved by Excel (BOM + CRLF) or as TSV describes the same batch: every step is
    up to date and the outputs (report included, re-made from the sheet) are unchanged."""
    d, out = batch
    sheet = d / name
    sheet.write_bytes(encode((d / "samplesheet.csv").read_text()))
    _rerun_skips_all_and_reproduces(sheet, out)


def test_utf16_samplesheet_is_one_clear_error(batch, tmp_path):
    d, _ = batch
    sheet = d / "unicode-text.csv"
    sheet.write_bytes((d / "samplesheet.csv").read_text().encode("utf-16"))
    r = run_proc("run", "--input", sheet, "--outdir", tmp_path / "o")
    assert_fails(r, 2, "unicode-text.csv: the samplesheet is UTF-16 text", "CSV UTF-8")
    assert r.stderr.startswith("dnadx run: error: ") and not (tmp_path / "o").exists()


def test_cnv_and_pon_command_lines(batch, tmp_path):
    _, out = batch
    counts = [out / s / f"{s}.counts.tsv.gz" for s in ("N1", "N2")]
    r = run_proc("pon", *counts, "--prefix", tmp_path / "x")
    assert r.returncode == 2 and "at least 3" in r.stderr
    r = run_proc("cnv", out / "P1" / "P1.counts.tsv.gz", "--prefix", tmp_path / "p", "--pon",
                 out / "pon" / "pon.pon.tsv.gz", "--bin-size", 1000000)
    assert r.returncode == 2 and "rebuild the panel with --bin-size 1000000" in r.stderr
    assert run_cli("cnv", out / "P1" / "P1.counts.tsv.gz", "--prefix", tmp_path / "p1mb", "--bin-size", 1000000) == 0
    cnv = json.loads((tmp_path / "p1mb.cnv.json").read_text())
    assert cnv["bin_size"] == 1_000_000 and abs(cnv["tumor_fraction"] - 0.3) < 0.05


def test_normals_called_against_the_others(batch):
    """Each normal's own row comes from a panel without it (issue 17); the self-check is in the pon
    outputs and the report, and agrees with the normal's own cnv.json."""
    _, out = batch
    loo = pd.read_csv(out / "pon" / "pon.pon-loo.tsv", sep="\t", dtype={"normal": str})
    meta = json.loads((out / "pon" / "pon.pon.json").read_text())
    assert sorted(loo["normal"]) == sorted(meta["normals"]) and len(loo) >= 3
    for name in loo["normal"]:
        own = json.loads((out / name / f"{name}.cnv.json").read_text())
        assert own["pon_left_out"] == name
        row = loo.set_index("normal").loc[name]
        assert own["tumor_fraction"] == pytest.approx(row["tumor_fraction"])
        assert own["tumor_fraction_ci"][1] == pytest.approx(row["tumor_fraction_high"])
    html = (out / "report.html").read_text()
    assert "leave-one-out self-check" in html
    summary = pd.read_csv(out / "summary.tsv", sep="\t")
    # every sample with copy number says whether its ploidy is ambiguous: "no" or the competing solutions
    assert summary["ploidy_ambiguous"].notna().all()
    assert summary["ploidy_ambiguous"].str.fullmatch(r"no|TF \d\.\d{3} at ploidy \d\.\d{2}(; TF .*)?").all()


def test_ichor_panel_import(tmp_path):
    rows = ["chr\tstart\tend\tmedian"] + [f"17\t{s * 500000 + 1}\t{(s + 1) * 500000}\t0.01" for s in range(10)]
    (tmp_path / "ichor.tsv").write_text("\n".join(rows) + "\n")
    assert run_cli("pon", tmp_path / "ichor.tsv", "--ichor", "--prefix", tmp_path / "i") == 0
    pon = pd.read_csv(tmp_path / "i.pon.tsv.gz", sep="\t")
    assert pon["usable"].sum() == 10 and (pon[pon["usable"] == 1]["chrom"] == "chr17").all()
    meta = json.loads((tmp_path / "i.pon.json").read_text())
    assert meta["missing_bins"] == len(pon) - 10


def test_a_step_run_by_other_code_is_not_up_to_date(tmp_path, monkeypatch):
    """A step's stamp holds dnadx's source: after an upgrade (same version string, other code) `dnadx run` reruns
    the step instead of keeping outputs the old code made (`make demo` had kept stop 29's panel after stop 30's change)."""
    from dnadx import pipeline

    inp, outp = tmp_path / "in.txt", tmp_path / "out.txt"
    inp.write_text("x")
    outp.write_text("y")
    step = pipeline.Step("count:S", ["count", str(inp)], [inp], [outp])
    cfg = RunConfig(outdir=tmp_path)
    stamp = pipeline._stamp_path(cfg, step)
    stamp.parent.mkdir(parents=True)
    stamp.write_text(json.dumps({"fingerprint": pipeline._fingerprint(step)}))
    assert pipeline.is_done(cfg, step)
    monkeypatch.setattr(pipeline, "code_fingerprint", lambda: "other code")
    assert not pipeline.is_done(cfg, step)
