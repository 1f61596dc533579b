"""Which chromosome arms breast cancers alter, and in which direction: the state prior of the
tumour-fraction model (`tumour_fraction.fit`) as a mixture over breast-cancer arm patterns.

At 0.1x a tumour fraction of 0.03 shifts an altered arm's log2 ratio by ~2 standard errors; summed over
~41 arms with no idea which ones are altered, that evidence overlaps healthy plasma's. Breast cancers
are not random: 1q, 8q, 16p, 20q gains and 16q, 17p, 8p, 22q losses recur, and together (a luminal
tumour with 1q gain usually has 16q loss). `reference/models/arm_patterns.tsv` holds K patterns learned
from 1052 TCGA breast tumours (`reference/build/build_arm_patterns.py`): per pattern its share of the
tumours and each arm's gain and loss frequency among them. The prior of a segment's state under a
pattern is its arm's gain / loss frequency (spread over the states above / below normal as in
`tumour_fraction.STATE_PRIOR`); the patterns' likelihoods are summed with their shares, next to the
uninformed prior with weight UNIFORM_SHARE, so a tumour that breaks every pattern is still found at
the cost of log(1 / UNIFORM_SHARE) in evidence. At tumour fraction 0 all components give the same
likelihood: the prior cannot create a tumour in healthy plasma, only weigh which arms carry one.
Segments on arms without a frequency (chrY, acrocentric p arms) get the mean arm's values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

UNIFORM_SHARE = 0.2  # weight of the uninformed component
FREQ_FLOOR = 0.02  # least gain or loss frequency of an arm under a pattern (nothing is impossible)


def segment_arms(segments: pd.DataFrame, arms: pd.DataFrame) -> np.ndarray:
    """Arm name (arms.arm_name) holding each segment's midpoint; '' where none does."""
    mid = (segments["start"].to_numpy() + segments["end"].to_numpy()) / 2
    chrom = segments["chrom"].to_numpy()
    out = np.full(len(segments), "", dtype=object)
    for a in arms.itertuples(index=False):
        out[(chrom == a.chrom) & (mid >= a.start) & (mid < a.end)] = a.arm_name
    return out


def pattern_terms(arm_names: np.ndarray, patterns: pd.DataFrame) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Per pattern (weight, altered mass, share of it on gains) for each of ``arm_names``, from
    ``patterns`` (pattern, weight, arm_name, gain, loss); the weights sum to 1 - UNIFORM_SHARE."""
    out = []
    weights = patterns.groupby("pattern", sort=True)["weight"].first()
    for k, w in weights.items():
        p = patterns[patterns["pattern"] == k].set_index("arm_name")
        gain = p["gain"].clip(lower=FREQ_FLOOR)
        loss = p["loss"].clip(lower=FREQ_FLOOR)
        g = pd.Series(arm_names).map(gain).fillna(gain.mean()).to_numpy(float)
        lo = pd.Series(arm_names).map(loss).fillna(loss.mean()).to_numpy(float)
        out.append(((1 - UNIFORM_SHARE) * float(w) / float(weights.sum()), g + lo, g / (g + lo)))
    return out
