"""Tumour fraction and ploidy from segment log2 ratios over clonal copy-number states.

For tumour fraction p, tumour ploidy phi and a segment with normal copy number n (2 on autosomes,
1 on male X/Y) in tumour copy state c, the expected log2 ratio is

    mu(c) = log2(((1 - p) * n + p * c) / (2 * (1 - p) + p * phi)).

A segment with mean m over k usable bins has likelihood N(m; mu(c), sigma^2/k + tau^2 + (rho m)^2)
(sigma: bin noise; tau: floor for systematic residuals; rho: their part that grows with the signal),
or, with prior share OUTLIER_SHARE, is an artefact no state explains: Student t (OUTLIER_DF) centred on 0 with scale
sqrt(that variance + OUTLIER_SD^2). Real plasma's arm means carry heavy-tailed offsets that a Gaussian tau cannot
hold (most arms within 0.01 log2, chr19 at -0.04 to -0.06): under the Gaussian alone one such arm could call a
healthy sample or set p for the genome.
The state c is summed out under a prior
(STATE_PRIOR: neutral most likely, one-copy changes next, amplified states sharing a small mass and
down-weighted per Mb (amplicons are focal), arm-scale homozygous loss down-weighted per Mb). Summing instead of picking each segment's best
state avoids the winner's curse (noise segments selected as "altered" inflating p) and lets many weak
arm-level changes add up at low tumour fraction. With breast-cancer arm patterns (`arm_prior`, learned
from 1052 TCGA tumours) the prior is a mixture: under each pattern a segment's altered mass is its arm's
gain and loss frequency in that pattern; the patterns' marginal likelihoods are summed with their
shares, next to the uninformed prior (arm_prior.UNIFORM_SHARE). At tumour fraction 0.03 and 0.1x this
raised the evidence of breast-pattern tumours and lowered healthy plasma's (tuning set: healthy
maximum 2.5 -> 1.8), which let the evidence needed fall from GLOBAL_EVIDENCE_UNINFORMED (3) to GLOBAL_EVIDENCE (2).
The uninformed fit comes first and stands when it calls the tumour: the mixture makes losses on
often-lost arms cheap, which at low p can trade one-copy changes for fewer, larger ones at a smaller p
(a benchmark tumour at 0.05: 0.02 with ploidy 1.65), so it only decides the samples at the limit. phi must match the posterior mean state over
autosomal bins (Gaussian, sd PLOIDY_SD).

Every (p, phi) on a coarse grid is evaluated (an exhaustive search instead of restarts: no dependence
on initial values), then every p of the fine grid near the maximum with the ploidies near the coarse
best ones. The profile log-likelihood L(p) = max over phi gives the estimate (its maximum) and
the 95% interval (the connected region with 2 (L(p_hat) - L(p)) <= 3.84). p = 0 is in the grid, so
healthy plasma is neither forced to 0 by a hard rule nor pushed above it; a tumour is called present
when L(p_hat) - L(0) >= GLOBAL_EVIDENCE and its altered segments span >= MIN_CALL_MB. Segment states are the most probable ones at (p_hat, phi_hat).

Tumour fraction is read from copy-number alterations. When no segment is altered at the optimum the
likelihood is flat in p (an unaltered tumour fits at any p), so the upper bound is the detection
limit instead: the p at which a single-copy gain over MIN_ALTERED of the autosomal genome (in
arm-sized segments; 95% of metastatic breast cancers alter more) would be called with 95% probability
(likelihood-ratio signal DETECTION_CHI2): a 95% upper bound for a tumour with at least that much alteration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dnadx.cnv import arm_prior

STATES = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 30])  # sparse above 8: amplicons
TAU = 0.0025  # systematic residual per segment (log2): arm means of healthy simulations scatter as sigma^2/k alone
# (z variance 1.03); 0.005 halved the weight of the longest arms and cost detection at tumour fraction 0.05
# prior probability of a segment's state by its distance from the normal copy number; the mass of
# "amplified" (3+ copies above normal) is shared by those states so sparse high states cannot win by number
# (relative weights within the altered mass; the altered mass itself is fitted from ALTERED_MASS)
STATE_PRIOR = {"one_copy": 0.375, "two_copies": 0.1, "amplified": 0.1, "homdel": 0.05}
ALTERED_MASS = (0.02, 0.1, 0.25, 0.5)  # prior share of altered segments, maximised over (empirical Bayes)
MAX_ALTERED = 0.9  # cap of a per-segment altered mass (an arm pattern's gain + loss frequency can reach 1)
GLOBAL_EVIDENCE = 2.0  # L(p_hat) - L(0) needed to call a tumour present, with the arm patterns: 70 of 70 healthy
# tuning simulations stay below (highest 1.80; 3.0 without the patterns, where the highest was 2.54), and
# tumour fraction 0.03 at 0.1x is called in 26 of 36 erbb2/basal/luminal replicates (12 of 36 before)
GLOBAL_EVIDENCE_UNINFORMED = 3.0  # the same without patterns: 70 of 70 healthy below (highest 2.54; 3 of 70 above 2)
MIN_CALL_MB = 10.0  # altered autosomal segments must span this much to call a tumour (one artefact is not one)
MIN_FIT_MB = 10.0  # segments shorter than this do not inform p; they get states afterwards. Was 5 bins (2.5 Mb): on
# plasma with real bin effects (issue 17) 3-6-bin segments of telomeric, GC-rich artefacts at -0.6 to -0.9 log2 drove
# healthy samples' evidence to 29-31 at p 0.6-0.8; arm-scale changes carry the tumour fraction
MIN_STATE_BINS = 3  # segments of fewer bins (not focal windows) take their larger neighbour's state: one bin's
# deviation is not a copy-number call (a one-bin segment was called copy number 10) ...
SMALL_SEGMENT_Z = 5.0  # ... unless it differs from that neighbour by this many standard errors (a 2-bin ERBB2
# amplicon found by PELT itself at tumour fraction 0.4 had been reset to its arm's copy number 3)
SINGLE_SEGMENT_Z = 6.0  # a tumour read from a single altered chromosome needs a segment this far from neutral: one modest arm
# offset is what systematic residuals produce (issue 17: chr5p at +0.053 log2 called copy number 3, TF 0.10)
FOCAL_IN_FIT = "gain"  # ... except gain windows of the one-sided focal test ("all": every split window; "none").
# The amplicon inside its arm had raised the arm's mean; split out and left unfitted, its signal was lost: erbb2
# profile at tumour fraction 0.05 (36 tuning simulations) detected 32/36 before the one-sided test, 30/36 with it
# and "none", 35/36 with "gain" or "all"; "all" also raised the evidence of healthy samples with a split (one
# ERBB2 loss window: 0.7 -> 4.7), "gain" left the 70 healthy ones' highest evidence at 2.5
HOMDEL_PER_MB = 1.0  # arm-scale homozygous loss is not viable
AMP_MB = 20.0  # amplified states (3+ copies above normal) are focal: prior x exp(-Mb / AMP_MB); without it a
# p near 0 with arm-length "amplifications" competes with one-copy arm changes at p ~ 0.05
MIN_ALTERED = 0.05  # ~95% of breast cancers alter more of the genome than this: of 1052 TCGA BRCA tumours (whole-arm
# DNADX scores, ../shared/dnadx-training, arm called at |log2| > 0.15 as for reference/models/arm_patterns.tsv) 4.9%
# alter less than 5% of the autosomal arm length (3.3% at 0.10, 6.7% at 0.20); primary tumours, so metastases, more
# altered, fall below it less often. The detection limit (the undetected sample's upper bound) rests on it
PLOIDY_SD = 0.03
REL_SD = 0.05  # relative systematic error of a segment's log2 (correction residuals grow with the signal): without it
# the 95% interval covered the truth in 7 of 9 benchmark replicates at tumour fractions 0.3 and 0.5; with it 12 of 12 tuning replicates at each of 0.1-0.5
OUTLIER_SHARE = 0.05  # prior share of segments whose mean is an artefact, not a clonal state: real plasma's arm means
# carry heavy-tailed systematic offsets (ichorCNA's healthy-donor panel: robust sd 0.007 over 39 arms, but chr19p -0.057,
# 19q -0.040). Tune seeds (benchmarks/cnv_independent.py --seeds tune --reps 2): the highest evidence of 96 healthy
# samples fell from 3.12 to 0.75, interval coverage at TF 0.05-0.5 rose from 0.972 to 0.986, TF 0.03 detected 38/72 (40)
OUTLIER_SD = 0.03  # sd of an artefact segment's mean (log2), the scale of those offsets: 0.05 let two one-copy losses at
# TF 0.16 (-0.12 log2, 6 SE each) pass as artefacts; 0.02 let the healthy evidence reach 1.96
OUTLIER_DF = 10  # degrees of freedom of the artefact component, a Student t (a Gaussian until stop 31). Without a panel,
# two 13-14 Mb segments at -0.13 (chr19q's real effect at 1.3x plus noise, and a piece of 8p) had made an erbb2 tumour
# at TF 0.05 one at 0.17 [0.105, 0.24] (report seeds, GRCh37, 1 Mb; `tests/cnv/test_cnv_independent.py`). Chosen on
# that case and the design test that two 100-bin arms at -0.12 (6 SE each) stay a tumour (3 and 5 failed it), then
# measured on the tune seeds against the Gaussian, no panel: stress (effects 1.5-2.5x) worst error 0.13 -> 0.0675,
# interval coverage of tumours 0.847 -> 0.917, estimates over twice the truth 12 -> 7 of 72, TF 0.05 detected 10 -> 8
# of 12; GRCh37 1 Mb MAE 0.0119 -> 0.0112; clean and 1% empty unchanged but coverage 0.993 -> 1.000; with a panel the
# same figures (benchmarks/README.md, stop 31)
PHI_FINE = 0.01  # ploidy step of the refinement around a called tumour's estimate
REFINE_PAD = 0.01  # the refinement covers the coarse interval and this much either side
REFINE_MIN_P = 0.15  # below, a 0.05 ploidy step shifts expected log2 by less than the p grid does, and the
# finer grid only let noise pull p up (tumour fraction 0.05: one replicate 0.05 -> 0.09 in the benchmark)
P_GRID = np.round(np.arange(0.0, 0.9501, 0.0025), 4)
PHI_GRID = np.round(np.arange(1.5, 5.001, 0.05), 3)
CHI2_95 = 3.841
DETECTION_CHI2 = (np.sqrt(2 * GLOBAL_EVIDENCE) + 1.645) ** 2  # 13.3: the likelihood-ratio signal at which a call
# (evidence >= GLOBAL_EVIDENCE, i.e. statistic >= 4) is made with 95% probability. The limit of an uncalled sample
# had used CHI2_95 (3.84: a tumour there is called about half the time), so it was no 95% upper bound: on the report
# seeds 6 of 7 undetected TF 0.05 tumours lay above it (healthy upper bounds 0.03-0.0525, now 1.86x that)
AMBIGUITY_LOGLIK = 10.0  # another ploidy within this many log-likelihood units is reported as an alternative
# (ploidy_ambiguous) and the tumour-fraction interval is widened to cover it: with segment means this precise the
# likelihood ranks ploidies more sharply than unmodelled residuals justify
AMBIGUITY_PLOIDY = 0.25
PLOIDY_PENALTY = 2.0  # log-prior per unit of |ploidy - 2|: the simpler, diploid explanation unless the data need more
BASES = {2: (1.5, 5.0), 3: (2.3, 4.0), 4: (3.2, 5.0)}  # the tumour's baseline copy number and the ploidies it is
# tried at. Until stop 32 the state prior counted every state's distance from the normal copy number: a genome-doubled
# tumour's arms at 3 or 4 copies were each a gain, so a tetraploid tumour at 0.15 with one- and two-copy changes was
# fitted as a diploid one at 0.275 (the true solution not even listed), a triploid one at 0.5 as 0.40 (35 units behind)
WGD_PENALTY = AMBIGUITY_LOGLIK  # log-prior of a genome-doubled baseline (3 or 4), not tuned: depth alone cannot tell a
# triploid tumour from a diploid one at 2p / (2 + p) when no arm needs copy number 0 under the diploid reading, and at
# this penalty such an exact alias stays 12 units behind, unflagged (the simpler reading); a doubled reading is listed
# (ploidy_ambiguous, interval widened) once the data favour it by its ploidy prior and reported once by 10 more. Tune
# seeds (`benchmarks/cnv_independent.py --cases wgd --pon no --conditions clean`): at 5 and 2 every diploid erbb2
# tumour at 0.4 was flagged (its triploid alias at 0.5); at 10 the 192 diploid and healthy samples of the default
# cases were unchanged
EXP_FLOOR = -600.0  # log-likelihood gaps below this between a segment's states are treated as this (exp > 0 stays normal)
PHI_WINDOW = 0.25  # fine-pass ploidies around the coarse pass's best ones (see _profile)
EVAL_CHUNK = 4  # tumour fractions evaluated together (arrays of 4 x ploidies x segments x states stay in cache)
PROFILE_COLUMNS = ["p", "loglik", "ploidy", "option"]  # option: index of the prior that explains p best


@dataclass
class Fit:
    tumour_fraction: float
    ci: tuple[float, float]
    ploidy: float
    states: np.ndarray  # per input segment; -1 where the segment has no usable bin
    loglik: float
    profile: pd.DataFrame  # p, loglik, ploidy
    solutions: list[dict]
    evidence: float  # L(p_hat) - L(0) of the penalised fit, log-likelihood units
    evidence_needed: float = GLOBAL_EVIDENCE_UNINFORMED  # to call a tumour: GLOBAL_EVIDENCE with arm patterns
    state_prior: str = "uninformed"  # or "breast_arm_patterns": the prior asked for
    decided_by: str = "uninformed"  # the prior whose evidence decided: "arm_patterns" only where the uninformed fell short
    systematic: dict | None = None  # the per-segment systematic sd used and where it came from (cnv.call)
    ploidy_alternatives: list | None = None  # near-equal solutions at another ploidy (ploidy_ambiguous when any)


def baseline_copy(ploidy: float | None) -> int:
    """The tumour's baseline copy state, the nearest integer to its ploidy (at least 1; 2 when unknown): the copy
    number the plot colours and resistance.tsv's copy states count gains and losses from."""
    return int(max(1, round(float(ploidy or 2.0))))


