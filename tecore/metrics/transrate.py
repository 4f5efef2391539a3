"""TransRate: the coding rate of the features minus their class-conditional coding rate.

Huang et al., *Frustratingly easy transferability estimation*, ICML 2022. Reference
implementation: thuml/Transfer-Learning-Library ``tllib/ranking/transrate.py``.
"""
from __future__ import annotations

import numpy as np

from numbers import Real

from tecore.metrics._backend import DEVICE, backend
from tecore.metrics._checks import Interval, check_features_labels, finite_result, validate_params

__all__ = ["transrate"]


#: rows per block when the features are centred and put in class order (one pass, in cache)
_ROWS = 128


def _coding_rate(Z, eps: float, xp, m: float | None = None) -> float:
    """R(Z, eps) = 1/2 logdet(I_D + Z^T Z / (n eps)), computed in the smaller of n and D
    (Sylvester: logdet(I_D + A^T A) = logdet(I_n + A A^T)).

    The log-determinant comes from a Cholesky factor (the matrix is symmetric with every
    eigenvalue >= 1; half the work of tllib's LU ``slogdet``). Overflow-safe: for entries
    outside [1e-100, 1e100] Z is divided by its largest absolute entry m first (``m``: that
    entry when the caller knows it), so the Gram matrix never overflows; when
    ``I + m^2 G / (n eps)`` is not representable (or not factorable) the log-determinant
    comes from the eigenvalues of the scaled Gram matrix, ``sum log1p(m^2 w / (n eps))``
    evaluated in logs."""
    n, d = Z.shape
    if m is None:
        m = max(float(xp.max(Z)), -float(xp.min(Z))) if n * d else 0.0
    if m == 0.0:
        return 0.0
    if not 1e-100 < m < 1e100:
        Z = Z / m
    else:
        m = 1.0
    # syrk, in Z's precision; the full N x D one is the dominant call (1 thread, float32:
    # 0.3 s at N=50000, D=768; 0.15 s at N=3000, D=2048)
    G = Z @ Z.T if n < d else Z.T @ Z
    scale = m * m / (n * eps)  # may overflow to inf for huge features
    diag = xp.linalg.diagonal(G)  # |G_ij| <= max_i G_ii: the largest entry of a Gram matrix
    if np.isfinite(scale) and np.isfinite(scale * float(xp.max(diag))):
        if isinstance(G, np.ndarray):
            # in float64, no identity matrix; numpy's Cholesky, not scipy's LAPACK: the two
            # wheels bring two OpenBLAS thread pools, and scipy's dpotrf right after numpy's
            # syrk ran 3x slower with 2 threads (N=50000, D=768, C=100: 1.4 s vs 0.44 s)
            A = np.multiply(G, scale, dtype=np.float64)
            A.flat[:: A.shape[0] + 1] += 1.0
            try:
                L = np.linalg.cholesky(A)
                logdet = 2.0 * float(np.sum(np.log(np.diagonal(L))))
            except np.linalg.LinAlgError:
                logdet = np.nan
        else:
            A = xp.astype(G, xp.float64) * scale
            A.diagonal().add_(1.0)
            try:
                logdet = 2.0 * float(xp.sum(xp.log(xp.linalg.diagonal(xp.linalg.cholesky(A)))))
            except RuntimeError:
                logdet = np.nan
        if np.isfinite(logdet):
            return 0.5 * logdet
    if G.dtype != xp.float64:
        G = xp.astype(G, xp.float64)
    w = xp.linalg.eigvalsh(G)
    w = w[w > 0]
    log_scale = 2.0 * np.log(m) - np.log(n) - np.log(eps)
    return 0.5 * float(xp.sum(xp.logaddexp(xp.zeros_like(w), xp.log(w) + log_scale)))


