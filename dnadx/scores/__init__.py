"""Stage `score` (and `train`): cnv tables -> gene-level log2, the 536 DNADX segment scores (raw and
tumour-fraction-adjusted), the ERBB2-amplicon call and the HER2-related model predictions
(`<id>.genes.tsv.gz`, `<id>.dnadx.tsv`, `<id>.score.json`); training writes the shipped models.

May import: dnadx.core, dnadx.count, dnadx.cnv.
"""

from dnadx.core.lazy import exports

_EXPORTS = {
    "score_sample": "score",
    "segment_scores": "segments",
    "gene_log2": "segments",
    "call_erbb2": "erbb2",
    "predict_all": "models",
    "read_models": "io",
}
__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
