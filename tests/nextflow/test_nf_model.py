"""L1: structural checks over the model the real Nextflow parser builds (tools/nflint/NfModel.java).

Checks what `nextflow lint` does not: emits referenced exist, withName/label selectors match,
process anatomy (tag, one resource label, container, stub, versions topic, meta first), direct
wiring arity, params vs nextflow_schema.json, samplesheet schema vs the DESIGN rules.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

import dnadx
from tests.nextflow import nftools

REPO = nftools.REPO
RESOURCE_LABELS = {"process_single", "process_low", "process_medium", "process_high"}


def _rel(path: str) -> str:
    return str(Path(path).relative_to(REPO))


def _config(nf_model, rel: str) -> dict:
    for c in nf_model["configs"]:
        if _rel(c["file"]) == rel:
            return c
    raise AssertionError(f"{rel} not parsed")


def _unquote(text: str) -> str:
    return text.strip().strip("'\"")


def _resolve_includes(nf_model, processes) -> dict:
    """file -> {local name -> ('process'|'workflow', target name, emits)}."""
    workflows = {w["name"]: w for s in nf_model["scripts"] for w in s["workflows"] if not w["entry"]}
    out = {}
    for s in nf_model["scripts"]:
        names = {}
        for inc in s["includes"]:
            for e in inc["entries"]:
                local = e["alias"] or e["name"]
                if e["name"] in processes:
                    p = processes[e["name"]]
                    names[local] = ("process", e["name"], [o["options"].get("emit") for o in p["outputs"]])
                elif e["name"] in workflows:
                    names[local] = ("workflow", e["name"], workflows[e["name"]]["emits"])
        out[s["file"]] = names
    return out


def test_model_has_every_stage(processes):
    stages = {"count", "pon", "cnv", "score", "cluster", "variants", "report", "simulate"}
    assert {f"DNADX_{s.upper()}" for s in stages} <= set(processes)
    for s in stages:
        assert _rel(processes[f"DNADX_{s.upper()}"]["file"]) == f"modules/local/dnadx/{s}/main.nf"
        for f in ("meta.yml", "environment.yml"):
            assert (REPO / "modules/local/dnadx" / s / f).is_file(), f"modules/local/dnadx/{s}/{f} missing"


def test_out_references_name_declared_emits(nf_model, processes):
    includes = _resolve_includes(nf_model, processes)
    checked = 0
    for s in nf_model["scripts"]:
        for w in s["workflows"]:
            for target, emit, line in w["out_refs"]:
                assert target in includes[s["file"]], f"{_rel(s['file'])}:{line}: {target} is not included"
                kind, name, emits = includes[s["file"]][target]
                assert emit in emits, f"{_rel(s['file'])}:{line}: {target}.out.{emit}: {kind} {name} emits {emits}"
                checked += 1
    assert checked >= 20


def test_planted_unknown_emit_is_caught(nf_model, processes):
    """The emit check bites: `.out.binz` on a real process is not among its emits."""
    includes = _resolve_includes(nf_model, processes)
    wf = next(f for f in includes if f.endswith("copy_number/main.nf"))
    assert "binz" not in includes[wf]["DNADX_COUNT"][2] and "counts" in includes[wf]["DNADX_COUNT"][2]


def test_process_anatomy(processes):
    for name, p in processes.items():
        where = f"{_rel(p['file'])}: {name}"
        directives = {d.split()[0]: d for d in p["directives"]}
        labels = [d for d in p["directives"] if d.startswith("label ")]
        assert len(labels) == 1 and _unquote(labels[0][6:]) in RESOURCE_LABELS, f"{where}: one resource label, got {labels}"
        assert "container" in directives and "conda" in directives, f"{where}: container and conda directives"
        if name != "MULTIQC":  # one batch-level task, as in nf-core
            assert directives.get("tag", "").startswith('tag "${meta.id}"'), f"{where}: tag \"${{meta.id}}\""
        assert p["stub"] and p["stub"].lstrip().startswith("stub:"), f"{where}: stub block"
        assert p["script"], f"{where}: script block"
        assert "task.ext.args" in p["script"], f"{where}: task.ext.args"
        versions = [o for o in p["outputs"] if o["options"].get("emit", "").startswith("versions_")]
        assert len(versions) == 1 and versions[0]["items"][0] == 'val("${task.process}")', f"{where}: versions output"
        # MULTIQC consumes the versions topic, so it must not also send to it (the run would hang)
        assert (versions[0]["options"].get("topic") == "versions") == (name != "MULTIQC"), f"{where}: versions topic"
        assert versions[0]["items"][2].startswith("eval("), f"{where}: version from eval()"
        for o in p["outputs"]:
            assert "emit" in o["options"], f"{where}: unnamed output {o['text']}"
        for decl in p["inputs"] + [o for o in p["outputs"] if o not in versions]:
            if decl["kind"] == "tuple":
                assert decl["items"][0] == "val(meta)", f"{where}: meta map first in {decl['text']}"
        if name.startswith("DNADX_") and name != "DNADX_REPORT":  # `dnadx report DIR` takes no --prefix
            assert "task.ext.prefix" in p["script"], f"{where}: task.ext.prefix"
            # one `dnadx <stage>` call and nothing else in the shell part of the script
            shell = p["script"].split('"""')[1]
            cmds = [ln for ln in re.sub(r"\\\n", " ", shell).splitlines() if ln.strip()]
            stage = name.removeprefix("DNADX_").lower()
            assert len(cmds) == 1 and cmds[0].split()[:2] == ["dnadx", stage], f"{where}: script is {cmds}"