def expected_log2(c, n, p, phi):
    num = np.maximum((1 - p) * n + p * c, 1e-3)
    return np.log2(num / (2 * (1 - p) + p * phi))


def log_prior(n: np.ndarray, length_mb: np.ndarray, altered_mass: float | np.ndarray = 0.4, *, share: bool = True,
              up: np.ndarray | None = None, base: int = 2) -> np.ndarray:
    """Segments x states log prior probability (STATE_PRIOR by distance from the tumour's baseline copy
    number, n * base / 2: the normal copy number n for a diploid baseline, base = 2; homozygous loss further
    down-weighted by HOMDEL_PER_MB per Mb), normalised per segment.

    ``altered_mass`` is one share for every segment or one per segment (an arm pattern's gain + loss
    frequency, capped at MAX_ALTERED); ``up`` is the share of it on gains per segment (None: as STATE_PRIOR).
    ``share=False`` gives each amplified state the whole class weight: for calling a segment's most
    probable class (the marginal likelihood needs the shared form). ``base`` 3 or 4: a genome-doubled
    tumour, whose arms at 3 or 4 copies are its baseline, not gains (see BASES)."""
    d = STATES[None, :] - (n[:, None] * base) // 2
    two = (np.abs(d) == 2) | (d < -2)
    two &= (STATES[None, :] > 0) | (n[:, None] <= 1)  # copy number 0 of a diploid segment: homozygous loss, below
    prior = np.select([np.abs(d) == 1, two], [STATE_PRIOR["one_copy"], STATE_PRIOR["two_copies"]], 0.0)
    high = d > 2
    prior = prior + high * STATE_PRIOR["amplified"] / (np.maximum(high.sum(axis=1, keepdims=True), 1) if share else 1)
    prior = np.where(high, prior * np.exp(-length_mb[:, None] / AMP_MB), prior)
    homdel = (STATES[None, :] == 0) & (n[:, None] > 1)
    prior = np.where(homdel, STATE_PRIOR["homdel"] * np.exp(-HOMDEL_PER_MB * length_mb[:, None]), prior)
    if up is not None:
        ups = np.asarray(up, float)[:, None]
        prior = prior * np.where(d > 0, 2 * ups, np.where(d < 0, 2 * (1 - ups), 1.0))
    mass = altered_mass if np.ndim(altered_mass) == 0 else np.minimum(np.asarray(altered_mass, float), MAX_ALTERED)[:, None]
    prior = mass * prior / prior.sum(axis=1, keepdims=True)
    prior = np.where(d == 0, 1 - mass, prior)
    with np.errstate(divide="ignore"):
        return np.log(prior)


