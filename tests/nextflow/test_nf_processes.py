"""L2: contract tests of every module, run as tasks in workflow order on simulated BAMs.

Each module's `script:` is rendered by the real Nextflow parser + Groovy for real inputs, run in
bash with the pipeline's shell flags in a task folder, its declared outputs must appear, and each
rendered `dnadx` line must parse under the package's real CLI. Stages not on main yet are xfail
(strict=False) until their subcommand exists in `build_parser()`.
"""

from __future__ import annotations

import csv
import filecmp
import gzip
import json
import re
import subprocess
from pathlib import Path

import pytest

import dnadx
from dnadx.sim.profiles import PROFILES
from tests.nextflow import harness, nftools
from tests.nextflow.harness import Stage

REPO = nftools.REPO
GENOME = "GRCh38"
BATCH = ("NORMAL1", "NORMAL2", "NORMAL3", "P1_T1")  # rows of assets/test_batch.csv: 3 normals make a PoN
FRAGMENTS = 100_000  # whole genome, ~0.003x: seconds per stage


def _needs(*stages: str):
    """xfail unless every listed `dnadx` subcommand exists (stages merged later by the lead)."""
    missing = [s for s in stages if not harness.has_command(s)]
    return pytest.mark.xfail(bool(missing), reason=f"stage not built yet: dnadx {', '.join(missing)}", strict=False)


@pytest.fixture(scope="module")
def pipe(nf_model, processes) -> harness.Pipeline:
    return harness.Pipeline(nf_model, processes)


@pytest.fixture(scope="module")
def renderer():
    r = nftools.Renderer()
    yield r
    r.close()


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> dict:
    """Outputs of the tasks run so far, by emit and sample id (filled in workflow order)."""
    return {"root": tmp_path_factory.mktemp("nfwork"), "tasks": {}}


def _metas() -> list[dict]:
    """The simulated batch exactly as SIMULATE_BATCH builds meta maps from assets/test_batch.csv."""
    with open(REPO / "assets/test_batch.csv", newline="") as fh:
        rows = {r["sample"]: r for r in csv.DictReader(fh)}
    return [{"id": r["sample"], "patient": r["patient"] or r["sample"], "timepoint": r["timepoint"],
             "type": r["type"] or "plasma", "profile": r["profile"], "tumor_fraction": r["tumor_fraction"],
             "seed": r["seed"], "sex": r["sex"] or "female"} for r in (rows[s] for s in BATCH)]


def _sample_meta(meta: dict) -> dict:
    return {k: meta[k] for k in ("id", "patient", "timepoint", "type")}


def _run(pipe, renderer, chain, process, key, binding, cpus=1) -> harness.TaskResult:
    res = harness.run_task(pipe, renderer, process, binding, chain["root"] / process / key, cpus=cpus)
    chain["tasks"][(process, key)] = res
    lines = harness.dnadx_lines(res.script)
    assert len(lines) == 1, f"{process}: expected one dnadx call, got {res.script!r}"
    harness.parse_cli(lines[0])
    assert res.returncode == 0, f"{process} [{key}] failed:\n{res.script}\n{res.stderr[-3000:]}"
    assert not res.missing, f"{process} [{key}]: declared outputs missing: {res.missing}\n{res.script}"
    return res


def _one(res, emit) -> Path:
    assert len(res.outputs[emit]) == 1, f"{emit}: {res.outputs[emit]}"
    return res.outputs[emit][0]


def _require(chain, key):
    if not chain.get(key):
        pytest.fail(f"needs the outputs of an earlier stage ({key}); run the whole module", pytrace=False)
    return chain[key]


# ----------------------------------------------------------------------------- stages in workflow order

def test_simulate(pipe, renderer, chain):
    bams = {}
    for meta in _metas():
        res = _run(pipe, renderer, chain, "DNADX_SIMULATE", meta["id"], {"meta": meta, "fragments": FRAGMENTS})
        truth = json.loads(_one(res, "truth").read_text())
        assert truth["tumor_fraction"] == pytest.approx(float(meta["tumor_fraction"]))
        assert (truth["profile"], truth["seed"], truth["sex"]) == (meta["profile"], int(meta["seed"]), meta["sex"])
        assert res.outputs["bam"][0].name == f"{meta['id']}.bam" and res.outputs["bam"][1].name == f"{meta['id']}.bam.bai"
        bams[meta["id"]] = (_sample_meta(meta), *res.outputs["bam"])
    chain["bam"] = bams