def _decl_names(decls) -> list[str]:
    names = []
    for d in decls:
        for item in d["items"] if d["kind"] == "tuple" else [d["text"].split(None, 1)[1]]:
            m = re.match(r"(?:val|path|env)\((\w+)", item) or re.match(r"(\w+)", item)
            names.append(m.group(1))
    return names


def test_meta_yml_matches_process(processes):
    """meta.yml documents exactly the process's inputs and emits (nf-core module docs)."""
    for name, p in processes.items():
        text = (Path(p["file"]).parent / "meta.yml").read_text()
        inputs_txt = text.split("\ninput:\n")[1].split("\noutput:\n")[0]
        outputs_txt = text.split("\noutput:\n")[1].split("\ntopics:\n")[0]
        documented_in = re.findall(r"^ {2,4}- (?:- )?(\w+):$", inputs_txt, flags=re.M)
        assert documented_in == _decl_names(p["inputs"]), f"{name}: meta.yml inputs {documented_in}"
        documented_out = re.findall(r"^  (\w+):$", outputs_txt, flags=re.M)
        assert documented_out == [o["options"]["emit"] for o in p["outputs"]], f"{name}: meta.yml outputs {documented_out}"
        assert ("\ntopics:\n  versions:\n" in text) == (name != "MULTIQC"), f"{name}: meta.yml topics"
        assert "when:" not in Path(p["file"]).read_text(), f"{name}: branch in the workflow, not with when:/ext.when"


def test_container_tag_is_package_version(processes, nf_model):
    manifest = {a["names"][0]: _unquote(a["value"]) for a in _config(nf_model, "nextflow.config")["assigns"]
                if a["scope"] == ["manifest"]}
    assert manifest["version"] == dnadx.__version__
    assert manifest["nextflowVersion"] == "!>=25.10.4"
    for name, p in processes.items():
        if not name.startswith("DNADX_"):
            continue
        container = next(d for d in p["directives"] if d.startswith("container "))
        assert _unquote(container[len("container "):]) == f"ghcr.io/dnadx/dnadx:{dnadx.__version__}", name
    dockerfile = (REPO / "containers/Dockerfile").read_text()
    assert f'org.opencontainers.image.version="{dnadx.__version__}"' in dockerfile
    # the bundle goes into the wheel (setup.py), so the wheel build context needs reference/ and MANIFEST.in
    assert "procps" in dockerfile and "COPY reference/ /tmp/dnadx-src/reference/" in dockerfile
    assert "MANIFEST.in" in dockerfile and "&& dnadx reference" in dockerfile
    pyproject = (REPO / "pyproject.toml").read_text()
    assert f'version = "{dnadx.__version__}"' in pyproject


def test_labels_and_selectors_match(nf_model, processes):
    base = _config(nf_model, "conf/base.config")
    defined = {sc.split(":", 1)[1] for a in base["assigns"] for sc in a["scope"] if sc.startswith("withLabel:")}
    assert RESOURCE_LABELS <= defined
    used = {_unquote(d[6:]) for p in processes.values() for d in p["directives"] if d.startswith("label ")}
    assert used <= defined, f"labels without resources in conf/base.config: {used - defined}"
    selectors = set()
    for c in nf_model["configs"]:
        for a in c["assigns"]:
            selectors |= {sc.split(":", 1)[1] for sc in a["scope"] if sc.startswith("withName:")}
    assert selectors, "no withName selectors found"
    for sel in selectors:
        for alt in sel.split("|"):  # each alternative must select something (typos select nothing, silently)
            assert any(re.fullmatch(alt, n) for n in processes), f"withName '{sel}': '{alt}' matches no process"


