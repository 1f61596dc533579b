"""The shipped reference bundle (`reference/`): locate, verify and load its tables."""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import pandas as pd

from dnadx import io, params, schemas
from dnadx.errors import ReferenceError_


def bundle_dir() -> Path:
    """`$DNADX_REFERENCE` if set, else `reference/` next to the package (source checkout)."""
    env = os.environ.get("DNADX_REFERENCE")
    d = Path(env) if env else Path(__file__).resolve().parents[1] / "reference"
    if not (d / "MANIFEST.tsv").exists():
        raise ReferenceError_(
            f"{d}: reference bundle not found (no MANIFEST.tsv); set DNADX_REFERENCE to the "
            "bundle folder or rebuild it with reference/build/build_bundle.py"
        )
    return d


def _path(rel: str) -> Path:
    p = bundle_dir() / rel
    if not p.exists():
        raise ReferenceError_(f"{p}: reference file missing; rebuild the bundle (reference/build/build_bundle.py)")
    return p


def check_genome(genome: str) -> str:
    if genome not in params.GENOMES:
        raise ReferenceError_(f"unknown genome {genome!r}; choose one of {', '.join(params.GENOMES)}")
    return genome


def verify_checksums() -> list[str]:
    """Return the bundle files whose sha256 differs from MANIFEST.tsv (empty list = intact)."""
    d = bundle_dir()
    man = pd.read_csv(d / "MANIFEST.tsv", sep="\t")
    bad = []
    for rel, sha in zip(man["file"], man["sha256"]):
        p = d / rel
        if not p.exists() or hashlib.sha256(p.read_bytes()).hexdigest() != sha:
            bad.append(rel)
    return bad


def require_intact() -> None:
    """Raise ReferenceError_ naming the first bundle file whose sha256 differs from MANIFEST.tsv."""
    bad = verify_checksums()
    if bad:
        raise ReferenceError_(f"{bundle_dir() / bad[0]}: missing or changed since the bundle was built "
                              f"({len(bad)} file(s) differ from MANIFEST.tsv); restore it or rebuild the bundle "
                              "with reference/build/build_bundle.py")


def manifest() -> pd.DataFrame:
    return pd.read_csv(bundle_dir() / "MANIFEST.tsv", sep="\t")


@functools.lru_cache(maxsize=4)
def chrom_sizes(genome: str = params.DEFAULT_GENOME) -> pd.DataFrame:
    return io.read_tsv(_path(f"{check_genome(genome)}/chrom_sizes.tsv"), schemas.CHROM_SIZES)


@functools.lru_cache(maxsize=4)
def arms(genome: str = params.DEFAULT_GENOME) -> pd.DataFrame:
    return io.read_tsv(_path(f"{check_genome(genome)}/arms.tsv"), schemas.ARMS)


@functools.lru_cache(maxsize=4)
def fine_bins(genome: str = params.DEFAULT_GENOME) -> pd.DataFrame:
    """10 kb bins with `gc` (NaN where no sequence) and `mappability` in [0, 1]."""
    df = io.read_tsv(_path(f"{check_genome(genome)}/bins_10kb.tsv.gz"), schemas.BIN_ANNOTATION,
                     dtype={"chrom": str})
    return df


@functools.lru_cache(maxsize=4)
def genes(genome: str = params.DEFAULT_GENOME) -> pd.DataFrame:
    return io.read_tsv(_path(f"{check_genome(genome)}/genes.tsv.gz"), schemas.GENES,
                       dtype={"chrom": str, "symbol": str})


@functools.lru_cache(maxsize=1)
def segment_genes() -> pd.DataFrame:
    """The 536 DNADX segments as (segment_index, segment_id, entrez_id) rows, GMT order."""
    return io.read_tsv(_path("dnadx/segment_genes.tsv.gz"), schemas.SEGMENT_GENES)


@functools.lru_cache(maxsize=1)
def segments() -> pd.DataFrame:
    return io.read_tsv(_path("dnadx/segments.tsv"), ("segment_index", "segment_id"))


def genome_from_lengths(lengths: dict[str, int]) -> str:
    """Identify the build from contig lengths (names `chr1` or `1`); raise naming the mismatch.

    Parameters
    ----------
    lengths : mapping of contig name -> length (e.g. a BAM header).
    """
    norm = {normalise_chrom(k): v for k, v in lengths.items()}
    diffs = {}
    for g in params.GENOMES:
        sizes = chrom_sizes(g).set_index("chrom")["length"]
        shared = [c for c in params.AUTOSOMES if c in norm]
        mism = [(c, norm[c], int(sizes[c])) for c in shared if int(sizes[c]) != norm[c]]
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
