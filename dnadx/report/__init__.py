"""Stage `report`: a results folder -> `summary.tsv`, `report.html` (plots embedded), MultiQC
custom-content files, per-sample QC and the longitudinal HER2 view.

May import: every stage before it (dnadx.core, count, cnv, scores, groups, variants).
"""

from dnadx.core.lazy import exports

_EXPORTS = {
    "build_report": "build",
    "render": "html",
    "summary_row": "summary",
    "summary_table": "summary",
    "load_batch": "io",
    "transitions": "longitudinal",
}
__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