def test_count(pipe, renderer, chain):
    counts, count_qc = {}, {}
    for sid, (meta, bam, bai) in _require(chain, "bam").items():
        res = _run(pipe, renderer, chain, "DNADX_COUNT", sid,
                   {"meta": meta, "bam": Stage(bam), "index": Stage(bai), "fasta": []}, cpus=2)
        # ext.args from conf/modules.config reached the command line
        assert "--bin-size 10000 --min-mapq 20" in res.script and "--threads 2" in res.script
        qc = json.loads(_one(res, "qc").read_text())
        assert qc["reads_kept"] > 0.8 * FRAGMENTS * 0.9
        with gzip.open(_one(res, "counts"), "rt") as fh:
            assert fh.readline().split() == ["chrom", "start", "end", "count"]
        counts[sid] = (meta, _one(res, "counts"))
        count_qc[sid] = _one(res, "qc")
    chain["counts"], chain["count_qc"] = counts, count_qc


@_needs("pon")
def test_pon(pipe, renderer, chain):
    normals = sorted((c for m, c in _require(chain, "counts").values() if m["type"] == "normal"), key=lambda p: p.name)
    assert len(normals) == 3
    res = _run(pipe, renderer, chain, "DNADX_PON", "pon",
               {"meta": {"id": "pon"}, "counts": [Stage(c) for c in normals], "genome": GENOME})
    assert f"--genome {GENOME}" in res.script and "--bin-size 500000" in res.script
    panel, matrix = res.outputs["pon"]
    assert panel.name.endswith(".pon.tsv.gz") and matrix.name.endswith(".pon-normals.tsv.gz")
    assert {p.name.split(".", 1)[1] for p in res.outputs["qc"]} == {"pon.json", "pon-loo.tsv"}
    chain["pon"] = [panel, matrix]


@_needs("cnv")
def test_cnv(pipe, renderer, chain):
    cnvs, pngs = {}, {}
    pon = chain.get("pon")  # no PoN stage yet -> as the workflow does without normals: pon = []
    for sid, (meta, counts) in _require(chain, "counts").items():
        res = _run(pipe, renderer, chain, "DNADX_CNV", sid,
                   {"meta": meta, "counts": Stage(counts), "pon": [Stage(p) for p in pon] if pon else [],
                    "genome": GENOME, "gc_wig": [], "map_wig": []})
        assert ("--pon " in res.script) == bool(pon)
        # a normal of the panel is called against a panel of the others (as `dnadx run` does)
        assert (f"--leave-out {sid}" in res.script) == bool(pon and meta["type"] == "normal")
        cnv = json.loads(res.outputs["cnv"][0].read_text())
        assert cnv["sample"] == sid and 0 <= cnv["tumor_fraction"] <= 1
        cnvs[sid] = (meta, *res.outputs["cnv"])
        pngs[sid] = _one(res, "png")
    chain["cnv"], chain["png"] = cnvs, pngs


@_needs("cnv", "score")
def test_score(pipe, renderer, chain):
    scores, genes, jsons = {}, {}, {}
    for sid, (meta, js, bins, seg) in _require(chain, "cnv").items():
        res = _run(pipe, renderer, chain, "DNADX_SCORE", sid,
                   {"meta": meta, "cnv_json": Stage(js), "bins": Stage(bins), "seg": Stage(seg)})
        scores[sid] = _one(res, "dnadx")
        genes[sid] = _one(res, "genes")
        jsons[sid] = _one(res, "json")
    chain["dnadx"], chain["genes"], chain["score_json"] = scores, genes, jsons


@_needs("cnv", "score", "cluster")
def test_cluster(pipe, renderer, chain):
    tsvs = sorted(_require(chain, "dnadx").values(), key=lambda p: p.name)
    jsons = sorted(chain["score_json"].values(), key=lambda p: p.name)
    res = _run(pipe, renderer, chain, "DNADX_CLUSTER", "cohort",
               {"meta": {"id": "cohort"}, "scores": [Stage(t) for t in tsvs], "score_jsons": [Stage(j) for j in jsons]})
    clusters = _one(res, "clusters")
    assert "insufficient_information" not in clusters.read_text()  # score.json was found beside each dnadx.tsv
    chain["cohort"] = [clusters, _one(res, "json"), *res.outputs["heatmap"]]


