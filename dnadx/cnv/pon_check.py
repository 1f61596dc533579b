"""Leave-one-out self-check of a panel of normals: each normal called against a panel of the others.

A healthy donor's plasma should come out without tumour. A normal whose tumour-fraction interval
excludes 0 against the other normals is either not healthy (clonal haematopoiesis with copy-number
changes, an undiagnosed tumour, a sample swap) or carries an artefact the others lack; either way it
should not centre everyone else's data. Reported by `dnadx pon` (PREFIX.pon-loo.tsv, PREFIX.pon.json)
and in the report; `dnadx run` takes each normal's own row from this leave-one-out call.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dnadx.cnv.call import run_cnv
from dnadx.cnv.pon import panel_from_matrix

COLUMNS = ["normal", "tumor_fraction", "tumor_fraction_low", "tumor_fraction_high", "ploidy",
           "largest_altered_segment", "largest_altered_mb", "flag"]


def leave_one_out(normals: dict[str, pd.DataFrame], matrix: pd.DataFrame, *, loci=None, arms=None,
                  arm_patterns=None, protect=None, progress=None) -> pd.DataFrame:
    """One row per normal (COLUMNS): its copy-number call against the panel of the other normals.
    ``flag`` is ``tumour_signal`` where the interval excludes 0, else empty."""
    rows = []
    for name in sorted(normals):
        bins = normals[name]
        pon, _ = panel_from_matrix(matrix, bins, protect=protect, leave_out=name, arms=arms)
        res = run_cnv(bins, pon=pon, loci=loci, arms=arms, arm_patterns=arm_patterns, sample=name)
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
        rows.append({"normal": name, "tumor_fraction": s["tumor_fraction"], "tumor_fraction_low": lo,
                     "tumor_fraction_high": hi, "ploidy": s["ploidy"], "largest_altered_segment": where,
                     "largest_altered_mb": round(mb, 3), "flag": "tumour_signal" if lo > 0 else ""})
        if progress is not None:
            progress(name)
    return pd.DataFrame(rows, columns=COLUMNS)


def summary(loo: pd.DataFrame) -> dict:
    """The self-check for PREFIX.pon.json."""
    flagged = loo.loc[loo["flag"] != "", "normal"].tolist()
    return {"method": "each normal called by `dnadx cnv` against a panel of the other normals",
            "flagged_normals": flagged,
            "max_tumor_fraction": float(loo["tumor_fraction"].max()) if len(loo) else None,
            "max_tumor_fraction_high": float(loo["tumor_fraction_high"].max()) if len(loo) else None,
            "rows": loo.replace({np.nan: None}).to_dict(orient="records")}
