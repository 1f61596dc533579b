"""Simulated DNADX segment-score tables from known copy-number profiles (tests, benchmarks).

Until the BAM -> cnv -> score chain is available end to end, the clustering and group
models are checked on segment scores computed directly from the simulator's tumour
profiles (`dnadx/sim/profiles.py`), the bundle's gene coordinates and the DNADX gene sets:

1. tumour copy number ``c_g`` of every segment gene from the profile events;
2. expected plasma log2 at tumour fraction ``p`` and tumour ploidy ``phi`` (cnv contract)
   ``l_g = log2((2(1-p) + p c_g) / (2(1-p) + p phi))``;
3. noise as a segmenter leaves it: every constant-copy region gets one shared offset
   ``N(0, sd_bin / sqrt(n_bins))`` (the segment mean of ``n_bins`` analysis bins), plus
   a few spurious short segments (over-segmentation) with offset ``N(0, sd_spurious)``;
4. ``score_raw`` = mean gene log2 over the segment's mapped genes (Xia et al. 2019);
   ``score_adjusted`` as `dnadx score` computes it: each gene's purity-adjusted log2
   ``log2(max((2^l - 1)/p + 1, 2^-3))``, averaged over the segment, clipped to the TCGA range.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dnadx.groups.model import ADJUSTED_RANGE

# Floor of the purity-corrected copy ratio c/2 in `dnadx score` (log2 -3, about 0.25 copies).
_ADJUST_EPS = 2.0 ** -3
# Analysis bin of the cnv stage; sets how many bins average into a region's segment mean.
_BIN = 500_000


def segment_gene_positions(segment_genes: pd.DataFrame, genes: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """Join DNADX segment genes to gene coordinates: segment_index, segment_id, chrom, pos.

    Genes without coordinates in the build are dropped (they contribute to no score, as in
    `dnadx score`); ``segment_id`` is taken from the bundle's `segments.tsv`.
    """
    g = genes.drop_duplicates("entrez_id")[["entrez_id", "chrom", "start", "end"]]
    df = segment_genes[["segment_index", "entrez_id"]].merge(g, on="entrez_id", how="inner")
    df["pos"] = (df["start"] + df["end"]) // 2
    ids = segments.set_index("segment_index")["segment_id"]
    df["segment_id"] = ids.reindex(df["segment_index"]).to_numpy()
    n_all = segment_genes.groupby("segment_index").size()
    df["n_genes"] = n_all.reindex(df["segment_index"]).to_numpy()
    return df[["segment_index", "segment_id", "n_genes", "entrez_id", "chrom", "pos"]].reset_index(drop=True)


def tumour_copy(gene_pos: pd.DataFrame, events: list[dict]) -> np.ndarray:
    """Tumour copy number per gene row (2 unless an event covers it; later events win)."""
    cn = np.full(len(gene_pos), 2, dtype=float)
    chrom, pos = gene_pos["chrom"].to_numpy(), gene_pos["pos"].to_numpy()
    for ev in events:
        m = (chrom == ev["chrom"]) & (pos >= ev["start"]) & (pos < ev["end"])
        cn[m] = ev["copy"]
    return cn


def simulate_segment_scores(gene_pos: pd.DataFrame, events: list[dict], tumour_fraction: float, *,
                            rng: np.random.Generator, sd_bin: float = 0.12, n_spurious: int = 15,
                            sd_spurious: float = 0.04) -> pd.DataFrame:
    """One `<id>.dnadx.tsv`-shaped table for a profile at a tumour fraction (see module doc).

    Parameters
    ----------
    gene_pos : from :func:`segment_gene_positions` (one row per segment x gene).
    events : resolved profile events (BED intervals with ``copy``).
    tumour_fraction : p in [0, 1].
    sd_bin : log2 sd of one 500 kb bin (about 0.1-0.15 at 0.1x coverage).
    n_spurious, sd_spurious : number and log2 sd of spurious short segments.
    """
    p = float(tumour_fraction)
    genes = gene_pos.drop_duplicates("entrez_id").reset_index(drop=True)
    cn = tumour_copy(genes, events)
    phi = float(np.mean(cn))
    log2 = np.log2((2 * (1 - p) + p * cn) / (2 * (1 - p) + p * phi))
    # Constant-copy regions: runs of equal copy number along each chromosome.
    order = np.lexsort((genes["pos"].to_numpy(), genes["chrom"].to_numpy()))
    chrom_o, cn_o, pos_o = genes["chrom"].to_numpy()[order], cn[order], genes["pos"].to_numpy()[order]
    new = np.r_[True, (chrom_o[1:] != chrom_o[:-1]) | (cn_o[1:] != cn_o[:-1])]
    region = np.cumsum(new) - 1
    noise = np.zeros(len(genes))
    for r in np.unique(region):
        m = region == r
        n_bins = max(1.0, (pos_o[m].max() - pos_o[m].min()) / _BIN)
        noise[order[m]] = rng.normal(0.0, sd_bin / np.sqrt(n_bins))
    # Over-segmentation: short stretches (1-5 Mb) that a segmenter split off with their own mean.
    chroms = np.unique(chrom_o)
    for _ in range(n_spurious):
        c = rng.choice(chroms)
        in_c = genes["chrom"].to_numpy() == c
        centre = rng.choice(genes["pos"].to_numpy()[in_c])
        half = rng.uniform(0.5e6, 2.5e6)
        m = in_c & (np.abs(genes["pos"].to_numpy() - centre) < half)
        noise[m] += rng.normal(0.0, sd_spurious)
    value = pd.Series(log2 + noise, index=genes["entrez_id"].to_numpy())
    per_row = gene_pos.assign(log2=value.reindex(gene_pos["entrez_id"]).to_numpy())
    per_row["adj"] = np.log2(np.maximum((np.exp2(per_row["log2"]) - 1.0) / p + 1.0, _ADJUST_EPS))
    keys = ["segment_index", "segment_id", "n_genes"]
    agg = per_row.groupby(keys, sort=True)["log2"].agg(["mean", "size"]).reset_index()
    agg["adj"] = per_row.groupby(keys, sort=True)["adj"].mean().to_numpy()
    out = pd.DataFrame({
        "segment_index": agg["segment_index"].astype(int),
        "segment_id": agg["segment_id"],
        "n_genes": agg["n_genes"].astype(int),
        "n_genes_used": agg["size"].astype(int),
        "score_raw": agg["mean"],
    })
    out["score_adjusted"] = np.clip(agg["adj"].to_numpy(), *ADJUSTED_RANGE)
    return out


def simulated_batch(design: list[tuple[str, float]], *, seed: int, genome: str = "GRCh38",
                    **noise) -> dict[str, tuple[pd.DataFrame, str, float]]:
    """Segment-score tables for ``design`` = [(profile, tumour fraction), ...].

    Returns ``{sample: (table, profile, tumour_fraction)}`` with samples named
    ``<profile>_tf<percent>_<n>``; one generator seeded with ``seed`` (deterministic).
    """
    from dnadx.sim import profiles
    from dnadx.core import reference

    gene_pos = segment_gene_positions(reference.segment_genes(), reference.genes(genome), reference.segments())
    arms, genes = reference.arms(genome), reference.genes(genome)
    rng = np.random.default_rng(seed)
    out = {}
    for n, (prof, tf) in enumerate(design):
        events = profiles.resolve_events(profiles.get_profile(prof), arms=arms, genes=genes)
        out[f"{prof}_tf{round(tf * 100):02d}_{n}"] = (simulate_segment_scores(gene_pos, events, tf, rng=rng, **noise),
                                                      prof, tf)
    return out
