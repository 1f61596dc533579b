"""Finding and reading what `dnadx report` needs in a results folder (both layouts).

Layouts: `dnadx run` writes `DIR/<sample>/<sample>.<kind>`; the Nextflow report process
stages every file flat as `DIR/<sample>.<kind>`. Both are searched. Optional stage outputs
that are missing give None; unreadable ones are reported as problems, never a crash: the
report is the last step of a run and must show what is there.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dnadx.core import io, samplesheet
from dnadx.core.errors import InputError, ReferenceError_

SAMPLE_FILES = {  # key -> file suffix after "<sample>."
    "cnv": "cnv.json", "bins": "bins.tsv.gz", "cnv_png": "cnv.png", "count_qc": "count-qc.json",
    "score": "score.json", "dnadx": "dnadx.tsv", "resistance": "resistance.tsv",
}
BATCH_FILES = {"clusters": "cohort.clusters.tsv", "heatmap": "cohort.heatmap.png", "provenance": "provenance.json",
               "pon_check": "pon/pon.pon-loo.tsv"}  # the panel's leave-one-out self-check (dnadx run)


def read_sheet(path) -> list[dict]:
    """Sample metadata from a samplesheet: `sample` required; patient, timepoint, type optional.

    Read by the same parser as `dnadx run` (`dnadx.core.samplesheet.read_rows`: BOM, CRLF, TSV/CSV,
    quoting, and the same error for UTF-16 or a workbook). Other columns (bam, index) are neither required
    nor opened: the report never reads alignments, and the Nextflow report process gets a sheet without
    them. A repeated sample keeps its first row. Raises InputError listing every problem with its row.
    """
    path = Path(path)
    header, rows, problems = samplesheet.read_rows(path, required=("sample",))
    if "sample" not in header:
        raise InputError(f"{path}: no 'sample' column; expected sample[,patient][,timepoint][,type] (other columns "
                         f"ignored; header read: {', '.join(header)})")
    if not rows:
        raise InputError(f"{path}: no samples (only a header)")
    problems += [f"row {i}: sample: empty" for i, r in rows if not r["sample"]]
    samplesheet.raise_problems(path, problems)
    out, seen = [], set()
    for _, r in rows:
        sid = r["sample"]
        if sid not in seen:
            seen.add(sid)
            out.append({"sample": sid, "patient": r.get("patient") or sid, "timepoint": r.get("timepoint", ""),
                        "type": r.get("type") or "plasma"})
    return out


def discover_samples(results: Path, provenance: dict | None) -> list[dict]:
    """Samples of a results folder without a samplesheet: provenance.json's list, else every cnv.json."""
    names = list((provenance or {}).get("samples") or [])
    for p in sorted(results.glob("*/*.cnv.json")) + sorted(results.glob("*.cnv.json")):
        s = p.name[: -len(".cnv.json")]
        if s not in names:
            names.append(s)
    return [{"sample": s, "patient": s, "timepoint": "", "type": "plasma"} for s in names]


def find(results: Path, sample: str, suffix: str) -> Path | None:
    for cand in (results / sample / f"{sample}.{suffix}", results / f"{sample}.{suffix}"):
        if cand.exists():
            return cand
    return None


def _read(path: Path, kind: str, problems: list[str]):
    try:
        if kind.endswith(".json"):
            return io.read_json(path)
        if kind.endswith(".png"):
            return path.read_bytes()
        return io.read_tsv(path, dtype={"chrom": str, "sample": str})
    except (InputError, OSError) as exc:
        problems.append(f"{path}: unreadable, left out of the report ({exc})")
        return None


def load_sample(results: Path, meta: dict, problems: list[str]) -> dict:
    """Every per-sample file that exists, read; missing ones are None."""
    out = {"meta": meta}
    for key, suffix in SAMPLE_FILES.items():
        p = find(results, meta["sample"], suffix)
        out[key] = _read(p, suffix, problems) if p else None
    return out


def load_batch(results: Path, problems: list[str]) -> dict:
    out = {}
    for key, name in BATCH_FILES.items():
        p = results / name
        out[key] = _read(p, name, problems) if p.exists() else None
    return out


def load_models_table(problems: list[str]) -> pd.DataFrame | None:
    """`reference/models/models.tsv` (model card summary) if the bundle ships models; a file changed since the
    bundle was built is left out as a problem."""
    from dnadx.core import reference
    try:
        if not (reference.bundle_dir() / "models" / "models.tsv").exists():
            return None
    except ReferenceError_:
        return None
    try:
        return io.read_tsv(reference.bundle_path("models/models.tsv"), dtype={"name": str})
    except (ReferenceError_, InputError) as exc:
        problems.append(f"model table left out of the report ({exc})")
        return None


def load_manifest(problems: list[str]) -> pd.DataFrame | None:
    from dnadx.core import reference
    try:
        return reference.manifest()
    except (ReferenceError_, OSError) as exc:
        problems.append(f"reference bundle manifest unavailable ({exc})")
        return None
