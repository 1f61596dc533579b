"""Truth-bearing simulators for tests, demos and benchmarks: plasma BAMs with known copy number,
tumour fraction and variants (`<prefix>.bam`, `.fa`, `.truth.json`), tumour profiles, segment-score tables.

May import any stage (to use its writers and models); no stage imports dnadx.sim.
"""

from dnadx.core.lazy import exports

_EXPORTS = {
    "simulate": "plasma",
    "SimSpec": "plasma",
    "write_bam": "bam_write",
    "get_profile": "profiles",
    "resolve_events": "profiles",
    "simulated_batch": "segments",
}
__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
