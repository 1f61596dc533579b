"""`<id>.cnv.png`: genome-wide log2 ratios with segments and the ERBB2 locus; chr17 zoom."""

from __future__ import annotations

import io as _io

import numpy as np
import pandas as pd

from dnadx.cnv import tumour_fraction

COLOURS = {"loss": "#2b6cb0", "neutral": "#9e9e9e", "gain": "#c53030", "amp": "#7b1010", "na": "#d0d0d0"}


def baseline_copy(summary: dict) -> int:
    """The sample's own baseline copy state: the nearest integer to the tumour ploidy (2 without a
    tumour). Gains and losses are coloured against it (at ploidy 2.8 a copy-3 segment is the baseline,
    not a gain; the MBC example was drawn almost all as loss against 2)."""
    if not summary.get("tumor_fraction"):
        return 2
    return tumour_fraction.baseline_copy(summary.get("ploidy"))


def _state_colour(cn: np.ndarray, normal: np.ndarray) -> list[str]:
    """Colour per bin: loss / neutral / gain / amplified against the baseline ``normal`` (per bin)."""
    out = []
    for c, n in zip(cn, normal):
        if c < 0:
            out.append(COLOURS["na"])
        elif c < n:
            out.append(COLOURS["loss"])
        elif c == n:
            out.append(COLOURS["neutral"])
        elif c >= 2 * n + 2:
            out.append(COLOURS["amp"])
        else:
            out.append(COLOURS["gain"])
    return out


def _segment_lines(bins: pd.DataFrame, offsets: dict, *, scale: float = 1.0) -> list:
    """One horizontal line per segment, [(x0, y), (x1, y)] at its mean log2 (x: start + chromosome offset)."""
    seg = bins.dropna(subset=["segment_log2"]).groupby("segment", sort=True).agg(
        chrom=("chrom", "first"), start=("start", "min"), end=("end", "max"), y=("segment_log2", "first"))
    o = seg["chrom"].map(offsets).to_numpy(float)
    x0, x1, y = (seg["start"].to_numpy() + o) / scale, (seg["end"].to_numpy() + o) / scale, seg["y"].to_numpy(float)
    return [[(a, v), (b, v)] for a, b, v in zip(x0, x1, y)]


def plot_cnv(bins: pd.DataFrame, summary: dict, *, erbb2: tuple[str, int, int] | None = None) -> bytes:
    """Render the copy-number figure and return PNG bytes (deterministic: no timestamps)."""
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure  # not pyplot: no global state, and ~0.4 s less to import

    b = bins[bins["usable"] == 1]
    chroms = list(pd.unique(bins["chrom"]))
    sizes = bins.groupby("chrom", sort=False)["end"].max()
    offsets = dict(zip(chroms, np.concatenate([[0], np.cumsum(sizes[chroms].to_numpy())[:-1]])))
    base = baseline_copy(summary)
    male_xy = b["chrom"].isin(["chrX", "chrY"]).to_numpy() & (summary.get("sex") == "male")
    normal = np.where(male_xy, max(1, base // 2), base)
    colours = _state_colour(b["copy_number"].to_numpy(), normal)
    fig = Figure(figsize=(14, 7))
    # a fixed layout: tight_layout draws the whole figure once more to measure it (~0.1 s per sample)
    ax, az = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 2], "left": 0.05, "right": 0.99, "top": 0.95,
                                             "bottom": 0.07, "hspace": 0.22})
    x = b["start"].to_numpy() + b["chrom"].map(offsets).to_numpy()
    ax.scatter(x, b["log2"], s=3, c=colours, linewidths=0, rasterized=True)
    ax.add_collection(LineCollection(_segment_lines(bins, offsets), colors="black", linewidths=1.2))
    for c in chroms:
        ax.axvline(offsets[c], color="#e0e0e0", lw=0.6, zorder=0)
    ax.set_xticks([offsets[c] + sizes[c] / 2 for c in chroms])
    ax.set_xticklabels([c.replace("chr", "") for c in chroms], fontsize=7)
    ax.set_xlim(0, offsets[chroms[-1]] + sizes[chroms[-1]])
    ax.set_ylim(-2.5, 2.5)
    ax.set_ylabel("log2 ratio")
    p, phi = float(summary.get("tumor_fraction") or 0.0), float(summary.get("ploidy") or 2.0)
    level = float(np.log2(((1 - p) * 2 + p * base) / (2 * (1 - p) + p * phi))) if p > 0 else 0.0
    for axis in (ax, az):
        axis.axhline(level, color="#2f855a", lw=0.9, ls=":", zorder=1)
    ax.text(0.002, 0.97, f"baseline: copy number {base} (log2 {level:+.2f}); colours against it",
            transform=ax.transAxes, fontsize=8, color="#2f855a", va="top")
    lo, hi = summary["tumor_fraction_ci"]
    amb = " (ploidy ambiguous: see cnv.json ploidy_alternatives)" if summary.get("ploidy_ambiguous") else ""
    ax.set_title(f"{summary['sample']}: tumour fraction {summary['tumor_fraction']:.3f} [{lo:.3f}, {hi:.3f}], "
                 f"ploidy {summary['ploidy']:.2f}{amb}, sex {summary['sex']}, noise {summary['noise_mad']:.3f}")
    z = bins[(bins["chrom"] == "chr17") & (bins["usable"] == 1)]
    az.scatter(z["start"] / 1e6, z["log2"], s=8, c=_state_colour(z["copy_number"].to_numpy(), np.full(len(z), base)),
               linewidths=0)
    az.add_collection(LineCollection(_segment_lines(bins[bins["chrom"] == "chr17"], {"chr17": 0}, scale=1e6),
                                     colors="black", linewidths=1.5))
    if erbb2:
        _, s, e = erbb2
        for axis, pos in ((ax, offsets.get("chr17", 0) + s), (az, s / 1e6)):
            axis.axvline(pos, color="#dd6b20", lw=1, ls="--")
        az.text(s / 1e6, 2.2, " ERBB2", color="#dd6b20", fontsize=9, va="top")
    az.set_xlabel("chr17 position (Mb)")
    az.set_ylabel("log2 ratio")
    az.set_ylim(-2.5, 2.5)
    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, metadata={"Software": None})
    return buf.getvalue()
