"""Stage `variants`: BAM/CRAM (+FASTA, error model) -> fragment-level pileup calls with HGVS names, a VCF
and the resistance rows of ERBB2/TP53/ARID1B (`<id>.variants.vcf.gz`, `<id>.resistance.tsv`).

May import: dnadx.core, dnadx.count, dnadx.cnv, dnadx.scores, dnadx.groups.
"""

from dnadx.core.lazy import exports

# "submodule: exported names; ..." -- each name is imported from its submodule on first use
__getattr__, __all__ = exports(__name__, (
    "pileup: coding_regions; calling: build_error_model score_alleles assess; vcf: write_vcf; "
    "resistance: copy_number_events summarise"
))
