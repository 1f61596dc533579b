"""Column schemas of every table that crosses a stage boundary (validated in io.py)."""

from dnadx.core.errors import InputError

# Fine or analysis bins of the reference bundle.
BIN_ANNOTATION = ("chrom", "start", "end", "gc", "mappability")
# `dnadx count` output: read counts per fine bin.
COUNTS = ("chrom", "start", "end", "count")
# Genes of the reference bundle.
GENES = ("entrez_id", "symbol", "chrom", "start", "end")
# DNADX segments as gene sets (one row per segment x gene).
SEGMENT_GENES = ("segment_index", "segment_id", "entrez_id")
CHROM_SIZES = ("chrom", "length")
ARMS = ("chrom", "arm", "start", "end", "arm_name")
SAMPLESHEET = ("sample", "bam")

SCHEMAS = {
    "bin_annotation": BIN_ANNOTATION,
    "counts": COUNTS,
    "genes": GENES,
    "segment_genes": SEGMENT_GENES,
    "chrom_sizes": CHROM_SIZES,
    "arms": ARMS,
}


def validate(df, columns, *, source: str) -> None:
    """Raise InputError naming the file and the missing columns if ``df`` lacks any."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            f"{source}: missing column(s) {', '.join(missing)}; expected at least "
            f"{', '.join(columns)} (headed, tab-separated)"
        )
