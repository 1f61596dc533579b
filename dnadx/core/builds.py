"""Genome builds without pandas: where the reference bundle is, contig naming, and which build a set of
contig lengths belongs to. `dnadx count` uses only this part of the bundle, so it does not import
pandas (~0.2 s per call, issue 2); `dnadx.core.reference` re-exports these names.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import os
from pathlib import Path

from dnadx.core import params
from dnadx.core.errors import ReferenceError_


# the bundle inside an installed wheel: setup.py copies reference/ here at build time
PACKAGED = Path(__file__).resolve().parents[1] / "_reference"
# the bundle of a source checkout (editable install, `python -m dnadx` from the repository)
CHECKOUT = Path(__file__).resolve().parents[2] / "reference"


def bundle_source() -> tuple[Path, str]:
    """(folder, where it came from): `$DNADX_REFERENCE` if set, else the copy installed with the package
    (`dnadx/_reference/`, wheels), else `reference/` of the source checkout. The folder may lack a bundle."""
    env = os.environ.get("DNADX_REFERENCE")
    if env:
        return Path(env), "DNADX_REFERENCE"
    if (PACKAGED / "MANIFEST.tsv").exists():
        return PACKAGED, "installed with the package"
    return CHECKOUT, "source checkout"


def bundle_dir() -> Path:
    """The reference bundle folder (see `bundle_source`); raise when it has no MANIFEST.tsv."""
    d, source = bundle_source()
    if not (d / "MANIFEST.tsv").exists():
        hint = ("point DNADX_REFERENCE at a bundle folder (one with MANIFEST.tsv) or unset it"
                if source == "DNADX_REFERENCE" else
                "reinstall dnadx (the wheel carries the bundle), set DNADX_REFERENCE to the bundle folder, "
                "or rebuild it with reference/build/build_bundle.py")
        raise ReferenceError_(f"{d}: reference bundle not found (no MANIFEST.tsv; from {source}); {hint}")
    return d


def manifest_sha256(d: Path) -> dict[str, str]:
    """Bundle-relative file -> sha256 from `d/MANIFEST.tsv` (read again when the manifest changes)."""
    path = d / "MANIFEST.tsv"
    st = path.stat()
    return _read_manifest(path, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _read_manifest(path: Path, size: int, mtime_ns: int) -> dict[str, str]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    try:
        return {r["file"]: r["sha256"] for r in rows}
    except KeyError as exc:
        raise ReferenceError_(f"{path}: expected columns file and sha256; rebuild the bundle "
                              "(reference/build/build_bundle.py)") from exc


def file_sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


@functools.lru_cache(maxsize=64)
def _verified(d: Path, rel: str, size: int, mtime_ns: int) -> bool:
    """Whether bundle file `rel` matches its MANIFEST.tsv checksum (files the manifest does not list pass);
    cached on size and mtime, so each file is hashed once per process."""
    want = manifest_sha256(d).get(rel)
    return want is None or file_sha256(d / rel) == want


def bundle_path(rel: str) -> Path:
    """Path of a bundle file, its sha256 checked against MANIFEST.tsv at its first use in this process."""
    d = bundle_dir()
    p = d / rel
    if not p.exists():
        raise ReferenceError_(f"{p}: reference file missing; rebuild the bundle (reference/build/build_bundle.py)")
    st = p.stat()
    if not _verified(d, rel, st.st_size, st.st_mtime_ns):
        raise ReferenceError_(f"{p}: changed since the bundle was built (sha256 differs from MANIFEST.tsv); "
                              "restore it (reinstall dnadx) or rebuild the bundle with reference/build/build_bundle.py")
    return p


def bundle_folder(rel: str) -> Path:
    """Path of a bundle folder (e.g. `models`), every file under it that MANIFEST.tsv lists checked as by
    `bundle_path` (for readers that take a folder, such as the score and group models)."""
    d = bundle_dir()
    for f in manifest_sha256(d):
        if f.startswith(rel.rstrip("/") + "/"):
            bundle_path(f)
    return d / rel


def check_genome(genome: str) -> str:
    if genome not in params.GENOMES:
        raise ReferenceError_(f"unknown genome {genome!r}; choose one of {', '.join(params.GENOMES)}")
    return genome


@functools.lru_cache(maxsize=4)
def bundle_lengths(genome: str) -> dict[str, int]:
    """Contig -> length from the bundle's `chrom_sizes.tsv` (UCSC names)."""
    path = bundle_path(f"{check_genome(genome)}/chrom_sizes.tsv")
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    try:
        return {r["chrom"]: int(r["length"]) for r in rows}
    except (KeyError, TypeError, ValueError) as exc:
        raise ReferenceError_(f"{path}: expected columns chrom and length (whole numbers); rebuild the bundle "
                              "(reference/build/build_bundle.py)") from exc


def genome_from_lengths(lengths: dict[str, int]) -> str:
    """Identify the build from contig lengths (names `chr1` or `1`); raise naming the mismatch.

    Parameters
    ----------
    lengths : mapping of contig name -> length (e.g. a BAM header).
    """
    norm = {normalise_chrom(k): v for k, v in lengths.items()}
    diffs = {}
    for g in params.GENOMES:
        sizes = bundle_lengths(g)
        shared = [c for c in params.AUTOSOMES if c in norm]
        mism = [(c, norm[c], sizes[c]) for c in shared if sizes[c] != norm[c]]
        if shared and not mism:
            return g
        diffs[g] = mism if shared else [("chr1-22", "absent", "")]
    first = {g: d[0] for g, d in diffs.items()}
    detail = "; ".join(f"{g}: {c} is {have} bp, expected {want}" for g, (c, have, want) in first.items())
    raise ReferenceError_(f"contig lengths match neither GRCh38 nor GRCh37 ({detail}); align to one of them")


def normalise_chroms(names):
    """``normalise_chrom`` over a column, once per distinct name (a counts table has ~300,000 rows, 25 names)."""
    names = names.astype(str)
    return names.map({c: normalise_chrom(c) for c in names.unique()})


def normalise_chrom(name: str) -> str:
    """`1` -> `chr1`, `MT`/`chrM` -> `chrM`; UCSC names pass unchanged."""
    if name.startswith("chr"):
        return name
    if name in ("MT", "M"):
        return "chrM"
    return f"chr{name}"
