"""`dnadx run`: every stage in-process for a samplesheet, parallel over samples, resumable.

Each step is the same `dnadx <stage> ...` command line a Nextflow module runs (so both paths give
identical outputs). A step is skipped when its outputs exist and its stamp (command line, dnadx's source and reference
bundle, size and mtime of every input) matches the previous run; outputs are written atomically and the stamp last,
so a killed run never leaves a step that looks complete.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import re
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from dnadx.core import params
from dnadx.core.errors import EnvironmentFault
from dnadx.core.samplesheet import Sample
from dnadx.core.workers import WorkerPool

MIN_PON_NORMALS = 3


@dataclass
class Step:
    name: str  # e.g. "cnv:P1"
    argv: list[str]
    inputs: list[Path]
    outputs: list[Path]
    sample: str | None = None
    drop_missing: bool = False  # batch step: run over the inputs that exist (failed samples left out)
    # inputs that may be missing (an earlier timepoint that failed): left out of argv, the step still runs
    optional: list[Path] = field(default_factory=list)


@dataclass
class RunConfig:
    outdir: Path
    genome: str = params.DEFAULT_GENOME
    fasta: Path | None = None
    pon: Path | None = None
    cores: int = 1
    bin_size: int = params.ANALYSIS_BIN_SIZE
    available: frozenset = field(default_factory=frozenset)  # stages the CLI provides


def sample_prefix(cfg: RunConfig, sample: str) -> Path:
    return cfg.outdir / sample / sample


def count_step(cfg, s: Sample) -> Step:
    p = sample_prefix(cfg, s.sample)
    argv = ["count", str(s.bam), "--prefix", str(p), "--threads", "1"]
    if cfg.fasta:
        argv += ["--fasta", str(cfg.fasta)]
    return Step(f"count:{s.sample}", argv, [s.bam] + ([s.index] if s.index else []),
                [Path(f"{p}.counts.tsv.gz"), Path(f"{p}.count-qc.json")], s.sample)


def pon_step(cfg, normals: list[Sample]) -> Step:
    p = cfg.outdir / "pon" / "pon"
    counts = [Path(f"{sample_prefix(cfg, s.sample)}.counts.tsv.gz") for s in normals]
    argv = ["pon", *map(str, counts), "--prefix", str(p), "--genome", cfg.genome, "--bin-size", str(cfg.bin_size)]
    return Step("pon", argv, counts, [Path(f"{p}.{k}") for k in ("pon.tsv.gz", "pon.json", "pon-normals.tsv.gz",
                                                                  "pon-loo.tsv")])


def cnv_step(cfg, s: Sample, pon: Path | None, *, leave_out: bool = False) -> Step:
    """``leave_out``: ``s`` is a normal of ``pon``; its own call uses the panel rebuilt without it."""
    p = sample_prefix(cfg, s.sample)
    argv = ["cnv", f"{p}.counts.tsv.gz", "--prefix", str(p), "--genome", cfg.genome, "--bin-size", str(cfg.bin_size),
            "--sample", s.sample]
    extra = []
    if pon:
        argv += ["--pon", str(pon)]
    if pon and leave_out:
        argv += ["--leave-out", s.sample]
        extra = [Path(str(pon)[: -len(".pon.tsv.gz")] + ".pon-normals.tsv.gz")]
    return Step(f"cnv:{s.sample}", argv, [Path(f"{p}.counts.tsv.gz")] + ([pon] if pon else []) + extra,
                [Path(f"{p}.{k}") for k in ("bins.tsv.gz", "seg", "cnv.png", "cnv.json")], s.sample)


def score_step(cfg, s: Sample) -> Step:
    p = sample_prefix(cfg, s.sample)
    return Step(f"score:{s.sample}", ["score", f"{p}.cnv.json", "--prefix", str(p)],
                [Path(f"{p}.cnv.json"), Path(f"{p}.bins.tsv.gz")],
                [Path(f"{p}.dnadx.tsv"), Path(f"{p}.score.json"), Path(f"{p}.genes.tsv.gz")], s.sample)


def variants_step(cfg, s: Sample, earlier: list[str] = ()) -> Step:
    """`dnadx variants`; ``earlier``: the patient's earlier timepoints (earliest first), passed as
    --previous-cnv for HER2 switching / ERBB2 loss (docs/variants.md)."""
    p = sample_prefix(cfg, s.sample)
    argv = ["variants", str(s.bam), "--prefix", str(p), "--cnv", f"{p}.cnv.json"]
    if cfg.fasta:
        argv += ["--fasta", str(cfg.fasta)]
    previous = [Path(f"{sample_prefix(cfg, e)}.{kind}") for e in earlier for kind in ("cnv.json", "bins.tsv.gz")]
    if previous:
        argv += ["--previous-cnv", *(str(x) for x in previous[::2])]
    outputs = [Path(f"{p}.resistance.tsv")] + ([Path(f"{p}.variants.vcf.gz")] if cfg.fasta else [])
    return Step(f"variants:{s.sample}", argv, [s.bam, Path(f"{p}.cnv.json")], outputs, s.sample, optional=previous)


def cluster_step(cfg, samples: list[Sample]) -> Step:
    """Batch clustering over every sample's scores, files in name order (as the Nextflow process)."""
    tsvs = sorted((Path(f"{sample_prefix(cfg, s.sample)}.dnadx.tsv") for s in samples), key=lambda p: p.name)
    jsons = [p.with_name(p.name.replace(".dnadx.tsv", ".score.json")) for p in tsvs]
    p = cfg.outdir / "cohort"
    return Step("cluster", ["cluster", *map(str, tsvs), "--prefix", str(p)], tsvs + jsons,
                [Path(f"{p}.clusters.tsv"), Path(f"{p}.clusters.json")], drop_missing=True)