def _prior_stack(logpriors) -> np.ndarray:
    """(segments, states, 2K) for ``_evaluate``: each prior's probabilities, then times the state."""
    lin = np.exp(np.asarray(logpriors))  # (K, S, C)
    return np.concatenate([lin, lin * STATES[None, None, :]]).transpose(1, 2, 0)


def _evaluate(ps, m, n, var, stack, w_auto, phis=PHI_GRID):
    """Marginal log-likelihood (states summed out) for every tumour fraction in ``ps`` and ploidy in
    ``phis``, with the ploidy-consistency term, under each of K priors (``stack`` from ``_prior_stack``);
    the Gaussian part is computed once and shared. Returns (K, ps, phis)."""
    ps = np.asarray(ps, float)
    npp, nf, ns, nc = len(ps), len(phis), len(m), len(STATES)
    # states on the leading axis: reductions over them are then elementwise over contiguous blocks
    # expected_log2 split into its numerator (states, p, segments) and denominator (p, phi) parts
    num = np.log2(np.maximum((1 - ps[None, :, None]) * n + ps[None, :, None] * STATES[:, None, None], 1e-3))
    den = np.log2(2 * (1 - ps[:, None]) + ps[:, None] * phis)
    # the (C, P, F, S) steps below work in place in one array: the same arithmetic, element by element, as
    # d = m - mu; base = d * d * (-0.5 / var); like = exp(max(base - top, EXP_FLOOR)), without a fresh
    # ~1 MB temporary per step (their allocation and first touch were a quarter of this function's time)
    like = np.add((m - num)[:, :, None, :], den[None, :, :, None])  # m - mu, (C, P, F, S)
    np.multiply(like, like, out=like)
    like *= -0.5 / var
    top = like.max(axis=0)
    like -= top
    # floored far below any prior ratio that could matter, so exp never enters the slow subnormal range
    np.maximum(like, EXP_FLOOR, out=like)
    np.exp(like, out=like)
    # batched over segments: (S, P*F, C) @ (S, C, 2K) -> (S, P*F, 2K)
    prod = np.matmul(like.transpose(3, 1, 2, 0).reshape(ns, npp * nf, nc), stack)
    half = stack.shape[2] // 2
    norm, mass = prod[..., :half], prod[..., half:]
    # each segment: its clonal states' marginal, norm * e^top, or (OUTLIER_SHARE) an artefact whose mean no state
    # explains, e^outlier; summed as e^M (norm e^(top - M) + e^(outlier - M)), M the larger exponent (no overflow;
    # np.logaddexp on the full array was 5x slower)
    top_s = top.reshape(npp * nf, ns).T[:, :, None]  # (S, P*F, 1)
    outlier = _log_outlier(m, var)[:, None, None]
    big = np.maximum(top_s, outlier)
    both = np.multiply(norm, np.exp(top_s - big))
    both += np.exp(outlier - big)
    with np.errstate(divide="ignore"):
        np.log(both, out=both)
    total = both.sum(axis=0) + big.sum(axis=0)  # (P*F, K)
    share = np.maximum(norm, 1e-300)
    np.divide(mass, share, out=share)  # mass / max(norm, 1e-300), in place
    implied = np.tensordot(w_auto, share, axes=(0, 0)) / max(w_auto.sum(), 1e-9)
    total, implied = (a.T.reshape(half, npp, nf) for a in (total, implied))  # (K, P, F)
    return total - (phis - implied) ** 2 / (2 * PLOIDY_SD ** 2) - PLOIDY_PENALTY * np.abs(phis - 2.0)


