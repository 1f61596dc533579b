"""Integer codes for a column that comes in runs of equal values (a bin table's chromosome names).

A counts or annotation table has ~300,000 rows but ~25 runs of one name each. Hashing every row's
string (``pd.factorize``, ``Series.isin``) took ~12-15 ms per call and `dnadx cnv` made about ten such
calls per sample; comparing each row with the one before is ~2 ms, and only the first value of each run
is hashed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def factorize_runs(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(values, sort=False)``, value for value: codes in order of first appearance (-1 for
    a missing value) and the distinct values, computed from the first value of each run."""
    v = values.to_numpy()
    try:
        head = np.ones(len(v), dtype=bool)
        head[1:] = np.asarray(v[1:] != v[:-1], dtype=bool)  # NaN != NaN: every missing value starts a run
    except TypeError:  # pd.NA has no truth value: hash every row
        return pd.factorize(values, sort=False)
    starts = np.flatnonzero(head)
    head_codes, names = pd.factorize(values.iloc[starts], sort=False)
    return np.repeat(head_codes, np.diff(np.append(starts, len(v)))), names

