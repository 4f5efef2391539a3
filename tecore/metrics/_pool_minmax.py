"""Pool-level min-max normalisation (tecore's one ``minmax``) and the term-table check shared
by the pool-level metrics' ``combine`` functions (NCTI, ETran, LP x FU)."""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["check_terms", "minmax"]


def check_terms(terms, required: tuple[str, ...], *, method: str) -> pd.DataFrame:
    """Validate a pool's term table: a DataFrame, rows = models, with finite numeric
    columns ``required``; at least two models (min-max over one model is undefined)."""
    if not isinstance(terms, pd.DataFrame):
        raise ValueError(
            f"{method} combine expects a pandas DataFrame (rows = models, columns = "
            f"{', '.join(required)}), got {type(terms).__name__}."
        )
    missing = [c for c in required if c not in terms.columns]
    if missing:
        raise ValueError(
            f"{method} combine: missing term column(s) {missing}; got columns "
            f"{list(terms.columns)}. Pass the dicts returned by the per-model function, one row per model."
        )
    if len(terms) < 2:
        raise ValueError(
            f"{method} normalises each term by min-max over the pool of models, which is undefined "
            f"for {len(terms)} model(s); score at least two models together."
        )
    if terms.index.has_duplicates:
        raise ValueError(f"{method} combine: duplicate model names in the index.")
    T = terms[list(required)]
    try:
        vals = T.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{method} combine: terms must be numeric: {exc}") from None
    if not np.all(np.isfinite(vals)):
        bad = T.index[~np.isfinite(vals).all(axis=1)].tolist()
        raise ValueError(f"{method} combine: NaN or inf terms for model(s) {bad[:5]}.")
    return pd.DataFrame(vals, index=terms.index, columns=list(required))


def minmax(x):
    """Min-max normalise over the pool: ``(x - min) / (max - min)`` — the one min-max of
    tecore (the pool-level combiners and :func:`tecore.pool.minmax` use it).

    Works on a Series / 1-D array (over its values) or a DataFrame / 2-D array (each column
    over the pool). One rule for non-finite values: ``min`` and ``max`` are taken over the
    finite values; NaN stays NaN; ``+inf`` maps to 1.0 and ``-inf`` to 0.0 (the ends of the
    range), so one infinite model does not turn every other model's value into NaN. A column
    whose finite values are constant carries no ranking information and maps them to 0.0
    (the official NCTI/ETran scripts divide by zero there and produce NaN).
    """
    if isinstance(x, pd.DataFrame):
        return x.apply(minmax)
    if isinstance(x, pd.Series):
        v = x.astype(float)
        fin = v[np.isfinite(v)]
        lo, hi = (float(fin.min()), float(fin.max())) if len(fin) else (0.0, 0.0)
        out = (v - lo) / (hi - lo) if hi > lo else v.where(v.isna(), 0.0)
        out[v == np.inf] = 1.0
        out[v == -np.inf] = 0.0
        return out
    a = np.array(x, dtype=np.float64)
    if a.ndim == 2:
        return minmax(pd.DataFrame(a)).to_numpy()
    if a.ndim != 1:
        raise ValueError(f"minmax expects 1-D or 2-D input, got shape {a.shape}.")
    return minmax(pd.Series(a)).to_numpy()
