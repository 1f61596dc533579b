"""Genome builds without pandas: where the reference bundle is, contig naming, and which build a set of
contig lengths belongs to. `dnadx count` uses only this part of the bundle, so it does not import
pandas (~0.2 s per call, issue 2); `dnadx.core.reference` re-exports these names.
"""

from __future__ import annotations

import csv
import functools
import os
from pathlib import Path

from dnadx.core import params
from dnadx.core.errors import ReferenceError_


def bundle_dir() -> Path:
    """`$DNADX_REFERENCE` if set, else `reference/` next to the package (source checkout)."""
    env = os.environ.get("DNADX_REFERENCE")
    d = Path(env) if env else Path(__file__).resolve().parents[2] / "reference"
    if not (d / "MANIFEST.tsv").exists():
        raise ReferenceError_(
            f"{d}: reference bundle not found (no MANIFEST.tsv); set DNADX_REFERENCE to the "
            "bundle folder or rebuild it with reference/build/build_bundle.py"
        )
    return d


def bundle_path(rel: str) -> Path:
    p = bundle_dir() / rel
    if not p.exists():
        raise ReferenceError_(f"{p}: reference file missing; rebuild the bundle (reference/build/build_bundle.py)")
    return p


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


def normalise_chrom(name: str) -> str:
    """`1` -> `chr1`, `MT`/`chrM` -> `chrM`; UCSC names pass unchanged."""
    if name.startswith("chr"):
        return name
    if name in ("MT", "M"):
        return "chrM"
    return f"chr{name}"