def plan(samples: list[Sample], cfg: RunConfig) -> list[list[Step]]:
    """Steps in waves: every step of a wave can run in parallel once the previous waves are done."""
    normals = [s for s in samples if s.type == "normal"]
    waves = [[count_step(cfg, s) for s in samples]]
    pon, built = cfg.pon, False
    if pon is None and len(normals) >= MIN_PON_NORMALS:
        step = pon_step(cfg, normals)
        waves.append([step])
        pon, built = step.outputs[0], True
    # a normal of the panel built here is called against the others only (never a panel that contains it)
    waves.append([cnv_step(cfg, s, pon, leave_out=built and s.type == "normal") for s in samples])
    later = []
    if "score" in cfg.available:
        later += [score_step(cfg, s) for s in samples]
    if "variants" in cfg.available:
        from dnadx.report.longitudinal import earlier_timepoints
        earlier = earlier_timepoints([vars(s) for s in samples])
        later += [variants_step(cfg, s, earlier.get(s.sample, [])) for s in samples]
    if later:
        waves.append(later)
    if "score" in cfg.available and "cluster" in cfg.available:
        waves.append([cluster_step(cfg, samples)])
    return waves


def detect_builds(samples: list[Sample], fasta: Path | None = None) -> dict[str, str | None]:
    """Each sample's genome build from its BAM/CRAM header contig lengths (cheap: header only).

    None for a BAM that cannot be opened or matches no build: its `count` step reports that problem
    for that sample alone, as before.
    """
    from dnadx.count.bam import open_alignment
    from dnadx.core.errors import DnadxError
    from dnadx.core.reference import genome_from_lengths
    builds: dict[str, str | None] = {}
    for s in samples:
        try:
            with open_alignment(s.bam, fasta=fasta) as bam:
                builds[s.sample] = genome_from_lengths(dict(zip(bam.references, bam.lengths)))
        except DnadxError:
            builds[s.sample] = None
    return builds


def _drop_missing_optional(step: Step) -> None:
    """Leave optional inputs that do not exist (an earlier timepoint whose cnv failed) out of the step's
    argv; the optional inputs' option comes last in argv and is dropped when it is left without values."""
    gone = {str(p) for p in step.optional if not Path(p).exists()}
    if not gone:
        return
    step.optional = [p for p in step.optional if str(p) not in gone]
    step.argv = [a for a in step.argv if a not in gone]
    if step.argv[-1].startswith("--"):
        step.argv.pop()


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """dnadx's version, a hash of its source files and the reference bundle's MANIFEST.tsv (its files' sha256,
    checked at use): a step that other code or another bundle ran is not up to date (the version string alone
    stays the same between commits; outputs of `make demo` had been kept after the code changed)."""
    import dnadx
    from dnadx.core.builds import bundle_source

    root = Path(dnadx.__file__).resolve().parent
    h = hashlib.sha256(dnadx.__version__.encode())
    for p in sorted(root.rglob("*.py")):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    manifest = bundle_source()[0] / "MANIFEST.tsv"
    if manifest.is_file():
        h.update(manifest.read_bytes())
    return h.hexdigest()