def _log_outlier(m, var):
    """Per segment, the log density of the artefact component relative to the clonal states' Gaussian
    (both without the shared 1 / sqrt(2 pi var)): share OUTLIER_SHARE, Student t with OUTLIER_DF degrees of freedom,
    centre 0, scale sqrt(var + OUTLIER_SD^2)."""
    wide = var + OUTLIER_SD ** 2
    # log t density written out (scipy.stats.t.logpdf's argument checks made `dnadx cnv` ~40% slower; math.lgamma, as
    # importing scipy.special took 0.25 s of the command):
    # lgamma((v + 1) / 2) - lgamma(v / 2) - log(v pi) / 2 - log(scale) - (v + 1) / 2 log(1 + m^2 / (v scale^2))
    v = OUTLIER_DF
    const = (np.log(OUTLIER_SHARE / (1 - OUTLIER_SHARE)) + math.lgamma((v + 1) / 2) - math.lgamma(v / 2)
             - 0.5 * np.log(v * np.pi))
    return const + 0.5 * np.log(2 * np.pi * var / wide) - 0.5 * (v + 1) * np.log1p(m ** 2 / (v * wide))


def _states(p, phi, m, n, var, logprior):
    """Each segment's most probable state at (p, phi) under ``logprior``."""
    mu = expected_log2(STATES[None, :], n[:, None], p, phi)
    return STATES[np.argmax(logprior - ((m[:, None] - mu) ** 2) / (2 * var[:, None]), axis=1)]


