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
"""

from libc.stdint cimport int64_t, uint16_t
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


def count_contig(AlignmentFile bam, str contig, int64_t bin_size, int min_mapq, int64_t lo, int64_t hi,
                 int64_t[::1] counts, int64_t[::1] hist, int64_t[::1] tally):
    """Count one contig into ``counts`` (per bin) and ``hist`` (fragment lengths, last = overflow).

    ``tally`` (length 11) receives: records, second mates, single-end, paired, then the drops
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
    cdef Py_ssize_t nbins = counts.shape[0]
    cdef int64_t hmax = hist.shape[0] - 1
    cdef int64_t records = 0, mates = 0, single = 0, paired = 0
    cdef int64_t d_unmapped = 0, d_secondary = 0, d_supplementary = 0, d_qcfail = 0
    cdef int64_t d_duplicate = 0, d_low_mapq = 0, d_fragment = 0
    cdef int ret
    cdef uint16_t f
    cdef int64_t tl, pos, k
    with nogil:
        while True:
            ret = _itr_next(bgzf, itr, b, fp)
            if ret < 0:
                break
            records += 1
            f = b.core.flag
            if f & 0x80:  # read 2: its fragment is counted through read 1
                mates += 1
                continue
            if (f & 0xF04) or b.core.qual < min_mapq:
                if f & 0x4:
                    d_unmapped += 1
                elif f & 0x100:
                    d_secondary += 1
                elif f & 0x800:
                    d_supplementary += 1
                elif f & 0x200:
                    d_qcfail += 1
                elif f & 0x400:
                    d_duplicate += 1
                else:
                    d_low_mapq += 1
                continue
            if f & 1:
                paired += 1
                tl = b.core.isize
                if tl < 0:
                    tl = -tl
                if tl < lo or tl > hi:
                    d_fragment += 1
                    continue
                if tl:
                    hist[tl if tl < hmax else hmax] += 1
            else:
                single += 1
            pos = b.core.pos
            k = pos // bin_size
            if pos < 0 or k >= nbins:
                ret = -3
                break
            counts[k] += 1
    tally[0] = records
    tally[1] = mates
    tally[2] = single
    tally[3] = paired
    tally[4] = d_unmapped
    tally[5] = d_secondary
    tally[6] = d_supplementary
    tally[7] = d_qcfail
    tally[8] = d_duplicate
    tally[9] = d_low_mapq
    tally[10] = d_fragment
    return ret
