"""Long-lived worker processes for `dnadx run`: forked once per run, each runs one step at a time in-process.

A worker imports what its steps need once and keeps it (the reference tables are cached per process,
`dnadx.core.reference`), so a step costs its own work only, not a Python start-up and imports (issue 19).

Why not `concurrent.futures.ProcessPoolExecutor`: when one of its workers dies (killed by the kernel's
out-of-memory killer, a segfault in a C extension) the whole pool breaks and every step still queued fails
with BrokenProcessPool, so one sample's crash would fail the others. Here the runner hands a worker one
step at a time, so it knows which step a dead worker held: that step alone fails, with the signal named,
and a fresh worker is forked for the steps left.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Callable, Iterable, Iterator

Execute = Callable[[list[str]], "tuple[int, str]"]


def worker_init(runner_pid: int) -> None:
    """In each forked worker: the runner alone handles ^C and SIGTERM (it stops its workers); a worker
    dies at once on SIGTERM, and also when the runner dies, even by SIGKILL (Linux parent-death signal),
    so no orphan keeps the inherited output-folder lock or writes after its runner is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        import ctypes
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != runner_pid:  # the runner died before the death signal was armed
        os.kill(os.getpid(), signal.SIGTERM)


def run_one(execute: Execute, argv: list[str]) -> tuple[int, str]:
    """``execute(argv)`` with anything it raises turned into (exit code, message): an unexpected exception
    (a bug) is exit 1 with its type and message, as the runner has always reported it."""
    try:
        code, detail = execute(argv)
        return int(code), str(detail)
    except SystemExit as exc:  # argparse on a command line the runner should never build
        return (exc.code if isinstance(exc.code, int) else 2), f"invalid command line: {' '.join(argv)}"
    except Exception as exc:
        return 1, f"{type(exc).__name__}: {exc}"


def death_message(exitcode: int | None) -> str:
    """Why a worker process ended while running a step (``exitcode``: multiprocessing's, negative = signal)."""
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name if -exitcode in signal.valid_signals() else f"signal {-exitcode}"
        hint = " (out of memory?)" if exitcode == -signal.SIGKILL else ""
        return f"worker process killed by {name}{hint} while running this step"
    return f"worker process exited (code {exitcode}) while running this step"


@dataclass(frozen=True)
class Result:
    """One finished step: its index in the argvs given to `WorkerPool.run`, exit code, error message (or ""),
    wall-clock seconds from hand-out to result, and CPU seconds of the worker (0 if it died)."""
    index: int
    code: int
    message: str
    wall_s: float
    cpu_s: float


@dataclass(eq=False)
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection  # the runner's end of the worker's pipe
    task: int | None = None  # index of the step it runs (None: idle)
    started: float = 0.0  # time.perf_counter() at hand-out


class WorkerPool:
    """``size`` forked worker processes running ``execute(argv)`` one step at a time.

    Use as a context manager; `run` can be called many times (the workers live until the pool closes).
    """

    def __init__(self, size: int, execute: Execute):
        self.size = max(1, size)
        self.execute = execute
        self._ctx = multiprocessing.get_context("fork")  # workers inherit the runner's state (and test patches)
        self._runner = os.getpid()
        self._workers: list[_Worker] = []
        self._cancelled = False

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=self._serve, args=(child,), name=f"dnadx-worker-{len(self._workers) + 1}")
        proc.start()
        child.close()
        worker = _Worker(proc, parent)
        self._workers.append(worker)
        return worker

    def _serve(self, conn: Connection) -> None:
        """The worker's loop (in the child): receive an argv, run it, send back (exit code, message, CPU s)."""
        worker_init(self._runner)
        for other in self._workers:  # the other workers' pipe ends, inherited by the fork
            other.conn.close()
        while True:
            try:
                argv = conn.recv()
            except EOFError:
                return
            if argv is None:
                return
            cpu = time.process_time()
            code, message = run_one(self.execute, argv)
            conn.send((code, message, time.process_time() - cpu))

    def cancel(self) -> None:
        """Hand out no further step of the current `run` (steps already running finish and are reported)."""
        self._cancelled = True

    def run(self, argvs: Iterable[list[str]]) -> Iterator[Result]:
        """Run every argv; yield each one's `Result` as it finishes, in finishing order."""
        queue = deque(enumerate(argvs))
        self._cancelled = False
        while True:
            while queue and not self._cancelled:
                worker = next((w for w in self._workers if w.task is None), None)
                if worker is None and len(self._workers) < self.size:
                    worker = self._spawn()
                if worker is None:
                    break
                task, argv = queue.popleft()
                try:
                    worker.conn.send(argv)
                except OSError:  # it died while idle (killed from outside): reap it, the step goes to another
                    self._reap(worker)
                    queue.appendleft((task, argv))
                    continue
                worker.task, worker.started = task, time.perf_counter()
            busy = [w for w in self._workers if w.task is not None]
            if not busy:
                return
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy]))
            for w in busy:
                if w.conn not in ready and w.process.sentinel not in ready:
                    continue
                task, (code, message, cpu) = w.task, self._result(w)
                w.task = None
                yield Result(task, code, message, time.perf_counter() - w.started, cpu)

    def _result(self, w: _Worker) -> tuple[int, str, float]:
        """The finished step's (exit code, message, CPU seconds); a dead worker is reaped and replaced later."""
        try:
            if w.conn.poll():
                return w.conn.recv()
        except (EOFError, OSError):
            pass
        self._reap(w)
        return 1, death_message(w.process.exitcode), 0.0

    def _reap(self, w: _Worker) -> None:
        """Forget a dead worker (a fresh one is forked when a step needs it)."""
        w.process.join()
        w.conn.close()
        self._workers.remove(w)

    def kill(self, grace: float = 5.0) -> None:
        """SIGTERM every worker, SIGKILL those still alive after ``grace`` seconds (the runner was stopped)."""
        for w in self._workers:
            w.process.terminate()
        for w in self._workers:
            w.process.join(grace)
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
        self._close_conns()

    def close(self) -> None:
        """Ask idle workers to exit and wait for them; a worker that does not go is killed."""
        for w in self._workers:
            with contextlib.suppress(OSError):
                w.conn.send(None)
        for w in self._workers:
            w.process.join(10)
        self.kill()

    def _close_conns(self) -> None:
        for w in self._workers:
            w.conn.close()
        self._workers.clear()
