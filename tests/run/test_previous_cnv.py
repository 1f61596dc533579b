"""`dnadx run` passes each plasma sample's earlier timepoints (same patient, timepoint order) to
`dnadx variants --previous-cnv`; an earlier timepoint whose cnv failed is left out."""

from __future__ import annotations

from pathlib import Path

from dnadx.core.samplesheet import Sample
from dnadx.pipeline import RunConfig, _drop_missing_optional, plan


def _variants_argv(samples, tmp_path):
    cfg = RunConfig(outdir=tmp_path, available=frozenset({"variants"}))
    steps = [s for wave in plan(samples, cfg) for s in wave if s.name.startswith("variants:")]
    return {s.sample: s for s in steps}


def _s(name, patient, tp, kind="plasma"):
    return Sample(name, Path(f"/data/{name}.bam"), None, patient, tp, kind)


def test_previous_timepoints_in_order_and_per_patient(tmp_path):
    steps = _variants_argv([_s("P1b", "P1", "T10"), _s("P1a", "P1", "T2"), _s("P1c", "P1", "T11"),
                            _s("Q1", "Q", "1"), _s("N1", "P1", "T1", "normal")], tmp_path)
    argv = steps["P1c"].argv
    i = argv.index("--previous-cnv")
    assert argv[i + 1:] == [str(tmp_path / "P1a" / "P1a.cnv.json"), str(tmp_path / "P1b" / "P1b.cnv.json")]
    assert "--previous-cnv" not in steps["P1a"].argv and "--previous-cnv" not in steps["Q1"].argv
    assert "--previous-cnv" not in steps["N1"].argv  # normals are no timepoint of a patient
    assert tmp_path / "P1a" / "P1a.bins.tsv.gz" in steps["P1c"].optional


def test_failed_earlier_timepoint_is_left_out(tmp_path):
    steps = _variants_argv([_s("A", "P", "1"), _s("B", "P", "2"), _s("C", "P", "3")], tmp_path)
    step = steps["C"]
    (tmp_path / "B").mkdir()
    (tmp_path / "B" / "B.cnv.json").write_text("{}")
    _drop_missing_optional(step)
    assert step.argv[-2:] == ["--previous-cnv", str(tmp_path / "B" / "B.cnv.json")]
    step = steps["B"]
    _drop_missing_optional(step)
    assert "--previous-cnv" not in step.argv and step.argv[-1] == str(tmp_path / "B" / "B.cnv.json")
