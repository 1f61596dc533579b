#!/usr/bin/env python3
"""Regenerate the reference bundle's MANIFEST.tsv: the one way it is written (`make manifest`).

Usage: python reference/build/bundle_manifest.py [--check] [REFERENCE_DIR]   (default: reference/ next to this script)
       --check: write nothing; list the files the manifest misses or lists wrongly, exit 1 if any

Lists (file, sha256, bytes) for every file the package ships from REFERENCE_DIR: all files below it except
MANIFEST.tsv itself and what `NOT_SHIPPED` leaves out (this build/ folder, caches). setup.py copies the
bundle into the wheel with the same `NOT_SHIPPED`, so the manifest covers exactly what a wheel carries, and
`dnadx` checks each listed file's sha256 (`dnadx reference`, `dnadx run`, and each file's first read).
The checksum table of README.md is rewritten first (every file but the README itself), then the README is
hashed too. The build scripts call `write_manifest` after writing their files; after any other change to
a shipped file (`dnadx train` into reference/models, an edited README or model card) run `make manifest`.
Standard library only: setup.py imports `NOT_SHIPPED` in a build environment without pandas.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import sys
from pathlib import Path

MANIFEST = "MANIFEST.tsv"
README = "README.md"
# names (at any depth) that stay in the source tree and out of the wheel: the regeneration scripts, caches,
# and a `_write_atomic` temporary left by an interrupted run
NOT_SHIPPED = ("build", "__pycache__", "*.pyc", "*.part")
COLUMNS = ("file", "sha256", "bytes")
_TABLE_HEAD = "| file | sha256 | bytes |\n| --- | --- | --- |\n"


def shipped_files(ref: Path) -> list[str]:
    """Bundle-relative POSIX paths of every file a wheel carries from ``ref`` (MANIFEST.tsv excluded), sorted."""
    out = []
    for p in ref.rglob("*"):
        rel = p.relative_to(ref)
        if p.is_file() and rel.as_posix() != MANIFEST and not any(
                fnmatch.fnmatch(part, pat) for part in rel.parts for pat in NOT_SHIPPED):
            out.append(rel.as_posix())
    return sorted(out)


def checksum_rows(ref: Path, rels: list[str]) -> list[tuple[str, str, int]]:
    rows = []
    for rel in rels:
        data = (ref / rel).read_bytes()
        rows.append((rel, hashlib.sha256(data).hexdigest(), len(data)))
    return rows


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(text, newline="\n")
    os.replace(tmp, path)


def _update_readme(path: Path, rows: list[tuple[str, str, int]]) -> None:
    """Rewrite the README's checksum table (the rows after `_TABLE_HEAD`); the rest is untouched."""
    text = path.read_text()
    if _TABLE_HEAD not in text:
        return
    start = end = text.index(_TABLE_HEAD) + len(_TABLE_HEAD)
    for line in text[start:].split("\n"):
        if not line.startswith("| `"):
            break
        end += len(line) + 1
    table = "".join(f"| `{f}` | `{s}` | {b} |\n" for f, s, b in rows)
    if text[start:end] != table:
        _write_atomic(path, text[:start] + table + text[end:])


def write_manifest(ref: Path) -> list[tuple[str, str, int]]:
    """Write ``ref``/MANIFEST.tsv over every shipped file (README table first); return its rows."""
    ref = Path(ref)
    rels = shipped_files(ref)
    rows = checksum_rows(ref, [r for r in rels if r != README])
    if README in rels:
        _update_readme(ref / README, rows)
        rows = sorted(rows + checksum_rows(ref, [README]))
    _write_atomic(ref / MANIFEST, "".join("\t".join(map(str, r)) + "\n" for r in [COLUMNS, *rows]))
    return rows


def stale(ref: Path) -> list[str]:
    """How ``ref``/MANIFEST.tsv differs from the files shipped (empty: it covers them all, unchanged).

    Each entry names a file: `not in MANIFEST.tsv` (shipped, unlisted), `listed but absent`, or
    `sha256/bytes differ` (listed with other contents).
    """
    ref = Path(ref)
    lines = (ref / MANIFEST).read_text().splitlines()
    if not lines or tuple(lines[0].split("\t")) != COLUMNS:
        return [f"{MANIFEST}: header is not {', '.join(COLUMNS)} (tab-separated)"]
    listed = {f: (s, b) for f, s, b in (ln.split("\t") for ln in lines[1:] if ln)}
    shipped = shipped_files(ref)
    out = [f"{f}: not in {MANIFEST}" for f in shipped if f not in listed]
    out += [f"{f}: listed in {MANIFEST} but absent" for f in sorted(set(listed) - set(shipped))]
    out += [f"{f}: sha256/bytes differ from {MANIFEST}" for f, sha, size in checksum_rows(ref, [f for f in shipped
            if f in listed]) if listed[f] != (sha, str(size))]
    return out


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--check"]
    if len(args) > 1:
        raise SystemExit(__doc__)
    folder = Path(args[0]) if args else Path(__file__).resolve().parents[1]
    if "--check" in sys.argv:
        bad = stale(folder)
        for line in bad:
            print(f"{folder / line}", file=sys.stderr)
        raise SystemExit(f"{folder / MANIFEST}: out of date ({len(bad)} file(s)); run `make manifest`" if bad else 0)
    print(f"{folder / MANIFEST}: {len(write_manifest(folder))} files")
