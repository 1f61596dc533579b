"""Reference copy-number pattern groups: a per-sample group that does not depend on the batch.

Groups are copy-number *pattern* groups, not PAM50 subtypes (copy number agrees only
weakly with PAM50; issue 5): ``ERBB2-amplified``, ``basal-like``, ``luminal-like`` and
``quiet`` (no detectable copy-number change), plus ``insufficient_tumour_fraction`` and
``insufficient_information`` (tumour fraction unknown) instead of a guess.

Model (trained by `reference/build/train_groups.py` on TCGA, validated on METABRIC):

* pattern features, scale-free so they transfer across platforms and purities: the
  sample's adjusted scores ``x`` centred on the median arm score and divided by the arm
  root-mean-square amplitude ``A = sqrt(mean_arms (x - m)^2)``: ``z = (x - m) / max(A, a0)``;
* a multinomial logistic regression (L2) on ``z`` (per-feature standardised with the
  TCGA mean/sd) for the three pattern groups: ``P(k | z) = softmax(W (z - mu)/s + b)``;
* ``quiet`` when the profile carries no detectable signal: the raw arm amplitude is
  below ``SNR_MIN`` times the sample's segment noise, or the adjusted amplitude is
  below the TCGA quiet amplitude ``quiet_amplitude``;
* confidence of a pattern group: the posterior averaged over ``N_DRAWS`` noise draws
  ``raw + N(0, sigma^2)`` re-adjusted at the sample's tumour fraction, so diluted or
  noisy samples lose confidence; confidence of ``quiet``: the fraction of TCGA tumours
  whose pattern would have been detected at this tumour fraction and noise.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dnadx.errors import InputError

PATTERN_GROUPS = ("ERBB2-amplified", "basal-like", "luminal-like")
QUIET = "quiet"
INSUFFICIENT_TF = "insufficient_tumour_fraction"
INSUFFICIENT_INFO = "insufficient_information"
# Below 5 % tumour DNA the adjusted scores amplify noise >= 20x and lpWGS tumour-fraction
# estimates are themselves at their detection limit (ichorCNA: ~3 %).
MIN_TUMOUR_FRACTION = 0.05
# A profile whose raw arm amplitude is below 2x its segment noise shows no copy-number
# pattern that can be told from noise (z-like threshold, measured on flat simulations).
SNR_MIN = 2.0
# Floor of the segment-noise estimate (log2): a perfectly smooth segmentation must not make
# the sample look infinitely precise.
NOISE_FLOOR = 0.01
# Floor of the amplitude used to scale a profile (log2), so a near-flat profile is not blown up.
AMPLITUDE_FLOOR = 0.02
# Noise draws for the confidence; fixed so outputs are deterministic and cheap.
N_DRAWS = 64
# `dnadx score` clips adjusted scores to the TCGA training range (issue 4).
ADJUSTED_RANGE = (-1.3, 3.7)
# Confidence at or above which a group counts as a high-confidence assignment (docs, tests).
HIGH_CONFIDENCE = 0.8


def adjust_for_tumour_fraction(raw, tumour_fraction: float) -> np.ndarray:
    """Purity-adjusted log2 (as `dnadx score`, issue 4), clipped to the TCGA range.

    ``x = log2(max((2^raw - 1) / p + 1, eps))``: the tumour-only log2 ratio for a plasma
    log2 ``raw`` at tumour fraction ``p`` (ploidy 2, normal DNA diploid).
    """
    raw = np.asarray(raw, dtype=float)
    lin = (np.exp2(raw) - 1.0) / float(tumour_fraction) + 1.0
    return np.clip(np.log2(np.maximum(lin, 2.0 ** ADJUSTED_RANGE[0])), *ADJUSTED_RANGE)


def arm_amplitude(scores: np.ndarray, is_arm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median arm score ``m`` and arm RMS amplitude ``A`` per row of ``scores`` (n x 536)."""
    arms = scores[:, is_arm]
    m = np.median(arms, axis=1)
    return m, np.sqrt(np.mean((arms - m[:, None]) ** 2, axis=1))