def fit(segments: pd.DataFrame, sigma: float, *, tau: float = TAU, patterns: pd.DataFrame | None = None) -> Fit:
    """Fit p and phi to ``segments`` (columns log2, n_bins, normal_copy, autosome, start, end; optional
    ``focal``: windows split out by the focal test, fitted whatever their size; ``gain_window`` and
    ``parent``: see ``_gain_window_states``; ``arm_name``: the arm a segment lies on, for ``patterns``,
    the breast-cancer arm patterns of `arm_prior` (None: every arm alike))."""
    valid = ((segments["n_bins"] > 0) & np.isfinite(segments["log2"])).to_numpy()
    # a segment that cannot hold a state of its own (fewer than MIN_STATE_BINS bins) does not inform p, however
    # far apart its bins lie (2 empty bins across a masked centromere spanned 10 Mb)
    big = valid & ((segments["end"] - segments["start"]).to_numpy() >= MIN_FIT_MB * 1e6) \
        & (segments["n_bins"].to_numpy() >= MIN_STATE_BINS)
    if FOCAL_IN_FIT == "all" and "focal" in segments:
        big |= valid & segments["focal"].to_numpy(bool)
    if FOCAL_IN_FIT == "gain" and "gain_window" in segments:
        big |= valid & segments["gain_window"].to_numpy(bool)
    if big.sum() == 0:
        big = valid
    seg = segments[big]
    m = seg["log2"].to_numpy(float)
    k = seg["n_bins"].to_numpy(float)
    n = seg["normal_copy"].to_numpy(int)
    var = sigma ** 2 / k + tau ** 2 + (REL_SD * m) ** 2
    w_auto = np.where(seg["autosome"].to_numpy(bool), k, 0.0)
    length_mb = (seg["end"] - seg["start"]).to_numpy(float) / 1e6
    mixture = _components(segments, patterns)
    # the uninformed prior first: where it alone establishes the tumour, the patterns do not move the
    # estimate; they decide only the samples at the limit (a benchmark erbb2 tumour at 0.05 had fitted
    # p 0.02, phi 1.65 under the mixture, 0.0475 without)
    for comps in [[UNINFORMED]] + ([mixture] if len(mixture) > 1 else []):
        threshold = GLOBAL_EVIDENCE if len(comps) > 1 else GLOBAL_EVIDENCE_UNINFORMED
        # doubled baselines in the uninformed fit only: the mixture decides tumours at the limit (TF ~0.05 and below),
        # where a doubled reading's tumour fraction is within 0.003 of its diploid alias's (2p / (2 + p)), and its
        # 3 x 11 options had made the mixture pass the slowest part of `dnadx cnv` (0.64-0.67 s of run_cnv, against
        # 0.35 s for samples the uninformed fit decides)
        bases = BASES if len(comps) == 1 else {2: BASES[2]}
        options = [(c, lw - (WGD_PENALTY if b > 2 else 0.0), mass, up, b)
                   for c, (lw, masses, up) in enumerate(comps) for mass in masses for b in bases]
        priors = [(c, lw, log_prior(n, length_mb, _take(mass, big), up=_take(up, big), base=b), b)
                  for c, lw, mass, up, b in options]
        prof, best_at = _profile(m, n, var, priors, w_auto)
        i = int(prof["loglik"].idxmax())
        at0 = prof.loc[prof["p"] == 0, "loglik"]
        evidence = float(prof.loc[i, "loglik"] - at0.iloc[0]) if len(at0) else float("inf")
        altered = (best_at[i] != n) & (w_auto > 0)
        altered_mb = float(length_mb[altered].sum())
        z = np.abs(m[altered]) / np.sqrt(var[altered])
        chroms = set(seg["chrom"].to_numpy()[altered]) if "chrom" in seg else set(np.flatnonzero(altered))
        enough = len(chroms) >= 2 or (altered.any() and float(z.max()) >= SINGLE_SEGMENT_Z)
        called = float(prof.loc[i, "p"]) > 0 and altered_mb >= MIN_CALL_MB and evidence >= threshold and enough
        if called:
            break
    p_hat = float(prof.loc[i, "p"])
    ploidy = float(prof.loc[i, "ploidy"])

    def stands(p, phi, option):
        """Whether a tumour at (p, phi) could be called on its own states (``_alters_enough``)."""
        return _alters_enough(_states(p, phi, m, n, var, priors[int(option)][2]), n, w_auto, length_mb)

    if not called:
        p_hat, ploidy = 0.0, 2.0
        ci = (0.0, detection_limit(sigma, k[w_auto > 0], tau=tau))
    else:
        if p_hat >= REFINE_MIN_P:
            prof, p_hat, ploidy = _refine(prof, p_hat, ploidy, m, n, var, priors, w_auto)
            i = int(np.flatnonzero(prof["p"].to_numpy() == p_hat)[0])
        ci = _interval(prof, p_hat, stands=stands)
    alternatives = ploidy_alternatives(_solutions(prof), p_hat, ploidy) if called else []
    _, _, mass, up, base = options[int(prof.loc[i, "option"])]
    if called and base > 2:  # a doubled baseline reported
        alternatives += _diploid_reading(prof, alternatives)
    if alternatives:  # likewise, an alternative that could not be called is no tumour solution
        at = prof.set_index("p")
        alternatives = [a for a in alternatives
                        if stands(a["tumor_fraction"], a["ploidy"], at.loc[a["tumor_fraction"], "option"])]
    if alternatives:
        tfs = [a["tumor_fraction"] for a in alternatives]
        tfs += [v for a in alternatives for v in a.get("tumor_fraction_ci", [])]  # a diploid reading's own region
        ci = (min(ci[0], min(tfs)), max(ci[1], max(tfs)))
    # states of every segment (small ones included) at the chosen p and phi
    allseg = segments[valid]
    n_all = allseg["normal_copy"].to_numpy(int)
    var_all = sigma ** 2 / allseg["n_bins"].to_numpy(float) + tau ** 2
    mu = expected_log2(STATES[None, :], n_all[:, None], p_hat, ploidy)
    ll = -((allseg["log2"].to_numpy(float)[:, None] - mu) ** 2) / (2 * var_all[:, None]) \
        + log_prior(n_all, (allseg["end"] - allseg["start"]).to_numpy(float) / 1e6,
                    _take(mass, valid), share=False, up=_take(up, valid), base=base)
    states = np.full(len(segments), -1)
    states[np.flatnonzero(valid)] = n_all if p_hat == 0 else STATES[np.argmax(ll, axis=1)]
    _inherit_small(states, segments, valid, sigma, tau)
    if p_hat > 0:
        _beyond_states(states, segments, valid, sigma, tau, p_hat, ploidy)
        # the call must stand on the states it reports: altered autosomal segments of at least MIN_FIT_MB
        # spanning MIN_CALL_MB (a flat profile once put p at 0.91 with every reported state neutral), none of
        # them a segment no clonal state explains
        shown = np.where(states[valid] >= 0, states[valid], n_all)  # no state: not altered
        if not _alters_enough(shown, n_all, allseg["autosome"].to_numpy(float),
                              (allseg["end"] - allseg["start"]).to_numpy(float) / 1e6):
            p_hat, ploidy, alternatives = 0.0, 2.0, []
            ci = (0.0, detection_limit(sigma, k[w_auto > 0], tau=tau))
            states[np.flatnonzero(valid)] = n_all
    if p_hat > 0 and "gain_window" in segments:
        loglik_only = -((allseg["log2"].to_numpy(float)[:, None] - mu) ** 2) / (2 * var_all[:, None])
        _gain_window_states(states, segments, valid, loglik_only)
    return Fit(p_hat, ci, ploidy, states, float(prof.loc[i, "loglik"]), prof, _solutions(prof), evidence,
               threshold, "breast_arm_patterns" if len(mixture) > 1 else "uninformed",
               "arm_patterns" if len(comps) > 1 else "uninformed", None, alternatives)


