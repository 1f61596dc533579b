"""Stage `report`: a results folder -> `summary.tsv`, `report.html` (plots embedded), MultiQC
custom-content files, per-sample QC and the longitudinal HER2 view.

May import: every stage before it (dnadx.core, count, cnv, scores, groups, variants).
"""

from dnadx.core.lazy import exports

# "submodule: exported names; ..." -- each name is imported from its submodule on first use
__getattr__, __all__ = exports(__name__, (
    "build: build_report; html: render; summary: summary_row summary_table; io: load_batch; "
    "longitudinal: transitions"
))
