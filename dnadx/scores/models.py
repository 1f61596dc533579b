"""Trained DNADX predictors: the in-memory model and prediction on segment scores.

A model is a calibrated elastic-net logistic regression over the 536 DNADX segment scores
(trained by :mod:`dnadx.scores.train`, shipped as plain text in ``reference/models/``). For a
score vector ``x`` (one value per segment, GMT order)::

    x'   = clip(x / s, train_min, train_max)      s: spread ratio of the input domain (1 for
                                                  TCGA and for tumour-fraction-adjusted plasma)
    z    = (x' - center) / scale                  TCGA training standardisation
    eta  = intercept + z . coef                   elastic-net linear predictor
    p    = 1 / (1 + exp(-(platt_a + platt_b * eta)))   Platt calibration (TCGA out-of-fold)

A missing score (segment with no usable gene) is set to the training centre, i.e. it adds
nothing to ``eta``; the number of such segments among the model's non-zero terms is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dnadx.scores.enet import sigmoid
from dnadx.core.errors import ReferenceError_

# Columns of `<name>.coef.tsv` (one row per segment, GMT order).
COEF_COLUMNS = ("segment_index", "segment_id", "center", "scale", "train_min", "train_max", "coef")


@dataclass(frozen=True)
class Model:
    """One calibrated elastic-net classifier over the 536 segment scores."""

    name: str
    coefs: pd.DataFrame  # COEF_COLUMNS
    intercept: float
    platt_a: float
    platt_b: float
    exploratory: bool
    meta: dict = field(default_factory=dict, compare=False)

    @property
    def n_nonzero(self) -> int:
        return int((self.coefs["coef"] != 0).sum())

    def decision(self, x: np.ndarray, *, spread: float = 1.0) -> np.ndarray:
        """Linear predictor eta for a (n, 536) or (536,) score array (see module docstring)."""
        x = np.atleast_2d(np.asarray(x, dtype=float)) / spread
        c = self.coefs
        center = c["center"].to_numpy()
        x = np.where(np.isnan(x), center, x)
        x = np.clip(x, c["train_min"].to_numpy(), c["train_max"].to_numpy())
        z = (x - center) / c["scale"].to_numpy()
        return self.intercept + z @ c["coef"].to_numpy()

    def predict(self, x: np.ndarray, *, spread: float = 1.0) -> np.ndarray:
        """Calibrated probability p = sigmoid(platt_a + platt_b * eta)."""
        return sigmoid(self.platt_a + self.platt_b * self.decision(x, spread=spread))

    def missing_terms(self, x: np.ndarray) -> int:
        """How many of the model's non-zero terms have no value (NaN) in a single profile ``x``."""
        x = np.asarray(x, dtype=float).ravel()
        return int((np.isnan(x) & (self.coefs["coef"].to_numpy() != 0)).sum())


def check_segments(model: Model, segment_ids: list[str], *, source: str) -> None:
    """Raise if a coefficient file does not list the 536 segments of the bundle in GMT order."""
    have = model.coefs["segment_id"].tolist()
    if have != list(segment_ids):
        diff = next((i for i, (a, b) in enumerate(zip(have, segment_ids)) if a != b), min(len(have), len(segment_ids)))
        raise ReferenceError_(f"{source}: segment list differs from the bundle's DNADX segments at row {diff + 1}; "
                              "re-create the models with `dnadx train`")


def cohort_spread_ratio(x: np.ndarray, model: Model) -> float:
    """Spread of a cohort's scores relative to TCGA's: median_j sd(x_j) / scale_j.

    Used to put a whole cohort from another platform (METABRIC: ~0.36) on the TCGA scale,
    ``x / s``. It needs many samples, so it is a cohort-level (not per-sample) step.
    """
    sd = np.nanstd(np.asarray(x, dtype=float), axis=0)
    scale = model.coefs["scale"].to_numpy()
    ok = (scale > 0) & (sd > 0)
    return float(np.median(sd[ok] / scale[ok]))


def predict_all(models: dict[str, Model], scores: np.ndarray) -> dict[str, dict]:
    """Predictions of every model for one profile (536 values): probability + flags."""
    out = {}
    for name, m in models.items():
        out[name] = {
            "probability": float(m.predict(scores)[0]),
            "exploratory": bool(m.exploratory),
            "target": m.meta.get("target", ""),
            "missing_terms": m.missing_terms(scores),
            "n_terms": m.n_nonzero,
        }
    return out