def accept_pattern_call(fit: Fit, p_lower: float) -> None:
    """Turn an uncalled ``fit`` into a tumour called by the arm-pattern test (`pattern_test`), in place.

    ``p_lower``, the test's bound, is the interval's lower end; the uncalled fit's upper bound (the detection
    limit: a tumour above it altering MIN_ALTERED of the genome would have been called with 95% probability)
    stays the upper end. The estimate is the profile's maximum between them: its maximum over every p > 0 can
    sit far above (0.12 for an erbb2 tumour at 0.03 on the tune seeds), and where the state model sees no
    altered segment the profile stays flat up to 0.95. The ploidy is the profile's at the estimate; segment states stay
    neutral (the test does not say which arms are altered)."""
    prof = fit.profile
    lo = round(max(float(p_lower), 1e-4), 4)
    limit = max(float(fit.ci[1]), lo)
    near = prof[(prof["p"] >= lo) & (prof["p"] <= limit)]
    if near.empty:  # no grid point between the bounds: the first one above the lower bound, or the last
        near = prof[prof["p"] >= lo].head(1) if (prof["p"] >= lo).any() else prof.tail(1)
    j = int(near["loglik"].idxmax())
    fit.tumour_fraction = min(max(float(prof.loc[j, "p"]), lo), limit)
    fit.ploidy = float(prof.loc[j, "ploidy"])
    fit.ci = (lo, limit)
    fit.decided_by, fit.ploidy_alternatives = "arm_pattern_test", []


UNINFORMED = (0.0, ALTERED_MASS, None)  # (log weight, altered masses, share on gains): every arm alike


def _components(segments: pd.DataFrame, patterns: pd.DataFrame | None) -> list[tuple]:
    """Mixture components of the state prior as (log weight, altered masses, share on gains), masses
    and shares per row of ``segments`` for the patterns: one component per pattern (its arms' gain +
    loss frequency, that mass alone) and the uninformed one with weight arm_prior.UNIFORM_SHARE."""
    if patterns is None:
        return [UNINFORMED]
    if "arm_name" not in segments:
        raise ValueError("fit: arm patterns need the segments' arm_name column (arm_prior.segment_arms)")
    comps = [(float(np.log(w)), (mass,), up)
             for w, mass, up in arm_prior.pattern_terms(segments["arm_name"].to_numpy(), patterns)]
    return comps + [(float(np.log(arm_prior.UNIFORM_SHARE)), ALTERED_MASS, None)]


def _take(values, mask):
    """``values[mask]`` for a per-segment array; scalars and None pass unchanged."""
    return values[mask] if isinstance(values, np.ndarray) else values


def _inherit_small(states, segments, valid, sigma, tau):
    """Segments of fewer than MIN_STATE_BINS bins (not ERBB2 gain windows) take the state of the larger of
    their neighbours on the same chromosome (state -1 stays where neither has one), unless they differ
    from it by SMALL_SEGMENT_Z standard errors and span 2 bins: a 2-bin ERBB2 amplicon at +1.35 log2 is
    evidence; one bin is not, however high (a 3-8x artefact bin at ERBB2, when genes of interest were exempt
    from the outlier rule, was called copy number 30 in a luminal sample)."""
    size = segments["n_bins"].to_numpy()
    m = segments["log2"].to_numpy(float)
    chrom = segments["chrom"].to_numpy() if "chrom" in segments else np.zeros(len(segments), int)
    # windows split out by the one-sided ERBB2 gain test keep their own state (`_gain_window_states`); other
    # focal windows are small segments like any: a 2-bin window at TP53 2.9 SE below its arm (split at |z| >= 3
    # by the focal test, one of ~24 windows tried) had been called a TP53 copy loss in an erbb2 tumour at TF 0.4
    if "gain_window" in segments:
        own = segments["gain_window"].to_numpy(bool)
    else:
        own = segments["focal"].to_numpy(bool) if "focal" in segments else np.zeros(len(segments), bool)
    small = valid & (size < MIN_STATE_BINS) & ~own
    for r in np.flatnonzero(small):
        near = [j for j in (r - 1, r + 1) if 0 <= j < len(segments) and chrom[j] == chrom[r] and not small[j] and valid[j]]
        if near:
            j = max(near, key=lambda j: size[j])
            se = np.sqrt(sigma ** 2 / max(size[r], 1) + sigma ** 2 / max(size[j], 1) + 2 * tau ** 2)
            if size[r] < 2 or abs(m[r] - m[j]) < SMALL_SEGMENT_Z * se:  # one bin never stands alone
                states[r] = states[j]


def _beyond_states(states, segments, valid, sigma, tau, p, phi):
    """No state (-1) for a segment called copy number 0, or the highest state, whose mean lies beyond that
    state's expected log2 at (p, phi) by SMALL_SEGMENT_Z standard errors: no clonal state explains it.
    A bin without reads where the normal DNA (1 - p of the plasma) must give reads is a mapping or reference
    artefact, not a homozygous deletion (1% empty bins, benchmark: two adjacent empty bins at -5 log2 were
    called copy number 0 in a tumour at 0.05, where copy number 0 means -0.07); likewise a pile-up far above
    the highest amplification."""
    n = segments["normal_copy"].to_numpy(float)
    m = segments["log2"].to_numpy(float)
    se = np.sqrt(sigma ** 2 / np.maximum(segments["n_bins"].to_numpy(float), 1) + tau ** 2)
    with np.errstate(invalid="ignore"):
        low = (states == 0) & (m < expected_log2(0, n, p, phi) - SMALL_SEGMENT_Z * se)
        high = (states == STATES[-1]) & (m > expected_log2(STATES[-1], n, p, phi) + SMALL_SEGMENT_Z * se)
    states[valid & (low | high)] = -1


def _gain_window_states(states, segments, valid, loglik):
    """State of each window split out by a one-sided gain test (``gain_window``): the most likely
    state above its parent segment's (the largest other piece with the same ``parent``), with no
    prior. The test has already established a gain, so the question left is only its size at the
    fitted p and phi (the neutral-favouring state prior would ask for the gain a second time: at
    tumour fraction 0.05 it turned 5 of 31 split ERBB2 amplicons into copy number 2)."""
    rows = np.flatnonzero(valid)
    where = {r: j for j, r in enumerate(rows)}
    gain = segments["gain_window"].to_numpy(bool)
    parent = segments["parent"].to_numpy()
    size = segments["n_bins"].to_numpy()
    for r in np.flatnonzero(gain & valid):
        pieces = np.flatnonzero((parent == parent[r]) & ~gain & valid)
        if len(pieces) == 0:
            continue
        above = STATES > states[pieces[np.argmax(size[pieces])]]
        if above.any():
            ll = np.where(above, loglik[where[r]], -np.inf)
            states[r] = STATES[int(np.argmax(ll))]


