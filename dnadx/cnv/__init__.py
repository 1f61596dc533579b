"""Stage `cnv` (and `pon`): counts -> GC/mappability-corrected log2 per analysis bin, segments, tumour
fraction and ploidy with an interval, sex, and the panel of normals (`<id>.bins.tsv.gz`, `<id>.seg`,
`<id>.cnv.json`, `<id>.cnv.png`; `<prefix>.pon.tsv.gz`).

May import: dnadx.core, dnadx.count.
"""

from dnadx.core.lazy import exports

# "submodule: exported names; ..." -- each name is imported from its submodule on first use
__getattr__, __all__ = exports(__name__, (
    "call: run_cnv annotate seg_table loci_of_interest; pon: build_pon from_ichor; plot: plot_cnv; "
    "sex: infer_sex"
))
