"""Reading the DNADX training folder and reading/writing model files (plain text, no pickles).

Model files, per model ``<name>`` in a folder (``reference/models/`` when shipped):
- ``<name>.coef.tsv``: one row per DNADX segment (GMT order): segment_index, segment_id,
  center, scale, train_min, train_max, coef (6 significant digits).
- ``<name>.model.json``: target, training data and split, hyper-parameters, intercept,
  calibration and validation metrics.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dnadx.core import io
from dnadx.core.errors import InputError, ReferenceError_
from dnadx.scores.models import COEF_COLUMNS, Model


def read_matrix(path: Path) -> pd.DataFrame:
    """A samples x features (or features x samples) TSV with ids in the first column."""
    df = io.read_tsv(path, kind="training matrix")
    return df.set_index(df.columns[0])


def read_label(path: Path) -> pd.Series:
    """A two-column `sample_id, <label>` TSV as a Series indexed by sample id."""
    df = read_matrix(path)
    if df.shape[1] != 1:
        raise InputError(f"{path}: expected two columns (sample_id, label), found {df.shape[1] + 1}")
    return df.iloc[:, 0]


def training_file(training_dir, rel: str) -> Path:
    p = Path(training_dir) / rel
    if not p.exists():
        raise InputError(f"{p}: training file missing; --training-dir must be the DNADX training folder "
                         "(with her2/, subtype/, rppa/, mutation/ and segments.tsv)")
    return p


def _num(x: float) -> float:
    """Round to 6 significant digits: shipped numbers are reproducible across BLAS builds."""
    return float(f"{x:.6g}")


def rounded(obj):
    """Round every float in a nested dict/list to 6 significant digits (see :func:`_num`)."""
    if isinstance(obj, (float, np.floating)):
        return _num(float(obj)) if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: rounded(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [rounded(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def write_model(model: Model, folder) -> list[Path]:
    """Write ``<name>.coef.tsv`` and ``<name>.model.json``; return the paths."""
    folder = Path(folder)
    coef = folder / f"{model.name}.coef.tsv"
    meta = folder / f"{model.name}.model.json"
    io.write_tsv(model.coefs[list(COEF_COLUMNS)], coef, float_format="%.6g")
    body = dict(model.meta, name=model.name, intercept=model.intercept, exploratory=model.exploratory,
                calibration=dict(model.meta.get("calibration", {}), platt_a=model.platt_a, platt_b=model.platt_b))
    io.write_json(rounded(body), meta)
    return [coef, meta]


def read_model(folder, name: str) -> Model:
    folder = Path(folder)
    coef_path = folder / f"{name}.coef.tsv"
    meta_path = folder / f"{name}.model.json"
    for p in (coef_path, meta_path):
        if not p.exists():
            raise ReferenceError_(f"{p}: model file missing; restore reference/models or run `dnadx train`")
    coefs = io.read_tsv(coef_path, COEF_COLUMNS, kind="model coefficients")
    meta = io.read_json(meta_path)
    try:
        cal = meta["calibration"]
        return Model(name=name, coefs=coefs, intercept=float(meta["intercept"]), platt_a=float(cal["platt_a"]),
                     platt_b=float(cal["platt_b"]), exploratory=bool(meta["exploratory"]), meta=meta)
    except (KeyError, TypeError, ValueError) as exc:
        raise ReferenceError_(f"{meta_path}: malformed model metadata ({exc!r}); re-create it with `dnadx train`") from exc


def read_models(folder) -> dict[str, Model]:
    """Every model listed in ``<folder>/models.tsv`` (name, order), keyed by name."""
    index = Path(folder) / "models.tsv"
    if not index.exists():
        raise ReferenceError_(f"{index}: model index missing; restore reference/models or run `dnadx train`")
    names = io.read_tsv(index, ("name",), kind="model index")["name"].tolist()
    return {n: read_model(folder, n) for n in names}


def shipped_models_dir() -> Path:
    """The bundle's `models/`, its files checked against MANIFEST.tsv (first use in this process)."""
    from dnadx.core.reference import bundle_folder

    return bundle_folder("models")


