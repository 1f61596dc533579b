"""Property-based tests (hypothesis): parsers on garbage input and invariants of the numeric core.

Parsers must either return a valid table or raise InputError (a one-line user error, exit 2) -- any
other exception would surface as a traceback. Numeric functions must never crash and must keep the
invariants their docstrings promise.
"""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dnadx.count import bins
from dnadx.cnv import correction, segmentation, tumour_fraction
from dnadx.core import io, runs
from dnadx.core.errors import InputError
from dnadx.core.samplesheet import read_samplesheet

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# text that looks enough like a table to reach the parsing code (tabs, commas, numbers, headers)
_TOKENS = st.sampled_from(["chrom", "start", "end", "count", "median", "usable", "reason", "sample", "bam", "index",
                           "type", "patient", "chr1", "chrX", "0", "1", "-3", "1e9", "nan", "NaN", "inf", "-inf",
                           "1.5", "", " ", "\t", ",", "\n", "\"", "x", "fixedStep", "chrom=chr1", "start=1",
                           "step=10000", "span=10000", "step=x", "=", "track", "#", "\x00", "é", "normal",
                           "plasma", "a.bam", "../a.bam", "a;rm", "99999999999999999999999"])
TABLE_TEXT = st.lists(_TOKENS, max_size=60).map("".join)
GARBAGE = st.one_of(TABLE_TEXT.map(str.encode), st.binary(max_size=200))


def _write(data: bytes, name: str, gz: bool) -> Path:
    d = Path(tempfile.mkdtemp(prefix="dnadx-prop-"))
    path = d / name
    if gz and data[:2] != b"\x1f\x8b":
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path


def _counts_header(text: str) -> bytes:
    return ("chrom\tstart\tend\tcount\n" + text).encode()


@settings(max_examples=150, **SETTINGS)
@given(data=GARBAGE, gz=st.booleans(), with_header=st.booleans())
def test_read_counts_garbage(data, gz, with_header):
    if with_header:
        data = _counts_header(data.decode(errors="replace"))
    path = _write(data, "x.counts.tsv.gz" if gz else "x.counts.tsv", gz)
    try:
        df = io.read_counts(path)
    except InputError:
        return
    assert list(df.columns[:4]) == ["chrom", "start", "end", "count"]
    assert df["count"].dtype == np.int64 and (df["count"] >= 0).all()


_VALUES = st.one_of(st.sampled_from(["inf", "-inf", "nan", "", "x", "1.5", "-1", "1e30", "99999999999999999999999",
                                      "9007199254740993", "0x10", "1_000"]),
                    st.integers(-10, 10**6).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr))


@settings(max_examples=150, **SETTINGS)
@given(values=st.lists(_VALUES, min_size=1, max_size=8), wig=st.booleans())
def test_read_counts_values(values, wig):
    """Well-formed tables with odd count values: exact non-negative integers come back unchanged."""
    if wig:
        text = "fixedStep chrom=chr1 start=1 step=10000 span=10000\n" + "\n".join(values) + "\n"
    else:
        text = "chrom\tstart\tend\tcount\n" + "".join(f"chr1\t{i * 10000}\t{(i + 1) * 10000}\t{v}\n"
                                                         for i, v in enumerate(values))
    path = _write(text.encode(), "x.wig" if wig else "x.counts.tsv", False)
    try:
        df = io.read_counts(path)
    except InputError:
        return
    got = df["count"].to_numpy()
    assert (got >= 0).all()
    want = [float(v) for v in values if v.strip()]
    if not wig:  # the counts table keeps integers exactly (a WIG's values are rounded, readCounter style)
        assert got.tolist() == want


_FIELDS = st.sampled_from(["chr1", "chrX", "", " ", "nan", "x", "0", "10000", "20000", "-1", "0.5", "1e30", "inf"])


def _read_rows(reader, columns, rows, name):
    """Write a headed TSV of ``rows`` and parse it: the table, or None on InputError."""
    text = "\t".join(columns) + "\n" + "".join("\t".join(r) + "\n" for r in rows)
    try:
        return reader(_write(text.encode(), name, False))
    except InputError:
        return None


def _assert_valid_bins(df, int_cols):
    assert len(df) > 0 and (df["chrom"].str.strip() != "").all() and (df["end"] > df["start"]).all()
    for col in int_cols:
        assert df[col].dtype == np.int64 and (df[col] >= 0).all()


