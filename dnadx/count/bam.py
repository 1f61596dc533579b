"""Reading BAM/CRAM: the only module that touches alignments for counting.

Counting rule: one count per fragment, at the leftmost aligned base of its representative
record (read 1 of a pair, or the single-end read), in fine bins of ``bin_size`` bp.
Filters, applied in this order and reported with the number they removed: unmapped,
secondary, supplementary, QC-fail, duplicate, MAPQ < ``min_mapq``, fragment length
outside the optional window (paired input only).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pysam

from dnadx.core import params
from dnadx.core.builds import genome_from_lengths, normalise_chrom
from dnadx.count import bgzf
from dnadx.count.text import FineCounts, contig_rows, deflate_piece
from dnadx.core.errors import DataError, InputError

FILTERS = ("unmapped", "secondary", "supplementary", "qcfail", "duplicate", "low_mapq", "fragment_length")


@dataclass(frozen=True)
class CountOptions:
    bin_size: int = params.FINE_BIN_SIZE
    min_mapq: int = params.MIN_MAPQ
    min_fragment: int | None = None
    max_fragment: int | None = None


def _magic(path: Path) -> bytes:
    with open(path, "rb") as fh:
        head = fh.read(4)
    return head


def open_alignment(path, *, fasta=None, threads: int = 1) -> pysam.AlignmentFile:
    """Open a BAM/CRAM after the checks that give users one clear message each."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    magic = _magic(path)
    if magic[:4] == b"CRAM":
        if fasta is None:
            raise InputError(f"{path}: CRAM input needs the reference it was written against; pass --fasta REF.fa")
        mode, kw = "rc", {"reference_filename": str(fasta)}
    elif magic[:2] == b"\x1f\x8b":
        mode, kw = "rb", {}
    else:
        raise InputError(f"{path}: not a BAM or CRAM file (no BGZF/CRAM magic bytes)")
    try:
        bam = pysam.AlignmentFile(str(path), mode, threads=threads, **kw)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read alignment file ({exc}); is it truncated or corrupt?") from exc
    hd = bam.header.to_dict().get("HD", {})
    if hd.get("SO") != "coordinate":
        bam.close()
        raise InputError(f"{path}: not coordinate-sorted (@HD SO:{hd.get('SO', 'absent')}); run `samtools sort` then `samtools index`")
    if not bam.has_index():
        bam.close()
        raise InputError(f"{path}: no index (.bai/.csi/.crai) found; create it with `samtools index {path}`")
    return bam


def _index_path(path: Path) -> Path | None:
    for suffix in (".bai", ".csi", ".crai"):
        for cand in (Path(str(path) + suffix), path.with_suffix(suffix)):
            if cand.exists():
                return cand
    return None


def check_index_fresh(path) -> None:
    path = Path(path)
    idx = _index_path(path)
    if idx is not None and idx.stat().st_mtime + 1 < path.stat().st_mtime:
        raise InputError(f"{path}: index {idx.name} is older than the alignment file; re-create it with `samtools index {path}`")


_WORKER: dict = {}  # per worker process: the alignment file it opened once (see _open_worker)


def _open_worker(path, fasta) -> None:
    """Pool initializer: open the file (header + index parsed) once per process, not once per contig."""
    _WORKER["bam"] = open_alignment(path, fasta=fasta)


def _count_task(args):
    return _count_and_encode(_WORKER["bam"], *args)


def _count_and_encode(bam, path, contig, length, opts, ucsc, encode, span=False):
    """One contig's counts and the reader that made them; with ``encode`` also its table rows, deflated (in
    the worker, so formatting and compressing run in parallel with the other contigs' counting).
    ``span``: the contig's record span from the .bai for the BGZF reader (None: no records), False: pysam."""
    res, reader = None, "pysam"
    if span is not False:
        try:
            res, reader = _count_contig_bgzf(path, bam.get_tid(contig), span, contig, length, opts), bgzf.READER
        except bgzf.Fallback:
            res = None
    if res is None:
        res = _count_contig(bam, path, contig, length, opts)
    piece = deflate_piece(contig_rows(ucsc, res[1], opts.bin_size, length)) if encode else None
    return (*res, reader, piece)