def _profile(m, n, var, priors, w_auto, *, p_values=None, phis=PHI_GRID):
    """Profile over P_GRID, coarse-to-fine: every 4th grid point, then the full grid wherever the
    coarse profile is within 6 log-likelihood units of its maximum (and one coarse step around).
    With ``p_values``, exactly those points (and ``phis`` as the ploidy grid). Returns the profile and
    the segments' most probable states at each of its points (``_StatesAt``)."""
    comp = np.array([c for c, _, _, _ in priors])
    weight = np.array([lw for _, lw, _, _ in priors])
    base = np.array([b for _, _, _, b in priors])
    cs = np.unique(comp)
    stacks = {b: _prior_stack([lp for _, _, lp, pb in priors if pb == b]) for b in np.unique(base)}

    def at(p_values, phis=phis):
        # per mixture component the best altered mass and baseline at each (p, phi); the components summed
        # (log-sum-exp); a baseline is evaluated only at the ploidies of its range (BASES), -inf elsewhere
        out = {}
        cols = {b: np.flatnonzero((phis >= BASES[b][0] - 1e-9) & (phis <= BASES[b][1] + 1e-9)) for b in stacks}
        for lo in range(0, len(p_values), EVAL_CHUNK):
            ps = np.asarray(p_values[lo:lo + EVAL_CHUNK], float)
            stack = np.full((len(priors), len(ps), len(phis)), -np.inf)
            for b, st in stacks.items():
                if len(cols[b]):
                    stack[np.ix_(base == b, np.arange(len(ps)), cols[b])] = _evaluate(ps, m, n, var, st, w_auto,
                                                                                     phis[cols[b]])
            stack += weight[:, None, None]  # (options, P, F)
            best = np.stack([np.flatnonzero(comp == c)[np.argmax(stack[comp == c], axis=0)] for c in cs])  # (C, P, F)
            per_comp = np.take_along_axis(stack, best, axis=0)
            ceiling = per_comp.max(axis=0)
            mix = ceiling + np.log(np.exp(per_comp - ceiling).sum(axis=0))  # (P, F)
            for i, p in enumerate(ps):
                f = int(np.argmax(mix[i]))
                j = int(best[int(np.argmax(per_comp[:, i, f])), i, f])
                out[float(p)] = ((float(p), float(mix[i, f]), float(phis[f]), j), (p, phis[f], m, n, var, priors[j][2]))
        return out

    if p_values is not None:
        pts = at(list(p_values))
        prof = pd.DataFrame([pts[p][0] for p in sorted(pts)], columns=PROFILE_COLUMNS)
        return prof, _StatesAt([pts[p][1] for p in sorted(pts)])
    coarse = at(list(P_GRID[::4]))
    top = max(v[0][1] for v in coarse.values())
    near = [p for p, v in coarse.items() if v[0][1] >= top - 6]
    step = float(P_GRID[4] - P_GRID[0])
    # grid points within a coarse step of a near one, not evaluated yet (one array operation, not 47,000 Python ones)
    close = np.abs(P_GRID[:, None] - np.array(near)[None, :]).min(axis=1) <= step + 1e-9
    todo = [float(p) for p in P_GRID[close & ~np.isin(P_GRID, list(coarse))]]
    # between neighbouring coarse points the best ploidy moves little: the fine points try the ploidies
    # within PHI_WINDOW of any near coarse point's best (every ploidy solution the coarse pass found)
    best_phis = np.array([coarse[q][0][2] for q in near])
    fine = at(todo, phis[np.abs(phis[:, None] - best_phis[None, :]).min(axis=1) <= PHI_WINDOW + 1e-9])
    merged = {**coarse, **fine}
    ps = sorted(merged)
    prof = pd.DataFrame([merged[p][0] for p in ps], columns=PROFILE_COLUMNS)
    return prof, _StatesAt([merged[p][1] for p in ps])


class _StatesAt:
    """The segments' most probable states at each profile point, computed when read: ``fit`` reads the
    maximum's alone; computing them at all of a profile's ~100-300 points was ~7 ms per fit."""

    def __init__(self, args: list[tuple]):
        self._args = args  # ``_states``'s arguments per point

    def __len__(self) -> int:
        return len(self._args)

    def __getitem__(self, i: int) -> np.ndarray:
        return _states(*self._args[i])


def _refine(prof, p_hat, ploidy, m, n, var, priors, w_auto):
    """Re-profile around the estimate with ploidy in steps of PHI_FINE (near phi_hat): at high tumour
    fraction a 0.05 ploidy step moves p by up to 0.03. Done only once a tumour is called, so the coarse
    grid alone decides detection (a fine grid also fits noise better in healthy plasma)."""
    ci = _interval(prof, p_hat)
    lo, hi = max(ci[0] - REFINE_PAD, float(P_GRID[1])), min(ci[1] + REFINE_PAD, float(P_GRID[-1]))
    phis = np.round(np.arange(max(PHI_GRID[0], ploidy - 0.25), min(PHI_GRID[-1], ploidy + 0.25) + 1e-9, PHI_FINE), 3)
    fine = None
    for _ in range(20):  # widen until the fine interval ends inside the refined range
        ps = P_GRID[(P_GRID >= lo - 1e-9) & (P_GRID <= hi + 1e-9)]
        todo = ps if fine is None else ps[~np.isin(ps, fine["p"].to_numpy())]
        part, _ = _profile(m, n, var, priors, w_auto, p_values=todo, phis=phis)
        fine = part if fine is None else pd.concat([fine, part]).sort_values("p").reset_index(drop=True)
        j = int(fine["loglik"].idxmax())
        a, b = _interval(fine, float(fine.loc[j, "p"]))
        grow_lo = a <= lo + 1e-9 and lo > float(P_GRID[1])
        grow_hi = b >= hi - 1e-9 and hi < float(P_GRID[-1])
        if not (grow_lo or grow_hi):
            break
        lo = max(lo - REFINE_PAD, float(P_GRID[1])) if grow_lo else lo
        hi = min(hi + REFINE_PAD, float(P_GRID[-1])) if grow_hi else hi
    merged = pd.concat([prof[~prof["p"].isin(fine["p"])], fine]).sort_values("p").reset_index(drop=True)
    return merged, float(fine.loc[j, "p"]), float(fine.loc[j, "ploidy"])