def pattern_features(scores: np.ndarray, is_arm: np.ndarray) -> np.ndarray:
    """Scale-free profile ``z = (x - m) / max(A, a0)`` (see module doc)."""
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    m, a = arm_amplitude(scores, is_arm)
    return (scores - m[:, None]) / np.maximum(a, AMPLITUDE_FLOOR)[:, None]


@dataclass(frozen=True)
class GroupModel:
    """A trained reference group model (plain arrays; written as TSV by `groups_io`)."""

    segment_ids: tuple[str, ...]
    is_arm: np.ndarray           # bool, per segment
    arm: tuple[str, ...]         # chromosome arm of each segment (noise estimate)
    classes: tuple[str, ...]
    coef: np.ndarray             # classes x segments, on standardised features
    intercept: np.ndarray        # classes
    feature_mean: np.ndarray     # segments
    feature_scale: np.ndarray    # segments
    quiet_amplitude: float       # adjusted arm amplitude below which a profile is quiet
    tumour_amplitudes: np.ndarray  # sorted arm amplitudes of non-quiet TCGA tumours
    info: dict = field(default_factory=dict)

    def checksum(self) -> str:
        h = hashlib.sha256()
        for a in (self.coef, self.intercept, self.feature_mean, self.feature_scale):
            h.update(np.round(np.asarray(a, float), 10).tobytes())
        return h.hexdigest()[:12]


def fit_group_model(scores: pd.DataFrame, labels: pd.Series, *, segments: pd.DataFrame, c: float,
                    quiet_quantile: float) -> GroupModel:
    """Train the pattern classifier on ``scores`` (samples x segments) and pattern ``labels``.

    Parameters
    ----------
    scores : training segment scores, columns in `segments` order.
    labels : one of PATTERN_GROUPS per sample (same index as ``scores``).
    segments : ``segment_id, is_arm, arm`` per segment.
    c : inverse L2 penalty of the logistic regression (chosen by cross-validation).
    quiet_quantile : quantile of the training arm amplitudes that defines ``quiet``.
    """
    from sklearn.linear_model import LogisticRegression

    is_arm = segments["is_arm"].to_numpy(bool)
    x = scores.to_numpy(float)
    z = pattern_features(x, is_arm)
    mu, sd = z.mean(axis=0), z.std(axis=0)
    sd = np.where(sd > 1e-9, sd, 1.0)
    clf = LogisticRegression(C=c, max_iter=5000, class_weight="balanced", tol=1e-8)
    clf.fit((z - mu) / sd, labels.to_numpy())
    order = [list(clf.classes_).index(k) for k in PATTERN_GROUPS]
    _, amp = arm_amplitude(x, is_arm)
    q = float(np.quantile(amp, quiet_quantile))
    return GroupModel(
        segment_ids=tuple(segments["segment_id"]), is_arm=is_arm, arm=tuple(segments["arm"]),
        classes=PATTERN_GROUPS, coef=clf.coef_[order], intercept=clf.intercept_[order],
        feature_mean=mu, feature_scale=sd, quiet_amplitude=q, tumour_amplitudes=np.sort(amp[amp >= q]),
        info={"c": c, "quiet_quantile": quiet_quantile})


def predict_proba(model: GroupModel, scores: np.ndarray) -> np.ndarray:
    """Pattern-group posteriors (n x 3) for adjusted scores (n x 536)."""
    z = (pattern_features(scores, model.is_arm) - model.feature_mean) / model.feature_scale
    eta = z @ model.coef.T + model.intercept
    eta -= eta.max(axis=1, keepdims=True)
    p = np.exp(eta)
    return p / p.sum(axis=1, keepdims=True)


def segment_noise(model: GroupModel, raw: np.ndarray) -> np.ndarray:
    """Robust segment-score noise per sample: ``1.4826 MAD(r_focal - r_arm)``, floored.

    Focal segments mostly sit in regions that copy like their arm, so their deviation from
    the arm score is noise; the few true focal events do not move a median.
    """
    raw = np.atleast_2d(raw)
    arm_idx = {a: i for i, (a, is_a) in enumerate(zip(model.arm, model.is_arm)) if is_a}
    focal = [i for i, (a, is_a) in enumerate(zip(model.arm, model.is_arm)) if not is_a and a in arm_idx]
    parent = [arm_idx[model.arm[i]] for i in focal]
    dev = raw[:, focal] - raw[:, parent]
    mad = np.median(np.abs(dev - np.median(dev, axis=1, keepdims=True)), axis=1)
    return np.maximum(1.4826 * mad, NOISE_FLOOR)


