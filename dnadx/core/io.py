"""Every file read and write of dnadx lives here (stage modules never see a path)."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from dnadx.core import schemas
from dnadx.core.errors import InputError
from dnadx.core.runs import factorize_runs
from dnadx.core.files import (  # noqa: F401 - re-exported for the stages
    _unlink_quietly, _write_fault, atomic_path, make_dir, read_json, write_bytes, write_json, write_text)


def read_tsv(path, columns=None, *, kind: str = "table", dtype=None) -> pd.DataFrame:
    """Read a headed TSV (optionally .gz), check ``columns`` and report corrupt input clearly."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    try:
        df = pd.read_csv(path, sep="\t", dtype=dtype, comment=None, low_memory=False)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise InputError(f"{path}: truncated or corrupt gzip ({exc}); re-create the file") from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{path}: empty file; expected a headed {kind} table") from exc
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"{path}: not a tab-separated {kind} table ({exc})") from exc
    if columns:
        schemas.validate(df, columns, source=str(path))
    return df


def write_tsv(df: pd.DataFrame, path, *, float_format: str = "%.6g") -> None:
    """Write a headed TSV atomically; gzip (deterministic: no mtime) when the name ends .gz."""
    path = Path(path)
    text = df.to_csv(sep="\t", index=False, float_format=float_format, lineterminator="\n")
    write_text(text, path)


# ---------------------------------------------------------------- counts and WIG

MAX_COUNT = 2.0 ** 53  # counts at or above this are not exact floats (and near int64 overflow): corrupt input


def read_counts(path) -> pd.DataFrame:
    """Read `<id>.counts.tsv.gz` or an HMMcopy readCounter WIG (by extension/content)."""
    path = Path(path)
    if path.name.endswith((".wig", ".wig.gz")):
        return read_wig(path, value_name="count")
    df = read_tsv(path, schemas.COUNTS, kind="counts", dtype={"chrom": str})
    if df.empty:
        raise InputError(f"{path}: no bins (header only); re-create the counts with `dnadx count`")
    _check_bins(path, df, ("start", "end", "count"), "re-create the counts with `dnadx count`")
    _check_unique_bins(path, df, first_row=2)
    return df


def _check_unique_bins(path, df: pd.DataFrame, *, first_row: int | None) -> None:
    """InputError naming the first bin that appears twice (`chr1` and `1` are the same contig): its reads
    would be counted twice. Typically two counts files concatenated, or one appended to itself."""
    # one integer per contig name, `chr1` and `1` alike (factorize_runs: the names are hashed once per run)
    codes, names = factorize_runs(df["chrom"])
    contig = pd.factorize(np.array([str(c).removeprefix("chr") for c in names], dtype=object))[0]
    key = pd.DataFrame({"chrom": np.append(contig, -1)[codes], "start": df["start"].to_numpy()})  # code -1: no name
    dup = key.duplicated(keep="first").to_numpy()
    if not dup.any():
        return
    i = int(np.flatnonzero(dup)[0])
    j = int(np.flatnonzero((key["chrom"] == key["chrom"].iloc[i]).to_numpy() & (key["start"] == key["start"].iloc[i]).to_numpy())[0])
    where = f"row {i + first_row}: " if first_row is not None else ""
    first = f"row {j + first_row}" if first_row is not None else "an earlier line"
    raise InputError(f"{path}: {where}bin {df['chrom'].iloc[i]}:{int(df['start'].iloc[i])}-{int(df['end'].iloc[i])} "
                     f"appears twice (first at {first}); each bin must appear once (two counts files concatenated?); "
                     "re-create the counts with `dnadx count`")


def _check_bins(path, df: pd.DataFrame, int_cols, fix: str) -> None:
    """Non-empty chrom, non-negative integer ``int_cols`` (converted in place), end > start."""
    codes, names = factorize_runs(df["chrom"])  # NaN: code -1; blank names looked for among the distinct ones
    blank = np.flatnonzero(np.asarray(pd.Index(names).str.strip() == ""))
    _fail_at(path, df, "chrom", pd.Series((codes == -1) | np.isin(codes, blank)), "must be a chromosome name", fix)
    for col in int_cols:
        v = pd.to_numeric(df[col], errors="coerce")
        # inf, fractions and values past int64 would crash the cast or wrap to negative numbers
        _fail_at(path, df, col, ~np.isfinite(v) | (v < 0) | (v >= MAX_COUNT) | (v != np.floor(v)),
                 "must be a non-negative integer", fix)
        df[col] = v.astype(np.int64)
    _fail_at(path, df, "end", df["end"] <= df["start"], "must be greater than start", fix)


