"""Plumbing every stage uses: table readers and writers with their schemas, atomic file writes,
typed errors (exit codes), constants, the samplesheet and the reference bundle (builds, genes, bins).

Takes paths at the edge and gives validated tables; imports nothing else of dnadx.
"""

from dnadx.core.lazy import exports

_EXPORTS = {
    "read_tsv": "io",
    "write_tsv": "io",
    "read_counts": "io",
    "read_wig": "io",
    "read_pon": "io",
    "atomic_path": "files",
    "write_json": "files",
    "read_json": "files",
    "make_dir": "files",
    "DnadxError": "errors",
    "InputError": "errors",
    "DataError": "errors",
    "ReferenceError_": "errors",
    "EnvironmentFault": "errors",
    "validate": "schemas",
    "read_samplesheet": "samplesheet",
    "bundle_dir": "builds",
    "genome_from_lengths": "builds",
    "normalise_chrom": "builds",
}
__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
