"""Read and write the reference group model (`reference/models/groups/`, plain TSV, no pickles).

Files:
  ``segments.tsv``   segment_index, segment_id, is_arm, arm, arm_weight (arm length / mean arm
                     length, GRCh38), feature_mean, feature_scale, one
                     ``coef_<class>`` column per classifier class (weights) and one
                     ``centroid_<group>`` column per pattern group (TCGA mean pattern);
  ``model.tsv``      key / value: ``intercept_<class>``, ``classes``, ``quiet_amplitude``, the
                     ERBB2 rule (``erbb2_segment``, ``erbb2_arm_segment``, ``erbb2_excess``), settings;
  ``tumour_amplitudes.tsv``  sorted arm amplitudes of the non-quiet TCGA training tumours.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dnadx.core import io
from dnadx.core.errors import InputError, ReferenceError_
from dnadx.groups.model import PATTERN_GROUPS, GroupModel

FILES = ("segments.tsv", "model.tsv", "tumour_amplitudes.tsv")
# Enough digits that a re-read model predicts identically (1e-10 relative).
_FLOAT = "%.12g"


def write_group_model(model: GroupModel, folder) -> list[Path]:
    """Write the model's three TSV files into ``folder``; return their paths."""
    folder = Path(folder)
    seg = pd.DataFrame({
        "segment_index": np.arange(1, len(model.segment_ids) + 1),
        "segment_id": model.segment_ids, "is_arm": model.is_arm.astype(int), "arm": model.arm,
        "arm_weight": model.arm_weight,
        "feature_mean": model.feature_mean, "feature_scale": model.feature_scale,
    })
    for k, g in enumerate(model.classes):
        seg[f"coef_{g}"] = model.coef[k]
    for k, g in enumerate(PATTERN_GROUPS):
        seg[f"centroid_{g}"] = model.centroids[k]
    kv = [(f"intercept_{g}", repr(float(b))) for g, b in zip(model.classes, model.intercept)]
    kv += [("classes", ",".join(model.classes)), ("quiet_amplitude", repr(model.quiet_amplitude)),
           ("erbb2_segment", model.erbb2_segment), ("erbb2_arm_segment", model.erbb2_arm_segment),
           ("erbb2_excess", repr(model.erbb2_excess))]
    kv += [(k, str(v)) for k, v in sorted(model.info.items())]
    paths = [folder / f for f in FILES]
    io.write_tsv(seg, paths[0], float_format=_FLOAT)
    io.write_tsv(pd.DataFrame(kv, columns=["key", "value"]), paths[1])
    io.write_tsv(pd.DataFrame({"arm_amplitude": model.tumour_amplitudes}), paths[2], float_format=_FLOAT)
    return paths


def read_group_model(folder) -> GroupModel:
    """Load a model written by :func:`write_group_model`; ReferenceError_ if it is missing or broken."""
    folder = Path(folder)
    missing = [f for f in FILES if not (folder / f).exists()]
    if missing:
        raise ReferenceError_(f"{folder}: group model file(s) missing: {', '.join(missing)}; rebuild with "
                              "`python reference/build/train_groups.py TRAINING_DIR`")
    seg = io.read_tsv(folder / "segments.tsv", ("segment_id", "is_arm", "arm", "arm_weight", "feature_mean",
                                                "feature_scale"),
                      kind="group model", dtype={"arm": str})
    kv = io.read_tsv(folder / "model.tsv", ("key", "value"), kind="group model", dtype=str)
    kv = dict(zip(kv["key"], kv["value"]))
    amps = io.read_tsv(folder / "tumour_amplitudes.tsv", ("arm_amplitude",), kind="group model")
    try:
        classes = tuple(kv.pop("classes").split(","))
        coef = np.vstack([seg[f"coef_{g}"].to_numpy(float) for g in classes])
        intercept = np.array([float(kv.pop(f"intercept_{g}")) for g in classes])
        centroids = np.vstack([seg[f"centroid_{g}"].to_numpy(float) for g in PATTERN_GROUPS])
        fields = dict(quiet_amplitude=float(kv.pop("quiet_amplitude")), erbb2_excess=float(kv.pop("erbb2_excess")),
                      erbb2_segment=kv.pop("erbb2_segment"), erbb2_arm_segment=kv.pop("erbb2_arm_segment"))
    except KeyError as exc:
        raise ReferenceError_(f"{folder}: group model lacks {exc}; rebuild it") from None
    return GroupModel(
        segment_ids=tuple(seg["segment_id"]), is_arm=seg["is_arm"].to_numpy(bool),
        arm=tuple(seg["arm"].fillna("")), arm_weight=seg["arm_weight"].to_numpy(float), classes=classes, coef=coef, intercept=intercept,
        feature_mean=seg["feature_mean"].to_numpy(float), feature_scale=seg["feature_scale"].to_numpy(float),
        centroids=centroids, tumour_amplitudes=amps["arm_amplitude"].to_numpy(float), info=kv, **fields)


