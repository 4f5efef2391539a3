"""Pool-level min-max normalisation shared by the pool-level metrics' ``combine`` functions
(NCTI, ETran)."""
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


def minmax(col: pd.Series) -> pd.Series:
    """``(x - min) / (max - min)`` over the pool. A term that is constant over the pool
    carries no ranking information and maps to 0 for every model (the official scripts
    divide by zero there and produce NaN)."""
    lo, hi = float(col.min()), float(col.max())
    if hi == lo:
        return pd.Series(0.0, index=col.index, name=col.name)
    return (col - lo) / (hi - lo)
