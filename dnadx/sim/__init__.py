"""Truth-bearing simulators for tests, demos and benchmarks: plasma BAMs with known copy number,
tumour fraction and variants (`<prefix>.bam`, `.fa`, `.truth.json`), tumour profiles, segment-score tables.

May import any stage (to use its writers and models); no stage imports dnadx.sim.
"""

from dnadx.core.lazy import exports

# "submodule: exported names; ..." -- each name is imported from its submodule on first use
__getattr__, __all__ = exports(__name__, (
    "plasma: simulate SimSpec; bam_write: write_bam; profiles: get_profile resolve_events; "
    "segments: simulated_batch"
))
