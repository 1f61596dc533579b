"""Run one Nextflow process the way a task runs, without Nextflow (L2 contract tests).

For a process and a binding (meta, staged inputs, vals): the real parser + Groovy render its
`script:` (or `stub:`) and output declarations (tools/nflint/NfModel.java), with `task.ext.*`
evaluated from the `withName` closures of conf/modules.config and `params` from nextflow.config;
inputs are symlinked into a fresh work folder under their staged names; the script runs with the
pipeline's `process.shell` (bash -C -e -u -o pipefail) and the venv's `dnadx` on PATH; every
non-optional declared `path(...)` output must then glob. What this does not do: channel wiring,
containers, publishDir, retries, resource limits (see docs/nextflow.md).
"""

from __future__ import annotations

import ast
import glob
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from dnadx.cli import build_parser
from tests.nextflow import nftools

REPO = nftools.REPO


class Stage:
    """A file to stage into the task folder: the real file and the name the task sees."""

    def __init__(self, path: Path, name: str | None = None):
        self.path = Path(path)
        self.name = name or self.path.name

    def to_json(self) -> dict:
        return {"__path__": self.name}


def _json(value):
    if isinstance(value, Stage):
        return value.to_json()
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    return value


def _stages(value) -> list[Stage]:
    if isinstance(value, Stage):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _stages(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _stages(v)]
    return []


@dataclass
class Pipeline:
    """What the harness needs from the parsed pipeline: process files, params, ext closures, shell."""

    model: dict
    processes: dict
    params: dict = field(default_factory=dict)
    shell: list = field(default_factory=list)

    def __post_init__(self):
        for c in self.model["configs"]:
            if c["file"].endswith("/nextflow.config"):
                self.params = {a["names"][0]: a["value"] for a in c["assigns"] if a["scope"] == ["params"]}
                shell = next(a["value"] for a in c["assigns"] if a["names"] == ["process", "shell"])
                self.shell = ast.literal_eval(shell)  # a Groovy list of string literals is a Python literal

    def ext(self, process: str) -> dict:
        """ext.* closures of every withName selector matching the process, later ones winning."""
        out = {}
        for c in self.model["configs"]:
            if not c["file"].endswith("conf/modules.config"):
                continue
            for a in c["assigns"]:
                sel = [s.split(":", 1)[1] for s in a["scope"] if s.startswith("withName:")]
                if sel and a["names"][0] == "ext" and re.fullmatch(sel[0], process):
                    out[a["names"][1]] = a["value"]
        return out

    def job(self, process: str, binding: dict, modes: list[str], cpus: int = 1) -> dict:
        p = self.processes[process]
        return {"file": p["file"], "process": process, "modes": modes, "params": self.params, "ext": self.ext(process),
                "binding": _json(binding), "task": {"cpus": cpus}, "projectDir": str(REPO),
                "moduleDir": str(Path(p["file"]).parent)}


@dataclass
class TaskResult:
    workdir: Path
    script: str
    returncode: int
    stderr: str
    outputs: dict  # emit -> list of files found (absent optional outputs -> [])
    missing: list  # declared non-optional patterns that matched nothing
    versions: list  # eval(...) version commands


def venv_env() -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONNOUSERSITE"] = "1"  # nextflow.config env scope
    return env


def run_task(pipe: Pipeline, renderer, process: str, binding: dict, workdir: Path, *, mode: str = "script",
             cpus: int = 1) -> TaskResult:
    """Render and run one task in `workdir`; returns what it produced against what it declares."""
    workdir.mkdir(parents=True, exist_ok=True)
    staged = set()
    for s in _stages(binding):
        dest = workdir / s.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists():
            dest.symlink_to(s.path.resolve())
        staged.add(s.name)
    [res] = renderer.render([pipe.job(process, binding, [mode, "outputs"], cpus)])
    assert "error" not in res, f"{process}: rendering failed: {res['error']}"
    script = res[mode]
    (workdir / ".command.sh").write_text(script)
    r = subprocess.run([*pipe.shell, ".command.sh"], cwd=workdir, capture_output=True, text=True, env=venv_env())
    outputs, missing, versions = {}, [], []
    for decl in res["outputs"]:
        items = decl["items"] if decl["kind"] == "tuple" else [decl]
        found = []
        for it in items:
            if it["kind"] == "eval":
                versions.append(it["cmd"])
            if it["kind"] != "path":
                continue
            hits = sorted(h for h in glob.glob(str(workdir / it["pattern"]))
                          if os.path.relpath(h, workdir) not in staged)
            if not hits and not (decl.get("optional") or it.get("optional")):
                missing.append(it["pattern"])
            found += hits
        if decl.get("emit"):
            outputs[decl["emit"]] = [Path(h) for h in found]
    return TaskResult(workdir, script, r.returncode, r.stderr, outputs, missing, versions)


def dnadx_lines(script: str) -> list[list[str]]:
    """Command lines of a rendered script that call `dnadx`, continuations joined, shell-split."""
    joined = re.sub(r"\\\n", " ", script)
    return [shlex.split(line) for line in joined.splitlines() if line.strip().startswith("dnadx ")]


def parse_cli(argv: list[str]):
    """Parse one `dnadx ...` command with the package's real argparse parser; SystemExit -> AssertionError."""
    assert argv[0] == "dnadx"
    try:
        return build_parser().parse_args(argv[1:])
    except SystemExit as exc:
        raise AssertionError(f"`{' '.join(argv)}` is rejected by dnadx's argument parser (exit {exc.code})") from None


def has_command(name: str) -> bool:
    return name in build_parser()._subparsers._group_actions[0].choices
