"""Faults: a killed `dnadx run` resumes to identical results; full disk, unwritable output folder and
corrupt count/panel files give one clear message and no partial files."""

from __future__ import annotations

import errno
import gzip
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from dnadx.core import io
from tests.helpers import run_cli, run_proc
from tests.helpers import assert_fails  # exit code, one line, no traceback

SAMPLES = ("S1", "S2", "S3")
STEP_DONE = re.compile(r"^\[\d+/\d+\] count:(\S+): done$")


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Three small whole-genome plasma samples (no normals) and a clean, uninterrupted run of them."""
    d = tmp_path_factory.mktemp("faults")
    for i, s in enumerate(SAMPLES, 1):
        assert run_cli("simulate", "--prefix", d / s, "--profile", "erbb2", "--tumor-fraction", 0.2,
                       "--fragments", 150000, "--seed", 40 + i, "--sample", s) == 0
    (d / "samplesheet.csv").write_text("sample,bam\n" + "".join(f"{s},{s}.bam\n" for s in SAMPLES))
    r = run_proc("run", "--input", d / "samplesheet.csv", "--outdir", d / "clean", "--cores", 2)
    assert r.returncode == 0, r.stderr
    return d


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden temporary files included) except provenance and runner state."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".dnadx" not in p.relative_to(folder).parts and p.name != "provenance.json"}


def _digest(folder: Path) -> dict[str, str]:
    return {k: hashlib.sha256(v).hexdigest() for k, v in _files(folder).items()}


def test_killed_run_resumes_to_identical_outputs(batch):
    out = batch / "killed"
    # own session: the SIGKILL reaches the runner and its worker processes, as a killed job would
    proc = subprocess.Popen([sys.executable, "-m", "dnadx", "run", "--input", str(batch / "samplesheet.csv"),
                             "--outdir", str(out), "--cores", "2"], stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    seen, first_done = [], None
    try:
        for line in proc.stderr:
            seen.append(line.rstrip("\n"))
            if STEP_DONE.match(seen[-1]):
                os.killpg(proc.pid, signal.SIGKILL)
                first_done = STEP_DONE.match(seen[-1]).group(1)  # which sample's count finished first depends on load
                break
    finally:
        proc.wait(timeout=120)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, "\n".join(seen)
    assert not (out / "summary.tsv").exists()

    clean = _files(batch / "clean")
    # whatever the killed run left under a final name is complete (identical to the clean run's file);
    # anything else is a hidden temporary file
    for name, data in _files(out).items():
        if Path(name).name.startswith("."):
            assert name.endswith(".part"), name
        else:
            assert data == clean[name], f"{name}: partial or different output left by the killed run"
    # a step is marked done only when all its outputs are there
    stamps = list((out / ".dnadx" / "stamps").glob("*.json"))
    assert stamps, "the first count step finished before the kill, so it has a stamp"
    for stamp in stamps:
        argv = json.loads(stamp.read_text())["argv"]
        prefix = Path(argv[argv.index("--prefix") + 1])
        assert any(prefix.parent.glob(prefix.name + ".*")), stamp

    # a temporary file as a kill during a write leaves it (whether this kill did depends on timing)
    (out / first_done / f".{first_done}.counts.tsv.gz.k1ll3d_x.part").write_bytes(b"\x1f\x8b partial")
    r = run_proc("run", "--input", batch / "samplesheet.csv", "--outdir", out, "--cores", 2)
    assert r.returncode == 0, r.stderr
    assert any(line.endswith("count:" + name + ": up to date, skipped") for line in r.stderr.splitlines()
               for name in SAMPLES), r.stderr
    assert _digest(out) == _digest(batch / "clean")


def _start_and_signal(batch, out: Path, sig: int) -> tuple[subprocess.Popen, list[str]]:
    """Start `dnadx run` in its own session; send ``sig`` to the runner alone (not its process group)
    as soon as one count step is done, while the other is still being counted."""
    proc = subprocess.Popen([sys.executable, "-m", "dnadx", "run", "--input", str(batch / "samplesheet.csv"),
                             "--outdir", str(out), "--cores", "2"], stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    seen = []
    for line in proc.stderr:
        seen.append(line.rstrip("\n"))
        if STEP_DONE.match(seen[-1]):
            os.kill(proc.pid, sig)
            break
    return proc, seen


def _group(pgid: int) -> list[int]:
    """Live processes of process group ``pgid`` (from /proc; zombies count as gone)."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                pids.append(int(d.name))
    return pids


