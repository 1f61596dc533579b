"""Segmentation of corrected log2 ratios: exact penalised least squares (PELT) per chromosome arm
region, plus a focal test at the genes of interest.

Why PELT and not an HMM over copy states (ichorCNA): an HMM's sticky transitions suppress short
high-amplitude segments (ichorCNA never segments the ~1.5 Mb ERBB2 amplicon), and its states are
tied to a tumour-fraction guess. PELT (Killick et al., JASA 2012) finds the optimal segmentation for
a penalty beta * sigma^2 * log(n) with no state model; the tumour-fraction model is fitted afterwards
on the segments. The focal test then checks a few-bin window at each gene of interest against its
segment (a targeted hypothesis, so a z threshold, not a genome-wide penalty, applies).
Measurements justifying the penalty and the focal threshold are in benchmarks/README.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PENALTY_BETA = 3.0  # x sigma^2 log(n); tuned on simulated healthy plasma (no false segment > 10 Mb)
FOCAL_Z = 3.0  # two-sided; ~24 targeted windows -> a few % of samples get a small neutral split (harmless: see MIN_FIT_BINS)
FOCAL_WINDOWS = (1, 2, 3, 4)  # window sizes in bins tried around each gene of interest
MIN_FOCAL_REST = 5  # bins the segment must keep outside the window for the comparison


def pelt(y: np.ndarray, penalty: float) -> list[int]:
    """Optimal change points of ``y`` under an L2 segment cost plus ``penalty`` per segment.

    Returns the segment end indices (exclusive), the last being ``len(y)``.
    """
    n = len(y)
    if n == 0:
        return []
    cs = np.concatenate([[0.0], np.cumsum(y)])
    cs2 = np.concatenate([[0.0], np.cumsum(y * y)])
    F = np.empty(n + 1)
    F[0] = -penalty
    last = np.zeros(n + 1, dtype=np.int64)
    cand = np.array([0], dtype=np.int64)
    for t in range(1, n + 1):
        length = t - cand
        cost = cs2[t] - cs2[cand] - (cs[t] - cs[cand]) ** 2 / length
        total = F[cand] + cost + penalty
        i = int(np.argmin(total))
        F[t] = total[i]
        last[t] = cand[i]
        cand = np.append(cand[F[cand] + cost <= F[t]], t)
    ends = []
    t = n
    while t > 0:
        ends.append(t)
        t = int(last[t])
    return ends[::-1]


def segment(bins: pd.DataFrame, sigma: float, *, arms: pd.DataFrame | None = None,
            beta: float = PENALTY_BETA) -> np.ndarray:
    """Segment id per bin (usable bins only; unusable bins inherit the segment they fall in).

    Segments never cross chromosomes, nor the p/q boundary when ``arms`` (chrom, arm, start, end)
    is given: arm-level events are the commonest in breast cancer and a boundary there is free.
    Returns an int array (-1 where a chromosome has no usable bin).
    """
    log2 = bins["log2"].to_numpy(dtype=float)
    ok = np.isfinite(log2)
    n_total = int(ok.sum())
    penalty = beta * max(sigma, 1e-3) ** 2 * np.log(max(n_total, 2))
    seg_id = np.full(len(bins), -1, dtype=np.int64)
    next_id = 0
    chrom = bins["chrom"].to_numpy()
    start = bins["start"].to_numpy()
    mids = {} if arms is None else arms[arms["arm"] == "q"].set_index("chrom")["start"].to_dict()
    for c in pd.unique(chrom):
        rows = np.flatnonzero(chrom == c)
        cen = mids.get(c)
        parts = [rows] if cen is None else [rows[start[rows] < cen], rows[start[rows] >= cen]]
        for part in parts:
            use = part[ok[part]]
            if len(use) == 0:
                continue
            first = 0
            for end in pelt(log2[use], penalty):
                seg_id[use[first:end]] = next_id
                next_id += 1
                first = end
        # unusable bins take the id of the previous usable bin (or the next at the start)
        ids = seg_id[rows]
        if (ids >= 0).any():
            filled = pd.Series(np.where(ids >= 0, ids, np.nan)).ffill().bfill().to_numpy()
            seg_id[rows] = filled.astype(np.int64)
    return seg_id


def focal_split(bins: pd.DataFrame, seg_id: np.ndarray, loci: pd.DataFrame, sigma: float,
                *, z_threshold: float = FOCAL_Z) -> tuple[np.ndarray, list[dict]]:
    """Split out a focal window around each locus (chrom, start, end, symbol) when it differs from
    the rest of its segment with |z| >= ``z_threshold``; returns new ids and the tests made."""
    seg_id = seg_id.copy()
    log2 = bins["log2"].to_numpy(dtype=float)
    chrom = bins["chrom"].to_numpy()
    start = bins["start"].to_numpy()
    end = bins["end"].to_numpy()
    tests = []
    next_id = int(seg_id.max()) + 1 if len(seg_id) else 0
    for locus in loci.itertuples(index=False):
        on = np.flatnonzero((chrom == locus.chrom) & np.isfinite(log2))
        if len(on) == 0:
            continue
        mid = (locus.start + locus.end) / 2
        centre = on[np.argmin(np.abs((start[on] + end[on]) / 2 - mid))]
        best = None
        for w in FOCAL_WINDOWS:
            pos = int(np.flatnonzero(on == centre)[0])
            lo = max(0, min(pos - (w - 1) // 2, len(on) - w))
            win = on[lo:lo + w]
            sid = seg_id[centre]
            rest = on[(seg_id[on] == sid) & ~np.isin(on, win)]
            if len(rest) < MIN_FOCAL_REST or np.any(seg_id[win] != sid):
                continue
            diff = log2[win].mean() - log2[rest].mean()
            z = diff / (sigma * np.sqrt(1 / w + 1 / len(rest)))
            if best is None or abs(z) > abs(best[0]):
                best = (z, win, diff)
        if best is None:
            continue
        z, win, diff = best
        split = abs(z) >= z_threshold
        tests.append({"gene": locus.symbol, "chrom": locus.chrom, "bins": int(len(win)), "z": float(z),
                      "log2_difference": float(diff), "split": bool(split)})
        if split:
            old = seg_id[win[0]]
            seg_id[win[0]:win[-1] + 1] = next_id  # unusable bins inside the window go with it
            after = (chrom == locus.chrom) & (seg_id == old) & (np.arange(len(seg_id)) > win[-1])
            seg_id[after] = next_id + 1
            next_id += 2
    return _renumber(seg_id), tests


def _renumber(seg_id: np.ndarray) -> np.ndarray:
    """Consecutive ids in genome order (stable across runs)."""
    out = np.full(len(seg_id), -1, dtype=np.int64)
    k, prev = -1, None
    for i, s in enumerate(seg_id.tolist()):
        if s < 0:
            continue
        if s != prev:
            k, prev = k + 1, s
        out[i] = k
    return out


def summarise(bins: pd.DataFrame, seg_id: np.ndarray) -> pd.DataFrame:
    """One row per segment: chrom, start, end, n_bins (usable), log2 (mean of usable bins)."""
    df = pd.DataFrame({"segment": seg_id, "chrom": bins["chrom"].to_numpy(), "start": bins["start"].to_numpy(),
                       "end": bins["end"].to_numpy(), "log2": bins["log2"].to_numpy(dtype=float)})
    df = df[df["segment"] >= 0]
    g = df.groupby("segment", sort=True)
    out = g.agg(chrom=("chrom", "first"), start=("start", "min"), end=("end", "max"),
                n_bins=("log2", lambda v: int(np.isfinite(v).sum())), log2=("log2", "mean")).reset_index()
    return out