def _alters_enough(states: np.ndarray, n: np.ndarray, w_auto: np.ndarray, length_mb: np.ndarray) -> bool:
    """Whether ``states`` alter autosomal (``w_auto`` > 0) segments of MIN_FIT_MB spanning MIN_CALL_MB: what a call
    must stand on, for the reported states and for every other solution (``_interval``)."""
    return float(length_mb[(states != n) & (w_auto > 0) & (length_mb >= MIN_FIT_MB)].sum()) >= MIN_CALL_MB


def _interval(prof: pd.DataFrame, p_hat: float, *, stands=None) -> tuple[float, float]:
    """Smallest interval holding every p whose profile log-likelihood is within CHI2_95/2 of the maximum
    (disconnected near-equal regions included: an interval never excludes a p the model ranks as
    near-equal), widened to include p_hat. With ``stands(p, phi, option)``, a disconnected region whose best
    point could not be called on its own states is left out: it is no tumour solution. An erbb2 tumour at 0.05
    (tune seeds, 0.5x, 1% empty bins) had [0.0175, 0.95] from a near-equal p 0.95 whose only altered segment was
    the 1 Mb ERBB2 window at copy number 3 (at p 0.035: 30) and every arm neutral."""
    ll = prof["loglik"].to_numpy()
    p = prof["p"].to_numpy()
    inside = ll >= ll.max() - CHI2_95 / 2
    if stands is not None:
        idx = np.flatnonzero(inside)
        for run in np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1):
            if not p[run[0]] <= p_hat <= p[run[-1]]:
                r = run[int(np.argmax(ll[run]))]
                if not stands(float(p[r]), float(prof["ploidy"].iloc[r]), prof["option"].iloc[r]):
                    inside[run] = False
    inside = np.flatnonzero(inside)
    return float(min(p[inside[0]], p_hat)), float(max(p[inside[-1]], p_hat))


def ploidy_alternatives(solutions: list[dict], p_hat: float, ploidy: float) -> list[dict]:
    """Listed solutions that explain the data nearly as well (within AMBIGUITY_LOGLIK) with another
    ploidy (|difference| >= AMBIGUITY_PLOIDY) and a tumour: e.g. a diploid genome with single-copy
    changes at p against a gained genome at a lower p (the public MBC example: TF 0.26 at ploidy 2 vs
    0.14 at 2.8)."""
    return [s for s in solutions if s["tumor_fraction"] > 0 and s["tumor_fraction"] != p_hat
            and abs(s["ploidy"] - ploidy) >= AMBIGUITY_PLOIDY and s["delta_loglik"] >= -AMBIGUITY_LOGLIK]


def detection_limit(sigma: float, auto_bins: np.ndarray, *, tau: float = TAU) -> float:
    """Smallest p at which a single-copy gain over MIN_ALTERED of the autosomal bins, in segments of
    the median size, would give sum of k mu^2 / (sigma^2 + k tau^2) >= DETECTION_CHI2: called with 95%
    probability, so a 95% upper bound for an undetected tumour with at least that much alteration."""
    if len(auto_bins) == 0:
        return float(P_GRID[-1])
    k = float(np.median(auto_bins))
    n_seg = max(1.0, MIN_ALTERED * auto_bins.sum() / k)
    for p in P_GRID[1:]:
        mu = expected_log2(3, 2, p, 2.0)
        if n_seg * mu ** 2 / (sigma ** 2 / k + tau ** 2) >= DETECTION_CHI2:
            return float(p)
    return float(P_GRID[-1])


def _diploid_reading(prof: pd.DataFrame, alternatives: list[dict]) -> list[dict]:
    """The best near-diploid tumour solution, whatever its distance, where a doubled baseline was reported (and it is
    not listed yet): a diploid tumour with subclonal arms at half a step is read as a triploid one with integer states
    (erbb2 profile at 0.5, four arms at half the cells: 0.285-0.30 at ploidy 3.05, the diploid reading 5-16 units
    behind; two tetraploid probes put it 6 and 22 behind), so no prior on doubling separates the two, and the interval must
    hold both."""
    near = [s for s in _solutions(prof, max_n=len(prof))
            if s["tumor_fraction"] > 0 and abs(s["ploidy"] - 2.0) < AMBIGUITY_PLOIDY]
    if not near or any(a["tumor_fraction"] == near[0]["tumor_fraction"] for a in alternatives):
        return []
    # with its own 95% region, the p next to it within CHI2_95 / 2 while they too are near-diploid (past them the
    # profile climbs towards the doubled reading, whose interval is the fit's): its point alone had left a tumour at
    # 0.5 outside [0.265, 0.49]
    ll, p = prof["loglik"].to_numpy(), prof["p"].to_numpy()
    ok = (ll >= near[0]["loglik"] - CHI2_95 / 2) & (np.abs(prof["ploidy"].to_numpy() - 2.0) < AMBIGUITY_PLOIDY)
    j = int(np.flatnonzero(p == near[0]["tumor_fraction"])[0])
    a, b = j, j
    while a > 0 and ok[a - 1]:
        a -= 1
    while b + 1 < len(ll) and ok[b + 1]:
        b += 1
    return [dict(near[0], tumor_fraction_ci=[float(p[a]), float(p[b])])]


def _solutions(prof: pd.DataFrame, max_n: int = 5) -> list[dict]:
    """Local maxima of the profile likelihood: the chosen solution first, then the alternatives."""
    ll = prof["loglik"].to_numpy()
    best = float(ll.max())
    sols = []
    for j in range(len(ll)):
        left = ll[j - 1] if j > 0 else -np.inf
        right = ll[j + 1] if j + 1 < len(ll) else -np.inf
        if ll[j] >= left and ll[j] > right and np.isfinite(ll[j]):
            sols.append({"tumor_fraction": float(prof["p"].iloc[j]), "ploidy": float(prof["ploidy"].iloc[j]),
                         "loglik": float(ll[j]), "delta_loglik": float(ll[j] - best)})
    sols.sort(key=lambda s: -s["loglik"])
    return sols[:max_n]
