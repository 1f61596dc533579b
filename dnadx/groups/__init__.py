"""Stage `cluster`: DNADX segment scores -> a reference group per sample and de novo batch clusters
(`cohort.clusters.tsv`, `cohort.heatmap.png`).

May import: dnadx.core, dnadx.count, dnadx.cnv, dnadx.scores.
"""

from dnadx.core.lazy import exports

# "submodule: exported names; ..." -- each name is imported from its submodule on first use
__getattr__, __all__ = exports(__name__, (
    "cluster: run_cluster; model: assign_groups predict_groups; consensus: consensus_cluster; "
    "io: read_group_model; heatmap: heatmap_png"
))