def _centred_in_class_order(X: np.ndarray, y: np.ndarray, n_classes: int, dtype):
    """``(X - mean)[order]`` in ``dtype`` (the centring in float64), ``order`` sorting the
    samples by class, built block by block in one pass over ``X`` (no N x D float64
    temporary when ``dtype`` is float32); also the slice bounds of the classes and each
    class's largest absolute entry (float64; ones for float32, where it is not needed)."""
    n = X.shape[0]
    order = np.argsort(y, kind="stable")  # class blocks become contiguous slices
    bounds = np.concatenate([[0], np.cumsum(np.bincount(y, minlength=n_classes))])
    mean = X.mean(axis=0, dtype=np.float64)
    Z = np.empty(X.shape, dtype=dtype)
    exact = np.dtype(dtype) == np.float64
    row_max = np.empty(n)
    for a in range(0, n, _ROWS):
        blk = np.subtract(X[order[a:a + _ROWS]], mean, dtype=np.float64)
        Z[a:a + _ROWS] = blk
        if exact:
            np.maximum(blk.max(axis=1), -blk.min(axis=1), out=row_max[a:a + _ROWS])
    if not exact:
        # float32 entries are 0 or in [1.4e-45, 3.4e38]: inside the range where
        # _coding_rate does not rescale, and an all-zero block gives 0 either way
        return Z, bounds, np.ones(n_classes)
    return Z, bounds, np.maximum.reduceat(row_max, bounds[:-1])


@validate_params({"eps": [Interval(Real, 0, None, closed="neither")], **DEVICE}, method="transrate")
def transrate(features, labels, *, eps: float = 1e-4, device=None) -> float:
    """TransRate (Huang et al. 2022): :math:`R(Z, \\epsilon) - \\frac1C \\sum_c R(Z_c, \\epsilon)`
    with :math:`R(Z, \\epsilon) = \\tfrac12 \\log\\det(I + Z^\\top Z / (n\\epsilon))`, features
    centred once over all samples, class terms averaged over the C classes (as tllib).

    Parameters: ``eps`` the distortion rate (tllib default 1e-4). Higher = better. Each
    coding rate is computed in the smaller of n and D, so it costs O(min(n, D)^2 max(n, D)).
    Features of any scale give a finite value, independent of the row order (tllib's
    ``slogdet`` of the unscaled Gram matrix overflows for entries above ~1e150).

    Speed: the features are read in place, centred and put in class order in one pass
    (no float64 copy of float32 features); one Gram matrix per coding rate (``syrk``; the
    full N x D one is the dominant call), each log-determinant by numpy's Cholesky
    (float64; not scipy's LAPACK, whose second OpenBLAS thread pool slowed it 3x on 2 threads). These C + 1 ``syrk`` and C + 1 Cholesky calls are the whole
    cost (N = 50 000, D = 768, C = 100, one thread: 0.29 s full Gram, 0.25 s class Gram
    matrices, 0.2 s class factorisations, of ~0.8 s in all). **float32 features** (what extractors give)
    get float32 Gram matrices — centred in float64 first, factorised in float64 — the
    precision of tllib run on the same features (its whole computation is float32): the
    value moves by ~1e-8 to ~1e-6 relative against float64 Gram matrices (tested to 1e-5;
    tllib's float32 value differs from the float64 one by ~1e-5) at about half the cost.
    Pass float64 features for the float64 computation (the golden tests do). ``device``: ``None`` (numpy) or a torch
    device, the same arithmetic in torch (:mod:`tecore.metrics._backend`).
    """
    b = backend(device)
    xp = b.xp
    low = getattr(features, "dtype", None) == np.float32  # the Gram matrices in float32
    # read in place (no float64 copy): centred and put in class order in one pass
    c = check_features_labels(features, labels, method="transrate",
                              dtype=np.float32 if low else np.float64, copy=False)
    Z, bounds, m = _centred_in_class_order(c.X, c.y, c.n_classes, np.float32 if low else np.float64)
    with b.threads():
        Z = b.asarray(Z)
        rz = _coding_rate(Z, eps, xp, float(m.max()))
        rzy = sum(_coding_rate(Z[bounds[k]:bounds[k + 1]], eps, xp, float(m[k])) for k in range(c.n_classes))
    return finite_result(rz - rzy / c.n_classes, method="transrate",
                         hint="eps is too small for the scale of the features; raise eps.")
