"""L0: every .nf and .config passes the real Nextflow parser (nf-lang ~25.10, strict syntax),
and the gate demonstrably fails on planted errors."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.nextflow import nftools

REPO = nftools.REPO

# (file, exact text to replace, replacement, expected message fragment): one planted error each
MUTANTS = [
    ("modules/local/dnadx/count/main.nf", "    stub:\n", "    stub\n", "`stub` is not defined"),
    ("modules/local/dnadx/cnv/main.nf", "tuple val(meta), path(counts)", "tuple vall(meta), path(counts)",
     "`vall` is not defined"),
    ("modules/local/dnadx/score/main.nf", "--prefix ${prefix}", "--prefix ${prefixx}", "`prefixx` is not defined"),
    ("modules/local/dnadx/cluster/main.nf", "label 'process_low'", "labell 'process_low'", "labell"),
    ("subworkflows/local/scores/main.nf", "DNADX_SCORE(ch_cnv)", "DNADX_SCORE(ch_cnv, ch_cnv)",
     "Incorrect number of call arguments"),
    ("subworkflows/local/copy_number/main.nf", "DNADX_CNV(DNADX_COUNT.out.counts, ch_pon, genome, ch_gc_wig, ch_map_wig)",
     "DNADX_CNV(DNADX_COUNT.out.counts, ch_ponn, genome, ch_gc_wig, ch_map_wig)", "`ch_ponn` is not defined"),
    ("workflows/dnadx.nf", "include { SCORES       } from '../subworkflows/local/scores/main'",
     "include { SCORESS } from '../subworkflows/local/scores/main'", "SCORESS"),
    ("main.nf", "    main:\n", "    main:\n    for (x in [1]) { println(x) }\n", "`for` loops are no longer supported"),
    ("conf/base.config", "    maxRetries    = 1\n", "    maxRetries    = 1 }\n", "Unexpected input"),
    ("nextflow.config", "includeConfig 'conf/modules.config'", "def x = params.outdir\nincludeConfig 'conf/modules.config'",
     ""),
    # a stray `}` at the end of a file: nf-lang misses it, the Groovy syntax backstop catches it
    ("modules/local/dnadx/pon/main.nf", "    \"\"\"\n}\n", "    \"\"\"\n}\n}\n", "groovy syntax"),
    ("conf/test.config", "        time: '1.h',\n    ]\n}\n", "        time: '1.h',\n    ]\n}\n}\n", "groovy syntax"),
]


def _closure(rel: str) -> tuple[str, ...]:
    """The sources a mutated file needs to resolve its includes (keeps the one lint call small)."""
    if rel.startswith("modules/"):
        return ("modules",)
    if rel.startswith("subworkflows/"):
        return ("subworkflows", "modules")
    if rel.endswith(".config"):
        return ("conf", "nextflow.config")
    return ("main.nf", "workflows", "subworkflows", "modules")


def _diagnostics(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith(("ERROR", "WARN", "PARANOID"))]


def test_pipeline_lints_clean():
    r = nftools.lint(*(REPO / p for p in nftools.NF_SOURCES))
    diags = _diagnostics(r.stdout)
    summary = re.search(r"nflint: (\d+) files", r.stdout)
    assert summary and int(summary.group(1)) >= 20, f"lint saw too few files:\n{r.stdout}\n{r.stderr[-2000:]}"
    # warnings fail too: strict-syntax deprecations are tomorrow's errors
    assert r.returncode == 0 and not diags, "nextflow lint (nf-lang) findings:\n" + "\n".join(diags)


def test_lint_gate_fails_on_planted_errors(tmp_path):
    """Copy the pipeline once per mutant, plant one error, lint all copies in one JVM call."""
    for i, (rel, old, new, _msg) in enumerate(MUTANTS):
        d = tmp_path / f"m{i}"
        d.mkdir()
        for p in _closure(rel):
            src = REPO / p
            (shutil.copytree if src.is_dir() else shutil.copy)(src, d / p)
        f = d / rel
        text = f.read_text()
        assert text.count(old) == 1, f"mutant {i}: {old!r} must occur once in {rel}"
        f.write_text(text.replace(old, new))
    r = nftools.lint(tmp_path)
    assert r.returncode == 1, f"lint passed a pipeline with planted errors:\n{r.stdout}"
    errors = [line for line in r.stdout.splitlines() if line.startswith("ERROR")]
    for i, (rel, _old, _new, msg) in enumerate(MUTANTS):
        hits = [e for e in errors if f"/m{i}/{rel}" in e]
        assert hits, f"mutant {i} ({rel}) not reported:\n" + "\n".join(errors)
        assert msg in " ".join(hits), f"mutant {i} ({rel}): expected {msg!r} in\n" + "\n".join(hits)
    # nothing outside the mutated files is reported
    mutated = {f"/m{i}/{rel}" for i, (rel, *_rest) in enumerate(MUTANTS)}
    stray = [e for e in errors if not any(m in e for m in mutated)]
    assert not stray, "errors in unmutated files:\n" + "\n".join(stray)


def test_config_option_names(tmp_path):
    """Config settings are known Nextflow options (plugin scopes such as nf-schema's `validation.*`
    cannot be resolved offline and are allowed); a planted typo is reported."""
    bad = tmp_path / "typo"
    bad.mkdir()
    (bad / "nextflow.config").write_text("process {\n    cpuss = 2\n}\ndockr.enabled = true\n")
    r = nftools.lint(REPO / "conf", REPO / "nextflow.config", bad, config_spec=True)
    warns = [line for line in r.stdout.splitlines() if line.startswith(("WARN", "SPEC-FAIL"))]
    ours = [w for w in warns if "/typo/" not in w and "'validation." not in w]
    assert not ours, "unknown config options:\n" + "\n".join(ours)
    planted = " ".join(w for w in warns if "/typo/" in w)
    assert "process.cpuss" in planted and "dockr.enabled" in planted, warns