@settings(max_examples=150, **SETTINGS)
@given(rows=st.lists(st.tuples(*[_FIELDS] * 4), max_size=5))
def test_read_counts_fields(rows):
    """Headed counts tables with odd fields in every column: a valid table or InputError."""
    df = _read_rows(io.read_counts, ("chrom", "start", "end", "count"), rows, "x.counts.tsv")
    if df is not None:
        _assert_valid_bins(df, ("start", "end", "count"))


@settings(max_examples=100, **SETTINGS)
@given(rows=st.lists(st.tuples(*[_FIELDS] * 6), max_size=5))
def test_read_pon_fields(rows):
    df = _read_rows(io.read_pon, io.PON_COLUMNS, rows, "p.pon.tsv")
    if df is not None:
        _assert_valid_bins(df, ("start", "end", "usable"))
        assert df["usable"].isin([0, 1]).all()
        assert np.isfinite(df.loc[df["usable"] == 1, "median"].to_numpy(float)).all()


@settings(max_examples=150, **SETTINGS)
@given(data=GARBAGE, gz=st.booleans(), header=st.booleans())
def test_read_wig_garbage(data, gz, header):
    if header:
        data = b"fixedStep chrom=chr1 start=1 step=10000 span=10000\n" + data
    path = _write(data, "x.wig.gz" if gz else "x.wig", gz)
    try:
        df = io.read_counts(path)  # the WIG branch of read_counts, count semantics
    except InputError:
        return
    assert list(df.columns) == ["chrom", "start", "end", "count"]
    assert (df["count"] >= 0).all() and (df["end"] > df["start"]).all()


@settings(max_examples=100, **SETTINGS)
@given(data=GARBAGE, gz=st.booleans())
def test_read_wig_values_garbage(data, gz):
    path = _write(b"fixedStep chrom=chr1 start=1 step=10000\n" + data, "x.wig.gz" if gz else "x.wig", gz)
    try:
        df = io.read_wig(path, value_name="gc")
    except InputError:
        return
    assert len(df) > 0 and "gc" in df


@settings(max_examples=100, **SETTINGS)
@given(data=GARBAGE, with_header=st.booleans())
def test_read_pon_garbage(data, with_header):
    if with_header:
        data = ("chrom\tstart\tend\tmedian\tusable\treason\n" + data.decode(errors="replace")).encode()
    path = _write(data, "p.pon.tsv.gz", True)
    try:
        df = io.read_pon(path)
    except InputError:
        return
    usable = df["usable"] == 1
    assert np.isfinite(df.loc[usable, "median"].to_numpy(float)).all()


@settings(max_examples=100, **SETTINGS)
@given(data=GARBAGE, gz=st.booleans())
def test_read_tsv_garbage(data, gz):
    path = _write(data, "t.tsv.gz" if gz else "t.tsv", gz)
    try:
        df = io.read_tsv(path, ("a",))
    except InputError:
        return
    assert "a" in df.columns


_SS_CELLS = st.sampled_from(["S1", "S2", "S1", "a b", "x;rm -rf", "../up", "s/1", "-x", "", "a.bam", "b.bam",
                             "missing.bam", "a.txt", "plasma", "normal", "tumour", "P1", "\"q\"", "é", "\x00"])


@settings(max_examples=120, **SETTINGS)
@given(header=st.lists(st.sampled_from(["sample", "bam", "index", "type", "patient", "timepoint", "extra", ""]),
                       max_size=6),
       rows=st.lists(st.lists(_SS_CELLS, max_size=6), max_size=5), raw=st.binary(max_size=40))
def test_read_samplesheet_garbage(header, rows, raw):
    d = Path(tempfile.mkdtemp(prefix="dnadx-prop-"))
    for name in ("a.bam", "a.bam.bai", "b.bam", "a.txt"):
        (d / name).write_bytes(b"x")
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    (d / "s.csv").write_bytes(text.encode() + raw)
    try:
        samples = read_samplesheet(d / "s.csv")
    except InputError:
        return
    ids = [s.sample for s in samples]
    assert ids and len(set(ids)) == len(ids)
    for s in samples:
        assert "/" not in s.sample and ";" not in s.sample and not s.sample.startswith(("-", "."))
        assert s.bam.exists() and s.index is not None and s.index.exists()
        assert s.type in ("plasma", "normal")


# ------------------------------------------------------------------ numeric core

