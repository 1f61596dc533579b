"""Plumbing every stage uses: table readers and writers with their schemas, atomic file writes,
typed errors (exit codes), constants, the samplesheet and the reference bundle (builds, genes, bins).

Takes paths at the edge and gives validated tables; imports nothing else of dnadx.
"""

from dnadx.core.lazy import exports

# "submodule: exported names; ..." -- each name is imported from its submodule on first use
__getattr__, __all__ = exports(__name__, (
    "io: read_tsv write_tsv read_counts read_wig read_pon; "
    "files: atomic_path write_json read_json make_dir; "
    "errors: DnadxError InputError DataError ReferenceError_ EnvironmentFault; schemas: validate; "
    "samplesheet: read_samplesheet; builds: bundle_dir genome_from_lengths normalise_chrom"
))
