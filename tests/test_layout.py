"""The package layout: one subpackage per stage, imports in one direction (README "Code map").

Every module's imports are read with `ast` (function-level imports included) and checked against
the declared order ``cli -> pipeline -> stages -> core``: a stage imports only core and the stages
before it, ``sim`` may import any stage but no stage imports ``sim``, and nothing outside ``cli``
imports ``dnadx.cli``. A new top-level module in ``dnadx/`` fails too: it belongs in a stage.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dnadx"

# Stages in pipeline order; each may import core and the stages before it.
STAGES = ("count", "cnv", "scores", "groups", "variants", "report")
TOP_LEVEL = {"__init__.py", "__main__.py", "pipeline.py"}
SUBPACKAGES = {"core", *STAGES, "sim", "cli"}


def allowed(importer: str) -> set[str]:
    """The dnadx parts (first name below ``dnadx``) that module ``importer`` (dotted) may import."""
    return {"__version__"} | _allowed(importer)


def _allowed(importer: str) -> set[str]:
    part = importer.split(".")[1] if "." in importer else ""
    if part == "core":
        return {"core"}
    if part in STAGES:
        return {"core", *STAGES[:STAGES.index(part) + 1]}
    if part == "sim":
        return {"core", *STAGES, "sim"}
    if part == "pipeline":
        return {"core", *STAGES, "pipeline"}
    if part in ("cli", "__main__"):
        return {"core", *STAGES, "sim", "pipeline", "cli"}
    return set()  # dnadx/__init__.py


def dnadx_imports(tree: ast.AST, module: str) -> list[tuple[int, str]]:
    """(line, imported dnadx part) for every import of ``dnadx.*`` in the module (relative ones resolved)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[:-node.level]  # dnadx.cnv.call / dnadx.cnv.__init__ -> dnadx.cnv
                base = ".".join(anchor + ([base] if base else []))
            names = [base] if base != "dnadx" else [f"dnadx.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "dnadx" and len(parts) > 1:
                found.append((node.lineno, parts[1]))
    return found


def violations(package: Path = PACKAGE) -> list[str]:
    """Every import against the declared direction, as ``file:line imports dnadx.part``."""
    bad = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package.parent).with_suffix("")
        module = ".".join(rel.parts)
        ok = allowed(module)
        for line, part in dnadx_imports(ast.parse(path.read_text(), str(path)), module):
            if part not in ok:
                bad.append(f"{path.relative_to(package.parent)}:{line} imports dnadx.{part}")
    return bad


def test_imports_follow_the_declared_direction():
    assert violations() == []


def test_no_new_top_level_modules():
    top = {p.name for p in PACKAGE.iterdir() if p.is_file() and p.suffix in (".py", ".pyx")}
    assert top <= TOP_LEVEL, f"put {sorted(top - TOP_LEVEL)} in the subpackage of its stage"
    dirs = {p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))}
    assert dirs == SUBPACKAGES


@pytest.mark.parametrize("sub", sorted(SUBPACKAGES))
def test_each_subpackage_says_what_it_takes_gives_and_imports(sub):
    doc = ast.get_docstring(ast.parse((PACKAGE / sub / "__init__.py").read_text()))
    assert doc and len(doc) > 80, f"dnadx/{sub}/__init__.py needs its paragraph"
    if sub in STAGES or sub == "sim":
        assert "import" in doc, f"dnadx/{sub}/__init__.py must say which subpackages it may import"


@pytest.mark.parametrize("sub", sorted(SUBPACKAGES - {"cli"}))
def test_every_exported_entry_point_resolves(sub):
    package = importlib.import_module(f"dnadx.{sub}")
    assert package.__all__, f"dnadx/{sub}/__init__.py exports nothing"
    for name in package.__all__:
        assert callable(getattr(package, name)), f"dnadx.{sub}.{name}"


@pytest.mark.parametrize("module, source", [
    ("cnv/bad.py", "from dnadx.scores.erbb2 import call_erbb2\n"),      # a stage importing a later one
    ("count/bad.py", "def f():\n    import dnadx.sim.plasma\n"),         # a stage importing the simulators
    ("core/bad.py", "from dnadx import cnv\n"),                          # core importing a stage
    ("pipeline.py", "from dnadx.cli import build_parser\n"),             # the runner importing the CLI
])
def test_a_wrong_import_is_caught(tmp_path, module, source):
    fake = tmp_path / "dnadx"
    for sub in SUBPACKAGES:
        (fake / sub).mkdir(parents=True)
    (fake / module).write_text(source)
    assert len(violations(fake)) == 1


def test_the_checker_reads_the_real_imports():
    """A sanity check on the reader itself: cnv's call module is seen importing count and core."""
    path = PACKAGE / "cnv" / "call.py"
    parts = {p for _, p in dnadx_imports(ast.parse(path.read_text()), "dnadx.cnv.call")}
    assert {"core", "count", "cnv"} <= parts
