"""Stage `cluster`: DNADX segment scores -> a reference group per sample and de novo batch clusters
(`cohort.clusters.tsv`, `cohort.heatmap.png`).

May import: dnadx.core, dnadx.count, dnadx.cnv, dnadx.scores.
"""

from dnadx.core.lazy import exports

_EXPORTS = {
    "run_cluster": "cluster",
    "assign_groups": "model",
    "predict_groups": "model",
    "consensus_cluster": "consensus",
    "read_group_model": "io",
    "heatmap_png": "heatmap",
}
__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
