"""The shipped reference bundle (`reference/`): locate, verify and load its tables."""

from __future__ import annotations

import functools

import pandas as pd

from dnadx.core import io, params, schemas
from dnadx.core.builds import (  # noqa: F401 - re-exported
    bundle_dir, bundle_folder, bundle_path, bundle_path as _path, bundle_source, check_genome, file_sha256,
    genome_from_lengths, manifest_sha256, normalise_chrom, normalise_chroms)
from dnadx.core.errors import ReferenceError_


def verify_checksums() -> list[str]:
    """Return the bundle files whose sha256 differs from MANIFEST.tsv (empty list = intact)."""
    d = bundle_dir()
    return [rel for rel, sha in manifest_sha256(d).items()
            if not (d / rel).is_file() or file_sha256(d / rel) != sha]


def builds() -> list[str]:
    """The genome builds the bundle has (a folder with chrom_sizes.tsv), in params.GENOMES order."""
    d = bundle_dir()
    return [g for g in params.GENOMES if (d / g / "chrom_sizes.tsv").is_file()]


def require_intact(bad: list[str] | None = None) -> None:
    """Raise ReferenceError_ naming the first bundle file whose sha256 differs from MANIFEST.tsv
    (``bad``: the result of `verify_checksums` when the caller has it already)."""
    bad = verify_checksums() if bad is None else bad
    if bad:
        raise ReferenceError_(f"{bundle_dir() / bad[0]}: missing or changed since the bundle was built "
                              f"({len(bad)} file(s) differ from MANIFEST.tsv); restore it (reinstall dnadx) or "
                              "rebuild the bundle with reference/build/build_bundle.py")


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




@functools.lru_cache(maxsize=1)
def arm_patterns() -> pd.DataFrame:
    """Breast-cancer chromosome-arm patterns (pattern, weight, arm_name, gain, loss) learned from 1052 TCGA
    tumours, the tumour-fraction model's state prior; built by `reference/build/build_arm_patterns.py`."""
    return io.read_tsv(_path("models/arm_patterns.tsv"), ("pattern", "weight", "arm_name", "gain", "loss"),
                       dtype={"arm_name": str})
