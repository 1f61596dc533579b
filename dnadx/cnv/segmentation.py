"""Segmentation of corrected log2 ratios: exact penalised least squares (PELT) per chromosome arm
region, plus a focal test at the genes of interest.

Why PELT and not an HMM over copy states (ichorCNA): an HMM's sticky transitions suppress short
high-amplitude segments (ichorCNA never segments the ~1.5 Mb ERBB2 amplicon), and its states are
tied to a tumour-fraction guess. PELT (Killick et al., JASA 2012) finds the optimal segmentation for
a penalty beta * sigma^2 * log(n) with no state model; the tumour-fraction model is fitted afterwards
on the segments. The focal test then checks a few-bin window at each gene of interest against its
segment (a targeted hypothesis, so a z threshold, not a genome-wide penalty, applies); at ERBB2,
where amplification is the event that matters, a gain is also tested one-sided at a lower threshold.
Measurements justifying the penalty and the focal threshold are in benchmarks/README.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PENALTY_BETA = 3.0  # x sigma^2 log(n); tuned on simulated healthy plasma (no false segment > 10 Mb)
FOCAL_Z = 3.0  # two-sided; ~24 targeted windows -> a few % of samples get a small neutral split (harmless: see MIN_FIT_BINS)
# one-sided threshold for a gain at a locus whose clinically relevant event is amplification (ERBB2: ~15-20% of
# metastatic breast cancers). Set on 36 tuning simulations of the erbb2 profile at tumour fraction 0.05, 1 M fragments
# (amplicon CN 10 over 1.5 Mb, expected z ~3.4; seeds 2200-2235): split 24/36 at |z| >= 3, 31/36 at z >= 2.5; the best
# gain window of 150 healthy and basal/luminal simulations (seeds 2000-2611) reached 2.5 once. A split window only
# becomes an amplification call if its copy state at the genome-wide fit is >= 6 (tumour_fraction.fit).
FOCAL_GAIN_Z = {"ERBB2": 2.5}
# ... and the one-sided gain must also be this large (log2 above the rest of the segment): at 3 M fragments z 2.5
# is only ~0.1, which at tumour fraction 0.05 sizes as copy number 6 (a luminal benchmark sample got ERBB2 CN 6);
# the CN-10 amplicon at 0.05 is ~0.23, and z >= 2.5 at 1 M fragments already implies >= 0.14 (dnadx.scores.erbb2 uses 0.15 too)
FOCAL_GAIN_MIN_LOG2 = 0.15
FOCAL_WINDOWS = (1, 2, 3, 4)  # window sizes in bins tried around each gene of interest
MIN_FOCAL_REST = 5  # bins the segment must keep outside the window for the comparison


def pelt(y: np.ndarray, penalty: float) -> list[int]:
    """Optimal change points of ``y`` under an L2 segment cost plus ``penalty`` per segment.

    Returns the segment end indices (exclusive), the last being ``len(y)``.
    """
    return pelt_many([y], penalty)[0]


def pelt_many(series: list[np.ndarray], penalty: float) -> list[list[int]]:
    """``pelt`` of each of several independent series (a sample's chromosome arms), computed together.

    The recursion over the end position t runs in lock-step for every series at least t long: one numpy
    call per step for all of them instead of one per step and series (a sample's ~5,000 steps on arrays of
    a few dozen candidates cost ~0.1 s of call overhead per pass). Pruned candidates are masked instead of
    removed; each series' costs, pruning and first-minimum choice are the one-series recursion's, value for
    value, so the change points are the same.
    """
    order = sorted(range(len(series)), key=lambda j: -len(series[j]))  # longest first: active rows are a prefix
    lengths = [len(series[j]) for j in order]
    out: list[list[int]] = [[] for _ in series]
    n_max = lengths[0] if lengths else 0
    if n_max == 0:
        return out
    rows = len(order)
    cs = np.zeros((rows, n_max + 1))
    cs2 = np.zeros((rows, n_max + 1))
    for r, j in enumerate(order):
        y = np.asarray(series[j], dtype=float)
        cs[r, 1:len(y) + 1] = np.cumsum(y)
        cs2[r, 1:len(y) + 1] = np.cumsum(y * y)
    F = np.zeros((rows, n_max + 1))
    F[:, 0] = -penalty
    last = np.zeros((rows, n_max + 1), dtype=np.int64)
    alive = np.zeros((rows, n_max + 1), dtype=bool)  # the candidate change points not yet pruned
    alive[:, 0] = True
    active = rows
    for t in range(1, n_max + 1):
        while lengths[active - 1] < t:
            active -= 1
        a = slice(0, active)
        cost = cs2[a, t:t + 1] - cs2[a, :t] - (cs[a, t:t + 1] - cs[a, :t]) ** 2 / (t - np.arange(t))
        fc = F[a, :t] + cost
        total = np.where(alive[a, :t], fc + penalty, np.inf)
        best = total.argmin(axis=1)
        ft = total[np.arange(active), best]
        F[a, t] = ft
        last[a, t] = best
        alive[a, :t] &= fc <= ft[:, None]
        alive[a, t] = True
    for r, j in enumerate(order):
        ends = []
        t = lengths[r]
        while t > 0:
            ends.append(t)
            t = int(last[r, t])
        out[j] = ends[::-1]
    return out


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
    by_chrom, parts = [], []
    for c in pd.unique(chrom):
        rows = np.flatnonzero(chrom == c)
        by_chrom.append(rows)
        cen = mids.get(c)
        for part in [rows] if cen is None else [rows[start[rows] < cen], rows[start[rows] >= cen]]:
            use = part[ok[part]]
            if len(use):
                parts.append(use)
    # every arm's recursion at once (pelt_many); ids then numbered in genome order as before
    for use, ends in zip(parts, pelt_many([log2[use] for use in parts], penalty)):
        first = 0
        for end in ends:
            seg_id[use[first:end]] = next_id
            next_id += 1
            first = end
    for rows in by_chrom:
        # unusable bins take the id of the previous usable bin (or the next at the start)
        ids = seg_id[rows]
        if (ids >= 0).any():
            filled = pd.Series(np.where(ids >= 0, ids, np.nan)).ffill().bfill().to_numpy()
            seg_id[rows] = filled.astype(np.int64)
    return seg_id


def focal_split(bins: pd.DataFrame, seg_id: np.ndarray, loci: pd.DataFrame, sigma: float,
                *, z_threshold: float = FOCAL_Z, gain_z: dict | None = None) -> tuple[np.ndarray, list[dict]]:
    """Split out a focal window around each locus (chrom, start, end, symbol) when it differs from
    the rest of its segment with |z| >= ``z_threshold``, or, at a locus in ``gain_z`` (default
    FOCAL_GAIN_Z), when it is above the rest with z >= that locus's one-sided threshold and by at least
    FOCAL_GAIN_MIN_LOG2; returns new
    ids and the tests made (the window with the largest |z|, or the gain window that was split)."""
    gain_z = FOCAL_GAIN_Z if gain_z is None else gain_z
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
        best = best_gain = None
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
            if best_gain is None or z > best_gain[0]:
                best_gain = (z, win, diff)
        if best is None:
            continue
        z, win, diff = best
        split = abs(z) >= z_threshold
        one_sided = locus.symbol in gain_z
        if not split and one_sided and best_gain[0] >= gain_z[locus.symbol] and best_gain[2] >= FOCAL_GAIN_MIN_LOG2:
            (z, win, diff), split = best_gain, True
        tests.append({"gene": locus.symbol, "chrom": locus.chrom, "bins": int(len(win)), "z": float(z),
                      "start": int(start[win[0]]), "end": int(end[win[-1]]),
                      "log2_difference": float(diff), "split": bool(split),
                      "gain_threshold": float(gain_z[locus.symbol]) if one_sided else None})
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


def summarise(bins: pd.DataFrame, seg_id: np.ndarray, sigma: float | None = None) -> pd.DataFrame:
    """One row per segment: chrom, start, end, n_bins (usable), log2 (mean of usable bins; with the bin noise
    ``sigma``, of those within CLIP_SIGMAS of the segment's median: ``clipped_means``)."""
    df = pd.DataFrame({"segment": seg_id, "chrom": bins["chrom"].to_numpy(), "start": bins["start"].to_numpy(),
                       "end": bins["end"].to_numpy(), "log2": bins["log2"].to_numpy(dtype=float)})
    df = df[df["segment"] >= 0]
    g = df.groupby("segment", sort=True)
    if sigma is None:
        return g.agg(chrom=("chrom", "first"), start=("start", "min"), end=("end", "max"),
                     n_bins=("log2", lambda v: int(np.isfinite(v).sum())), log2=("log2", "mean")).reset_index()
    out = g.agg(chrom=("chrom", "first"), start=("start", "min"), end=("end", "max"),
                n_bins=("log2", lambda v: int(np.isfinite(v).sum()))).reset_index()
    ok = np.isfinite(df["log2"].to_numpy())
    _, level = clipped_means(df["log2"].to_numpy()[ok], df["segment"].to_numpy()[ok], sigma)
    out["log2"] = level.reindex(out["segment"]).to_numpy()
    return out


CLIP_SIGMAS = 5.0  # bins this many bin-noise MADs from their group's median are left out of its mean (as the outlier
# rule's OUTLIER_SIGMAS)


def clipped_means(x: np.ndarray, group: np.ndarray, sigma: float) -> tuple[pd.Series, pd.Series]:
    """Per group (segment, arm): the number of its values within CLIP_SIGMAS bin-noise MADs of the group's median,
    and their mean. Gaussian bins are practically never clipped (full efficiency, unlike a trimmed mean); outlier
    bins the usable mask let through are, such as half-empty 1 Mb bins (1% of 500 kb bins without reads, about
    -1 log2, within OUTLIER_LOG2 of their neighbours): each had moved a 50-bin arm's mean by -0.02, what a tumour
    at 0.03 moves it. Groups of fewer than 3 values keep them all (the median of two is their mean).
    For the arm-pattern test's arm means, a plain mean had let those bins through (healthy T sd 1.23 instead of
    ~0.66, 7 of 32 healthy samples called; report seeds, 1 Mb) and a 10% trimmed mean cost 5 of 41 TF 0.05
    detections; chosen on seeds 30 000+ (96 healthy samples, 500 kb and 1 Mb, clean and 1% empty): plain 3/96
    called, clipped at 5 or 4 MADs or trimmed 10% 0/96."""
    df = pd.DataFrame({"x": x, "group": group})
    if np.isfinite(sigma):
        g = df.groupby("group")["x"]
        keep = (np.abs(x - g.transform("median").to_numpy()) <= CLIP_SIGMAS * sigma) | (g.transform("size").to_numpy() < 3)
        df = df[keep]
    g = df.groupby("group")["x"]
    return g.count().astype(float), g.mean()