def _fail_at(path, df: pd.DataFrame, col: str, bad: pd.Series, problem: str, fix: str) -> None:
    """InputError naming the first row (file line) where ``bad`` holds."""
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"{path}: row {i + 2}: field {col!r} {problem}, got {str(df[col].iloc[i])!r}; {fix}")


def read_wig(path, *, value_name: str = "value") -> pd.DataFrame:
    """Read a fixedStep WIG (HMMcopy readCounter / ichorCNA gc & map) into BED-style bins."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    opener = gzip.open if path.suffix == ".gz" else open
    chroms, starts, values = [], [], []
    chrom = None
    pos = step = span = 0
    try:
        with opener(path, "rt") as fh:
            for lineno, line in enumerate(fh, 1):
                line = line.strip()
                if not line or line.startswith(("track", "#")):
                    continue
                if line.startswith("fixedStep"):
                    try:
                        fields = dict(kv.split("=", 1) for kv in line.split()[1:])
                        chrom = fields["chrom"]
                        pos = int(fields.get("start", 1)) - 1
                        step = int(fields["step"])
                        span = int(fields.get("span", step))
                    except (KeyError, ValueError) as exc:
                        raise InputError(f"{path}: line {lineno}: malformed fixedStep header {line!r}") from exc
                    continue
                if chrom is None:
                    raise InputError(f"{path}: line {lineno}: value before any fixedStep header")
                try:
                    values.append(float(line))
                except ValueError as exc:
                    raise InputError(f"{path}: line {lineno}: expected a number, got {line!r}") from exc
                chroms.append(chrom)
                starts.append(pos)
                pos += step
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise InputError(f"{path}: truncated or corrupt gzip ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not a text WIG file ({exc})") from exc
    if not values:
        raise InputError(f"{path}: no values; expected a fixedStep WIG")
    starts = np.asarray(starts, dtype=np.int64)
    df = pd.DataFrame({"chrom": chroms, "start": starts, "end": starts + (span or step), value_name: values})
    if value_name == "count":
        c = df["count"].to_numpy()
        if (~np.isfinite(c) | (c < 0) | (c >= MAX_COUNT)).any():
            raise InputError(f"{path}: negative, missing or non-finite read counts in WIG")
        df["count"] = df["count"].round().astype(np.int64)
        _check_unique_bins(path, df, first_row=None)
    return df


def write_wig(df: pd.DataFrame, path, *, value: str = "count") -> None:
    """Write bins as a readCounter-style fixedStep WIG (one block per chromosome)."""
    lines = []
    for chrom, sub in df.groupby("chrom", sort=False):
        step = int(sub["end"].iloc[0] - sub["start"].iloc[0])
        lines.append(f"fixedStep chrom={chrom} start={int(sub['start'].iloc[0]) + 1} step={step} span={step}")
        lines.extend(str(v) for v in sub[value].tolist())
    write_text("\n".join(lines) + "\n", path)


PON_COLUMNS = ("chrom", "start", "end", "median", "usable", "reason")


def read_pon_normals(path) -> pd.DataFrame:
    """Read `PREFIX.pon-normals.tsv.gz` (chrom, start, end, one corrected-log2 column per normal)."""
    if not Path(path).exists():
        raise InputError(f"{path}: not found; the panel's normals matrix is written by `dnadx pon` beside "
                         "PREFIX.pon.tsv.gz (rebuild the panel with this version)")
    df = read_tsv(path, ("chrom", "start", "end"), kind="panel normals", dtype={"chrom": str})
    _check_bins(path, df, ("start", "end"), "rebuild the panel with `dnadx pon`")
    return df


def read_pon(path) -> pd.DataFrame:
    """Read `PREFIX.pon.tsv.gz`; NaN medians allowed only on unusable bins."""
    df = read_tsv(path, PON_COLUMNS, kind="panel of normals", dtype={"chrom": str, "reason": str})
    fix = "rebuild the panel with `dnadx pon`"
    if df.empty:
        raise InputError(f"{path}: no bins (header only); {fix}")
    _check_bins(path, df, ("start", "end", "usable"), fix)
    _fail_at(path, df, "usable", df["usable"] > 1, "must be 0 or 1", fix)
    df["reason"] = df["reason"].fillna("")
    med = pd.to_numeric(df["median"], errors="coerce")
    bad = (df["usable"] == 1) & ~np.isfinite(med)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise InputError(f"{path}: row {row}: usable bin with a missing/NaN median; rebuild the panel with `dnadx pon`")
    df["median"] = med
    return df
