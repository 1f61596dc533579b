"""Reference copy-number pattern groups: a per-sample group that does not depend on the batch.

Groups are copy-number *pattern* groups, not PAM50 subtypes (copy number agrees only
weakly with PAM50; issue 5): ``ERBB2-amplified``, ``basal-like``, ``luminal-like`` and
``quiet`` (no detectable copy-number change), plus ``insufficient_tumour_fraction`` and
``insufficient_information`` (tumour fraction unknown) instead of a guess.

Model (trained by `reference/build/train_groups.py` on TCGA, validated on METABRIC):

* pattern features, scale-free so they transfer across platforms and purities: the
  sample's adjusted scores ``x`` centred on the median arm score and divided by the arm
  root-mean-square amplitude ``A = sqrt(mean_arms (x - m)^2)``: ``z = (x - m) / max(A, a0)``;
* ``ERBB2-amplified`` when the focal 17q12 excess ``e = x_amplicon - x_17q`` reaches the
  Youden cut-off against TCGA clinical HER2 status (a whole-17q gain is not an amplicon)
  and, in plasma, a 2-fold ERBB2/17q ratio (``PLASMA_MIN_ERBB2_EXCESS``) with a raw excess
  clearing ``FOCAL_Z`` focal-noise sd;
* otherwise basal-like vs luminal-like by a logistic regression (L2) on ``z`` (per-feature
  standardised with the TCGA mean/sd): ``P(k | z) = softmax(W (z - mu)/s + b)``;
* ``quiet`` when the profile carries no detectable signal: the raw arm amplitude (arms
  weighted by length) is below ``SNR_MIN`` times the sample's arm-level noise, or the adjusted amplitude is
  below the TCGA quiet amplitude ``quiet_amplitude``;
* confidence of a pattern group: the posterior averaged over ``N_DRAWS`` noise draws
  (``raw`` + one offset per arm ~ N(0, sigma_arm^2) + per-segment N(0, sigma^2)),
  re-adjusted at the sample's tumour fraction, so diluted or
  noisy samples lose confidence; confidence of ``quiet``: the fraction of TCGA tumours
  whose pattern would have been detected at this tumour fraction and noise;
* below ``RELIABLE_TUMOUR_FRACTION`` the confidence is capped (never "high").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dnadx.core.errors import InputError

PATTERN_GROUPS = ("ERBB2-amplified", "basal-like", "luminal-like")
QUIET = "quiet"
INSUFFICIENT_TF = "insufficient_tumour_fraction"
INSUFFICIENT_INFO = "insufficient_information"
# Below 5 % tumour DNA the adjusted scores amplify noise >= 20x and lpWGS tumour-fraction
# estimates are themselves at their detection limit (ichorCNA: ~3 %).
MIN_TUMOUR_FRACTION = 0.05
# A profile whose raw arm amplitude is below 2x its arm-level noise shows no copy-number
# pattern that can be told from noise (pure noise gives about 1; benchmarks/groups.md).
SNR_MIN = 2.0
# Purity-adjusted plasma scores are on the tumour's own scale, where amplification means an
# ERBB2 / chromosome-17 copy ratio >= 2 (ASCO/CAP ISH criterion): log2 excess >= 1. The tissue
# cut-off (model.erbb2_excess, ~0.39) was fitted on unadjusted TCGA values, diluted by purity.
PLASMA_MIN_ERBB2_EXCESS = 1.0
# A focal ERBB2 excess must exceed 3 noise sd in the plasma log2 (one-sided p ~ 0.001).
FOCAL_Z = 3.0
# Floor of the segment-noise estimate (log2): a perfectly smooth segmentation must not make
# the sample look infinitely precise.
NOISE_FLOOR = 0.01
# Floor of the amplitude used to scale a profile (log2), so a near-flat profile is not blown up.
AMPLITUDE_FLOOR = 0.02
# Share of segment scores that may be missing (no usable genes) before the group is withheld.
MAX_MISSING = 0.10
# Noise draws for the confidence; fixed so outputs are deterministic and cheap.
N_DRAWS = 64
# `dnadx score` clips adjusted scores to the TCGA training range (issue 4).
ADJUSTED_RANGE = (-1.3, 3.7)
# Confidence at or above which a group counts as a high-confidence assignment (docs, tests).
HIGH_CONFIDENCE = 0.8
# Groups are validated from this tumour fraction up (simulations, benchmarks/groups.md); below
# it the tumour-fraction estimate itself is uncertain (lpWGS intervals of +-0.03-0.05), so the
# confidence is capped at HIGH_CONFIDENCE * p / RELIABLE_TUMOUR_FRACTION.
RELIABLE_TUMOUR_FRACTION = 0.15


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
    arm_weight: np.ndarray       # per segment: its arm's length / mean arm length (GRCh38)
    classes: tuple[str, ...]     # classifier classes (basal-like, luminal-like)
    coef: np.ndarray             # classes x segments, on standardised features
    intercept: np.ndarray        # classes
    feature_mean: np.ndarray     # segments
    feature_scale: np.ndarray    # segments
    centroids: np.ndarray        # groups x segments: mean pattern z per group (descriptions)
    erbb2_segment: str           # 17q12 amplicon segment
    erbb2_arm_segment: str       # 17q whole-arm segment
    erbb2_excess: float          # amplicon - 17q arm (log2) at or above which: ERBB2-amplified
    quiet_amplitude: float       # adjusted arm amplitude below which a profile is quiet
    tumour_amplitudes: np.ndarray  # sorted arm amplitudes of non-quiet TCGA tumours
    info: dict = field(default_factory=dict)

    def is_chr_y(self) -> np.ndarray:
        return np.array([a.startswith("Y") for a in self.arm])

    def erbb2_columns(self) -> tuple[int, int]:
        return self.segment_ids.index(self.erbb2_segment), self.segment_ids.index(self.erbb2_arm_segment)


def erbb2_excess(model: GroupModel, scores: np.ndarray) -> np.ndarray:
    """Focal 17q12 excess ``e = x_ERBB2amplicon - x_17q`` per row: a whole-17q gain is not an amplicon."""
    i, j = model.erbb2_columns()
    scores = np.atleast_2d(scores)
    return scores[:, i] - scores[:, j]


def fit_group_model(scores: pd.DataFrame, labels: pd.Series, her2_status: pd.Series, *, segments: pd.DataFrame,
                    c: float, quiet_quantile: float) -> GroupModel:
    """Train on ``scores`` (samples x segments, `segments` order).

    Parameters
    ----------
    labels : basal-like / luminal-like per sample, or NaN (not used by the classifier).
    her2_status : clinical HER2 status 1/0 (NaN = unknown): the ERBB2 excess cut-off is the
        Youden point ``argmax_t sens(t) + spec(t) - 1`` of ``e`` against it.
    segments : ``segment_id, is_arm, arm, arm_weight`` per segment.
    c : inverse L2 penalty of the logistic regression (chosen by cross-validation).
    quiet_quantile : quantile of the training arm amplitudes that defines ``quiet``.
    """
    from sklearn.linear_model import LogisticRegression

    is_arm = segments["is_arm"].to_numpy(bool)
    x = scores.to_numpy(float)
    z = pattern_features(x, is_arm)
    mu, sd = z.mean(axis=0), z.std(axis=0)
    sd = np.where(sd > 1e-9, sd, 1.0)
    lab = labels.to_numpy(object)
    use = pd.notna(labels).to_numpy()
    clf = LogisticRegression(C=c, max_iter=5000, class_weight="balanced", tol=1e-8)
    clf.fit((z[use] - mu) / sd, lab[use].astype(str))
    ids = tuple(segments["segment_id"])
    e_seg = next(s for s in ids if "17q12.amp.ERBB2" in s)
    a_seg = next(s for s, w, a in zip(ids, is_arm, segments["arm"]) if w and a == "17q")
    e = x[:, ids.index(e_seg)] - x[:, ids.index(a_seg)]
    known = pd.notna(her2_status).to_numpy()
    thr = youden_threshold(e[known], her2_status.to_numpy()[known].astype(int))
    amp = arm_amplitude(x, is_arm)[1]
    q = float(np.quantile(amp, quiet_quantile))
    group = np.where(e >= thr, "ERBB2-amplified", np.where(use, lab, ""))
    cent = np.vstack([z[group == g].mean(axis=0) for g in PATTERN_GROUPS])
    return GroupModel(
        segment_ids=ids, is_arm=is_arm, arm=tuple(segments["arm"]), arm_weight=segments["arm_weight"].to_numpy(float),
        classes=tuple(clf.classes_),
        coef=clf.coef_ if len(clf.classes_) > 2 else np.vstack([-clf.coef_[0] / 2, clf.coef_[0] / 2]),
        intercept=clf.intercept_ if len(clf.classes_) > 2 else np.array([-clf.intercept_[0] / 2, clf.intercept_[0] / 2]),
        feature_mean=mu, feature_scale=sd, centroids=cent, erbb2_segment=e_seg, erbb2_arm_segment=a_seg,
        erbb2_excess=thr, quiet_amplitude=q, tumour_amplitudes=np.sort(amp[amp >= q]),
        info={"c": c, "quiet_quantile": quiet_quantile})


def youden_threshold(score: np.ndarray, truth: np.ndarray) -> float:
    """Cut-off maximising sensitivity + specificity - 1 (ties: the higher cut-off)."""
    best, best_t = -1.0, float("inf")
    for t in np.unique(score):
        j = np.mean(score[truth == 1] >= t) + np.mean(score[truth == 0] < t) - 1
        if j >= best:
            best, best_t = j, float(t)
    return best_t


def predict_proba(model: GroupModel, scores: np.ndarray) -> np.ndarray:
    """Classifier posteriors (n x len(model.classes)) for adjusted scores (n x 536)."""
    z = (pattern_features(scores, model.is_arm) - model.feature_mean) / model.feature_scale
    eta = z @ model.coef.T + model.intercept
    eta -= eta.max(axis=1, keepdims=True)
    p = np.exp(eta)
    return p / p.sum(axis=1, keepdims=True)


def group_probabilities(model: GroupModel, scores: np.ndarray, *, raw: np.ndarray | None = None,
                        noise: float = 0.0) -> np.ndarray:
    """P over PATTERN_GROUPS (n x 3): ERBB2-amplified by the excess rule (0/1), else the classifier.

    With ``raw`` (plasma log2 scores; ``scores`` then purity-adjusted) the focal excess must
    also reach PLASMA_MIN_ERBB2_EXCESS and stand out of the noise (``e_raw >= FOCAL_Z * noise``),
    so a noisy amplicon segment at low tumour fraction, blown up by the adjustment, is not
    called an amplicon.
    """
    e = erbb2_excess(model, scores)
    erbb2 = e >= model.erbb2_excess
    if raw is not None:
        erbb2 &= (e >= PLASMA_MIN_ERBB2_EXCESS) & (erbb2_excess(model, raw) >= FOCAL_Z * noise)
    erbb2 = erbb2.astype(float)
    pc = predict_proba(model, scores)
    cols = [list(model.classes).index(g) for g in PATTERN_GROUPS[1:]]
    return np.column_stack([erbb2, (1 - erbb2)[:, None] * pc[:, cols]])


def predict_groups(model: GroupModel, scores: np.ndarray) -> np.ndarray:
    """Point prediction of the pattern group (no quiet/tumour-fraction rules): used for validation."""
    return np.asarray(PATTERN_GROUPS)[group_probabilities(model, scores).argmax(axis=1)]


def arm_deviations(model: GroupModel, raw: np.ndarray) -> np.ndarray:
    """Length-standardised arm deviations ``t_a = (r_a - median) * sqrt(w_a)`` (n x arms).

    An arm score averages about ``w_a`` times as many bins as a mean-length arm, so its noise
    sd is ``s / sqrt(w_a)``: ``t_a`` has the same sd ``s`` on every arm (chrY left out).
    """
    keep = model.is_arm & ~model.is_chr_y()
    arms = np.atleast_2d(raw)[:, keep]
    return (arms - np.median(arms, axis=1, keepdims=True)) * np.sqrt(model.arm_weight[keep])


def arm_noise(model: GroupModel, raw: np.ndarray) -> np.ndarray:
    """Arm-level noise per sample (sd of a mean-length arm): ``q25(|t_a|) / 0.3186``, floored.

    Most arms of most tumours are unchanged, so the smallest standardised deviations are
    noise; the 25th percentile (of |N(0, s)| it is 0.3186 s) stays unbiased while up to ~70 %
    of the arms carry real changes (a MAD breaks down at 50 %, which complex genomes exceed).
    """
    return np.maximum(np.quantile(np.abs(arm_deviations(model, raw)), 0.25, axis=1) / 0.3186, NOISE_FLOOR)


def signal_to_noise(model: GroupModel, raw: np.ndarray) -> np.ndarray:
    """``sqrt(mean_a t_a^2) / arm noise``: about 1 for a profile without copy-number change."""
    t = arm_deviations(model, raw)
    return np.sqrt(np.mean(t ** 2, axis=1)) / arm_noise(model, raw)


def segment_noise(model: GroupModel, raw: np.ndarray) -> np.ndarray:
    """Focal segment-score noise per sample from ``d = r_focal - r_arm``, at least the arm noise.

    ``sigma = max(q95(|d - median d|) / 1.96, arm noise)`` (the sd if ``d`` were normal).
    Focal segments mostly copy like their arm, so ``d`` is noise; a 95th percentile still
    sees sparse over-segmentation (a MAD would not), while the <2 % of segments in true focal
    events (an amplicon spans a handful of the 492 focal segments) barely move it. A focal
    segment averages fewer bins than its arm, so it is never less noisy than the arm.
    """
    raw = np.atleast_2d(raw)
    arm_idx = {a: i for i, (a, is_a) in enumerate(zip(model.arm, model.is_arm)) if is_a}
    focal = [i for i, (a, is_a) in enumerate(zip(model.arm, model.is_arm)) if not is_a and a in arm_idx]
    parent = [arm_idx[model.arm[i]] for i in focal]
    dev = raw[:, focal] - raw[:, parent]
    q = np.quantile(np.abs(dev - np.median(dev, axis=1, keepdims=True)), 0.95, axis=1)
    return np.maximum(q / 1.96, arm_noise(model, raw))


def _noise_draws(model: GroupModel, raw: np.ndarray, sigma: float, sigma_arm: float) -> np.ndarray:
    """``N_DRAWS`` noisy copies of ``raw``: one shared offset per arm (sd ``sigma_arm / sqrt(w_a)``:
    the correlated, arm-wide part) plus independent segment noise (sd ``sigma``)."""
    rng = np.random.default_rng(_sample_seed(raw))
    arms = sorted(set(model.arm) - {""})
    idx = np.array([arms.index(a) if a else -1 for a in model.arm])
    offsets = np.column_stack([rng.normal(0.0, sigma_arm, size=(N_DRAWS, len(arms))), np.zeros(N_DRAWS)])
    scale = np.where(idx >= 0, 1.0 / np.sqrt(np.nan_to_num(model.arm_weight, nan=1.0)), 0.0)
    return raw[None, :] + offsets[:, idx] * scale + rng.normal(0.0, sigma, size=(N_DRAWS, raw.size))


def _ceiling(confidence: float, p: float) -> float:
    return min(confidence, HIGH_CONFIDENCE * p / RELIABLE_TUMOUR_FRACTION)


def _sample_seed(raw: np.ndarray) -> int:
    # Seed from the data itself: the same sample gets the same draws in any batch.
    return int.from_bytes(hashlib.sha256(np.round(raw, 6).tobytes()).digest()[:8], "little")


def usable_scores(model: GroupModel, scores) -> np.ndarray | None:
    """Scores ready for the model, or None when too many are missing.

    chrY segments are set to the median arm score: TCGA has them at 0 for every sample, while a
    female plasma sample has no chrY signal at all. Missing scores (segments without usable
    genes) get the same neutral value; more than MAX_MISSING of them -> None.
    """
    x = np.array(scores, dtype=float)
    bad = ~np.isfinite(x)
    if bad.mean() > MAX_MISSING or not np.isfinite(x[model.is_arm]).any():
        return None
    neutral = np.nanmedian(x[model.is_arm & ~model.is_chr_y()])
    x[bad | model.is_chr_y()] = neutral
    return x


def assign_group(model: GroupModel, raw: np.ndarray, adjusted: np.ndarray, tumour_fraction: float) -> dict:
    """Group, confidence and evidence for one sample (see module doc for the rules).

    Parameters
    ----------
    raw, adjusted : the sample's 536 raw and tumour-fraction-adjusted segment scores.
    tumour_fraction : estimated tumour fraction (NaN when unknown).
    """
    out = {"group": INSUFFICIENT_INFO, "group_confidence": np.nan, "signal_to_noise": np.nan,
           "segment_noise": np.nan, "erbb2_excess": np.nan, **{f"p_{k}": np.nan for k in PATTERN_GROUPS}}
    p = float(tumour_fraction)
    if np.isfinite(p) and p < MIN_TUMOUR_FRACTION:
        # `dnadx score` writes no adjusted scores below its own 0.05 limit: nothing to classify.
        out["group"] = INSUFFICIENT_TF
        return out
    raw, adjusted = usable_scores(model, raw), usable_scores(model, adjusted)
    if not np.isfinite(p) or raw is None or adjusted is None:
        return out
    sigma = float(segment_noise(model, raw)[0])
    sigma_arm = float(arm_noise(model, raw)[0])
    a_adj = arm_amplitude(adjusted[None, :], model.is_arm)[1][0]
    snr = float(signal_to_noise(model, raw)[0])
    out.update(segment_noise=sigma, signal_to_noise=snr, erbb2_excess=float(erbb2_excess(model, adjusted)[0]))
    point = group_probabilities(model, adjusted[None, :], raw=raw[None, :], noise=sigma)[0]
    if (snr < SNR_MIN or a_adj < model.quiet_amplitude) and point[0] == 0:
        # Share of TCGA tumours whose pattern would have been detected here: the raw arm
        # amplitude at tumour fraction p is about p * A (d raw / d x = p at x = 0).
        need = SNR_MIN * sigma_arm / p
        out.update(group=QUIET, group_confidence=_ceiling(float(np.mean(model.tumour_amplitudes >= need)), p))
        return out
    draws = _noise_draws(model, raw, sigma, sigma_arm)
    mean = group_probabilities(model, adjust_for_tumour_fraction(draws, p), raw=draws, noise=sigma).mean(axis=0)
    k = int(np.argmax(point))
    out.update(group=PATTERN_GROUPS[k], group_confidence=_ceiling(float(mean[k]), p),
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
    """Most distinctive segments per group: TCGA group centroid minus the mean of the other
    groups' centroids, in TCGA standard deviations of the pattern z (an effect size)."""
    rows = []
    for k, g in enumerate(PATTERN_GROUPS):
        d = (model.centroids[k] - np.delete(model.centroids, k, axis=0).mean(axis=0)) / model.feature_scale
        for j in np.argsort(-np.abs(d), kind="stable")[:n]:
            rows.append({"group": g, "segment_id": model.segment_ids[j], "difference": float(d[j]),
                         "direction": "higher" if d[j] > 0 else "lower"})
    return pd.DataFrame(rows)