def _load_fast():
    """The compiled loop (dnadx/count/_fastcount.pyx) bound to the loaded pysam's htslib, or None: not built,
    or ``DNADX_COUNT_LOOP=python`` in the environment (for benchmarks and bug reports)."""
    if os.environ.get("DNADX_COUNT_LOOP") == "python":
        return None
    try:
        import pysam.libchtslib

        from dnadx.count import _fastcount
        _fastcount.bind(pysam.libchtslib.__file__)
    except (ImportError, ValueError, OSError, RuntimeWarning):  # not compiled, or built for another pysam layout
        return None
    return _fastcount


_FAST = _load_fast()
_TALLY = ("records", "mates", "single", "paired") + FILTERS  # the order _fastcount.count_contig fills


def count_loop() -> str:
    """``compiled`` when `dnadx count` runs its per-record loop in dnadx/count/_fastcount.pyx, else ``python``."""
    return "compiled" if _FAST is not None else "python"


def _count_contig(bam, path, contig, length, opts):
    if _FAST is not None:
        return _count_contig_fast(bam, path, contig, length, opts)
    return _count_contig_py(bam, path, contig, length, opts)


def _count_contig_fast(bam, path, contig, length, opts):
    """Same as _count_contig_py (rule, filter order, outputs), with the loop in compiled code."""
    counts = np.zeros(-(-length // opts.bin_size), dtype=np.int64)
    hist = np.zeros(params.FRAGMENT_HIST_MAX + 1, dtype=np.int64)
    tally = np.zeros(len(_TALLY), dtype=np.int64)
    ret = _FAST.count_contig(bam, contig, opts.bin_size, opts.min_mapq, opts.min_fragment or 0,
                             opts.max_fragment or 1 << 40, counts, hist, tally)
    if ret == -3:
        raise InputError(_beyond_contig(path, contig, length))
    if ret < -1:
        raise InputError(f"{path}: read error in {contig} (htslib code {ret}); the file looks truncated or corrupt")
    t = dict(zip(_TALLY, tally.tolist()))
    drops = {k: t[k] for k in FILTERS}
    return contig, counts, hist, drops, t["records"], t["mates"], t["single"], t["paired"]


def _count_contig_bgzf(path, tid, span, contig, length, opts):
    """Same as _count_contig_fast, reading the BAM with dnadx/count/bgzf.py; raises bgzf.Fallback."""
    counts, hist, tally = bgzf.count_contig(Path(path), tid, span, -(-length // opts.bin_size), opts,
                                            params.FRAGMENT_HIST_MAX)
    if tally is None:
        raise InputError(_beyond_contig(path, contig, length))
    t = dict(zip(_TALLY, tally.tolist()))
    drops = {k: t[k] for k in FILTERS}
    return contig, counts, hist, drops, t["records"], t["mates"], t["single"], t["paired"]


def count_reader(path=None, *, fasta=None) -> str:
    """``bgzf-libdeflate`` when `dnadx count` reads BAMs with dnadx/count/bgzf.py (needs the `deflate` wheel and
    the compiled loop; with ``path``: and that file is a BAM with a .bai index), else ``pysam``. Per contig the
    reader still hands anything it does not expect to pysam; count-qc.json's ``reader`` says what ran."""
    if not bgzf.available():
        return "pysam"
    if path is None:
        return bgzf.READER
    with open_alignment(path, fasta=fasta) as f:
        return bgzf.READER if _magic(Path(path))[:4] != b"CRAM" and bgzf.spans(Path(path), f.nreferences) else "pysam"


def _beyond_contig(path, contig, length) -> str:
    return (f"{path}: a record on {contig} starts beyond the contig length in the header ({length} bp); "
            "header and alignments disagree: re-create the BAM with the header of the reference it was aligned to")


def _count_contig_py(bam, path, contig, length, opts):
    nbins = -(-length // opts.bin_size)
    counts = [0] * nbins
    hist = [0] * (params.FRAGMENT_HIST_MAX + 1)
    drops = dict.fromkeys(FILTERS, 0)
    records = mates = 0
    single = paired = 0
    bs, q = opts.bin_size, opts.min_mapq
    lo = opts.min_fragment or 0
    hi = opts.max_fragment or 1 << 40
    hmax = params.FRAGMENT_HIST_MAX
    try:
        for r in bam.fetch(contig):
            records += 1
            f = r.flag
            if f & 0x80:  # read 2: its fragment is counted through read 1
                mates += 1
                continue
            if f & 0xF04 or r.mapping_quality < q:
                if f & 0x4:
                    drops["unmapped"] += 1
                elif f & 0x100:
                    drops["secondary"] += 1
                elif f & 0x800:
                    drops["supplementary"] += 1
                elif f & 0x200:
                    drops["qcfail"] += 1
                elif f & 0x400:
                    drops["duplicate"] += 1
                else:
                    drops["low_mapq"] += 1
                continue
            if f & 1:
                paired += 1
                tl = r.template_length
                tl = -tl if tl < 0 else tl
                if tl < lo or tl > hi:
                    drops["fragment_length"] += 1
                    continue
                if tl:
                    hist[tl if tl < hmax else hmax] += 1
            else:
                single += 1
            counts[r.reference_start // bs] += 1
    except OSError as exc:
        raise InputError(f"{path}: read error in {contig} ({exc}); the file looks truncated or corrupt") from exc
    except IndexError as exc:  # a start beyond the last bin: the same message as the compiled loop
        raise InputError(_beyond_contig(path, contig, length)) from exc
    return contig, np.asarray(counts, dtype=np.int64), np.asarray(hist, dtype=np.int64), drops, records, mates, single, paired


def count_reads(path, *, fasta=None, options: CountOptions = CountOptions(), threads: int = 1, progress: bool | None = None):
    """Count fragments per fine bin of a BAM/CRAM.

    Returns
    -------
    counts : DataFrame (chrom, start, end, count) over chr1-22, X, Y (UCSC names).
    qc : dict with reads seen/kept, drops per filter, duplicate rate, fragment-length
        histogram and short-fragment fraction.
    """
    fine, qc = count_bins(path, fasta=fasta, options=options, threads=threads, progress=progress)
    return fine.to_frame(), qc


def count_bins(path, *, fasta=None, options: CountOptions = CountOptions(), threads: int = 1,
               progress: bool | None = None, encode: bool = False) -> tuple[FineCounts, dict]:
    """``count_reads`` without pandas: the counts as a FineCounts (per-contig arrays); with ``encode``
    the workers also format and deflate each contig's rows (`dnadx count` joins them into its file)."""
    path = Path(path)
    if options.min_fragment and options.max_fragment and options.min_fragment > options.max_fragment:
        raise InputError(f"--min-fragment {options.min_fragment} is above --max-fragment {options.max_fragment}")
    bam = open_alignment(path, fasta=fasta)
    try:
        return _count_open(bam, path, fasta, options, threads, progress, encode)
    finally:
        bam.close()


def _count_open(bam, path: Path, fasta, options: CountOptions, threads: int, progress, encode: bool):
    check_index_fresh(path)
    lengths = dict(zip(bam.references, bam.lengths))
    genome = genome_from_lengths(lengths)
    stats = {s.contig: s.total for s in bam.get_index_statistics()}
    nocoord = bam.nocoordinate
    naming = "chr1" if any(k.startswith("chr") for k in lengths) else "1"
    canonical = {normalise_chrom(c): c for c in lengths if normalise_chrom(c) in params.CHROMOSOMES}
    other_records = sum(v for k, v in stats.items() if normalise_chrom(k) not in params.CHROMOSOMES)
    is_cram = _magic(path)[:4] == b"CRAM"
    if not is_cram and sum(stats.values()) + nocoord == 0:  # CRAM indexes carry no counts
        raise DataError(f"{path}: contains no reads")
    order = sorted(canonical, key=lambda c: (-stats.get(canonical[c], 0), -lengths[canonical[c]]))
    # the BGZF reader's start per contig (BAM with a .bai); False: the contig is read with pysam
    spans = None if is_cram else bgzf.spans(path, bam.nreferences)
    span = {c: spans[bam.get_tid(c)] if spans is not None else False for c in canonical.values()}
    # largest contigs first: with imap_unordered (one contig per task) the workers then finish together
    tasks = [(str(path), canonical[c], lengths[canonical[c]], options, c, encode, span[canonical[c]]) for c in order]
    show = sys.stderr.isatty() if progress is None else progress
    results = {}
    if threads > 1:
        bam.close()  # a forked child must not share the parent's file offset; each worker opens its own
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(min(threads, len(tasks)), initializer=_open_worker, initargs=(str(path), fasta and str(fasta))) as pool:
            for res in _progress(pool.imap_unordered(_count_task, tasks), len(tasks), show, path.name):
                results[res[0]] = res
    else:
        for res in _progress((_count_and_encode(bam, *t) for t in tasks), len(tasks), show, path.name):
            results[res[0]] = res
    chroms = [c for c in params.CHROMOSOMES if c in canonical]
    hist = np.zeros(params.FRAGMENT_HIST_MAX + 1, dtype=np.int64)
    drops = dict.fromkeys(FILTERS, 0)
    records = mates = single = paired = 0
    per_contig, pieces, readers = [], [], set()
    for ucsc in chroms:
        _, c, h, d, rec, m, s, p, reader, piece = results[canonical[ucsc]]
        readers.add(reader)
        per_contig.append(c)
        pieces.append(piece)
        hist += h
        records, mates, single, paired = records + rec, mates + m, single + s, paired + p
        for k in drops:
            drops[k] += d[k]
    fine = FineCounts(options.bin_size, chroms, [lengths[canonical[c]] for c in chroms], per_contig,
                      pieces if encode else None)
    kept = fine.total()
    if records + nocoord + other_records == 0:
        raise DataError(f"{path}: contains no reads")
    qc = _qc(kept, drops, hist, records, mates, single, paired, nocoord, other_records, options)
    qc.update({"genome": genome, "chrom_naming": naming, "input": path.name,
               "reader": " + ".join(sorted(readers)) or "pysam"})
    if kept == 0:
        detail = ", ".join(f"{k} {v}" for k, v in drops.items() if v)
        raise DataError(f"{path}: no reads passed the filters (dropped: {detail or 'none seen on chr1-22/X/Y'}); "
                        f"check --min-mapq (now {options.min_mapq}) and the fragment-length window")
    return fine, qc


def _qc(kept, drops, hist, records, mates, single, paired, nocoord, other, opts) -> dict:
    fragments = kept + sum(drops.values())
    primary_mapped = fragments - drops["unmapped"] - drops["secondary"] - drops["supplementary"] - drops["qcfail"]
    lo, hi = params.SHORT_FRAGMENT_WINDOW
    n_len = int(hist[:-1].sum())
    nz = np.flatnonzero(hist)
    return {
        "reads_seen": int(records + nocoord + other),
        "records_on_chr1_22_X_Y": int(records),
        "records_without_coordinate": int(nocoord),
        "records_on_other_contigs": int(other),
        "second_mates_skipped": int(mates),
        "fragments_seen": int(fragments),
        "reads_kept": int(kept),
        "dropped": {k: int(v) for k, v in drops.items()},
        "duplicate_rate": (drops["duplicate"] / primary_mapped) if primary_mapped else None,
        "paired_fragments": int(paired),
        "single_end_reads": int(single),
        "fragment_length_histogram": {"max_bin": params.FRAGMENT_HIST_MAX,
                                      "lengths": nz.tolist(), "counts": hist[nz].tolist()},
        "median_fragment_length": float(np.searchsorted(np.cumsum(hist), hist.sum() / 2)) if hist.sum() else None,
        "short_fragment_fraction": float(hist[lo:hi + 1].sum() / n_len) if n_len else None,
        "short_fragment_window": [lo, hi],
        "filters": {"min_mapq": opts.min_mapq, "exclude_flags": params.EXCLUDE_FLAGS,
                    "min_fragment": opts.min_fragment, "max_fragment": opts.max_fragment,
                    "bin_size": opts.bin_size, "count_rule": "one per fragment: read 1 or single-end read, at its leftmost base"},
    }


def _progress(it, total, show, label):
    if not show:
        yield from it
        return
    from tqdm import tqdm
    with tqdm(total=total, desc=f"count {label}", unit="chrom", file=sys.stderr) as bar:
        for x in it:
            bar.update(1)
            yield x


def pysam_build() -> str:
    """``pysam 0.24.1 (libdeflate: yes|no|unknown)``: the installed pysam and how its htslib inflates BGZF.

    With libdeflate, `dnadx count` is 1.3-1.4x faster than with zlib (the PyPI wheel's
    choice; ../shared/PERFORMANCE.md, benchmarks/README.md). Read from htslib's
    ``hts_feature_string()`` in pysam's own copy of htslib.
    """
    import ctypes

    import pysam.libchtslib
    try:
        fn = ctypes.CDLL(pysam.libchtslib.__file__).hts_feature_string
        fn.restype = ctypes.c_char_p
        features = fn().decode()
    except (OSError, AttributeError):
        features = ""
    flag = "yes" if "libdeflate=yes" in features else "no" if "libdeflate=no" in features else "unknown"
    return f"pysam {pysam.__version__} (libdeflate: {flag})"


def default_threads() -> int:
    return max(1, min(2, os.cpu_count() or 1))
