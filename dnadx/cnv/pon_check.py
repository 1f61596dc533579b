"""Leave-one-out self-check of a panel of normals: each normal called against a panel of the others.

A healthy donor's plasma should come out without tumour. A normal whose tumour-fraction interval
excludes 0 against the other normals is either not healthy (clonal haematopoiesis with copy-number
changes, an undiagnosed tumour, a sample swap) or carries an artefact the others lack; either way it
should not centre everyone else's data. `checked_panel` therefore leaves such normals out of the panel,
one at a time, worst first (the largest lower bound), re-checking the rest against a panel without it,
until no normal is flagged or MIN_NORMALS remain: a tumour among the normals also shifts the panel its
healthy neighbours are checked against, so a second flag may be the first one's echo. Only a call of the
copy-state model (altered segments of 10 Mb and more) excludes; a flag of the arm-pattern test alone is
reported and the normal stays: that test flags healthy plasma by chance (design rate ~5%; under a first rule that
excluded any flag it took 5 of the 150 healthy normals of the tune, report and issue-setting panels: 3 of 60, 1 of
60, 1 of 30, all by the pattern test, T 2.26-2.80, TF <= 0.02), and leaving such a normal out
biases the remaining panel along the very pattern it was flagged on (the four healthy samples of one issue-setting
batch rose from T 0.06-1.89 to 0.46-2.49, one called). An excluded normal keeps its column in the normals matrix
(`pon.exclude`) and its row in the check, called against the final panel. The same calls estimate the batch's
arm-scale systematic sd first (`systematic.tau_from_normals`). Reported by `dnadx pon` (PREFIX.pon-loo.tsv, PREFIX.pon.json) and in the report; `dnadx run`
takes each normal's own row from this leave-one-out call.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dnadx.cnv import arm_prior, systematic
from dnadx.cnv.call import run_cnv
from dnadx.cnv.pon import MIN_NORMALS, build_pon, exclude, panel_from_matrix
from dnadx.core.params import AUTOSOMES

COLUMNS = ["normal", "tumor_fraction", "tumor_fraction_low", "tumor_fraction_high", "ploidy",
           "largest_altered_segment", "largest_altered_mb", "flag", "decided_by", "in_panel"]
PATTERN_ONLY = "arm_pattern_test"  # cnv.json tumor_call_decided_by of a call the arm-pattern test made alone


def _call(name: str, bins: pd.DataFrame, matrix: pd.DataFrame, arm_sd: float, **kw) -> dict:
    """One normal's row: its copy-number call against the panel of ``matrix`` without it (``arm_sd``: the panel's
    `systematic.tau_from_normals`), and ``excess``: its `systematic.arm_excess` terms."""
    pon, _ = panel_from_matrix(matrix, bins, protect=kw["protect"], leave_out=name, arms=kw["arms"], arm_sd=arm_sd)
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
    out = res.bins
    x = np.where((out["usable"] == 1) & out["chrom"].isin(AUTOSOMES), out["log2"], np.nan)
    excess = systematic.arm_excess(x, np.asarray(arm_prior.segment_arms(out, kw["arms"])).astype(str),
                                   s["systematic_sd"], s["noise_mad"]) if kw["arms"] is not None else np.array([])
    return {"excess": excess, "normal": name, "tumor_fraction": s["tumor_fraction"], "tumor_fraction_low": lo,
            "tumor_fraction_high": hi, "ploidy": s["ploidy"], "largest_altered_segment": where,
            "largest_altered_mb": round(mb, 3), "flag": "tumour_signal" if lo > 0 else "",
            "decided_by": s["tumor_call_decided_by"] if lo > 0 else ""}


def leave_one_out(normals: dict[str, pd.DataFrame], matrix: pd.DataFrame, *, loci=None, arms=None,
                  arm_patterns=None, protect=None, progress=None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """One row per normal (COLUMNS): its copy-number call against the panel of the other normals. ``flag`` is
    ``tumour_signal`` where the interval excludes 0, else empty; ``in_panel`` is False for a normal left out of
    the panel (see the module), whose row is its call against the final panel. Returns the
    rows, ``matrix`` with the excluded normals marked (`pon.exclude`) and the arm-scale estimate
    (`systematic.tau_from_normals` from a first round, every normal against the others; ``used``: it is above
    TAU_FLOOR_PON, so every call, these rows included, uses it as the floor)."""
    kw = {"loci": loci, "arms": arms, "arm_patterns": arm_patterns, "protect": protect}
    members, excluded = sorted(normals), []

    def call_all(names, panel, arm_sd):
        out = {}
        for name in names:
            out[name] = _call(name, normals[name], panel, arm_sd, **kw)
            if progress is not None:
                progress(name)
        return out

    # the arm-scale systematic sd the normals show against each other, first (a batch whose arms stray more than
    # the floor allows would otherwise have its normals flagged and excluded for it)
    rows = call_all(members, matrix, 0.0)
    estimate = systematic.tau_from_normals([rows[n]["excess"] for n in members])
    arm_sd = estimate["arm_sd"] if estimate["arm_sd"] > systematic.TAU_FLOOR_PON else 0.0
    if arm_sd:
        rows = call_all(members, matrix, arm_sd)
    todo = []
    while True:
        current = exclude(matrix, excluded)
        rows.update(call_all(todo, current, arm_sd))
        flagged = [n for n in members if rows[n]["flag"] and rows[n]["decided_by"] != PATTERN_ONLY]
        if not (flagged and len(members) > MIN_NORMALS):
            break
        worst = max(flagged, key=lambda n: (rows[n]["tumor_fraction_low"], rows[n]["tumor_fraction"], n))
        members.remove(worst)
        excluded.append(worst)
        todo = list(members)  # the others against a panel without it
    rows.update(call_all(excluded, current, arm_sd))
    out = pd.DataFrame([dict(rows[n], in_panel=n in members) for n in sorted(normals)], columns=COLUMNS)
    return out, current, dict(estimate, used=arm_sd > 0)


def checked_panel(normals: dict[str, pd.DataFrame], *, protect=None, arms=None, loci=None, arm_patterns=None,
                  progress=None) -> tuple[pd.DataFrame, dict]:
    """`pon.build_pon` with the self-check: the panel of the normals that pass it. Returns the panel table and
    its metadata, with ``matrix`` (the normals matrix, excluded normals marked), ``loo`` (the check's rows) and
    ``leave_one_out`` (its `summary`)."""
    table, meta = build_pon(normals, protect=protect, arms=arms)
    loo, matrix, arm = leave_one_out(normals, meta["matrix"], loci=loci, arms=arms, arm_patterns=arm_patterns,
                                     protect=protect, progress=progress)
    if not loo["in_panel"].all():
        table, rebuilt = panel_from_matrix(matrix, normals[sorted(normals)[0]], protect=protect, arms=arms)
        meta.update(rebuilt)
    table["arm_sd"] = arm["arm_sd"] if arm["used"] else 0.0
    meta.update(matrix=matrix, loo=loo, leave_one_out=dict(summary(loo), arm_systematic_sd=arm))
    return table, meta


def summary(loo: pd.DataFrame) -> dict:
    """The self-check for PREFIX.pon.json."""
    flagged = loo.loc[loo["flag"] != "", "normal"].tolist()
    return {"method": "each normal called by `dnadx cnv` against a panel of the other normals; a normal the copy-state "
                      "model calls tumour is left out of the panel (worst first, re-checking the rest, while more than "
                      f"{MIN_NORMALS} remain); one the arm-pattern test alone flags stays",
            "flagged_normals": flagged,
            "pattern_only": loo.loc[loo["decided_by"] == PATTERN_ONLY, "normal"].tolist(),
            "excluded_normals": loo.loc[~loo["in_panel"].astype(bool), "normal"].tolist(),
            "max_tumor_fraction": float(loo["tumor_fraction"].max()) if len(loo) else None,
            "max_tumor_fraction_high": float(loo["tumor_fraction_high"].max()) if len(loo) else None,
            "rows": loo.replace({np.nan: None}).to_dict(orient="records")}