def _sample_seed(raw: np.ndarray) -> int:
    # Seed from the data itself: the same sample gets the same draws in any batch.
    return int.from_bytes(hashlib.sha256(np.round(raw, 6).tobytes()).digest()[:8], "little")


def assign_group(model: GroupModel, raw: np.ndarray, adjusted: np.ndarray, tumour_fraction: float) -> dict:
    """Group, confidence and evidence for one sample (see module doc for the rules).

    Parameters
    ----------
    raw, adjusted : the sample's 536 raw and tumour-fraction-adjusted segment scores.
    tumour_fraction : estimated tumour fraction (NaN when unknown).
    """
    raw, adjusted = np.asarray(raw, float), np.asarray(adjusted, float)
    out = {"group": INSUFFICIENT_INFO, "group_confidence": np.nan, "signal_to_noise": np.nan,
           "segment_noise": np.nan, **{f"p_{k}": np.nan for k in PATTERN_GROUPS}}
    p = float(tumour_fraction)
    if not np.isfinite(p) or not np.all(np.isfinite(raw)) or not np.all(np.isfinite(adjusted)):
        return out
    sigma = float(segment_noise(model, raw)[0])
    _, a_raw = arm_amplitude(raw[None, :], model.is_arm)
    _, a_adj = arm_amplitude(adjusted[None, :], model.is_arm)
    snr = float(a_raw[0] / sigma)
    out.update(segment_noise=sigma, signal_to_noise=snr)
    if p < MIN_TUMOUR_FRACTION:
        out["group"] = INSUFFICIENT_TF
        return out
    if snr < SNR_MIN or a_adj[0] < model.quiet_amplitude:
        # How many TCGA tumours would have shown a detectable pattern here: raw arm amplitude
        # at tumour fraction p is about p * A (d raw / d x = p at x = 0).
        need = SNR_MIN * sigma / p
        detectable = float(np.mean(model.tumour_amplitudes >= need))
        out.update(group=QUIET, group_confidence=detectable)
        return out
    rng = np.random.default_rng(_sample_seed(raw))
    draws = raw[None, :] + rng.normal(0.0, sigma, size=(N_DRAWS, raw.size))
    probs = predict_proba(model, np.vstack([adjusted[None, :], adjust_for_tumour_fraction(draws, p)]))
    k = int(np.argmax(probs[0]))
    mean = probs[1:].mean(axis=0)
    out.update(group=PATTERN_GROUPS[k], group_confidence=float(mean[k]),
               **{f"p_{g}": float(v) for g, v in zip(PATTERN_GROUPS, mean)})
    return out


def assign_groups(model: GroupModel, raw: pd.DataFrame, adjusted: pd.DataFrame,
                  tumour_fraction: pd.Series) -> pd.DataFrame:
    """:func:`assign_group` for every sample (rows of ``raw``/``adjusted``, model segment order)."""
    for name, df in (("score_raw", raw), ("score_adjusted", adjusted)):
        if list(df.columns) != list(model.segment_ids):
            raise InputError(f"{name}: segments differ from the group model's 536 DNADX segments")
    rows = [dict(sample=s, **assign_group(model, raw.loc[s].to_numpy(), adjusted.loc[s].to_numpy(),
                                         tumour_fraction.get(s, np.nan)))
            for s in raw.index]
    return pd.DataFrame(rows)


def defining_features(model: GroupModel, n: int = 8) -> pd.DataFrame:
    """Top segments per pattern group by coefficient (positive = higher in the group)."""
    rows = []
    for k, g in enumerate(model.classes):
        w = model.coef[k]
        for j in np.argsort(-np.abs(w), kind="stable")[:n]:
            rows.append({"group": g, "segment_id": model.segment_ids[j], "coefficient": float(w[j]),
                         "direction": "higher" if w[j] > 0 else "lower"})
    return pd.DataFrame(rows)
