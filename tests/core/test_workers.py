"""`dnadx run`'s long-lived worker processes: one sample's failure, bug or crashed worker fails that sample
only; the others go on through later waves on the same (or a re-forked) worker."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from dnadx.core.workers import WorkerPool, death_message
from dnadx.pipeline import RunConfig, Step, run_steps


def _fake_stage(argv: list[str]) -> tuple[int, str]:
    """A stand-in for `dnadx <stage>`: argv = [behaviour, output file, input file or ""]."""
    kind, out, needs = argv
    if kind == "crash":  # as the out-of-memory killer would
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "bug":
        raise ZeroDivisionError("division by zero")
    if kind == "user":
        return 4, f"{out}: contains no reads"
    Path(out).write_text(f"{os.getpid()} {Path(needs).read_text() if needs else ''}")
    return 0, ""


def test_pool_reports_each_step_and_replaces_a_dead_worker(tmp_path):
    argvs = [["ok", str(tmp_path / f"{i}"), ""] for i in range(6)]
    argvs[2][0] = "crash"
    with WorkerPool(2, _fake_stage) as pool:
        results = {r.index: (r.code, r.message) for r in pool.run(argvs)}
        idle = pool._workers[0].process  # killed from outside between two waves, while idle
        idle.kill()
        idle.join()
        again = [(r.index, r.code, r.message) for r in pool.run([["ok", str(tmp_path / "later"), ""]])]
    assert results[2] == (1, "worker process killed by SIGKILL (out of memory?) while running this step")
    assert all(results[i] == (0, "") for i in (0, 1, 3, 4, 5))
    assert again == [(0, 0, "")]
    pids = {(tmp_path / f"{i}").read_text().split()[0] for i in (0, 1, 3, 4, 5)}
    assert len(pids) <= 3 and str(os.getpid()) not in pids  # steps ran in workers, not one process each


def test_one_sample_failing_in_any_way_leaves_the_others_to_finish(tmp_path):
    behaviour = {"A": "ok", "B": "crash", "C": "bug", "D": "user", "E": "ok"}
    first = [Step(f"count:{s}", [kind, str(tmp_path / f"{s}.1"), ""], [], [tmp_path / f"{s}.1"], s)
             for s, kind in behaviour.items()]
    second = [Step(f"cnv:{s}", ["ok", str(tmp_path / f"{s}.2"), str(tmp_path / f"{s}.1")], [tmp_path / f"{s}.1"],
                   [tmp_path / f"{s}.2"], s) for s in behaviour]
    logged = []
    failed = run_steps(RunConfig(outdir=tmp_path / "out", cores=2), [first, second], execute=_fake_stage,
                       log=logged.append)
    assert failed == {"B": "count failed: " + death_message(-signal.SIGKILL),
                      "C": "count failed: ZeroDivisionError: division by zero",
                      "D": f"count failed: {tmp_path / 'D.1'}: contains no reads"}
    assert sorted(p.name for p in tmp_path.glob("*.2")) == ["A.2", "E.2"]
    assert sum(": done" in line for line in logged) == 4 and sum("FAILED" in line for line in logged) == 3
    assert not any("cnv:B" in line or "cnv:C" in line or "cnv:D" in line for line in logged), logged


def test_death_message_names_the_signal():
    assert death_message(-signal.SIGSEGV) == "worker process killed by SIGSEGV while running this step"
    assert death_message(3) == "worker process exited (code 3) while running this step"
