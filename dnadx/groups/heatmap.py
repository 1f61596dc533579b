"""`cohort.heatmap.png`: samples x most variable segments, annotated (matplotlib, imported lazily)."""

from __future__ import annotations

import io as _bytes_io

import numpy as np
import pandas as pd

# Segments shown: enough for the arm-level pattern plus the main focal amplicons.
N_SEGMENTS = 60
# Colour limits of adjusted log2 (tumour-only): a single-copy change is about +-0.6-1.
LIMIT = 2.0
_CALL_CODES = {"amplified": 2, "gain": 1, "neutral": 0, "loss": -1}


def _short(segment_id: str) -> str:
    # `chr17:35067383-35272328.BeroukhimS2.17q12.amp.ERBB2` -> `17q12.amp.ERBB2`
    parts = segment_id.split(".")
    if "wholearm" in segment_id:
        return f"{parts[0]}{parts[1]} arm"
    return ".".join(p for p in parts[2:] if p) or parts[0]


def heatmap_png(adjusted: pd.DataFrame, table: pd.DataFrame, *, n_segments: int = N_SEGMENTS) -> bytes:
    """PNG bytes of the annotated heatmap.

    Parameters
    ----------
    adjusted : samples x segments (adjusted scores), rows in ``table['sample']`` order.
    table : per-sample ``sample, group, cluster, tumor_fraction, erbb2_call``.
    n_segments : most variable segments shown (genome order).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    order = table.assign(_c=table["cluster"].fillna(0)).sort_values(["_c", "group", "sample"], kind="stable")
    x = adjusted.loc[order["sample"]]
    var = np.nan_to_num(x.var(axis=0, ddof=0).to_numpy())
    cols = np.sort(np.argsort(-var, kind="stable")[:min(n_segments, x.shape[1])])
    x = x.iloc[:, cols]
    n = len(order)
    fig = plt.figure(figsize=(4 + 0.16 * x.shape[1], 2.5 + 0.25 * n), dpi=100)
    grid = fig.add_gridspec(1, 5, width_ratios=[0.6, 0.6, 0.6, 0.6, max(4.0, 0.16 * x.shape[1])], wspace=0.05)
    groups = sorted(order["group"].astype(str).unique())
    annots = [("group", [groups.index(g) for g in order["group"].astype(str)], "tab10", groups),
              ("cluster", order["cluster"].fillna(0).astype(int).tolist(), "Set2", None),
              ("tumour\nfraction", order["tumor_fraction"].astype(float).tolist(), "Greys", None),
              ("ERBB2\ncall", [_CALL_CODES.get(str(c), np.nan) for c in order["erbb2_call"]], "PuOr_r", None)]
    for i, (name, vals, cmap, _) in enumerate(annots):
        ax = fig.add_subplot(grid[0, i])
        v = np.asarray(vals, dtype=float)[:, None]
        lim = {"tumour\nfraction": (0, 1), "ERBB2\ncall": (-2, 2)}.get(name)
        ax.imshow(np.ma.masked_invalid(v), aspect="auto", cmap=cmap, interpolation="nearest",
                  vmin=lim[0] if lim else None, vmax=lim[1] if lim else None)
        ax.set_xticks([0])
        ax.set_xticklabels([name], rotation=90, fontsize=7)
        ax.set_yticks(range(n))
        ax.set_yticklabels([f"{s}  {g}" for s, g in zip(order["sample"], order["group"])] if i == 0 else [],
                           fontsize=7)
        if i == 1:
            for r, c in enumerate(vals):
                ax.text(0, r, str(c) if c else "-", ha="center", va="center", fontsize=6)
        if i == 3:
            for r, c in enumerate(order["erbb2_call"]):
                ax.text(0, r, str(c)[:4], ha="center", va="center", fontsize=5)
    ax = fig.add_subplot(grid[0, 4])
    im = ax.imshow(np.clip(x.to_numpy(float), -LIMIT, LIMIT), aspect="auto", cmap="RdBu_r", vmin=-LIMIT, vmax=LIMIT,
                   interpolation="nearest")
    ax.set_yticks([])
    ax.set_xticks(range(x.shape[1]))
    ax.set_xticklabels([_short(s) for s in x.columns], rotation=90, fontsize=6)
    ax.set_title(f"adjusted segment scores (tumour log2), {x.shape[1]} most variable segments", fontsize=8)
    fig.colorbar(im, ax=ax, fraction=0.02, pad=0.01)
    buf = _bytes_io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()