def _source_arity(expr: str, file: str, includes, processes, workflows) -> int | None:
    """Tuple size of the channel `X.out.y`, following sub-workflow emits that are themselves `P.out.z`."""
    m = re.fullmatch(r"(\w+)\.out\.(\w+)", expr.strip())
    if not m or m.group(1) not in includes[file]:
        return None
    kind, name, _emits = includes[file][m.group(1)]
    if kind == "process":
        out = next(o for o in processes[name]["outputs"] if o["options"].get("emit") == m.group(2))
        return len(out["items"]) if out["kind"] == "tuple" else 1
    wf_file, wf = workflows[name]
    return _source_arity(wf["emit_exprs"].get(m.group(2), ""), wf_file, includes, processes, workflows)


def _sink_arity(callee: str, pos: int, file: str, includes, processes, workflows) -> int | None:
    """Tuple size a call argument must have: the process input, or the input of the process a
    sub-workflow passes that `take:` to unchanged."""
    kind, name, _emits = includes[file][callee]
    if kind == "process":
        decl = processes[name]["inputs"][pos]
        return len(decl["items"]) if decl["kind"] == "tuple" else 1
    wf_file, wf = workflows[name]
    take = wf["takes"][pos]
    for inner, args in wf["calls"]:
        if inner in includes[wf_file] and take in [a.strip() for a in args]:
            return _sink_arity(inner, [a.strip() for a in args].index(take), wf_file, includes, processes, workflows)
    return None


def test_direct_wiring_arity(nf_model, processes):
    """Where a channel goes straight from one process/sub-workflow output into a call, tuple sizes agree."""
    includes = _resolve_includes(nf_model, processes)
    workflows = {w["name"]: (s["file"], w) for s in nf_model["scripts"] for w in s["workflows"] if not w["entry"]}
    checked = 0
    for s in nf_model["scripts"]:
        for w in s["workflows"]:
            for callee, args in w["calls"]:
                if callee not in includes[s["file"]]:
                    continue
                for pos, arg in enumerate(args):
                    n_out = _source_arity(arg, s["file"], includes, processes, workflows)
                    n_in = _sink_arity(callee, pos, s["file"], includes, processes, workflows) if n_out else None
                    if n_out and n_in:
                        assert n_out == n_in, f"{_rel(s['file'])}: {callee}({arg}): {n_out}-tuple into a {n_in}-tuple input"
                        checked += 1
    assert checked >= 2, checked


def _config_params(nf_model) -> dict:
    return {a["names"][0]: a["value"] for a in _config(nf_model, "nextflow.config")["assigns"] if a["scope"] == ["params"]}


def _schema_params() -> dict:
    schema = json.loads((REPO / "nextflow_schema.json").read_text())
    props = {}
    for group in schema["$defs"].values():
        props.update(group["properties"])
    refs = {r["$ref"] for r in schema["allOf"]}
    assert refs == {f"#/$defs/{k}" for k in schema["$defs"]}, "every $defs group must be in allOf"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    return props


def test_params_match_schema(nf_model):
    declared = _config_params(nf_model)
    schema = _schema_params()
    assert set(declared) == set(schema), (f"only in nextflow.config: {set(declared) - set(schema)}; "
                                          f"only in nextflow_schema.json: {set(schema) - set(declared)}")
    # defaults agree (literal defaults only; ${projectDir} strings compared as text)
    for name, text in declared.items():
        prop = schema[name]
        assert "description" in prop and "type" in prop, f"schema param {name}: type and description"
        literal = {"null": None, "true": True, "false": False}.get(text)
        if literal is None and text != "null":
            literal = int(text) if re.fullmatch(r"\d+", text) else _unquote(text)
        if literal is None:
            assert "default" not in prop or prop["default"] is None, f"{name}: schema default but config null"
        else:
            assert prop.get("default") == literal, f"{name}: config default {literal!r} != schema {prop.get('default')!r}"
    # every params.X used anywhere is declared (profiles may only override declared ones)
    used = set()
    for p in nftools.NF_SOURCES:
        for f in ([REPO / p] if (REPO / p).is_file() else sorted((REPO / p).rglob("*"))):
            if f.suffix in (".nf", ".config"):
                used |= set(re.findall(r"\bparams\.(\w+)", f.read_text()))
    for c in nf_model["configs"]:
        used |= {a["names"][0] for a in c["assigns"] if a["scope"][-1:] == ["params"]}
    assert used <= set(declared), f"params used but not declared: {used - set(declared)}"


def test_params_only_read_in_entry_workflow(nf_model):
    """Strict-syntax guidance: params go in through the entry workflow's calls, not read deep inside."""
    for s in nf_model["scripts"]:
        if _rel(s["file"]) == "main.nf":
            continue
        text = Path(s["file"]).read_text()
        assert "params." not in text, f"{_rel(s['file'])} reads params directly"


