"""De novo consensus clustering of a batch's adjusted DNADX segment scores (Monti et al. 2003).

For each k in 2..k_max, ``n_resamples`` subsamples (a fraction of the samples and of the
features) are clustered with Ward linkage; the consensus matrix is

    M_k(i, j) = #(i, j clustered together) / #(i, j drawn together).

k is chosen by stability: the proportion of ambiguous clustering (PAC, Senbabaoglu et
al. 2014), the share of pairs with ``0.1 < M_k(i, j) < 0.9``. Every k whose PAC is within
``PAC_TOLERANCE`` of the lowest counts as stable; of those the largest k is chosen (the finest
partition resampling reproduces; well-separated groups give PAC 0 for every coarser k too),
considering only k without singleton clusters when any such k exists. The final clusters cut an average-linkage tree on ``1 - M_k``; a sample's stability is
its mean consensus with the other members of its cluster (a singleton: one minus its
largest consensus with any other sample). Every k's evidence is returned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# Below 3 samples there is no pair of alternatives to compare (issue 5: "works from 3 up").
MIN_SAMPLES = 3
# Up to 8 clusters: more than the four biological patterns plus noise groups (Monti's default 2-10).
K_MAX = 8
# Resamples per k: PAC changes < 0.01 beyond ~100 on 30-sample simulated batches.
N_RESAMPLES = 100
# Subsampling fractions of samples and features (ConsensusClusterPlus defaults pItem 0.8, pFeature 1).
SAMPLE_FRACTION = 0.8
FEATURE_FRACTION = 0.8
# Most variable segments used: more adds mostly overlapping, redundant segments.
N_FEATURES = 536
# Consensus band counted as ambiguous by PAC.
PAC_BAND = (0.1, 0.9)
# PAC differences below this are resampling noise (100 resamples, 30-sample batches).
PAC_TOLERANCE = 0.02
# Above this PAC no k is stable: clusters are reported but flagged as weak.
PAC_WEAK = 0.3


@dataclass(frozen=True)
class Clustering:
    """Result of :func:`consensus_cluster` (labels 1..k in sample order; 0 = not clustered)."""

    samples: tuple[str, ...]
    labels: np.ndarray
    stability: np.ndarray
    k: int
    evidence: pd.DataFrame
    consensus: np.ndarray
    features: tuple[str, ...]
    note: str


def subsample_size(n: int) -> int:
    """Samples per resample: SAMPLE_FRACTION of n, at least 3 (with 2, every k >= 2 splits the pair)."""
    return max(min(n, MIN_SAMPLES), int(round(SAMPLE_FRACTION * n)))


def _ward_labels(x: np.ndarray, ks: range) -> dict[int, np.ndarray]:
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(x, method="ward")
    return {k: fcluster(tree, t=k, criterion="maxclust") for k in ks}


def consensus_matrices(x: np.ndarray, ks: range, *, n_resamples: int, seed: int) -> dict[int, np.ndarray]:
    """Consensus matrix per k (see module doc) from row-subsamples x column-subsamples of ``x``."""
    rng = np.random.default_rng(seed)
    n, m = x.shape
    n_sub = subsample_size(n)
    m_sub = max(1, int(round(FEATURE_FRACTION * m)))
    together = np.zeros((n, n))
    same = {k: np.zeros((n, n)) for k in ks}
    for _ in range(n_resamples):
        rows = np.sort(rng.choice(n, n_sub, replace=False))
        cols = np.sort(rng.choice(m, m_sub, replace=False))
        together[np.ix_(rows, rows)] += 1
        labels = _ward_labels(x[np.ix_(rows, cols)], ks)
        for k in ks:
            lab = labels[k]
            same[k][np.ix_(rows, rows)] += lab[:, None] == lab[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {k: np.where(together > 0, s / together, np.nan) for k, s in same.items()}
    for mat in out.values():
        np.fill_diagonal(mat, 1.0)
    return out


def pac(mat: np.ndarray) -> float:
    """Proportion of ambiguous clustering: share of pairs i<j with consensus inside PAC_BAND."""
    v = mat[np.triu_indices_from(mat, k=1)]
    v = v[np.isfinite(v)]
    return float(np.mean((v > PAC_BAND[0]) & (v < PAC_BAND[1]))) if v.size else float("nan")


def _final_labels(mat: np.ndarray, k: int) -> np.ndarray:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    d = 1.0 - np.nan_to_num(mat, nan=0.0)
    np.fill_diagonal(d, 0.0)
    lab = fcluster(linkage(squareform(d, checks=False), method="average"), t=k, criterion="maxclust")
    # Deterministic numbering: cluster 1 is the largest; ties by first sample.
    ids = sorted(np.unique(lab), key=lambda c: (-np.sum(lab == c), int(np.argmax(lab == c))))
    return np.array([ids.index(c) + 1 for c in lab])


def _stability(mat: np.ndarray, labels: np.ndarray) -> np.ndarray:
    m = np.nan_to_num(mat, nan=0.0)
    out = np.empty(len(labels))
    for i, c in enumerate(labels):
        mates = (labels == c) & (np.arange(len(labels)) != i)
        others = np.arange(len(labels)) != i
        out[i] = m[i, mates].mean() if mates.any() else 1.0 - m[i, others].max()
    return out


def select_features(scores: pd.DataFrame, n: int = N_FEATURES) -> pd.DataFrame:
    """The ``n`` segments with the largest variance across the batch (ties: segment order)."""
    var = scores.var(axis=0, ddof=0).to_numpy()
    keep = np.sort(np.argsort(-var, kind="stable")[:min(n, scores.shape[1])])
    return scores.iloc[:, keep]


def choose_k(evidence: pd.DataFrame, n_samples: int | None = None) -> int:
    """Largest k with PAC <= min PAC + tolerance among k without singletons (if any).

    The tolerance is PAC_TOLERANCE, or 1.5 pairs' worth of PAC in small batches: with groups
    of two, subsamples that drop one member of some groups force an extra split, so one
    ambiguous pair (1 / n_pairs) is resampling noise, not instability.
    """
    tol = PAC_TOLERANCE if not n_samples else max(PAC_TOLERANCE, 1.5 / (n_samples * (n_samples - 1) / 2))
    cand = evidence[evidence["min_cluster_size"] >= 2]
    if cand.empty:
        cand = evidence
    ok = cand[cand["pac"] <= cand["pac"].min() + tol]
    return int(ok["k"].max())


def fill_missing(scores: pd.DataFrame) -> pd.DataFrame:
    """Complete a samples x segments table for clustering.

    A sample without adjusted scores (tumour fraction below the `dnadx score` limit) shows no
    tumour signal: neutral 0. A single missing segment: the batch median (no distance artefact).
    """
    empty = scores.isna().all(axis=1)
    return scores.mask(empty, 0.0).apply(lambda col: col.fillna(col.median() if col.notna().any() else 0.0))


def consensus_cluster(scores: pd.DataFrame, *, k_max: int = K_MAX, n_resamples: int = N_RESAMPLES,
                      n_features: int = N_FEATURES, seed: int = 1) -> Clustering:
    """Consensus-cluster the rows of ``scores`` (samples x segments, adjusted scores).

    Parameters
    ----------
    scores : one row per sample; NaN values are replaced by the segment's batch median
        (a sample with no values at all: by 0).
    k_max : largest k tried (capped at n_samples - 1).
    n_resamples : subsamples per k.
    n_features : most variable segments used.
    seed : resampling seed (same inputs and seed -> same clusters).
    """
    samples = tuple(scores.index.astype(str))
    n = len(samples)
    if n < MIN_SAMPLES:
        return Clustering(samples, np.zeros(n, int), np.full(n, np.nan), 0, pd.DataFrame(), np.full((n, n), np.nan),
                          (), f"batch too small to cluster: {n} sample(s); at least {MIN_SAMPLES} are needed")
    filled = fill_missing(scores)
    feats = select_features(filled, n_features)
    x = feats.to_numpy(float)
    # k <= subsample size - 1: at k >= subsample size every resample is all singletons and the
    # consensus is uninformative (all zeros), which PAC would score as perfectly stable.
    ks = range(2, max(2, min(k_max, n - 1, subsample_size(n) - 1)) + 1)
    mats = consensus_matrices(x, ks, n_resamples=n_resamples, seed=seed)
    rows = []
    for k in ks:
        lab = _final_labels(mats[k], k)
        if len(np.unique(lab)) < k:  # ties in the consensus: this k cannot be cut
            continue
        st = _stability(mats[k], lab)
        rows.append({"k": k, "pac": pac(mats[k]), "mean_stability": float(st.mean()),
                     "min_cluster_size": int(np.bincount(lab)[1:].min()), "chosen": False})
    ev = pd.DataFrame(rows, columns=["k", "pac", "mean_stability", "min_cluster_size", "chosen"])
    if ev.empty:
        return Clustering(samples, np.zeros(n, int), np.full(n, np.nan), 0, ev, np.full((n, n), np.nan), tuple(feats.columns),
                          "no k could be cut from the consensus (identical profiles?): not clustered")
    best = choose_k(ev, n)
    ev.loc[ev["k"] == best, "chosen"] = True
    labels = _final_labels(mats[best], best)
    best_pac = float(ev.loc[ev["k"] == best, "pac"].iloc[0])
    note = (f"k = {best} chosen by stability: largest k with PAC within "
            f"{max(PAC_TOLERANCE, 1.5 / (n * (n - 1) / 2)):.3f} of the lowest "
            f"(PAC {best_pac:.3f}; k = {ks.start}..{ks.stop - 1} tried)")
    if n < 2 * best + 2:
        note += f"; small batch ({n} samples): clusters are indicative only"
    if best_pac > PAC_WEAK:
        note += f"; no stable k (PAC > {PAC_WEAK}): weak structure"
    return Clustering(samples, labels, _stability(mats[best], labels), best, ev, mats[best],
                      tuple(feats.columns), note)


def describe_clusters(scores: pd.DataFrame, labels: np.ndarray, *, n: int = 5,
                      region: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Most distinctive segments per cluster: ``d = mean_in - mean_out`` ranked by
    ``|d| / (s_within + 0.1)``, with ``s_within`` the pooled within-group sd (the 0.1 log2 term
    keeps tiny but perfectly consistent differences from outranking large ones).

    ``region`` (e.g. the chromosome arm of each segment) keeps one segment per region, so the
    dozens of overlapping segments of one arm event do not fill the list.
    """
    rows = []
    x = scores.to_numpy(float)
    for c in sorted(set(labels.tolist()) - {0}):
        inside = labels == c
        if inside.all():
            continue
        diff = np.nanmean(x[inside], axis=0) - np.nanmean(x[~inside], axis=0)
        within = np.sqrt((np.nansum((x[inside] - np.nanmean(x[inside], axis=0)) ** 2, axis=0)
                          + np.nansum((x[~inside] - np.nanmean(x[~inside], axis=0)) ** 2, axis=0)) / len(x))
        seen: set[str] = set()
        for j in np.argsort(-np.abs(diff) / (within + 0.1), kind="stable"):
            key = region[j] if region is not None and region[j] else scores.columns[j]
            if key in seen:
                continue
            if len(seen) == n:
                break
            seen.add(key)
            rows.append({"cluster": int(c), "segment_id": scores.columns[j], "mean_in_cluster": float(np.nanmean(x[inside, j])),
                         "difference": float(diff[j]), "direction": "higher" if diff[j] > 0 else "lower"})
    return pd.DataFrame(rows, columns=["cluster", "segment_id", "mean_in_cluster", "difference", "direction"])