def _assert_no_partial_outputs(batch, out: Path) -> None:
    clean = _files(batch / "clean")
    for name, data in _files(out).items():
        assert not Path(name).name.startswith("."), f"{name}: temporary file left behind"
        assert data == clean[name], f"{name}: partial or different output left by the stopped run"


def _assert_lock_free(out: Path) -> None:
    import fcntl
    with open(out / ".dnadx" / "lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError while anything still holds it
        fcntl.flock(fh, fcntl.LOCK_UN)


def test_sigterm_stops_workers_and_releases_the_lock(batch):
    out = batch / "terminated"
    proc, seen = _start_and_signal(batch, out, signal.SIGTERM)
    try:
        seen += proc.stderr.read().splitlines()
        proc.wait(timeout=60)
    finally:
        proc.stderr.close()
        leftover = _group(proc.pid)  # the runner's workers shared its process group
        for pid in leftover:
            os.kill(pid, signal.SIGKILL)
    assert leftover == [], "workers outlived their runner"
    assert proc.returncode == 128 + signal.SIGTERM, "\n".join(seen)
    assert "stopped by SIGTERM" in seen[-1] and "Traceback" not in "\n".join(seen), seen
    assert not (out / "summary.tsv").exists()
    _assert_no_partial_outputs(batch, out)
    _assert_lock_free(out)  # a second run can start at once (that a resumed run reproduces the
    # uninterrupted run's outputs byte for byte is test_killed_run_resumes_to_identical_outputs)


def test_sigkilled_runner_leaves_no_orphan_workers(batch):
    out = batch / "sigkilled"
    proc, seen = _start_and_signal(batch, out, signal.SIGKILL)
    proc.stderr.close()  # an orphan would hold the pipe open: do not read to its end
    proc.wait(timeout=60)
    try:
        for _ in range(200):  # the workers get the parent-death signal; allow them 10 s to go
            leftover = _group(proc.pid)
            if not leftover:
                break
            time.sleep(0.05)
    finally:
        for pid in _group(proc.pid):
            os.kill(pid, signal.SIGKILL)
    assert leftover == [], "orphaned workers of a SIGKILLed runner are still running (and hold the lock)"
    _assert_lock_free(out)


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_full_disk_is_a_clear_error(batch, tmp_path, monkeypatch, capsys):
    counts = batch / "clean" / "S1" / "S1.counts.tsv.gz"
    monkeypatch.setattr(gzip.GzipFile, "write", _no_space)
    monkeypatch.setattr(Path, "write_bytes", _no_space)
    assert run_cli("cnv", counts, "--prefix", tmp_path / "p") == 5
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("dnadx cnv: error: ") and "no space left on device" in err[-1], err
    assert "free disk space" in err[-1]
    assert list(tmp_path.iterdir()) == []  # neither a final file nor a temporary one is left


def test_full_disk_in_run_is_a_clear_error(batch, tmp_path, monkeypatch, capsys):
    # the runner's workers are forked, so they inherit the full disk too
    monkeypatch.setattr(gzip.GzipFile, "write", _no_space)
    monkeypatch.setattr(Path, "write_bytes", _no_space)
    out = tmp_path / "o"
    assert run_cli("run", "--input", batch / "samplesheet.csv", "--outdir", out, "--cores", 2) == 5
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err), err
    # one message: the step, its sample, the file it could not write, the fix; the batch stops there
    m = re.fullmatch(r"dnadx run: error: count of sample (S\d) failed: (\S+): no space left on device; "
                     r"free disk space and re-run(; [12] other step\(s\) failed the same way)? \(the batch was "
                     r"stopped; finished steps are kept and a re-run of the same command resumes from them\)", err[-1])
    assert m, err
    assert Path(m.group(2)).parent == out / m.group(1), err  # the file the failed step was writing
    assert not any(": done" in line or line.startswith("[") and "cnv:" in line for line in err), err
    assert sum("FAILED (exit 5: " in line for line in err) in (1, 2, 3), err
    left = [p for p in out.rglob("*") if p.is_file() and ".dnadx" not in p.relative_to(out).parts]
    assert left == []


