"""Stage `cnv` (and `pon`): counts -> GC/mappability-corrected log2 per analysis bin, segments, tumour
fraction and ploidy with an interval, sex, and the panel of normals (`<id>.bins.tsv.gz`, `<id>.seg`,
`<id>.cnv.json`, `<id>.cnv.png`; `<prefix>.pon.tsv.gz`).

May import: dnadx.core, dnadx.count.
"""

from dnadx.core.lazy import exports

_EXPORTS = {
    "run_cnv": "call",
    "annotate": "call",
    "seg_table": "call",
    "loci_of_interest": "call",
    "build_pon": "pon",
    "from_ichor": "pon",
    "plot_cnv": "plot",
    "infer_sex": "sex",
}
__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
