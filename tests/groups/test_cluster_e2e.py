"""End to end on simulated plasma BAMs: simulate -> count -> cnv -> score -> cluster (issue 5).

Runs once `dnadx cnv` and `dnadx score` are in the checkout. Tumour profiles get their
reference group; the flat profile (no copy-number change, so the cnv stage finds no tumour
signal) never gets a tumour group with high confidence; de novo clusters recover the profiles.
"""

from __future__ import annotations

import importlib.util
import json

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from dnadx.groups import model as groups
from tests.helpers import run_cli, simulate_and_score

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("dnadx.cli.cnv") is None or
                       importlib.util.find_spec("dnadx.cli.score") is None,
                       reason="`dnadx cnv` / `dnadx score` are not in this checkout yet"),
    pytest.mark.slow,
]

TRUTH = {"erbb2": "ERBB2-amplified", "basal": "basal-like", "luminal": "luminal-like"}
# name: (profile, tumour fraction, seed)
SAMPLES = {f"{p}_{int(tf * 100)}": (p, tf, 40 + i) for i, (p, tf) in enumerate(
    [(p, tf) for p in ("erbb2", "basal", "luminal", "flat") for tf in (0.2, 0.35)])}
FRAGMENTS = 200_000


@pytest.fixture(scope="module")
def clustered(tmp_path_factory):
    d = tmp_path_factory.mktemp("cluster_e2e")
    for name, (profile, tf, seed) in SAMPLES.items():
        pre = d / name
        simulate_and_score(pre, profile, tf, FRAGMENTS, seed)
    assert run_cli("cluster", *[d / f"{n}.dnadx.tsv" for n in SAMPLES], "--prefix", d / "cohort") == 0
    tab = pd.read_csv(d / "cohort.clusters.tsv", sep="\t").set_index("sample")
    return tab, json.loads((d / "cohort.clusters.json").read_text())


def test_tumour_profiles_get_their_group(clustered):
    tab, _ = clustered
    for name, (profile, _, _) in SAMPLES.items():
        if profile in TRUTH:
            assert tab.loc[name, "group"] == TRUTH[profile], tab.loc[name].to_dict()


def test_flat_profiles_never_a_confident_tumour_group(clustered):
    tab, _ = clustered
    flat = tab.loc[[n for n, v in SAMPLES.items() if v[0] == "flat"]]
    tumour = flat["group"].isin(groups.PATTERN_GROUPS) & (flat["group_confidence"] >= groups.HIGH_CONFIDENCE)
    assert not tumour.any(), flat


def test_clusters_recover_profiles(clustered):
    tab, ev = clustered
    truth = [SAMPLES[n][0] for n in tab.index]
    assert adjusted_rand_score(truth, tab["cluster"]) >= 0.8, ev["k_selection"]
