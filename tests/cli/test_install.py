"""The ordinary install is complete: the wheel built from the tracked sources, installed into a fresh venv
outside the checkout, finds its reference bundle and runs a small simulated batch end to end from there.

Offline: the wheel is built without build isolation (setuptools, wheel, Cython and pysam come from the test
venv; `[test]` extra), installed with `--no-index --no-deps`, and the fresh venv sees the test venv's
already-installed dependencies through a .pth line (a plain path: the test venv's editable dnadx is not
activated by it, so `import dnadx` can only come from the wheel). ~1-2 minutes on a free core.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

# files listed in the bundle manifest (header line excluded)
N_FILES = sum(1 for line in (Path(__file__).resolve().parents[2] / "reference" / "MANIFEST.tsv").read_text().splitlines()[1:] if line.strip())

ROOT = Path(__file__).resolve().parents[2]
# what a fresh clone does not have (build output, venvs, caches, results); `build` only at the top: the
# tracked reference/build/ holds bundle_manifest.py, which setup.py reads
_UNTRACKED = shutil.ignore_patterns(".git", ".venv", "*.egg-info", "__pycache__", "*.so", "_fastcount.c",
                                    "demo-results", ".pytest_cache", ".cache", ".data", "*.part")


def UNTRACKED(folder, names):
    return _UNTRACKED(folder, names) | ({"build"} & set(names) if Path(folder) == ROOT else set())

pytestmark = pytest.mark.slow


def _sh(cmd, cwd, env) -> subprocess.CompletedProcess:
    r = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True)
    assert r.returncode == 0, f"{cmd}: exit {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}"
    return r


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(the fresh venv's bin folder, a working folder outside the checkout, the environment to run in)."""
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=UNTRACKED)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DNADX_REFERENCE", "PYTHONHOME")}
    env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", MPLBACKEND="Agg")
    _sh([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", tmp / "dist", src],
        cwd=tmp, env=env)
    wheel = next((tmp / "dist").glob("dnadx-*.whl"))
    target = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    py = target / "bin" / "python"
    site = Path(_sh([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=tmp,
                    env=env).stdout.strip())
    (site / "test_venv_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _sh([sys.executable, "-m", "pip", "--python", py, "install", "--no-index", "--no-deps", wheel], cwd=tmp, env=env)
    work = tmp / "work"
    work.mkdir()
    return target / "bin", work, env


def test_wheel_carries_bundle_and_compiled_loop(installed):
    bindir, work, env = installed
    r = _sh([bindir / "dnadx", "reference"], cwd=work, env=env)
    site_pkg = Path(_sh([bindir / "python", "-c", "import dnadx, os; print(os.path.dirname(dnadx.__file__))"],
                        cwd=work, env=env).stdout.strip())
    assert str(bindir.parent) in str(site_pkg) and ROOT not in site_pkg.parents
    assert f"bundle: {site_pkg / '_reference'}" in r.stdout and "found via: installed with the package" in r.stdout
    assert "builds: GRCh38, GRCh37" in r.stdout and f"checksums: {N_FILES}/{N_FILES} files match MANIFEST.tsv" in r.stdout
    assert not (site_pkg / "_reference" / "build").exists()  # regeneration scripts stay in the source tree
    bundle = site_pkg / "_reference"  # the wheel carries exactly the files its MANIFEST.tsv lists
    carried = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()} - {"MANIFEST.tsv"}
    assert carried == {ln.split("\t")[0] for ln in (bundle / "MANIFEST.tsv").read_text().splitlines()[1:]}
    v = _sh([bindir / "dnadx", "--version"], cwd=work, env=env)
    assert v.stdout.startswith("dnadx ") and str(site_pkg / "_reference") in v.stderr
    loop = _sh([bindir / "python", "-c", "from dnadx.count.bam import count_loop; print(count_loop())"],
               cwd=work, env=env)
    assert loop.stdout.strip() == "compiled"


def test_override_still_wins(installed):
    bindir, work, env = installed
    r = subprocess.run([bindir / "dnadx", "reference"], cwd=work, capture_output=True, text=True,
                       env={**env, "DNADX_REFERENCE": str(work / "nowhere")})
    assert r.returncode == 3 and "found via: DNADX_REFERENCE" in r.stdout
    assert r.stderr.count("\n") == 1 and "reference bundle not found" in r.stderr


def test_batch_runs_from_outside_the_checkout(installed):
    bindir, work, env = installed
    rows = ["sample,bam,type"]
    for sample, profile, tf, seed in (("P1", "erbb2", "0.3", "31"), ("P2", "flat", "0", "32")):
        _sh([bindir / "dnadx", "simulate", "--prefix", sample, "--profile", profile, "--tumor-fraction", tf,
             "--fragments", "60000", "--seed", seed, "--sample", sample], cwd=work, env=env)
        rows.append(f"{sample},{sample}.bam,plasma")
    (work / "sheet.csv").write_text("\n".join(rows) + "\n")
    _sh([bindir / "dnadx", "run", "--input", "sheet.csv", "--outdir", "results", "--cores", "1"], cwd=work, env=env)
    summary = (work / "results" / "summary.tsv").read_text().splitlines()
    assert len(summary) == 3 and summary[1].startswith("P1\t") and summary[2].startswith("P2\t")
    assert (work / "results" / "report.html").exists() and (work / "results" / "P1" / "P1.cnv.json").exists()