def test_unwritable_outdir(batch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run_proc("run", "--input", batch / "samplesheet.csv", "--outdir", blocker / "out")
    assert r.returncode == 5 and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "is a file" in r.stderr and "output folder" in r.stderr
    r = run_proc("cnv", batch / "clean" / "S1" / "S1.counts.tsv.gz", "--prefix", blocker / "p")
    assert r.returncode == 5 and "Traceback" not in r.stderr and "is a file" in r.stderr, r.stderr


# ------------------------------------------------------------------ corrupt counts and panels

def _counts(batch) -> pd.DataFrame:
    return pd.read_csv(batch / "clean" / "S1" / "S1.counts.tsv.gz", sep="\t")


def test_truncated_gzip_counts(batch, tmp_path):
    data = (batch / "clean" / "S1" / "S1.counts.tsv.gz").read_bytes()
    bad = tmp_path / "t.counts.tsv.gz"
    bad.write_bytes(data[: len(data) // 2])
    assert_fails(run_proc("cnv", bad, "--prefix", tmp_path / "o"), 2, str(bad), "truncated or corrupt gzip")
    assert not list(tmp_path.glob("o.*"))


@pytest.mark.parametrize("value,needle", [("nan", "row 12: field 'count'"), (-5, "row 12: field 'count'"),
                                          ("inf", "row 12: field 'count'"), (1e30, "non-negative integer")])
def test_bad_count_values(batch, tmp_path, value, needle):
    df = _counts(batch).head(50).astype({"count": object})  # the value check comes first: a short table will do
    df.loc[10, "count"] = value
    path = tmp_path / "v.counts.tsv.gz"
    io.write_tsv(df, path)
    assert_fails(run_proc("cnv", path, "--prefix", tmp_path / "o"), 2, str(path), needle)
    assert not list(tmp_path.glob("o.*"))


def test_counts_of_another_build(batch, tmp_path):
    r = run_proc("cnv", batch / "clean" / "S1" / "S1.counts.tsv.gz", "--prefix", tmp_path / "o", "--genome", "GRCh37")
    assert_fails(r, 2, "another genome build", "--genome")
    assert not list(tmp_path.glob("o.*"))


def test_panel_of_another_bin_size(batch, tmp_path):
    # a 1 Mb panel (imported from an ichorCNA-style table) against the default 500 kb analysis
    rows = ["chr\tstart\tend\tmedian"] + [f"17\t{s * 1_000_000 + 1}\t{(s + 1) * 1_000_000}\t0.01" for s in range(40)]
    (tmp_path / "ichor.tsv").write_text("\n".join(rows) + "\n")
    assert run_cli("pon", tmp_path / "ichor.tsv", "--ichor", "--prefix", tmp_path / "mb", "--bin-size", 1_000_000) == 0
    r = run_proc("cnv", batch / "clean" / "S1" / "S1.counts.tsv.gz", "--prefix", tmp_path / "o",
                 "--pon", tmp_path / "mb.pon.tsv.gz")
    assert_fails(r, 2, "1000000 bp bins", "500000")
    assert not list(tmp_path.glob("o.*"))


@pytest.mark.parametrize("case", ["row_repeated", "file_appended_to_itself", "wig_block_repeated"])
def test_duplicated_bins_are_named(batch, tmp_path, case):
    df = _counts(batch)
    if case == "row_repeated":  # the bin of row 5002 (file line) again right after it
        bad, path = pd.concat([df.iloc[:5001], df.iloc[5000:]]), tmp_path / "d.counts.tsv.gz"
        needles = ("row 5003: bin chr1:50000000-50010000 appears twice (first at row 5002)",)
    elif case == "file_appended_to_itself":
        bad, path = pd.concat([df, df]), tmp_path / "d.counts.tsv.gz"
        needles = (f"row {len(df) + 2}: bin chr1:0-10000 appears twice (first at row 2)", "concatenated")
    else:  # two readCounter WIGs concatenated: the chr21 block twice
        bad, path = df[df["chrom"] == "chr21"], tmp_path / "d.counts.wig"
        needles = ("bin chr21:0-10000 appears twice",)
    if case == "wig_block_repeated":
        io.write_wig(bad, tmp_path / "one.wig")
        path.write_text((tmp_path / "one.wig").read_text() * 2)
    else:
        io.write_tsv(bad, path)
    r = run_proc("cnv", path, "--prefix", tmp_path / "o")
    assert_fails(r, 2, str(path), *needles, "re-create the counts with `dnadx count`")
    assert "genome build" not in r.stderr
    assert not list(tmp_path.glob("o.*"))
