"""Figures of the HTML report (PNG bytes; deterministic: no timestamps in the files)."""

from __future__ import annotations

import io as _io
import math

import numpy as np
import pandas as pd

QC_COLOURS = {"pass": "#2f855a", "warn": "#d69e2e", "fail": "#c53030"}
CALL_COLOURS = {"amplified": "#7b1010", "gain": "#c53030", "neutral": "#718096", "loss": "#2b6cb0",
                "not_assessable": "#cbd5e0"}
ZOOM_HALF_WIDTH = 12_000_000  # bp either side of ERBB2 in the locus zoom


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _png(fig) -> bytes:
    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, metadata={"Software": None})
    _plt().close(fig)
    return buf.getvalue()


def _num(x) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v


def tumour_fraction_overview(summary: pd.DataFrame) -> bytes:
    """Tumour fraction with its 95% interval per sample, coloured by QC status."""
    plt = _plt()
    n = len(summary)
    fig, ax = plt.subplots(figsize=(8, 0.6 + 0.32 * max(n, 2)))
    y = np.arange(n)[::-1]
    for yi, r in zip(y, summary.to_dict("records")):
        tf, lo, hi = _num(r["tumor_fraction"]), _num(r["tumor_fraction_low"]), _num(r["tumor_fraction_high"])
        colour = QC_COLOURS.get(r.get("qc_status"), "#a0aec0")
        if math.isfinite(tf):
            err = [[max(tf - lo, 0) if math.isfinite(lo) else 0], [max(hi - tf, 0) if math.isfinite(hi) else 0]]
            ax.errorbar([tf], [yi], xerr=err, fmt="o" if r.get("type") != "normal" else "s", color=colour, capsize=3)
        else:
            ax.text(0.005, yi, "no estimate", va="center", fontsize=8, color="#718096")
    ax.axvline(0.05, color="#a0aec0", ls="--", lw=0.8)
    ax.text(0.05, n - 0.4, " 0.05: limit for ERBB2/DNADX calls", fontsize=7, color="#718096", va="bottom")
    ax.set_yticks(y)
    ax.set_yticklabels(summary["sample"].astype(str).tolist(), fontsize=8)
    hi_all = pd.to_numeric(summary["tumor_fraction_high"], errors="coerce").max()
    ax.set_xlim(0, max(0.2, (hi_all if np.isfinite(hi_all) else 0) * 1.15))
    ax.set_ylim(-0.7, n - 0.3 + 0.4)
    ax.set_xlabel("tumour fraction (point, 95% interval); colour = QC (green pass, amber warn, red fail)")
    fig.tight_layout()
    return _png(fig)


def patient_timeline(patient: str, states: list[dict], transitions: pd.DataFrame) -> bytes:
    """Tumour fraction (with interval) and ERBB2-amplicon score (or copy number) over timepoints."""
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.2))
    x = np.arange(len(states))
    labels = [f"{s['timepoint'] or '?'}\n{s['sample']}" for s in states]
    for xi, s in zip(x, states):
        tf, lo, hi = _num(s["tumor_fraction"]), _num(s["tf_low"]), _num(s["tf_high"])
        if math.isfinite(tf):
            err = [[max(tf - lo, 0) if math.isfinite(lo) else 0], [max(hi - tf, 0) if math.isfinite(hi) else 0]]
            a1.errorbar([xi], [tf], yerr=err, fmt="o", color="#2d3748", capsize=4)
    a1.plot(x, [_num(s["tumor_fraction"]) for s in states], color="#2d3748", lw=0.8, alpha=0.6)
    a1.axhline(0.05, color="#a0aec0", ls="--", lw=0.8)
    a1.set_ylabel("tumour fraction")
    a1.set_ylim(bottom=0)
    use_score = any(math.isfinite(_num(s.get("amplicon_score"))) for s in states)
    key, ylabel = ("amplicon_score", "ERBB2-amplicon score (adjusted log2)") if use_score else \
        ("erbb2_copy_number", "ERBB2 tumour copy number (score not run)")
    vals = [_num(s.get(key)) for s in states]
    a2.plot(x, vals, color="#a0aec0", lw=0.8)
    for xi, v, s in zip(x, vals, states):
        if math.isfinite(v):
            a2.scatter([xi], [v], s=60, color=CALL_COLOURS.get(s["call"], "#a0aec0"), zorder=3,
                       edgecolors="black" if s["call"] == "not_assessable" else "none")
        if math.isfinite(v):
            a2.annotate(s["call"].replace("_", " "), (xi, v), textcoords="offset points", xytext=(0, 8), ha="center",
                        fontsize=7)
        else:  # no value (e.g. not assessable): label at the bottom of the axis instead of a point
            a2.annotate(s["call"].replace("_", " ") + "\n(no value)", (xi, 0.04), xycoords=("data", "axes fraction"),
                        ha="center", fontsize=7, color="#718096")
    flagged = transitions[(transitions["patient"] == patient) & transitions["flagged"].astype(bool)]
    idx = {s["sample"]: i for i, s in enumerate(states)}
    for r in flagged.to_dict("records"):
        a2.axvspan(idx[r["from_sample"]], idx[r["to_sample"]], color="#feb2b2", alpha=0.35, zorder=0)
    a2.set_ylabel(ylabel, fontsize=8)
    for ax in (a1, a2):
        ax.set_xticks(x)
        ax.set_xticklabels(labels, fontsize=7)
        ax.set_xlim(-0.5, len(states) - 0.5)
    fig.suptitle(f"patient {patient}: flagged changes shaded", fontsize=9)
    fig.tight_layout()
    return _png(fig)


