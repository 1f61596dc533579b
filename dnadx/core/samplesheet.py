"""Samplesheet validation: every problem reported at once, with its row number."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
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
    line: int = field(default=0, compare=False)  # the row's line in the samplesheet (0: not from a file)


def _index_for(bam: Path) -> Path | None:
    for cand in (Path(str(bam) + ".bai"), bam.with_suffix(".bai"), Path(str(bam) + ".csi"), Path(str(bam) + ".crai"),
                 bam.with_suffix(".crai")):
        if cand.exists():
            return cand
    return None


# How to save a sheet dnadx reads; every format/encoding error ends with it.
SAVE_AS = ("save it as CSV UTF-8 (Excel: File > Save As > 'CSV UTF-8 (Comma delimited) (*.csv)'; "
           "LibreOffice: Text CSV, character set UTF-8) or as tab-separated UTF-8 text (.tsv)")
DELIMITERS = {",": "comma", "\t": "tab", ";": "semicolon"}
_BY_EXTENSION = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
# (leading bytes, what the file is), longest first: UTF-32 BOMs start like UTF-16 ones
_NOT_TEXT = (
    (b"\xff\xfe\x00\x00", "UTF-32 text"), (b"\x00\x00\xfe\xff", "UTF-32 text"),
    (b"\xff\xfe", "UTF-16 text (Excel 'Unicode Text')"), (b"\xfe\xff", "UTF-16 text"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls), not a text table"),
    (b"PK\x03\x04", "a spreadsheet workbook (.xlsx/.ods: a zip archive), not a text table"),
)


def _decode(path: Path, raw: bytes) -> str:
    """The file's text: UTF-8 with or without a byte-order mark; anything else raises naming what it is."""
    what = next((name for magic, name in _NOT_TEXT if raw.startswith(magic)), None)
    if what is None and raw[:200].count(b"\x00") * 4 >= len(raw[:200]) > 0:  # every other byte NUL: ASCII as UTF-16
        what = "UTF-16 text without a byte-order mark"
    if what:
        raise InputError(f"{path}: the samplesheet is {what}; {SAVE_AS}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError(f"{path}: line {line}: byte 0x{raw[exc.start]:02x} is not UTF-8 (probably Windows-1252/"
                         f"Latin-1, Excel's plain 'CSV (Comma delimited)'); {SAVE_AS}") from None


def _delimiter(path: Path, first_line: str, required: tuple[str, ...]) -> str:
    """The delimiter whose split of the header line names every ``required`` column, else by file extension."""
    for d in DELIMITERS:
        cells = {c.strip().strip('"') for c in first_line.split(d)}
        if set(required) <= cells:
            return d
    return _BY_EXTENSION.get(path.suffix.lower(), ",")


def read_rows(path, *, required: tuple[str, ...] = REQUIRED) -> tuple[list[str], list[tuple[int, dict[str, str]]],
                                                                       list[str]]:
    """Read a samplesheet as people write them: (header, [(line number, row)], problems).

    UTF-8 with or without a byte-order mark, LF or CRLF line ends, comma, tab or semicolon delimited
    (sniffed from the header line: the delimiter that splits out every ``required`` column name, else by
    extension: .tsv/.tab tab, otherwise comma), quoted fields;
    blank lines and empty trailing columns are ignored. Cells are stripped; a row's missing cells are
    empty. UTF-16, non-UTF-8 text and spreadsheet files raise InputError naming the format and how to save
    it. ``problems`` lists unnamed or repeated columns and rows with more cells than the header.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: samplesheet not found")
    text = _decode(path, path.read_bytes())
    delim = _delimiter(path, text.split("\n", 1)[0], required)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    try:
        records = [(reader.line_num, [c.strip() for c in rec]) for rec in reader]
    except csv.Error as exc:
        raise InputError(f"{path}: line {reader.line_num}: {exc} (a quote opened and never closed?); "
                         f"fix the quoting or {SAVE_AS}") from None
    records = [(n, rec) for n, rec in records if any(rec)]  # blank lines, and Excel's ",,," rows
    if not records:
        raise InputError(f"{path}: empty samplesheet; expected a header naming {', '.join(required)} and one row "
                         "per sample")
    header = records[0][1]
    while header and not header[-1]:
        header.pop()
    problems = [f"header: column {i} has no name" for i, c in enumerate(header, start=1) if not c]
    problems += [f"header: column {c!r} appears more than once" for c in sorted({c for c in header if c and
                                                                                    header.count(c) > 1})]
    rows = []
    for line, rec in records[1:]:
        extra = [c for c in rec[len(header):] if c]
        if extra:
            problems.append(f"row {line}: {len(header) + len(extra)} {DELIMITERS[delim]}-separated fields, the header "
                            f"has {len(header)} (an unquoted {DELIMITERS[delim]} inside a field?)")
        rows.append((line, {c: (rec[i] if i < len(rec) else "") for i, c in enumerate(header) if c}))
    return header, rows, problems


def read_samplesheet(path) -> list[Sample]:
    """Parse and validate ``path`` (sample,bam[,index][,patient][,timepoint][,type]; see `read_rows` for the
    encodings and delimiters accepted).

    Relative paths are resolved against the samplesheet's folder. Raises InputError listing every
    problem as `row N: field: problem` (N: the line in the file).
    """
    path = Path(path)
    header, rows, problems = read_rows(path)
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c and c not in REQUIRED + OPTIONAL]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; expected "
                         f"sample,bam[,index][,patient][,timepoint][,type] (header read: {', '.join(header)})")
    if unknown:
        problems.append(f"header: unknown column(s) {', '.join(unknown)} (allowed: {', '.join(REQUIRED + OPTIONAL)})")
    if not rows:
        raise InputError(f"{path}: no samples (only a header)")
    seen: dict[str, int] = {}
    out = []
    for i, row in rows:
        sid = row["sample"]
        if not sid:
            problems.append(f"row {i}: sample: empty")
        elif not SAMPLE_ID.match(sid):
            problems.append(f"row {i}: sample: {sid!r} is not a safe id (letters, digits, . _ -; must start with a "
                            "letter or digit; no spaces, slashes or shell characters)")
        elif sid in seen:
            problems.append(f"row {i}: sample: {sid!r} duplicates row {seen[sid]}")
        else:
            seen[sid] = i
        bam_txt = row["bam"]
        idx_txt = row.get("index", "")
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
        kind = row.get("type") or "plasma"
        if kind not in TYPES:
            problems.append(f"row {i}: type: {kind!r} must be one of {', '.join(TYPES)}")
        patient = row.get("patient") or sid
        if patient and not SAMPLE_ID.match(patient):
            problems.append(f"row {i}: patient: {patient!r} is not a safe id")
        out.append(Sample(sid, bam or Path(), index, patient, row.get("timepoint", ""), kind, i))
    raise_problems(path, problems)
    return out


def raise_problems(path, problems: list[str]) -> None:
    """Raise one InputError listing every problem (`row N: field: problem`), if there are any."""
    if problems:
        raise InputError(f"{path}: {len(problems)} problem(s): " + "; ".join(problems))


def check_builds(sheet, samples: list[Sample], builds: dict[str, str | None], genome: str) -> None:
    """Refuse a batch whose BAMs are not all on the batch build ``genome`` (before any work starts).

    Parameters
    ----------
    sheet : the samplesheet path (named in the message).
    samples : the validated rows, in samplesheet order (row number: `Sample.line`, else position + 2).
    builds : sample id -> build detected from its BAM header contig lengths; None when the header
        could not be read or matches no build (that sample's `count` step then reports why).
    genome : the batch build (`dnadx run --genome`).
    """
    off = [(s.line or i, s.sample, builds[s.sample]) for i, s in enumerate(samples, start=2)
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
