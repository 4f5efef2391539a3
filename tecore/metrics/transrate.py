"""TransRate: the coding rate of the features minus their class-conditional coding rate.

Huang et al., *Frustratingly easy transferability estimation*, ICML 2022. Reference
implementation: thuml/Transfer-Learning-Library ``tllib/ranking/transrate.py``.
"""
from __future__ import annotations

import numpy as np

from numbers import Real

from tecore.metrics._checks import Interval, check_features_labels, finite_result, validate_params

__all__ = ["transrate"]


def _coding_rate(Z: np.ndarray, eps: float) -> float:
    """R(Z, eps) = 1/2 logdet(I_D + Z^T Z / (n eps)), computed in the smaller of n and D
    (Sylvester: logdet(I_D + A^T A) = logdet(I_n + A A^T)).

    Overflow-safe: Z is divided by its largest absolute entry m first, so the Gram matrix
    never overflows; when ``I + m^2 G / (n eps)`` is representable its log-determinant comes
    from a Cholesky/LU factorisation (the tllib computation), otherwise from the eigenvalues
    of the scaled Gram matrix, ``sum log1p(m^2 w / (n eps))`` evaluated in logs."""
    n, d = Z.shape
    m = float(np.max(np.abs(Z))) if Z.size else 0.0
    if m == 0.0:
        return 0.0
    Zs = Z / m
    G = Zs @ Zs.T if n < d else Zs.T @ Zs
    scale = m * m / (n * eps)  # may overflow to inf for huge features
    if np.isfinite(scale) and np.isfinite(scale * float(np.max(np.abs(G)))):
        sign, logdet = np.linalg.slogdet(np.eye(G.shape[0]) + G * scale)
        if sign > 0 and np.isfinite(logdet):
            return 0.5 * logdet
    w = np.clip(np.linalg.eigvalsh(G), 0.0, None)
    w = w[w > 0]
    log_scale = 2.0 * np.log(m) - np.log(n) - np.log(eps)
    return 0.5 * float(np.sum(np.logaddexp(0.0, np.log(w) + log_scale)))


@validate_params({"eps": [Interval(Real, 0, None, closed="neither")]}, method="transrate")
def transrate(features, labels, *, eps: float = 1e-4) -> float:
    """TransRate (Huang et al. 2022): :math:`R(Z, \\epsilon) - \\frac1C \\sum_c R(Z_c, \\epsilon)`
    with :math:`R(Z, \\epsilon) = \\tfrac12 \\log\\det(I + Z^\\top Z / (n\\epsilon))`, features
    centred once over all samples, class terms averaged over the C classes (as tllib).

    Parameters: ``eps`` the distortion rate (tllib default 1e-4). Higher = better. Each
    coding rate is computed in the smaller of n and D, so it costs O(min(n, D)^2 max(n, D)).
    Features of any scale give a finite value, independent of the row order (tllib's
    ``slogdet`` of the unscaled Gram matrix overflows for entries above ~1e150).
    """
    c = check_features_labels(features, labels, method="transrate")
    Z = c.X - c.X.mean(axis=0, keepdims=True)
    rz = _coding_rate(Z, eps)
    rzy = sum(_coding_rate(Z[c.y == k], eps) for k in range(c.n_classes))
    return finite_result(rz - rzy / c.n_classes, method="transrate",
                         hint="eps is too small for the scale of the features; raise eps.")