@_needs("cnv", "variants")
def test_variants(pipe, renderer, chain, tmp_path_factory):
    resistance, vcfs = {}, {}
    cnvs = _require(chain, "cnv")
    # every sample as the test profile runs them: no FASTA -> depth-based assessability only
    for sid, (meta, bam, bai) in _require(chain, "bam").items():
        res = _run(pipe, renderer, chain, "DNADX_VARIANTS", sid,
                   {"meta": meta, "bam": Stage(bam), "index": Stage(bai),
                    "cnv_files": [Stage(cnvs[sid][1]), Stage(cnvs[sid][2])], "previous_cnv_files": [],
                    "fasta": [], "error_model": []})
        assert "--fasta" not in res.script and f"--cnv {sid}.cnv.json" in res.script
        resistance[sid] = _one(res, "resistance")
        vcfs[sid] = res.outputs["vcf"]
    # a deeper chr17 BAM with its FASTA and a planted ERBB2 variant
    d = tmp_path_factory.mktemp("deep")
    r = subprocess.run(["dnadx", "simulate", "--prefix", str(d / "DEEP"), "--chroms", "chr17", "--fragments", "20000",
                        "--fasta", "--variant", "chr17:39723967:T>C:0.2", "--target-depth", "300", "--seed", "4"],
                       capture_output=True, text=True, env=harness.venv_env())
    assert r.returncode == 0, r.stderr
    res = _run(pipe, renderer, chain, "DNADX_VARIANTS", "DEEP",
               {"meta": {"id": "DEEP", "patient": "DEEP", "timepoint": "", "type": "plasma"},
                "bam": Stage(d / "DEEP.bam"), "index": Stage(d / "DEEP.bam.bai"), "cnv_files": [],
                "previous_cnv_files": [], "fasta": Stage(d / "DEEP.fa"), "error_model": []})
    assert "--fasta DEEP.fa" in res.script
    chain["resistance"], chain["vcf"] = resistance, vcfs


@_needs("cnv", "score", "cluster", "variants", "report")
def test_report(pipe, renderer, chain):
    files = [*_require(chain, "count_qc").values(), *(f for _m, *fs in _require(chain, "cnv").values() for f in fs),
             *chain["png"].values(), *_require(chain, "dnadx").values(), *chain["genes"].values(),
             *chain["score_json"].values(),
             *_require(chain, "resistance").values(), *(v for vs in chain["vcf"].values() for v in vs),
             *_require(chain, "cohort")]
    files = sorted(files, key=lambda p: p.name)
    sheet = chain["root"] / "samplesheet.csv"  # what DNADX writes: header, then rows sorted as strings
    rows = sorted(f"{m['id']},{m['patient']},{m['timepoint']},{m['type']}" for m, *_ in chain["bam"].values())
    sheet.write_text("\n".join(["sample,patient,timepoint,type", *rows]) + "\n")
    res = _run(pipe, renderer, chain, "DNADX_REPORT", "batch",
               {"meta": {"id": "batch"}, "results": [Stage(f, f"results/{f.name}") for f in files],
                "samplesheet": Stage(sheet, "results/samplesheet.csv")})
    with open(_one(res, "summary"), newline="") as fh:
        summary = list(csv.DictReader(fh, delimiter="\t"))
    assert sorted(r["sample"] for r in summary) == sorted(BATCH)
    chain["summary"] = _one(res, "summary")


@_needs("pon", "cnv", "score", "cluster", "variants", "report", "run")
def test_task_chain_reproduces_dnadx_run(chain, tmp_path):
    """The same batch through `dnadx run` gives byte-identical tables to the chained tasks."""
    _require(chain, "summary")
    # BAMs named and referenced as the tasks see them (staged by file name, relative), so provenance
    # fields such as count-qc.json "input" can be identical too
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    rows = []
    for m, bam, bai in chain["bam"].values():
        (inputs / bam.name).symlink_to(bam)
        (inputs / bai.name).symlink_to(bai)
        rows.append(f"{m['id']},{bam.name},{bai.name},{m['patient']},{m['timepoint']},{m['type']}")
    (inputs / "samplesheet.csv").write_text("\n".join(["sample,bam,index,patient,timepoint,type", *rows]) + "\n")
    out = tmp_path / "run"
    r = subprocess.run(["dnadx", "run", "--input", "samplesheet.csv", "--outdir", str(out), "--genome", GENOME,
                        "--cores", "2"], capture_output=True, text=True, env=harness.venv_env(), cwd=inputs)
    assert r.returncode == 0, r.stderr[-3000:]
    produced = {p.name: p for res in chain["tasks"].values() if res.returncode == 0
                for ps in res.outputs.values() for p in ps}
    compared = 0
    for f in sorted(out.rglob("*")):
        if f.is_file() and f.name in produced and f.suffix not in (".png", ".html"):  # images/HTML carry render metadata
            assert filecmp.cmp(f, produced[f.name], shallow=False), f"{f.relative_to(out)} differs from the task output"
            compared += 1
    assert compared >= 5 * len(BATCH)


