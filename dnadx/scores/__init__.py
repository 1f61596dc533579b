"""Stage `score` (and `train`): cnv tables -> gene-level log2, the 536 DNADX segment scores (raw and
tumour-fraction-adjusted), the ERBB2-amplicon call and the HER2-related model predictions
(`<id>.genes.tsv.gz`, `<id>.dnadx.tsv`, `<id>.score.json`); training writes the shipped models.

May import: dnadx.core, dnadx.count, dnadx.cnv.
"""

from dnadx.core.lazy import exports

# "submodule: exported names; ..." -- each name is imported from its submodule on first use
__getattr__, __all__ = exports(__name__, (
    "score: score_sample; segments: segment_scores gene_log2; erbb2: call_erbb2; models: predict_all; "
    "io: read_models"
))