def erbb2_zoom(bins: pd.DataFrame, cnv: dict) -> bytes | None:
    """chr17 around ERBB2: bins, segments, and the log2 expected for 3/6/10 copies at this tumour fraction.

    Expected log2 for tumour copy c at tumour fraction p and ploidy phi:
    log2((2(1-p) + p c) / (2(1-p) + p phi)).
    """
    g = (cnv.get("genes_of_interest") or {}).get("ERBB2")
    if not g or not {"chrom", "start", "end", "log2", "usable"} <= set(bins.columns):
        return None
    plt = _plt()
    lo_bp, hi_bp = g["start"] - ZOOM_HALF_WIDTH, g["end"] + ZOOM_HALF_WIDTH
    z = bins[(bins["chrom"] == g["chrom"]) & (bins["end"] > lo_bp) & (bins["start"] < hi_bp)]
    fig, ax = plt.subplots(figsize=(7, 2.8))
    ok = z[z["usable"] == 1]
    ax.scatter((ok["start"] + ok["end"]) / 2e6, ok["log2"], s=10, color="#4a5568", linewidths=0)
    if "segment_log2" in z:
        for _, s in z.dropna(subset=["segment_log2"]).groupby("segment"):
            ax.plot([s["start"].min() / 1e6, s["end"].max() / 1e6], [s["segment_log2"].iloc[0]] * 2, color="black", lw=1.6)
    ax.axvspan(g["start"] / 1e6, g["end"] / 1e6, color="#dd6b20", alpha=0.3)
    ax.text(g["start"] / 1e6, 0.98, " ERBB2", transform=ax.get_xaxis_transform(), color="#dd6b20", fontsize=8, va="top")
    p, phi = _num(cnv.get("tumor_fraction")), _num(cnv.get("ploidy")) if cnv.get("ploidy") else 2.0
    if math.isfinite(p) and p > 0:
        for c, style in ((3, ":"), (6, "--"), (10, "-.")):
            e = math.log2((2 * (1 - p) + p * c) / (2 * (1 - p) + p * phi))
            ax.axhline(e, color="#c53030", ls=style, lw=0.8)
            ax.text(hi_bp / 1e6, e, f" {c} copies", fontsize=7, color="#c53030", va="center")
    ax.axhline(0, color="#a0aec0", lw=0.6)
    ax.set_xlim(lo_bp / 1e6, hi_bp / 1e6)
    ax.set_ylim(-1.5, 2.5)
    ax.set_xlabel(f"{g['chrom']} position (Mb)")
    ax.set_ylabel("log2 ratio")
    ax.set_title(f"ERBB2 locus; red lines: expected log2 at tumour fraction {p:.3f}" if math.isfinite(p)
                 else "ERBB2 locus", fontsize=9)
    fig.tight_layout()
    return _png(fig)