# ----------------------------------------------------------------------------- every module, cheaply

def _synthetic(tmp: Path) -> dict:
    """A binding per process with dummy staged files (for the CLI contract and the stubs)."""
    def f(name):
        p = tmp / "inputs" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.touch()
        return Stage(p, name)

    meta = {"id": "S1", "patient": "P1", "timepoint": "1", "type": "plasma"}
    return {
        "DNADX_SIMULATE": {"meta": dict(meta, profile="erbb2", tumor_fraction="0.3", seed="1", sex="female"),
                           "fragments": 1000},
        "DNADX_COUNT": {"meta": meta, "bam": f("S1.bam"), "index": f("S1.bam.bai"), "fasta": f("ref.fa")},
        "DNADX_PON": {"meta": {"id": "pon"}, "counts": [f(f"N{i}.counts.tsv.gz") for i in (1, 2, 3)], "genome": GENOME},
        "DNADX_CNV": {"meta": meta, "counts": f("S1.counts.tsv.gz"), "pon": f("pon.tsv.gz"), "genome": GENOME,
                      "gc_wig": f("gc_500kb.wig"), "map_wig": f("map_500kb.wig")},
        "DNADX_SCORE": {"meta": meta, "cnv_json": f("S1.cnv.json"), "bins": f("S1.bins.tsv.gz"), "seg": f("S1.seg")},
        "DNADX_CLUSTER": {"meta": {"id": "cohort"}, "scores": [f(f"S{i}.dnadx.tsv") for i in (1, 2, 3)],
                          "score_jsons": [f(f"S{i}.score.json") for i in (1, 2, 3)]},
        "DNADX_VARIANTS": {"meta": meta, "bam": f("S1.bam"), "index": f("S1.bam.bai"),
                           "cnv_files": [f("S1.cnv.json"), f("S1.bins.tsv.gz")],
                           "previous_cnv_files": [f("S0.cnv.json"), f("S0.bins.tsv.gz"), f("S00.cnv.json"),
                                                  f("S00.bins.tsv.gz")],
                           "fasta": f("ref.fa"), "error_model": f("errors.tsv.gz")},
        "DNADX_REPORT": {"meta": {"id": "batch"}, "results": [Stage(f("S1.cnv.json").path, "results/S1.cnv.json")],
                         "samplesheet": Stage(f("sheet.csv").path, "results/samplesheet.csv")},
        "MULTIQC": {"multiqc_files": [Stage(f("dnadx_summary_mqc.tsv").path, "1/dnadx_summary_mqc.tsv")],
                    "multiqc_config": f("multiqc_config.yml")},
    }


def test_every_process_has_a_case(processes, tmp_path):
    assert set(_synthetic(tmp_path)) == set(processes)


@pytest.mark.parametrize("process", ["DNADX_SIMULATE", "DNADX_COUNT",
                                     pytest.param("DNADX_PON", marks=_needs("pon")),
                                     pytest.param("DNADX_CNV", marks=_needs("cnv")),
                                     pytest.param("DNADX_SCORE", marks=_needs("score")),
                                     pytest.param("DNADX_CLUSTER", marks=_needs("cluster")),
                                     pytest.param("DNADX_VARIANTS", marks=_needs("variants")),
                                     pytest.param("DNADX_REPORT", marks=_needs("report"))])
def test_cli_contract(pipe, renderer, tmp_path, process):
    """Every optional input given: the rendered command parses under the real `dnadx` parser, with
    the values the script passed (files as staged, ext.args from conf/modules.config)."""
    binding = _synthetic(tmp_path)[process]
    [res] = renderer.render([pipe.job(process, binding, ["script"], cpus=3)])
    assert "error" not in res, res["error"]
    [argv] = harness.dnadx_lines(res["script"])
    ns = harness.parse_cli(argv)
    stage = process.removeprefix("DNADX_").lower()
    assert ns.command == stage
    if stage in ("count", "pon", "cnv", "score", "cluster", "variants", "simulate"):
        assert ns.prefix == binding["meta"]["id"]
    expect = {"count": {"bam": "S1.bam", "fasta": "ref.fa", "threads": 3, "bin_size": 10000, "min_mapq": 20},
              "simulate": {"profile": "erbb2", "tumor_fraction": 0.3, "fragments": 1000, "seed": 1, "sex": "female"},
              "cnv": {"pon": "pon.tsv.gz", "genome": GENOME, "bin_size": 500000, "gc_wig": "gc_500kb.wig",
                      "map_wig": "map_500kb.wig"},
              "pon": {"genome": GENOME, "bin_size": 500000},
              "variants": {"fasta": "ref.fa", "error_model": "errors.tsv.gz",
                           "previous_cnv": ["S0.cnv.json", "S00.cnv.json"]}}.get(stage, {})
    for key, value in expect.items():
        assert getattr(ns, key) == value, f"{process}: {key} = {getattr(ns, key)!r}, expected {value!r}"


