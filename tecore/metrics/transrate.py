"""TransRate: the coding rate of the features minus their class-conditional coding rate.

Huang et al., *Frustratingly easy transferability estimation*, ICML 2022. Reference
implementation: thuml/Transfer-Learning-Library ``tllib/ranking/transrate.py``.
"""
from __future__ import annotations

import numpy as np

from tecore.metrics._checks import check_features_labels

__all__ = ["transrate"]


def _coding_rate(Z: np.ndarray, eps: float) -> float:
    """R(Z, eps) = 1/2 logdet(I_D + Z^T Z / (n eps)), computed in the smaller of n and D
    (Sylvester: logdet(I_D + A^T A) = logdet(I_n + A A^T))."""
    n, d = Z.shape
    G = Z @ Z.T if n < d else Z.T @ Z
    _, logdet = np.linalg.slogdet(np.eye(G.shape[0]) + G / (n * eps))
    return 0.5 * logdet


def transrate(features, labels, *, eps: float = 1e-4) -> float:
    """TransRate (Huang et al. 2022): :math:`R(Z, \\epsilon) - \\frac1C \\sum_c R(Z_c, \\epsilon)`
    with :math:`R(Z, \\epsilon) = \\tfrac12 \\log\\det(I + Z^\\top Z / (n\\epsilon))`, features
    centred once over all samples, class terms averaged over the C classes (as tllib).

    Parameters: ``eps`` the distortion rate (tllib default 1e-4). Higher = better. Each
    coding rate is computed in the smaller of n and D, so it costs O(min(n, D)^2 max(n, D)).
    """
    c = check_features_labels(features, labels, method="transrate")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps!r}")
    Z = c.X - c.X.mean(axis=0, keepdims=True)
    rz = _coding_rate(Z, eps)
    rzy = sum(_coding_rate(Z[c.y == k], eps) for k in range(c.n_classes))
    return float(rz - rzy / c.n_classes)
