"""Stage `count`: BAM/CRAM -> fragments per fine bin (`<id>.counts.tsv.gz`, `<id>.count-qc.json`,
optionally an HMMcopy WIG), and the aggregation of fine counts to analysis bins.

May import: dnadx.core.
"""

from dnadx.core.lazy import exports

_EXPORTS = {
    "count_bins": "bam",
    "count_reads": "bam",
    "open_alignment": "bam",
    "aggregate": "bins",
    "make_bins": "bins",
    "gc_table": "gc",
}
__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
