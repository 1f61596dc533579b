"""Stage `variants`: BAM/CRAM (+FASTA, error model) -> fragment-level pileup calls with HGVS names, a VCF
and the resistance rows of ERBB2/TP53/ARID1B (`<id>.variants.vcf.gz`, `<id>.resistance.tsv`).

May import: dnadx.core, dnadx.count, dnadx.cnv, dnadx.scores, dnadx.groups.
"""

from dnadx.core.lazy import exports

_EXPORTS = {
    "coding_regions": "pileup",
    "build_error_model": "calling",
    "score_alleles": "calling",
    "assess": "calling",
    "write_vcf": "vcf",
    "copy_number_events": "resistance",
    "summarise": "resistance",
}
__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