def _fingerprint(step: Step) -> str:
    h = hashlib.sha256(json.dumps(step.argv).encode())
    h.update(code_fingerprint().encode())
    for p in step.inputs + step.optional:
        st = Path(p).stat()
        h.update(f"{p}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


def _stamp_path(cfg: RunConfig, step: Step) -> Path:
    return cfg.outdir / ".dnadx" / "stamps" / (step.name.replace(":", "__") + ".json")


def is_done(cfg: RunConfig, step: Step) -> bool:
    stamp = _stamp_path(cfg, step)
    if not stamp.exists() or not all(p.exists() for p in step.outputs):
        return False
    try:
        return json.loads(stamp.read_text()).get("fingerprint") == _fingerprint(step)
    except (json.JSONDecodeError, OSError, FileNotFoundError):
        return False


class Interrupted(BaseException):
    """SIGTERM or SIGINT reached the runner; its exit code is 128 + the signal number (143 / 130)."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


@contextlib.contextmanager
def interruptible():
    """While inside, SIGTERM and SIGINT raise Interrupted in the runner, so that it can stop its workers,
    delete their temporary files and release the output folder's lock before exiting."""
    def _raise(signum, _frame):
        raise Interrupted(signum)
    import threading
    if threading.current_thread() is not threading.main_thread():  # only the main thread gets signals
        yield
        return
    previous = {sig: signal.signal(sig, _raise) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@dataclass
class StepTimes:
    """Per stage: steps run, their summed wall-clock and worker CPU seconds (where a batch's time goes)."""
    stages: dict[str, list] = field(default_factory=dict)

    def add(self, stage: str, wall_s: float, cpu_s: float) -> None:
        n, wall, cpu = self.stages.get(stage, (0, 0.0, 0.0))
        self.stages[stage] = [n + 1, wall + wall_s, cpu + cpu_s]

    def as_dict(self) -> dict[str, dict]:
        return {k: {"steps": n, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2)}
                for k, (n, wall, cpu) in self.stages.items()}


def _collect(cfg: RunConfig, pool: WorkerPool, todo: list[Step], failed: dict, faults: list, log, done: int,
             total: int, times: StepTimes) -> None:
    """Run a wave's steps on the pool: stamp each success, record each failure (its own message)."""
    for r in pool.run([s.argv for s in todo]):
        step, code, detail = todo[r.index], r.code, r.message
        times.add(step.name.split(":")[0], r.wall_s, r.cpu_s)
        done += 1
        if code == 0:
            stamp = _stamp_path(cfg, step)
            stamp.parent.mkdir(parents=True, exist_ok=True)
            from dnadx.core import io
            io.write_json({"step": step.name, "argv": step.argv, "fingerprint": _fingerprint(step)}, stamp)
            log(f"[{done}/{total}] {step.name}: done")
            continue
        detail = detail or f"exit code {code}"
        log(f"[{done}/{total}] {step.name}: FAILED (exit {code}: {detail})")
        # paths inside the output folder are reported relative to it (summary.tsv stays the same
        # whichever folder the batch ran in)
        failed[step.sample or step.name] = (f"{step.name.split(':')[0]} failed: "
                                            f"{detail.replace(str(cfg.outdir) + os.sep, '')}")
        if code == EnvironmentFault.exit_code:  # disk full, unwritable: every later step would fail too
            faults.append((step, detail))
            pool.cancel()


def _todo(cfg: RunConfig, wave: list[Step], failed: dict, log, done: int, total: int) -> tuple[list[Step], int]:
    """The wave's steps to run, and ``done`` advanced past those skipped (up to date, or an input missing)."""
    todo = []
    for step in wave:
        if step.sample and step.sample in failed:
            continue
        _drop_missing_optional(step)
        missing = [p for p in step.inputs if not Path(p).exists()]
        if missing and step.drop_missing and len(missing) < len(step.inputs):
            gone = {str(p) for p in missing}
            step.argv = [a for a in step.argv if a not in gone]
            step.inputs = [p for p in step.inputs if str(p) not in gone]
            log(f"{step.name}: {len(missing)} input(s) of failed samples left out")
            missing = []
        if missing:  # an upstream step failed: say so instead of a cryptic stage error
            failed.setdefault(step.sample or step.name, f"{step.name.split(':')[0]} not run: missing {missing[0].name}")
            done += 1
            log(f"[{done}/{total}] {step.name}: not run (missing {missing[0].name})")
            continue
        if is_done(cfg, step):
            done += 1
            log(f"[{done}/{total}] {step.name}: up to date, skipped")
            continue
        todo.append(step)
    return todo, done


def run_steps(cfg: RunConfig, waves: list[list[Step]], *, execute: Callable[[list[str]], tuple[int, str]],
              log=print, times: StepTimes | None = None) -> dict[str, str]:
    """Run the waves; returns {sample or step: failure message} for what failed (others complete).

    ``execute`` runs one step's `dnadx <stage>` argv in a worker and returns (exit code, error message
    or ""); the CLI hands in its own (`dnadx.cli.execute_step`), so the runner never imports the CLI.
    The steps run on ``cfg.cores`` long-lived worker processes (`dnadx.core.workers`): each imports
    dnadx once; a worker that dies fails its own step only. ``times``, when given, gets each step's time.

    A step failing with an environment fault (exit 5: disk full, folder not writable) stops the batch:
    EnvironmentFault naming the step, its sample and the underlying message (with its fix).
    """
    failed: dict[str, str] = {}
    faults: list[tuple[Step, str]] = []  # environment faults (exit 5): they stop the batch
    total = sum(len(w) for w in waves)
    done = 0
    times = StepTimes() if times is None else times
    with WorkerPool(cfg.cores, execute) as pool:
        for wave in waves:
            todo, done = _todo(cfg, wave, failed, log, done, total)
            try:
                _collect(cfg, pool, todo, failed, faults, log, done, total, times)
                done += len(todo)
            except BaseException:  # SIGTERM/^C (Interrupted) or a runner error: no worker may outlive us
                with contextlib.suppress(ValueError):  # a second ^C must not cut the clean-up short
                    for sig in (signal.SIGTERM, signal.SIGINT):
                        signal.signal(sig, signal.SIG_IGN)
                pool.kill()
                remove_stale_parts(cfg.outdir)  # the killed workers' temporary files (we hold the lock)
                raise
            if faults:
                step, detail = faults[0]
                who = f"{step.name.split(':')[0]} of sample {step.sample}" if step.sample else step.name
                more = f"; {len(faults) - 1} other step(s) failed the same way" if len(faults) > 1 else ""
                raise EnvironmentFault(f"{who} failed: {detail}{more} (the batch was stopped; finished steps "
                                       "are kept and a re-run of the same command resumes from them)")
    return failed


@contextlib.contextmanager
def outdir_lock(outdir: Path):
    """Refuse a second concurrent run on the same output folder."""
    from dnadx.core.io import make_dir
    lock_dir = make_dir(outdir / ".dnadx")
    fh = open(lock_dir / "lock", "w")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise EnvironmentFault(f"{outdir}: another `dnadx run` is using this output folder; wait for it or "
                               "choose another --outdir") from None
    try:
        fh.write(str(os.getpid()))
        fh.flush()
        remove_stale_parts(outdir)
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


STALE_PART = re.compile(r"^\..+\.[a-z0-9_]{8}\.part$")  # io.atomic_path's temporary names (mkstemp)


def remove_stale_parts(outdir: Path) -> int:
    """Delete temporary files a killed run left behind (they are never read, but would litter the
    outputs); safe only while holding the output folder's lock (no other writer)."""
    stale = [p for p in outdir.rglob(".*.part") if p.is_file() and STALE_PART.match(p.name)]
    for p in stale:
        p.unlink(missing_ok=True)
    return len(stale)


def stderr_log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
