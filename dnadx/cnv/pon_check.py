"""Leave-one-out self-check of a panel of normals: each normal called against a panel of the others.

A healthy donor's plasma should come out without tumour. A normal whose tumour-fraction interval
excludes 0 against the other normals is either not healthy (clonal haematopoiesis with copy-number
changes, an undiagnosed tumour, a sample swap) or carries an artefact the others lack; either way it
should not centre everyone else's data. `checked_panel` therefore leaves such normals out of the panel,
one at a time, worst first (the largest lower bound), re-checking the rest against a panel without it,
until no normal is flagged or MIN_NORMALS remain: a tumour among the normals also shifts the panel its
healthy neighbours are checked against, so a second flag may be the first one's echo. An excluded normal
keeps its column in the normals matrix (`pon.exclude`) and its row in the check, called against the final
panel. Reported by `dnadx pon` (PREFIX.pon-loo.tsv, PREFIX.pon.json) and in the report; `dnadx run`
takes each normal's own row from this leave-one-out call.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dnadx.cnv.call import run_cnv
from dnadx.cnv.pon import MIN_NORMALS, build_pon, exclude, panel_from_matrix

COLUMNS = ["normal", "tumor_fraction", "tumor_fraction_low", "tumor_fraction_high", "ploidy",
           "largest_altered_segment", "largest_altered_mb", "flag", "in_panel"]


def _call(name: str, bins: pd.DataFrame, matrix: pd.DataFrame, **kw) -> dict:
    """One normal's row: its copy-number call against the panel of ``matrix`` without it."""
    pon, _ = panel_from_matrix(matrix, bins, protect=kw["protect"], leave_out=name, arms=kw["arms"])
    res = run_cnv(bins, pon=pon, loci=kw["loci"], arms=kw["arms"], arm_patterns=kw["arm_patterns"], sample=name)
    s, segs = res.summary, res.segments
    alt = segs[(segs["copy_number"] >= 0) & (segs["copy_number"] != segs["normal_copy"])]
    if len(alt):
        big = alt.loc[(alt["end"] - alt["start"]).idxmax()]
        where = f"{big['chrom']}:{int(big['start'])}-{int(big['end'])} CN {int(big['copy_number'])} " \
                f"(log2 {big['log2']:+.3f})"
        mb = float((big["end"] - big["start"]) / 1e6)
    else:
        where, mb = "", 0.0
    lo, hi = s["tumor_fraction_ci"]
    return {"normal": name, "tumor_fraction": s["tumor_fraction"], "tumor_fraction_low": lo,
            "tumor_fraction_high": hi, "ploidy": s["ploidy"], "largest_altered_segment": where,
            "largest_altered_mb": round(mb, 3), "flag": "tumour_signal" if lo > 0 else ""}


def leave_one_out(normals: dict[str, pd.DataFrame], matrix: pd.DataFrame, *, loci=None, arms=None,
                  arm_patterns=None, protect=None, progress=None, exclude_flagged: bool = True
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per normal (COLUMNS): its copy-number call against the panel of the other normals. ``flag`` is
    ``tumour_signal`` where the interval excludes 0, else empty; ``in_panel`` is False for a normal left out of
    the panel (``exclude_flagged``: see the module), whose row is its call against the final panel. Returns the
    rows and ``matrix`` with the excluded normals marked (`pon.exclude`)."""
    kw = {"loci": loci, "arms": arms, "arm_patterns": arm_patterns, "protect": protect}
    members, excluded, rows = sorted(normals), [], {}
    todo = list(members)
    while True:
        current = exclude(matrix, excluded)
        for name in todo:
            rows[name] = _call(name, normals[name], current, **kw)
            if progress is not None:
                progress(name)
        flagged = [n for n in members if rows[n]["flag"]]
        if not (exclude_flagged and flagged and len(members) > MIN_NORMALS):
            break
        worst = max(flagged, key=lambda n: (rows[n]["tumor_fraction_low"], rows[n]["tumor_fraction"], n))
        members.remove(worst)
        excluded.append(worst)
        todo = list(members)  # the others against a panel without it
    for name in excluded:
        rows[name] = _call(name, normals[name], current, **kw)
    out = pd.DataFrame([dict(rows[n], in_panel=n in members) for n in sorted(normals)], columns=COLUMNS)
    return out, current


def checked_panel(normals: dict[str, pd.DataFrame], *, protect=None, arms=None, loci=None, arm_patterns=None,
                  progress=None) -> tuple[pd.DataFrame, dict]:
    """`pon.build_pon` with the self-check: the panel of the normals that pass it. Returns the panel table and
    its metadata, with ``matrix`` (the normals matrix, excluded normals marked), ``loo`` (the check's rows) and
    ``leave_one_out`` (its `summary`)."""
    table, meta = build_pon(normals, protect=protect, arms=arms)
    loo, matrix = leave_one_out(normals, meta["matrix"], loci=loci, arms=arms, arm_patterns=arm_patterns,
                                protect=protect, progress=progress)
    if not loo["in_panel"].all():
        table, rebuilt = panel_from_matrix(matrix, normals[sorted(normals)[0]], protect=protect, arms=arms)
        meta.update(rebuilt)
    meta.update(matrix=matrix, loo=loo, leave_one_out=summary(loo))
    return table, meta


def summary(loo: pd.DataFrame) -> dict:
    """The self-check for PREFIX.pon.json."""
    flagged = loo.loc[loo["flag"] != "", "normal"].tolist()
    return {"method": "each normal called by `dnadx cnv` against a panel of the other normals; a flagged normal is "
                      f"left out of the panel (worst first, re-checking the rest, while more than {MIN_NORMALS} remain)",
            "flagged_normals": flagged,
            "excluded_normals": loo.loc[~loo["in_panel"].astype(bool), "normal"].tolist(),
            "max_tumor_fraction": float(loo["tumor_fraction"].max()) if len(loo) else None,
            "max_tumor_fraction_high": float(loo["tumor_fraction_high"].max()) if len(loo) else None,
            "rows": loo.replace({np.nan: None}).to_dict(orient="records")}