def test_multiqc_command(pipe, renderer, tmp_path):
    [res] = renderer.render([pipe.job("MULTIQC", _synthetic(tmp_path)["MULTIQC"], ["script"])])
    assert res["script"].split() == ["multiqc", "--force", "--config", "multiqc_config.yml", "."]


def test_stubs_create_every_declared_output(pipe, renderer, tmp_path, processes):
    """`-stub` runs: each stub (run with the pipeline's bash flags) creates every non-optional output."""
    for process, binding in _synthetic(tmp_path).items():
        res = harness.run_task(pipe, renderer, process, binding, tmp_path / "stub" / process, mode="stub")
        assert res.returncode == 0, f"{process} stub failed: {res.stderr}"
        assert not res.missing, f"{process} stub misses declared outputs {res.missing}"


def test_version_commands(pipe, renderer, chain):
    """The eval() in each versions-topic output prints the package version inside a task."""
    res = _require(chain, "tasks")[("DNADX_COUNT", "P1_T1")]
    for cmd in set(res.versions):
        r = subprocess.run([*pipe.shell, "-c", cmd], capture_output=True, text=True, env=harness.venv_env())
        assert r.returncode == 0 and r.stdout.strip() == dnadx.__version__, (cmd, r.stdout, r.stderr)


def test_test_profile_batch(pipe, renderer):
    """Every row of the test profile's batch renders to a `dnadx simulate` call the CLI accepts,
    with at least 3 normals (a PoN) and 3 plasma samples (clustering)."""
    with open(REPO / "assets/test_batch.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    metas = [{"id": r["sample"], "patient": r["patient"], "timepoint": r["timepoint"], "type": r["type"],
              "profile": r["profile"], "tumor_fraction": r["tumor_fraction"], "seed": r["seed"], "sex": r["sex"]}
             for r in rows]
    results = renderer.render([pipe.job("DNADX_SIMULATE", {"meta": m, "fragments": 100_000}, ["script"]) for m in metas])
    for meta, res in zip(metas, results):
        ns = harness.parse_cli(harness.dnadx_lines(res["script"])[0])
        assert (ns.profile, ns.tumor_fraction, ns.sex) == (meta["profile"], float(meta["tumor_fraction"]), meta["sex"])
        assert ns.profile in PROFILES, f"{meta['id']}: unknown simulate profile {ns.profile}"
    assert sum(m["type"] == "normal" for m in metas) >= 3 and sum(m["type"] == "plasma" for m in metas) >= 3
    assert len({m["id"] for m in metas}) == len(metas)


def test_samplesheet_rows_become_sample_tuples(nf_model, renderer):
    """`sampleFromRow` (utils_dnadx_pipeline), evaluated by Groovy on rows shaped like nf-schema's
    samplesheetToList output: defaults for index, patient, timepoint and type."""
    [fn] = [f for s in nf_model["scripts"] for f in s["functions"] if f["name"] == "sampleFromRow"]
    cases = [
        # [meta, bam, index] as nf-schema gives them: absent optional file -> [], absent meta field -> null
        ([{"id": "S1", "patient": None, "timepoint": None, "type": "plasma"}, {"__path__": "S1.bam"}, []],
         [{"id": "S1", "patient": "S1", "timepoint": "", "type": "plasma"}, {"__path__": "S1.bam"}, {"__path__": "S1.bam.bai"}]),
        ([{"id": "S2", "patient": "P9", "timepoint": "3", "type": "normal"}, {"__path__": "S2.cram"}, []],
         [{"id": "S2", "patient": "P9", "timepoint": "3", "type": "normal"}, {"__path__": "S2.cram"}, {"__path__": "S2.cram.crai"}]),
        ([{"id": "S3", "type": None}, {"__path__": "S3.bam"}, {"__path__": "S3.bai"}],
         [{"id": "S3", "patient": "S3", "timepoint": "", "type": "plasma"}, {"__path__": "S3.bam"}, {"__path__": "S3.bai"}]),
    ]
    results = renderer.render([{"call": "sampleFromRow(row)", "source": fn["text"], "binding": {"row": row}}
                               for row, _ in cases])
    for (row, expected), res in zip(cases, results):
        assert "error" not in res, res["error"]
        assert res["value"] == expected, f"{row} -> {res['value']}"