def _check_row(schema: dict, row: dict, n: int) -> list[str]:
    """The subset of JSON Schema / nf-schema used by assets/schema_input.json (type string, pattern, enum,
    required); file existence and type coercion are nf-schema runtime behaviour and are not emulated."""
    errs = []
    for key in schema["items"]["required"]:
        if not row.get(key):
            errs.append(f"row {n}: {key} missing")
    for key, value in row.items():
        prop = schema["items"]["properties"].get(key)
        if prop is None:
            errs.append(f"row {n}: unknown column {key}")
            continue
        if value in ("", None):
            continue
        if "pattern" in prop and not re.search(prop["pattern"], value):
            errs.append(f"row {n}: {key}={value!r} does not match {prop['pattern']}")
        if "enum" in prop and value not in prop["enum"]:
            errs.append(f"row {n}: {key}={value!r} not in {prop['enum']}")
    return errs


def test_samplesheet_schema_follows_design():
    schema = json.loads((REPO / "assets/schema_input.json").read_text())
    props = schema["items"]["properties"]
    assert list(props) == ["sample", "bam", "index", "patient", "timepoint", "type"]
    assert props["sample"]["meta"] == ["id"] and schema["uniqueEntries"] == ["sample"]
    assert props["sample"]["pattern"] == "^[A-Za-z0-9][A-Za-z0-9._-]*$"  # DESIGN: ids become file names
    assert props["type"]["enum"] == ["plasma", "normal"]
    with open(REPO / "assets/samplesheet.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    errs = [e for n, row in enumerate(rows, 1) for e in _check_row(schema, row, n)]
    assert not errs, errs
    assert len({r["sample"] for r in rows}) == len(rows)
    bad = [{"sample": "a;rm -rf", "bam": "x.bam"}, {"sample": "S", "bam": "x.txt"}, {"sample": "S", "bam": "x.bam", "type": "tumour"},
           {"sample": "../S", "bam": "x.bam"}, {"bam": "x.bam"}]
    for n, row in enumerate(bad, 1):
        assert _check_row(schema, row, n), f"schema accepts {row}"


@pytest.mark.parametrize("profile", ["docker", "singularity", "apptainer", "slurm", "test"])
def test_profiles_exist(nf_model, profile):
    cfg = _config(nf_model, "nextflow.config")
    scopes = {tuple(a["scope"][:2]) for a in cfg["assigns"]} | {tuple(i["scope"][:2]) for i in cfg["includes"]}
    assert ("profiles", profile) in scopes


def test_strict_shell_and_plugins(nf_model):
    cfg = {tuple(a["names"]): a["value"] for a in _config(nf_model, "nextflow.config")["assigns"] if not a["scope"]}
    assert cfg[("process", "shell")] == "['/bin/bash', '-C', '-e', '-u', '-o', 'pipefail']"
    plugins = [a["value"] for a in _config(nf_model, "nextflow.config")["assigns"] if a["scope"] == ["plugins"]]
    assert any(v.startswith("'nf-schema@") for v in plugins)


def test_publish_layout_matches_dnadx_run(nf_model, processes):
    """Every process publishes; per-sample stages to <outdir>/<sample>/, batch stages to <outdir>/
    (the `dnadx run` layout of DESIGN.md); the report's results/ prefix is stripped."""
    publish = {}
    for a in _config(nf_model, "conf/modules.config")["assigns"]:
        sel = [s.split(":", 1)[1] for s in a["scope"] if s.startswith("withName:")]
        if sel and a["names"] == ["publishDir"]:
            for name in processes:
                if re.fullmatch(sel[0], name):
                    text = " ".join(a["value"].split())
                    publish[name] = re.sub(r",?\s*\]$", "]", re.sub(r"^\[\s*", "[", text))
    assert set(publish) == set(processes), f"no publishDir for {set(processes) - set(publish)}"
    per_sample = '[path: { "${params.outdir}/${meta.id}" }, mode: params.publish_dir_mode]'
    batch = '[path: { "${params.outdir}" }, mode: params.publish_dir_mode'
    for name in ("DNADX_COUNT", "DNADX_CNV", "DNADX_SCORE", "DNADX_VARIANTS"):
        assert publish[name] == per_sample, f"{name}: {publish[name]}"
    for name in ("DNADX_PON", "DNADX_CLUSTER", "DNADX_REPORT"):
        assert publish[name].startswith(batch), f"{name}: {publish[name]}"
    assert "saveAs: { filename -> filename.tokenize('/')[-1] }" in publish["DNADX_REPORT"]
