# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled per-record loop of `dnadx.count.bam._count_contig` (optional; bam.py falls back to Python).

Same rule, filters and order as the Python loop in bam.py. It walks pysam's own region iterator
(`AlignmentFile.fetch(contig)`: same index, region parsing, CRAM reference and threads) with
htslib's ``hts_itr_next`` and reads ``core.flag``, ``core.qual``, ``core.pos`` and ``core.isize``
from the record in place, without building an ``AlignedSegment`` per record.

htslib is not linked at build time: ``hts_itr_next`` is looked up with ``dlsym`` in the
``pysam.libchtslib`` that the running interpreter has loaded, so the module uses whichever pysam
is installed (PyPI wheel or built against libdeflate) and survives build isolation. The structs it
reads come from the headers of the pinned pysam (build-system requires).

`walk_records` and `bai_spans` serve the BGZF reader (dnadx/count/bgzf.py), which reads BAMs without
htslib; both loops apply one per-record rule, `_count_record`.
"""

from libc.stdint cimport int32_t, int64_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcpy
from posix.dlfcn cimport dlopen, dlsym, dlerror, RTLD_NOW, RTLD_LOCAL

cdef extern from "<dlfcn.h>" nogil:
    const int RTLD_NOLOAD

from pysam.libcalignmentfile cimport AlignmentFile, IteratorRowRegion
from pysam.libchtslib cimport bam1_t, htsFile, hts_itr_t, BGZF

cdef extern from *:
    """
    typedef int (*dnadx_itr_next_f)(BGZF *, hts_itr_t *, void *, void *);
    static BGZF *dnadx_bgzf(htsFile *fp) { return fp->is_bgzf ? fp->fp.bgzf : NULL; }
    """
    ctypedef int (*dnadx_itr_next_f)(BGZF *, hts_itr_t *, void *, void *) noexcept nogil
    BGZF *dnadx_bgzf(htsFile *fp) noexcept nogil

cdef dnadx_itr_next_f _itr_next = NULL


def bind(str chtslib_path):
    """Resolve ``hts_itr_next`` in the already loaded ``pysam.libchtslib`` (its ``__file__``)."""
    global _itr_next
    cdef bytes p = chtslib_path.encode()
    cdef void *h = dlopen(p, RTLD_NOW | RTLD_NOLOAD | RTLD_LOCAL)
    if h == NULL:
        raise ImportError(f"cannot find the loaded pysam htslib {chtslib_path}: {(<bytes>dlerror()).decode(errors='replace')}")
    cdef void *f = dlsym(h, b"hts_itr_next")
    if f == NULL:
        raise ImportError(f"no hts_itr_next in {chtslib_path}")
    _itr_next = <dnadx_itr_next_f>f


cdef struct Rule:
    # the counting rule's settings and outputs; tally[] in the order of ``count_contig``'s ``tally``
    int64_t bin_size
    int min_mapq
    int64_t lo, hi
    int64_t *counts
    Py_ssize_t nbins
    int64_t *hist
    int64_t hmax
    int64_t tally[11]


cdef Rule _rule(int64_t bin_size, int min_mapq, int64_t lo, int64_t hi, int64_t[::1] counts, int64_t[::1] hist):
    cdef Rule u
    u.bin_size, u.min_mapq, u.lo, u.hi = bin_size, min_mapq, lo, hi
    u.counts, u.nbins = &counts[0], counts.shape[0]
    u.hist, u.hmax = &hist[0], hist.shape[0] - 1
    for i in range(11):
        u.tally[i] = 0
    return u


cdef void _add_tally(Rule *u, int64_t[::1] tally):
    for i in range(11):
        tally[i] += u.tally[i]


cdef inline int _count_record(Rule *u, uint16_t f, int mapq, int64_t tl, int64_t pos) noexcept nogil:
    """One record by the counting rule and filter order of bam.py; -3 when it lies beyond the bins."""
    cdef int64_t k
    u.tally[0] += 1
    if f & 0x80:  # read 2: its fragment is counted through read 1
        u.tally[1] += 1
        return 0
    if (f & 0xF04) or mapq < u.min_mapq:
        if f & 0x4:
            u.tally[4] += 1  # unmapped
        elif f & 0x100:
            u.tally[5] += 1  # secondary
        elif f & 0x800:
            u.tally[6] += 1  # supplementary
        elif f & 0x200:
            u.tally[7] += 1  # qcfail
        elif f & 0x400:
            u.tally[8] += 1  # duplicate
        else:
            u.tally[9] += 1  # low_mapq
        return 0
    if f & 1:
        u.tally[3] += 1  # paired
        if tl < 0:
            tl = -tl
        if tl < u.lo or tl > u.hi:
            u.tally[10] += 1  # fragment_length
            return 0
        if tl:
            u.hist[tl if tl < u.hmax else u.hmax] += 1
    else:
        u.tally[2] += 1  # single-end
    k = pos // u.bin_size
    if pos < 0 or k >= u.nbins:
        return -3
    u.counts[k] += 1
    return 0


def count_contig(AlignmentFile bam, str contig, int64_t bin_size, int min_mapq, int64_t lo, int64_t hi,
                 int64_t[::1] counts, int64_t[::1] hist, int64_t[::1] tally):
    """Count one contig into ``counts`` (per bin) and ``hist`` (fragment lengths, last = overflow).

    ``tally`` (length 11, added to) receives: records, second mates, single-end, paired, then the drops
    unmapped, secondary, supplementary, qcfail, duplicate, low_mapq, fragment_length.
    Returns htslib's last return value (-1 = end of region; < -1 = read error) or -3 when a
    record lies beyond the contig's bins.
    """
    if _itr_next == NULL:
        raise RuntimeError("dnadx.count._fastcount.bind() was not called")
    cdef IteratorRowRegion it = bam.fetch(contig)
    cdef htsFile *fp = it.htsfile
    cdef BGZF *bgzf = dnadx_bgzf(fp)
    cdef hts_itr_t *itr = it.iter
    cdef bam1_t *b = it.b
    cdef Rule u = _rule(bin_size, min_mapq, lo, hi, counts, hist)
    cdef int ret
    with nogil:
        while True:
            ret = _itr_next(bgzf, itr, b, fp)
            if ret < 0:
                break
            if _count_record(&u, b.core.flag, b.core.qual, b.core.isize, b.core.pos) == -3:
                ret = -3
                break
    _add_tally(&u, tally)
    return ret


# --- the BGZF reader's record walk (dnadx/count/bgzf.py inflates the blocks) -----------------------------------
# It reads a BAM's records straight from inflated BGZF blocks, without htslib: the fixed fields the counting
# rule needs (refID, pos, MAPQ, flag, tlen), and the CIGAR for htslib's CIGAR/SEQ length check.



cdef inline int32_t _i32(const unsigned char *p) noexcept nogil:
    cdef int32_t v
    memcpy(&v, p, 4)
    return v


cdef inline uint32_t _u32(const unsigned char *p) noexcept nogil:
    cdef uint32_t v
    memcpy(&v, p, 4)
    return v


cdef inline uint16_t _u16(const unsigned char *p) noexcept nogil:
    cdef uint16_t v
    memcpy(&v, p, 2)
    return v


def walk_records(const unsigned char[::1] buf, int32_t tid, int64_t bin_size, int min_mapq, int64_t lo,
                 int64_t hi, int64_t[::1] counts, int64_t[::1] hist, int64_t[::1] tally):
    """Count the BAM records at the start of ``buf`` that lie on reference ``tid``, by the rule and filter
    order of `count_contig` (the same ``counts``/``hist``/``tally``, added to).

    Returns (bytes consumed, status): 0 = ``buf`` ends inside a record (call again with the rest and
    the next block), 1 = a record of another reference (the contig is done; it is not consumed),
    -3 = a record beyond the contig's bins, -4 = a record htslib would refuse (too short for its fields,
    CIGAR and SEQ lengths differ; the caller falls back to htslib, which reports it). A record at a
    negative position is skipped, as `fetch(contig)` skips it.
    """
    cdef Py_ssize_t n = buf.shape[0], p = 0, size, k
    cdef const unsigned char *r
    cdef Rule u = _rule(bin_size, min_mapq, lo, hi, counts, hist)
    cdef int status = 0
    cdef uint16_t f, n_cigar
    cdef uint32_t op
    cdef int l_name, l_seq
    cdef int64_t pos, qlen
    with nogil:
        while True:
            if n - p < 4:
                status = 0
                break
            size = _i32(&buf[p])
            if size < 32:
                status = -4
                break
            if n - p - 4 < size:
                status = 0
                break
            r = &buf[p + 4]
            if _i32(r) != tid:
                status = 1
                break
            pos = _i32(r + 4)
            l_name = r[8]
            n_cigar = _u16(r + 12)
            f = _u16(r + 14)
            l_seq = _i32(r + 16)
            if l_name < 1 or l_seq < 0 or 32 + l_name + 4 * <int64_t>n_cigar + (l_seq + 1) // 2 + l_seq > size:
                status = -4
                break
            if l_seq > 0 and n_cigar > 0 and not (f & 0x4):  # htslib refuses a CIGAR that disagrees with SEQ
                qlen = 0
                for k in range(n_cigar):
                    op = _u32(r + 32 + l_name + 4 * k)
                    if (op & 0xf) in (0, 1, 4, 7, 8):
                        qlen += op >> 4
                if qlen != l_seq:
                    status = -4
                    break
            p += 4 + size
            if pos < 0:  # fetch(contig) does not return it (it ends before the region starts)
                continue
            if _count_record(&u, f, r[9], _i32(r + 28), pos) == -3:
                status = -3
                break
    _add_tally(&u, tally)
    return p, status


def bai_spans(const unsigned char[::1] data, uint64_t[:, ::1] out):
    """Per reference of a .bai index, the smallest chunk start and largest chunk end (BGZF virtual offsets)
    over its bins, into ``out`` (n_ref x 2; (2**64-1, 0) for a reference without records). Returns n_ref,
    or -1 when ``data`` is not a well-formed BAI."""
    cdef Py_ssize_t n = data.shape[0], p = 8
    cdef int32_t n_ref, n_bin, n_chunk, n_intv, i, j, c
    cdef uint32_t bin_id
    cdef uint64_t beg, end, lo_off, hi_off
    if n < 8 or data[0] != 66 or data[1] != 65 or data[2] != 73 or data[3] != 1:
        return -1
    n_ref = _i32(&data[4])
    if n_ref < 0 or n_ref > out.shape[0]:
        return -1
    for i in range(n_ref):
        lo_off, hi_off = <uint64_t>-1, 0
        if n - p < 4:
            return -1
        n_bin = _i32(&data[p])
        p += 4
        for j in range(n_bin):
            if n - p < 8:
                return -1
            bin_id = _u32(&data[p])
            n_chunk = _i32(&data[p + 4])
            p += 8
            if n_chunk < 0 or n - p < 16 * <Py_ssize_t>n_chunk:
                return -1
            if bin_id != 37450:  # the pseudo-bin holds statistics, not chunks
                for c in range(n_chunk):
                    memcpy(&beg, &data[p + 16 * c], 8)
                    memcpy(&end, &data[p + 16 * c + 8], 8)
                    if beg < lo_off:
                        lo_off = beg
                    if end > hi_off:
                        hi_off = end
            p += 16 * n_chunk
        if n - p < 4:
            return -1
        n_intv = _i32(&data[p])
        if n_intv < 0 or n - p - 4 < 8 * <Py_ssize_t>n_intv:
            return -1
        p += 4 + 8 * n_intv
        out[i, 0] = lo_off
        out[i, 1] = hi_off
    return n_ref
