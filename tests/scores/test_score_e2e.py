"""End to end on simulated plasma: simulate -> count -> cnv -> score (issue 4 acceptance).

ERBB2 is called amplified at tumour fraction >= 0.10 for CN >= 8, neutral on a flat profile,
not_assessable below the stated limit (0.05); the HER2 DNA probability is high for ERBB2-
amplified and low for other profiles at tumour fraction >= 0.15.
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from tests.helpers import simulate_and_score

pytestmark = pytest.mark.skipif(importlib.util.find_spec("dnadx.cli.cnv") is None,
                                reason="`dnadx cnv` is not in this checkout yet (lead's stage)")

# name: (profile, tumour fraction, fragments, seed)
# A "flat" tumour is not here: it has no copy-number change, so `dnadx cnv` estimates its
# tumour fraction as ~0 and the ERBB2 call is (rightly) not_assessable; neutral ERBB2 is
# shown on basal/luminal tumours whose other changes reveal the tumour fraction.
SAMPLES = {
    "cn8_tf10": ([{"gene": "ERBB2", "copy": 8, "width": 1_500_000}], 0.10, 600_000, 31),
    "erbb2_tf15": ("erbb2", 0.15, 300_000, 32),
    "basal_tf15": ("basal", 0.15, 300_000, 34),
    "luminal_tf20": ("luminal", 0.20, 300_000, 36),
    "erbb2_tf02": ("erbb2", 0.02, 300_000, 35),
}


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    d = tmp_path_factory.mktemp("score_e2e")
    out = {}
    for name, (profile, tf, n, seed) in SAMPLES.items():
        if isinstance(profile, list):
            (d / f"{name}.json").write_text(json.dumps(profile))
            profile = d / f"{name}.json"
        pre = d / name
        simulate_and_score(pre, profile, tf, n, seed)
        out[name] = json.loads((d / f"{name}.score.json").read_text())
    return out


def test_cn8_amplicon_is_amplified_at_tf_010(scored):
    s = scored["cn8_tf10"]
    assert s["erbb2_call"] == "amplified", s["erbb2_call_reason"]


def test_erbb2_amplified_with_high_her2_probability_at_tf_015(scored):
    s = scored["erbb2_tf15"]
    assert s["erbb2_call"] == "amplified", s["erbb2_call_reason"]
    lo, hi = s["erbb2_copy_number_ci"]
    assert lo <= 10 * 1.3 and hi >= 10 / 1.3  # interval reaches the true CN 10 within 30%
    assert s["her2_dna_probability"] > 0.5  # CN 8-10 amplicons: 0.69-0.77 in benchmarks/models.md


@pytest.mark.parametrize("name", ["basal_tf15", "luminal_tf20"])
def test_other_profiles_low_her2_probability(scored, name):
    s = scored[name]
    assert s["her2_dna_probability"] < 0.2
    # basal has no 17q change; luminal carries a whole-arm 17q gain (3 copies).
    assert s["erbb2_call"] == ("neutral" if name == "basal_tf15" else "gain") or s["erbb2_call"] == "neutral", \
        s["erbb2_call_reason"]


def test_below_the_limit_is_not_assessable(scored):
    s = scored["erbb2_tf02"]
    assert s["erbb2_call"] == "not_assessable", s["erbb2_call_reason"]
