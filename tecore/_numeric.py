"""Small numeric rules with one owner: the softmax of logits (used by pool and extract)."""
from __future__ import annotations

import numpy as np

__all__ = ["softmax"]


def softmax(logits) -> np.ndarray:
    """Row-wise softmax of ``(N, K)`` logits in float64 (scipy's, max-subtracted, so large
    logits do not overflow)."""
    from scipy.special import softmax as _softmax

    return _softmax(np.asarray(logits, dtype=np.float64), axis=1)
