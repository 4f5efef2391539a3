"""Small numeric rules with one owner: the softmax of logits (used by pool and extract)."""
from __future__ import annotations

import numpy as np

__all__ = ["softmax"]


def softmax(logits) -> np.ndarray:
    """Row-wise softmax of ``(N, K)`` logits in float64 (max-subtracted, so large logits do
    not overflow)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
