"""Constants with a stated reason each (cf. cnvkit's params.py)."""

# Fine counting resolution; every analysis bin size must be a multiple of it.
FINE_BIN_SIZE = 10_000
# Default analysis bin: ichorCNA's ULP default, ~6000 autosomal bins at 0.1x.
ANALYSIS_BIN_SIZE = 500_000
SUPPORTED_ANALYSIS_BIN_SIZES = (100_000, 500_000, 1_000_000)
# Reads below this MAPQ are ambiguous placements (BWA: 0-1 multi-mapping).
MIN_MAPQ = 20
# SAM flags dropped: unmapped 0x4, secondary 0x100, QC-fail 0x200, duplicate 0x400,
# supplementary 0x800 (= 3844 = 0xF04, the mosdepth/WisecondorX convention).
EXCLUDE_FLAGS = 0xF04
# Short-fragment window: tumour-derived cfDNA is enriched at 90-150 bp (Mouliere 2018).
SHORT_FRAGMENT_WINDOW = (90, 150)
# Fragment-length histogram range kept in count-qc.json.
FRAGMENT_HIST_MAX = 1000
# Canonical chromosomes analysed (UCSC names).
AUTOSOMES = tuple(f"chr{i}" for i in range(1, 23))
CHROMOSOMES = AUTOSOMES + ("chrX", "chrY")
GENOMES = ("GRCh38", "GRCh37")
DEFAULT_GENOME = "GRCh38"
# Genes whose loss of usable bins must be reported, never silently dropped (issue 3).
GENES_OF_INTEREST = ("ERBB2", "TP53", "ARID1B", "TOP1", "CCND1", "MYC")
