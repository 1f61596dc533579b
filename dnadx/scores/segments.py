"""DNADX segment scores from a sample's copy-number bins (Xia et al., Nat Commun 2019).

Gene level: a gene's log2 ratio is the ``segment_log2`` of the segmented usable bins it
overlaps (mean over them if it spans a breakpoint). A gene that overlaps no usable bin
(e.g. it lies in a dropped low-mappability bin) takes the value of the segment that
encloses it when the usable bins on both sides belong to that same segment, and is flagged
``no_usable_bin``; a gene between two different segments or outside every segment has no
value (``no_segment``), as has a gene on a chromosome the copy-number stage did not
analyse (``chrom_not_analysed``).

Segment level: the score is the mean gene-level log2 over the segment's Entrez genes that
have a value. Entrez ids of the DNADX gene sets without a coordinate in the build (125 on
GRCh38: 109 discontinued ids and 16 without a primary-assembly locus; 501 on GRCh37) can
never have a value: they count in ``n_genes`` but not in ``n_genes_used``. Genes that
the GMT places in a segment of another chromosome (129 pairs, e.g. PTEN in the 9p set) are
kept, as DNADX averaged every listed gene; their values come from their own locus.

Tumour-fraction adjustment (purity correction per gene, then the mean)::

    adj = log2(max((2^obs - 1) / f + 1, ADJUST_EPS))

which inverts obs = log2((2(1 - f) + f c) / 2) for a diploid-centred profile, giving the
tumour's own log2(c / 2); the segment mean is then clipped to the TCGA training range.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Floor of the purity-corrected ratio c/2 (log2 -3 ~ 0.25 copies): a noisy bin at low tumour
# fraction can make (2^obs - 1)/f + 1 <= 0, which has no logarithm.
ADJUST_EPS = 2.0 ** -3
# Below this tumour fraction the 1/f noise amplification makes adjusted scores meaningless
# (the same limit as the ERBB2 call, dnadx/scores/erbb2.py).
MIN_TF_ADJUST = 0.05
# Columns of `<id>.genes.tsv.gz` and `<id>.dnadx.tsv`.
GENE_COLUMNS = ("entrez_id", "symbol", "chrom", "start", "end", "log2", "usable_bins", "flag")
SCORE_COLUMNS = ("segment_index", "segment_id", "n_genes", "n_genes_mapped", "n_genes_used",
                 "score_raw", "score_adjusted")


def gene_log2(bins: pd.DataFrame, genes: pd.DataFrame) -> pd.DataFrame:
    """Gene-level log2 ratio from segmented bins (rules in the module docstring).

    Parameters
    ----------
    bins : analysis bins with chrom, start, end, usable (0/1), segment, segment_log2.
    genes : reference genes with entrez_id, symbol, chrom, start, end.

    Returns
    -------
    DataFrame with GENE_COLUMNS, in the order of ``genes``.
    """
    out = genes[["entrez_id", "symbol", "chrom", "start", "end"]].copy().reset_index(drop=True)
    log2 = np.full(len(out), np.nan)
    nbins = np.zeros(len(out), dtype=np.int64)
    flag = np.full(len(out), "chrom_not_analysed", dtype=object)
    for chrom, idx in out.groupby("chrom", sort=False).groups.items():
        b = bins[bins["chrom"] == chrom].sort_values("start")
        if b.empty:
            continue
        idx = np.asarray(idx)
        v, n, f = _chrom_genes(b, out.loc[idx, "start"].to_numpy(), out.loc[idx, "end"].to_numpy())
        log2[idx], nbins[idx], flag[idx] = v, n, f
    out["log2"] = log2
    out["usable_bins"] = nbins
    out["flag"] = flag
    return out


def _chrom_genes(b: pd.DataFrame, gs: np.ndarray, ge: np.ndarray):
    starts, ends = b["start"].to_numpy(), b["end"].to_numpy()
    usable = b["usable"].to_numpy().astype(bool) & np.isfinite(b["segment_log2"].to_numpy(dtype=float))
    seg_val = b["segment_log2"].to_numpy(dtype=float)
    seg_id = b["segment"].to_numpy()
    cum = np.concatenate([[0], np.cumsum(usable)])
    cum_val = np.concatenate([[0.0], np.cumsum(np.where(usable, seg_val, 0.0))])
    first = np.searchsorted(ends, gs, side="right")  # first bin ending after the gene start
    last = np.searchsorted(starts, ge, side="left")  # one past the last bin starting before the end
    n = cum[last] - cum[first]
    val = np.where(n > 0, (cum_val[last] - cum_val[first]) / np.maximum(n, 1), np.nan)
    flag = np.where(n > 0, "", "no_segment").astype(object)
    # Enclosing segment for genes without a usable bin: nearest usable bin on each side.
    uidx = np.flatnonzero(usable)
    for k in np.flatnonzero(n == 0):
        pos = np.searchsorted(uidx, first[k])
        if 0 < pos < len(uidx) and seg_id[uidx[pos - 1]] == seg_id[uidx[pos]]:
            val[k] = seg_val[uidx[pos]]
            flag[k] = "no_usable_bin"
    return val, n, flag


def adjust_for_tumour_fraction(log2: np.ndarray, tumour_fraction: float) -> np.ndarray:
    """Purity-corrected log2: log2(max((2^obs - 1) / f + 1, ADJUST_EPS)); NaN stays NaN."""
    ratio = (np.exp2(np.asarray(log2, dtype=float)) - 1.0) / tumour_fraction + 1.0
    return np.log2(np.maximum(ratio, ADJUST_EPS))


def segment_scores(genes: pd.DataFrame, segment_genes: pd.DataFrame, *, tumour_fraction: float | None,
                   ranges: pd.DataFrame | None = None) -> pd.DataFrame:
    """The 536 DNADX segment scores of one sample, raw and tumour-fraction-adjusted.

    Parameters
    ----------
    genes : output of :func:`gene_log2` (entrez_id, log2).
    segment_genes : reference gene sets (segment_index, segment_id, entrez_id).
    tumour_fraction : estimated tumour fraction f; adjusted scores are NaN when it is
        missing or below MIN_TF_ADJUST.
    ranges : optional (segment_id, tcga_min, tcga_max) clip range of the adjusted scores.

    Returns
    -------
    DataFrame with SCORE_COLUMNS, one row per segment in GMT order.
    """
    vals = genes.drop_duplicates("entrez_id").set_index("entrez_id")["log2"]
    sg = segment_genes[["segment_index", "segment_id", "entrez_id"]].copy()
    sg["mapped"] = sg["entrez_id"].isin(vals.index)
    sg["log2"] = sg["entrez_id"].map(vals).astype(float)
    ok = tumour_fraction is not None and np.isfinite(tumour_fraction) and tumour_fraction >= MIN_TF_ADJUST
    sg["adj"] = adjust_for_tumour_fraction(sg["log2"], tumour_fraction) if ok else np.nan
    g = sg.groupby("segment_index", sort=True)
    out = pd.DataFrame({
        "segment_id": g["segment_id"].first(),
        "n_genes": g.size(),
        "n_genes_mapped": g["mapped"].sum().astype(np.int64),
        "n_genes_used": g["log2"].count(),
        "score_raw": g["log2"].mean(),
        "score_adjusted": g["adj"].mean(),
    }).reset_index()
    if ranges is not None:
        r = ranges.set_index("segment_id").reindex(out["segment_id"])
        out["score_adjusted"] = np.clip(out["score_adjusted"].to_numpy(), r["tcga_min"].to_numpy(), r["tcga_max"].to_numpy())
    return out[list(SCORE_COLUMNS)]
