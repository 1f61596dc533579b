"""Samplesheet validation: every problem reported at once, with its row number."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from dnadx.core.errors import InputError

SAMPLE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
REQUIRED = ("sample", "bam")
OPTIONAL = ("index", "patient", "timepoint", "type")
TYPES = ("plasma", "normal")


@dataclass(frozen=True)
class Sample:
    sample: str
    bam: Path
    index: Path | None
    patient: str
    timepoint: str
    type: str


def _index_for(bam: Path) -> Path | None:
    for cand in (Path(str(bam) + ".bai"), bam.with_suffix(".bai"), Path(str(bam) + ".csi"), Path(str(bam) + ".crai"),
                 bam.with_suffix(".crai")):
        if cand.exists():
            return cand
    return None


def read_samplesheet(path) -> list[Sample]:
    """Parse and validate ``path`` (CSV: sample,bam[,index][,patient][,timepoint][,type]).

    Relative paths are resolved against the samplesheet's folder. Raises InputError listing every
    problem as `row N: field: problem`.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: samplesheet not found")
    try:
        text = path.read_text()
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not a text CSV file ({exc})") from exc
    rows = list(csv.DictReader(text.splitlines()))
    header = next(csv.reader(text.splitlines()), [])
    problems = []
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; expected "
                         f"sample,bam[,index][,patient][,timepoint][,type]")
    if unknown:
        problems.append(f"header: unknown column(s) {', '.join(unknown)} (allowed: {', '.join(REQUIRED + OPTIONAL)})")
    if not rows:
        raise InputError(f"{path}: no samples (only a header)")
    seen: dict[str, int] = {}
    out = []
    for i, row in enumerate(rows, start=2):
        sid = (row.get("sample") or "").strip()
        if not sid:
            problems.append(f"row {i}: sample: empty")
        elif not SAMPLE_ID.match(sid):
            problems.append(f"row {i}: sample: {sid!r} is not a safe id (letters, digits, . _ -; must start with a "
                            "letter or digit; no spaces, slashes or shell characters)")
        elif sid in seen:
            problems.append(f"row {i}: sample: {sid!r} duplicates row {seen[sid]}")
        else:
            seen[sid] = i
        bam_txt = (row.get("bam") or "").strip()
        idx_txt = (row.get("index") or "").strip()
        bam = index = None
        if "\x00" in bam_txt + idx_txt:  # os.stat would raise ValueError on it
            problems.append(f"row {i}: bam/index: path contains a NUL byte")
        elif not bam_txt:
            problems.append(f"row {i}: bam: empty")
        else:
            bam = (path.parent / bam_txt).resolve()
            if not bam.exists():
                problems.append(f"row {i}: bam: {bam_txt} not found")
            elif not bam.name.endswith((".bam", ".cram")):
                problems.append(f"row {i}: bam: {bam_txt} must end in .bam or .cram")
            else:
                index = (path.parent / idx_txt).resolve() if idx_txt else _index_for(bam)
                if index is None or not index.exists():
                    problems.append(f"row {i}: index: no index for {bam_txt}; run `samtools index {bam_txt}`")
        kind = (row.get("type") or "plasma").strip() or "plasma"
        if kind not in TYPES:
            problems.append(f"row {i}: type: {kind!r} must be one of {', '.join(TYPES)}")
        patient = (row.get("patient") or "").strip() or sid
        if patient and not SAMPLE_ID.match(patient):
            problems.append(f"row {i}: patient: {patient!r} is not a safe id")
        out.append(Sample(sid, bam or Path(), index, patient, (row.get("timepoint") or "").strip(), kind))
    if problems:
        raise InputError(f"{path}: {len(problems)} problem(s): " + "; ".join(problems))
    return out


def check_builds(sheet, samples: list[Sample], builds: dict[str, str | None], genome: str) -> None:
    """Refuse a batch whose BAMs are not all on the batch build ``genome`` (before any work starts).

    Parameters
    ----------
    sheet : the samplesheet path (named in the message).
    samples : the validated rows, in samplesheet order (row number = position + 2).
    builds : sample id -> build detected from its BAM header contig lengths; None when the header
        could not be read or matches no build (that sample's `count` step then reports why).
    genome : the batch build (`dnadx run --genome`).
    """
    off = [(i, s.sample, builds[s.sample]) for i, s in enumerate(samples, start=2)
           if builds.get(s.sample) not in (None, genome)]
    if not off:
        return
    others = sorted({b for _, _, b in off})
    if len(off) == len(samples) and len(others) == 1:
        raise InputError(f"{sheet}: every BAM is {others[0]} (detected from the BAM header contig lengths) but the "
                         f"batch build is {genome} (--genome); pass --genome {others[0]}")
    them = "it" if len(off) == 1 else "them"
    listed = ", ".join(f"{sid} (row {row}) is {b}" for row, sid, b in off)
    raise InputError(f"{sheet}: mixed genome builds: the batch is {genome} (--genome) but sample {listed} "
                     f"(detected from the BAM header contig lengths); realign {them} to {genome} or run {them} "
                     f"as a separate batch with --genome {' / '.join(others)}")