def load_task(training_dir, task, segments: pd.DataFrame):
    """Features, labels, strata (PAM50 code) and METABRIC (x, y) or None for one training task.

    The matrices' 536 columns must be the bundle's segments in GMT order; they are matched
    through the original (escaped) names in the training folder's ``segments.tsv``.
    """
    d = Path(training_dir)
    seg = io.read_tsv(training_file(d, "segments.tsv"), ("segment_id", "original_name_escaped"), kind="segments")
    if seg["original_name_escaped"].tolist() != segments["name_escaped"].tolist():
        raise InputError(f"{d / 'segments.tsv'}: segment names/order differ from reference/dnadx/segments.tsv; "
                         "this is not the DNADX training folder the bundle was built for")
    x = read_matrix(training_file(d, f"{task.folder}/CN_score.tsv.gz"))
    _check_columns(x, seg, d / task.folder / "CN_score.tsv.gz")
    if ":" in task.label:
        rel, row = task.label.split(":")
        mat = read_matrix(training_file(d, f"{task.folder}/{rel}"))
        if row not in mat.index:
            raise InputError(f"{d / task.folder / rel}: no row {row!r}")
        y = mat.loc[row].astype(float)
        # rppa/mutation columns follow the CN_score row order (README); ids may be longer barcodes.
        if len(y) != len(x) or not all(a.startswith(b) or b.startswith(a) for a, b in zip(y.index, x.index)):
            raise InputError(f"{d / task.folder / rel}: columns do not follow the CN_score.tsv.gz row order")
        y.index = x.index
        if task.tertile:
            y = (y >= y.quantile(0.67)).astype(int)
    else:
        y = read_label(training_file(d, f"{task.folder}/{task.label}"))
    if not y.index.equals(x.index):
        raise InputError(f"{d / task.folder}: label sample ids differ from CN_score.tsv.gz rows")
    bal = read_matrix(training_file(d, f"{task.folder}/balancing_variables.tsv.gz"))
    strata = bal["subtype"].reindex(x.index).fillna(0).astype(int)
    metabric = None
    if task.metabric_x:
        mx = read_matrix(training_file(d, f"{task.folder}/{task.metabric_x}"))
        _check_columns(mx, seg, d / task.folder / task.metabric_x)
        my = read_label(training_file(d, f"{task.folder}/{task.metabric_y}")).reindex(mx.index)
        if my.isna().any():
            raise InputError(f"{d / task.folder / task.metabric_y}: labels missing for some METABRIC samples")
        metabric = (mx, my.astype(int))
    return x, y.astype(int), strata, metabric


def _check_columns(x: pd.DataFrame, seg: pd.DataFrame, path: Path) -> None:
    if x.columns.tolist() != seg["segment_id"].tolist():
        raise InputError(f"{path}: columns are not the 536 segments of segments.tsv in order")
    if x.isna().any().any():
        raise InputError(f"{path}: missing values in the score matrix")


RANGE_COLUMNS = ("segment_index", "segment_id", "tcga_min", "tcga_max")


def segment_ranges(training_dir, segments: pd.DataFrame) -> pd.DataFrame:
    """TCGA min/max of every segment score over the 1077 subtype-set samples (clip range)."""
    d = Path(training_dir)
    x = read_matrix(training_file(d, "subtype/CN_score.tsv.gz"))
    if x.shape[1] != len(segments):
        raise InputError(f"{d / 'subtype/CN_score.tsv.gz'}: expected {len(segments)} segment columns")
    return pd.DataFrame({"segment_index": segments["segment_index"].to_numpy(),
                         "segment_id": segments["segment_id"].to_numpy(),
                         "tcga_min": x.min().to_numpy(), "tcga_max": x.max().to_numpy()})


def write_segment_ranges(ranges: pd.DataFrame, folder) -> Path:
    path = Path(folder) / "segment_ranges.tsv"
    io.write_tsv(ranges[list(RANGE_COLUMNS)], path, float_format="%.6g")
    return path


def read_segment_ranges(folder) -> pd.DataFrame:
    path = Path(folder) / "segment_ranges.tsv"
    if not path.exists():
        raise ReferenceError_(f"{path}: segment range file missing; restore reference/models or run `dnadx train`")
    return io.read_tsv(path, RANGE_COLUMNS, kind="segment ranges")