@st.composite
def segment_tables(draw):
    k = draw(st.integers(1, 25))
    log2 = draw(st.lists(st.one_of(st.floats(-6, 6, allow_nan=False), st.just(float("nan"))), min_size=k, max_size=k))
    n_bins = draw(st.lists(st.integers(0, 300), min_size=k, max_size=k))
    normal = draw(st.lists(st.sampled_from([1, 2]), min_size=k, max_size=k))
    auto = draw(st.lists(st.booleans(), min_size=k, max_size=k))
    lengths = draw(st.lists(st.integers(1, 150_000_000), min_size=k, max_size=k))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return pd.DataFrame({"log2": log2, "n_bins": n_bins, "normal_copy": normal, "autosome": auto,
                         "start": starts, "end": starts + np.asarray(lengths)})


@settings(max_examples=30, **SETTINGS)
@given(seg=segment_tables(), sigma=st.floats(0.02, 1.5))
def test_tumour_fraction_fit_bounds(seg, sigma):
    assume(((seg["n_bins"] > 0) & np.isfinite(seg["log2"])).any())
    f = tumour_fraction.fit(seg, sigma)
    lo, hi = f.ci
    assert 0.0 <= f.tumour_fraction <= 1.0
    assert 0.0 <= lo <= f.tumour_fraction <= hi <= 1.0
    assert f.ploidy > 0 and np.isfinite(f.ploidy)
    assert len(f.states) == len(seg)


def _l2_cost(y):
    return float(((y - y.mean()) ** 2).sum()) if len(y) else 0.0


@settings(max_examples=80, **SETTINGS)
@given(y=st.lists(st.floats(-5, 5, allow_nan=False), min_size=0, max_size=120).map(np.asarray),
       penalty=st.floats(0.0, 20.0))
def test_pelt_ends_and_cost(y, penalty):
    ends = segmentation.pelt(y, penalty)
    if len(y) == 0:
        assert ends == []
        return
    assert ends == sorted(set(ends)) and ends[-1] == len(y) and ends[0] > 0
    starts = [0] + ends[:-1]
    cost = sum(_l2_cost(y[a:b]) for a, b in zip(starts, ends)) + penalty * len(ends)
    assert cost <= _l2_cost(y) + penalty + 1e-6 * (1 + _l2_cost(y))


def _pelt_one_series(y, penalty):
    """PELT as it ran before segmentation.pelt_many: one series, candidates pruned by removal."""
    n = len(y)
    if n == 0:
        return []
    cs = np.concatenate([[0.0], np.cumsum(y)])
    cs2 = np.concatenate([[0.0], np.cumsum(y * y)])
    F = np.empty(n + 1)
    F[0] = -penalty
    last = np.zeros(n + 1, dtype=np.int64)
    cand = np.array([0], dtype=np.int64)
    for t in range(1, n + 1):
        cost = cs2[t] - cs2[cand] - (cs[t] - cs[cand]) ** 2 / (t - cand)
        total = F[cand] + cost + penalty
        i = int(np.argmin(total))
        F[t] = total[i]
        last[t] = cand[i]
        cand = np.append(cand[F[cand] + cost <= F[t]], t)
    ends, t = [], n
    while t > 0:
        ends.append(t)
        t = int(last[t])
    return ends[::-1]


@settings(max_examples=80, **SETTINGS)
@given(series=st.lists(st.lists(st.floats(-3, 3, allow_nan=False), max_size=60)
                       .map(lambda v: np.round(np.asarray(v, float), 1)), max_size=6),  # rounded: ties
       penalty=st.floats(0.0, 5.0))
def test_pelt_many_gives_each_series_its_own_change_points(series, penalty):
    assert segmentation.pelt_many(series, penalty) == [_pelt_one_series(y, penalty) for y in series]


@settings(max_examples=80, **SETTINGS)
@given(names=st.lists(st.sampled_from(["chr1", "chr2", "1", "chrX", "", None]), max_size=40),
       dtype=st.sampled_from([object, "str"]))
def test_factorize_runs_is_pd_factorize(names, dtype):
    values = pd.Series(names, dtype=dtype)
    codes, uniques = runs.factorize_runs(values)
    want_codes, want_uniques = pd.factorize(values, sort=False)
    assert np.array_equal(codes, want_codes) and codes.dtype == want_codes.dtype
    assert uniques.equals(want_uniques) and uniques.dtype == want_uniques.dtype