def test_previous_timepoints_as_dnadx_run_orders_them(nf_model, renderer):
    """`earlierTimepoints` (variants subworkflow), evaluated by Groovy, gives every sample the same
    earlier timepoints, in the same order, as `dnadx run` passes to `dnadx variants --previous-cnv`."""
    from dnadx.report.longitudinal import earlier_timepoints

    [fn] = [f for s in nf_model["scripts"] for f in s["functions"] if f["name"] == "earlierTimepoints"]
    tps = ["T10", "T2", "", "baseline", "3", "10", "2.5", "t2b", "T2a", "1.5.2", "T02"]
    rows = [[{"id": f"S{i}", "patient": "P", "timepoint": tp, "type": "plasma"},
             {"__path__": f"S{i}.cnv.json"}, {"__path__": f"S{i}.bins.tsv.gz"}] for i, tp in enumerate(tps)]
    rows.append([{"id": "N1", "patient": "P", "timepoint": "1", "type": "normal"},
                 {"__path__": "N1.cnv.json"}, {"__path__": "N1.bins.tsv.gz"}])
    [res] = renderer.render([{"call": "earlierTimepoints(rows)", "source": fn["text"], "binding": {"rows": rows}}])
    assert "error" not in res, res["error"]
    nextflow = {meta["id"]: [f["__path__"] for f in files] for meta, files in res["value"]}
    python = earlier_timepoints([{"sample": m["id"], "patient": m["patient"], "timepoint": m["timepoint"],
                                  "type": m["type"]} for m, _, _ in rows])
    expected = {s: [f"{e}.{k}" for e in earlier for k in ("cnv.json", "bins.tsv.gz")] for s, earlier in python.items()}
    assert nextflow == dict(expected, N1=[])
    assert nextflow["S0"][-2:] == ["S7.cnv.json", "S7.bins.tsv.gz"]  # T2a < t2b < T10 (natural order)


def test_pon_only_from_three_or_more_normals(nf_model, renderer):
    """The Nextflow path builds a panel of normals exactly when `dnadx run` does (3 or more normals):
    `buildsPon` (copy_number subworkflow) evaluated by Groovy against the runner's plan, and DNADX_PON
    fed only through that branch (1-2 normals used to reach `dnadx pon`, which refuses them)."""
    from dnadx.pipeline import MIN_PON_NORMALS, RunConfig, plan
    from dnadx.core.samplesheet import Sample

    [(path, fn)] = [(s["file"], f) for s in nf_model["scripts"] for f in s["functions"] if f["name"] == "buildsPon"]
    assert Path(path) == REPO / "subworkflows/local/copy_number/main.nf"
    sizes = range(6)
    results = renderer.render([{"call": "buildsPon(counts)", "source": fn["text"],
                                "binding": {"counts": [{"__path__": f"N{i}.counts.tsv.gz"} for i in range(n)]}}
                               for n in sizes])
    nextflow = [r.get("value", r.get("error")) for r in results]
    runner = []
    for n in sizes:
        samples = [Sample(f"N{i}", Path(f"N{i}.bam"), None, f"N{i}", "", "normal") for i in range(n)]
        samples.append(Sample("P1", Path("P1.bam"), None, "P1", "", "plasma"))
        runner.append(any(step.name == "pon" for wave in plan(samples, RunConfig(outdir=Path("o"))) for step in wave))
    assert nextflow == runner == [n >= MIN_PON_NORMALS for n in sizes], (nextflow, runner)

    [wf] = [w for s in nf_model["scripts"] for w in s["workflows"] if w["name"] == "COPY_NUMBER"]
    assert [args for callee, args in wf["calls"] if callee == "DNADX_PON"] == [["ch_normal_counts", "genome"]]
    body = re.sub(r"\s+", " ", Path(path).read_text())
    assert "pon: buildsPon(counts)" in body and "ch_normal_counts = ch_normals.pon.map" in body
