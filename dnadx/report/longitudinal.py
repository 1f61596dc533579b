"""Longitudinal view: samples of one patient ordered by timepoint; HER2 switching and ERBB2 loss.

The rule is `dnadx.scores.erbb2` (sample call: ``sample_state``; change between two timepoints:
``change``), the same one `dnadx variants --previous-cnv` applies, so the report, summary.tsv and
resistance.tsv give one answer. This module orders timepoints and walks them: each timepoint is
compared with the latest earlier *assessable* one (``erbb2.last_assessable``), so a low-tumour-
fraction timepoint in between is reported ``not_assessable`` and never breaks or invents a switch.
"""

from __future__ import annotations

import math
import re

import pandas as pd

from dnadx.scores import erbb2

MIN_TUMOUR_FRACTION = erbb2.MIN_TF
CALLS = ("amplified", "gain", "neutral", "loss", "not_assessable")
TRANSITION_COLUMNS = ["patient", "from_sample", "to_sample", "from_timepoint", "to_timepoint", "from_call",
                      "to_call", "event", "flagged", "detail"]


def timepoint_key(tp) -> tuple:
    """Sort key: numeric timepoints numerically, then natural order ("T2" < "T10"), empty last."""
    text = "" if tp is None or (isinstance(tp, float) and math.isnan(tp)) else str(tp).strip()
    if not text:
        return (2, ())
    try:
        return (0, (float(text),))
    except ValueError:
        parts = re.split(r"(\d+(?:\.\d+)?)", text)
        return (1, tuple((0, float(p)) if re.fullmatch(r"\d+(?:\.\d+)?", p) else (1, p.lower()) for p in parts if p))


def sample_state(meta: dict, cnv: dict | None, score: dict | None, bins=None) -> dict:
    """Per-sample values of the longitudinal view: :func:`dnadx.scores.erbb2.sample_state` (the one
    ERBB2 rule, from cnv.json and the bins table) plus the sample's metadata and amplicon score.

    Without a bins table (only cnv.json and score.json found) the call `dnadx score` made with the
    same rule is used.
    """
    st = {k: meta.get(k) for k in ("sample", "patient", "timepoint", "type")}
    st.update(erbb2.sample_state(cnv, bins, meta.get("sample")), amplicon_score=None, call_source="copy number (dnadx cnv)")
    if score:
        st["amplicon_score"] = score.get("erbb2_amplicon_score")
        if bins is None and score.get("erbb2_call") in CALLS:
            st.update(call=score["erbb2_call"], call_reason=str(score.get("erbb2_call_reason") or ""),
                      erbb2_copy_number=score.get("erbb2_copy_number"), call_source="dnadx score")
    return st


def _f(x, nd: int = 3) -> str:
    return "NA" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{nd}f}"


def transitions(states: list[dict]) -> pd.DataFrame:
    """HER2/ERBB2 transitions for every patient with two or more timepoints (plasma only).

    Each timepoint is compared with the latest earlier assessable timepoint of its patient
    (``erbb2.change``); a timepoint whose own ERBB2 call is ``not_assessable`` gives event
    ``not_assessable``.
    """
    rows = []
    for patient, group in _by_patient(states).items():
        if len(group) < 2:
            continue
        for i, cur in enumerate(group):
            prev = erbb2.last_assessable(group[:i])
            if prev is None:
                continue
            event, flagged, detail = erbb2.change(prev, cur)
            if cur["call"] == "not_assessable":
                detail += (f"; tumour fraction {_f(cur['tumor_fraction'])} [{_f(cur['tf_low'])}, "
                           f"{_f(cur['tf_high'])}]")
            rows.append({"patient": patient, "from_sample": prev["sample"], "to_sample": cur["sample"],
                         "from_timepoint": prev["timepoint"], "to_timepoint": cur["timepoint"],
                         "from_call": prev["call"], "to_call": cur["call"], "event": event, "flagged": flagged,
                         "detail": detail})
        if erbb2.last_assessable(group) is None:
            first = group[0]
            rows.append({"patient": patient, "from_sample": first["sample"], "to_sample": group[-1]["sample"],
                         "from_timepoint": first["timepoint"], "to_timepoint": group[-1]["timepoint"],
                         "from_call": first["call"], "to_call": group[-1]["call"], "event": "not_assessable",
                         "flagged": False, "detail": "no timepoint of this patient has an assessable ERBB2 call"})
    return pd.DataFrame(rows, columns=TRANSITION_COLUMNS)


def earlier_timepoints(samples: list[dict]) -> dict[str, list[str]]:
    """Per plasma sample, the earlier plasma samples of its patient, earliest first (what `dnadx run`
    passes to `dnadx variants --previous-cnv`). ``samples``: dicts with sample, patient, timepoint, type."""
    out = {}
    for group in _by_patient(samples).values():
        for i, s in enumerate(group):
            out[s["sample"]] = [g["sample"] for g in group[:i]]
    return out


def _by_patient(states: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for st in states:
        if st.get("type", "plasma") == "normal":
            continue
        out.setdefault(str(st.get("patient") or st["sample"]), []).append(st)
    return {p: sorted(g, key=lambda s: (timepoint_key(s.get("timepoint")), s["sample"])) for p, g in sorted(out.items())}


def series(states: list[dict]) -> dict[str, list[dict]]:
    """Per patient (two or more plasma timepoints) the ordered per-sample states."""
    return {p: g for p, g in _by_patient(states).items() if len(g) >= 2}