@st.composite
def fine_tables(draw):
    fine = 10_000
    chroms = draw(st.lists(st.sampled_from(["chr1", "chr2", "chrX"]), min_size=1, max_size=3, unique=True))
    frames = []
    for c in chroms:
        n = draw(st.integers(1, 40))
        start = np.arange(n, dtype=np.int64) * fine
        end = start + fine
        if n > 1:  # the last fine bin may be short (chromosome end); a lone short bin would set the bin size
            end[-1] = start[-1] + draw(st.integers(1, fine))
        counts = draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n))
        frames.append(pd.DataFrame({"chrom": c, "start": start, "end": end, "count": counts}))
    return pd.concat(frames, ignore_index=True)


@settings(max_examples=60, **SETTINGS)
@given(fine=fine_tables(), mult=st.sampled_from([1, 2, 5, 10, 50]))
def test_aggregate_preserves_counts(fine, mult):
    out = bins.aggregate(fine, 10_000 * mult, mean_cols=())
    assert int(out["count"].sum()) == int(fine["count"].sum())
    for c, sub in fine.groupby("chrom"):
        agg = out[out["chrom"] == c]
        assert int(agg["count"].sum()) == int(sub["count"].sum())
        assert agg["end"].max() == sub["end"].max()
        assert (agg["start"] % (10_000 * mult) == 0).all()


@settings(max_examples=20, **SETTINGS)
@given(sizes=st.lists(st.integers(700, 1500), min_size=3, max_size=3),
       change=st.sampled_from(["same", "reversed", "subset", "duplicate"]), mult=st.sampled_from([2, 5]),
       seed=st.integers(0, 1000))
def test_annotate_row_for_row_join_equals_the_merge(sizes, change, mult, seed):
    """cnv.call.annotate joins counts to the annotation row for row when both list the same bins in the
    same order (_same_bins), else by merging: both ways give the same table, and reordered, partial or
    repeated counts take the merge. Enough mappable autosomal fine bins (>= 2,000) for the fine-bin GC
    response to use the counts."""
    from dnadx.cnv import call
    rng = np.random.default_rng(seed)
    fine = pd.concat([pd.DataFrame({"chrom": c, "start": np.arange(n, dtype=np.int64) * 10_000})
                      for c, n in zip(["chr1", "chr2", "chr3"], sizes)], ignore_index=True)
    fine["end"] = fine["start"] + 10_000
    annotation = fine.assign(gc=rng.uniform(0.3, 0.6, len(fine)), mappability=rng.uniform(0.9, 1.0, len(fine)))
    fine["count"] = rng.poisson(20, len(fine))
    counts = {"same": fine, "reversed": fine.iloc[::-1], "subset": fine.iloc[::2],
              "duplicate": pd.concat([fine, fine.iloc[:1]])}[change].reset_index(drop=True)
    assert call._same_bins(annotation, counts) == (change == "same")

    def annotated():
        try:
            return call.annotate(counts, annotation, 10_000 * mult)
        except InputError as exc:  # e.g. a few bins without reads: the same message either way
            return str(exc)

    fast = annotated()
    with mock.patch.object(call, "_same_bins", lambda a, b: False):
        merged = annotated()
    if isinstance(fast, str) or isinstance(merged, str):
        assert fast == merged
    else:
        pd.testing.assert_frame_equal(fast, merged, check_exact=True)


@settings(max_examples=40, **SETTINGS)
@given(n=st.integers(1000, 3000), a=st.floats(-3, 3), b=st.floats(-10, 10), bad=st.floats(0.0, 0.03),
       seed=st.integers(0, 10_000))
def test_robust_curve_recovers_lines_despite_outliers(n, a, b, bad, seed):
    """The GC curve is a robust LOWESS: on a noisy line (sd 0.05, as log counts of analysis bins) up to 3% of
    points set far off (empty bins: log(0.5); several-fold high) do not bend it (issue 17). Bins as many as
    a genome has at 500 kb-1 Mb; with a few dozen points per local fit two outliers can carry it."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.2, 0.8, n)
    y = a + b * x
    off = rng.random(n) < bad
    y_obs = np.where(off, np.where(rng.random(n) < 0.5, y - 6.0, y + 1.5), y + rng.normal(0, 0.05, n))
    fit = correction.robust_curve(x, y_obs, x)
    assert np.abs(fit - y)[~off].max() < 0.06


def test_samplesheet_nul_byte_is_a_row_problem(tmp_path):
    """Found by test_read_samplesheet_garbage: a NUL in a path raised ValueError from os.stat."""
    sheet = tmp_path / "s.csv"
    sheet.write_text("sample,bam\nS1,a\x00b.bam\n")
    with pytest.raises(InputError, match="row 2: bam/index: path contains a NUL byte"):
        read_samplesheet(sheet)