def bundled_group_model() -> GroupModel:
    """The shipped model under `<bundle>/models/groups/`."""
    from dnadx.core import reference

    return read_group_model(reference.bundle_folder("models/groups"))  # checked against MANIFEST.tsv


# ------------------------------------------------------------------ `dnadx cluster` inputs

DNADX_COLUMNS = ("segment_index", "segment_id", "score_raw", "score_adjusted")
DNADX_SUFFIX = ".dnadx.tsv"


def sample_id(path) -> str:
    """`P1.dnadx.tsv` -> `P1` (the `dnadx score --prefix` naming)."""
    name = Path(path).name
    if not name.endswith(DNADX_SUFFIX):
        raise InputError(f"{path}: expected a `<sample>{DNADX_SUFFIX}` file written by `dnadx score`")
    return name[: -len(DNADX_SUFFIX)]


def read_dnadx_scores(path, segment_ids: tuple[str, ...]) -> pd.DataFrame:
    """Read `<id>.dnadx.tsv`; check it has the 536 segments in order and numeric scores.

    Returns the table indexed by segment_id with float ``score_raw`` and ``score_adjusted``
    (empty cells -> NaN: a segment without usable genes).
    """
    df = io.read_tsv(path, DNADX_COLUMNS, kind="DNADX score")
    if len(df) != len(segment_ids):
        raise InputError(f"{path}: {len(df)} segment rows, expected {len(segment_ids)} (one per DNADX segment); "
                         "re-create it with `dnadx score`")
    bad = np.flatnonzero(df["segment_id"].astype(str).to_numpy() != np.asarray(segment_ids))
    if bad.size:
        r = int(bad[0])
        raise InputError(f"{path}: row {r + 2}: segment_id {df['segment_id'].iloc[r]!r}, expected "
                         f"{segment_ids[r]!r} (segments must follow reference/dnadx/segments.tsv order)")
    for col in ("score_raw", "score_adjusted"):
        num = pd.to_numeric(df[col], errors="coerce")
        wrong = num.isna() & df[col].notna()
        if wrong.any():
            r = int(np.flatnonzero(wrong.to_numpy())[0])
            raise InputError(f"{path}: row {r + 2}: field {col!r} must be a number, got {df[col].iloc[r]!r}")
        df[col] = num.astype(float)
    return df.set_index("segment_id")[["score_raw", "score_adjusted"]]


def read_sample_annotation(path) -> dict:
    """Tumour fraction and ERBB2 call from the `<id>.score.json` / `<id>.cnv.json` beside a
    `<id>.dnadx.tsv` (score.json first). Missing files or fields -> NaN / ``unknown``."""
    path = Path(path)
    sid = sample_id(path)
    out = {"tumor_fraction": np.nan, "erbb2_call": "unknown", "annotation_source": ""}
    for kind in ("score", "cnv"):
        side = path.with_name(f"{sid}.{kind}.json")
        if not side.exists():
            continue
        data = io.read_json(side)
        if not isinstance(data, dict):
            raise InputError(f"{side}: expected a JSON object")
        tf = data.get("tumor_fraction")
        if np.isnan(out["tumor_fraction"]) and tf is not None:
            try:
                out["tumor_fraction"] = float(tf)
            except (TypeError, ValueError):
                raise InputError(f"{side}: field 'tumor_fraction' must be a number, got {tf!r}") from None
            if not 0 <= out["tumor_fraction"] <= 1:
                raise InputError(f"{side}: field 'tumor_fraction' must be within [0, 1], got {tf!r}")
            out["annotation_source"] = side.name
        if out["erbb2_call"] == "unknown" and data.get("erbb2_call"):
            out["erbb2_call"] = str(data["erbb2_call"])
    return out


def write_bytes(data: bytes, path) -> None:
    """Write binary output (the heatmap PNG) atomically."""
    with io.atomic_path(path) as tmp:
        tmp.write_bytes(data)
