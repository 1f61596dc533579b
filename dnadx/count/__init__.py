"""Stage `count`: BAM/CRAM -> fragments per fine bin (`<id>.counts.tsv.gz`, `<id>.count-qc.json`,
optionally an HMMcopy WIG), and the aggregation of fine counts to analysis bins.

May import: dnadx.core.
"""

from dnadx.core.lazy import exports

# "submodule: exported names; ..." -- each name is imported from its submodule on first use
__getattr__, __all__ = exports(__name__, (
    "bam: count_bins count_reads open_alignment; bins: aggregate make_bins; gc: gc_table"
))
