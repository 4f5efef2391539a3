"""H-score and its shrinkage (regularised) variant.

Bao et al., *An information-theoretic approach to transferability in task transfer
learning*, ICIP 2019; Ibrahim et al., *Newer is not always better: rethinking
transferability metrics, their peculiarities, stability and performance*, 2022. Reference
implementation: thuml/Transfer-Learning-Library ``tllib/ranking/hscore.py`` (``h_score`` and
``regularized_h_score``).

Classification only: neither TLlib, nor the authors' code
(YaojieBao/An-Information-theoretic-Metric-of-Transferability, discrete labels), nor the paper
(class-conditional means E[f(X) | Y = y]) gives a regression form, so continuous or
multi-label targets are refused (use ``logme_regression``; see the README).
"""
from __future__ import annotations

import numpy as np

from numbers import Real

from tecore.metrics._checks import Interval, check_features_labels, validate_params
from tecore.metrics._stats import class_means

__all__ = ["hscore", "shrinkage_hscore", "ledoit_wolf_centered"]


def _class_mean_dev(X: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Rows sqrt(n_c) (mu_c - mu), so that cov(E[f|y]) (np.cov's N-1 normalisation, without
    materialising the N x D matrix of class means) is d^T d / (N - 1)."""
    means, counts = class_means(X, y, n_classes)
    return (means - X.mean(axis=0)) * np.sqrt(counts)[:, None]


_RCOND = {"rcond": [Interval(Real, 0, 1, closed="left")]}


@validate_params(_RCOND, method="hscore")
def hscore(features, labels, *, rcond: float = 1e-15) -> float:
    """H-score (Bao et al. 2019): :math:`\\mathrm{tr}(\\mathrm{cov}(f)^{+}\\,\\mathrm{cov}(E[f\\mid y]))`.

    The covariances use np.cov's N-1 normalisation and the pseudo-inverse with
    ``rcond=1e-15``, as tllib's ``h_score``. Higher = more class information in the
    features' principal directions. O(N D^2 + D^3).

    With N <= D the features span every direction in which the classes differ and H-score
    is C - 1 for any model (up to rounding): compare models with N > D, or use
    :func:`shrinkage_hscore`.
    """
    c = check_features_labels(features, labels, method="hscore")
    X = c.X  # a private copy: centre it in place (np.cov's normalisation, N - 1)
    X -= X.mean(axis=0)
    covf = X.T @ X / (X.shape[0] - 1)
    # tr(pinv(covf) covg) with covg = d^T d / (N-1), through one eigendecomposition of covf:
    # pinv keeps the eigenvalues with |w| > rcond * max|w| (numpy's hermitian pinv rule), so
    # the trace is sum_k |d v_k|^2 / w_k / (N-1) -- no D x D x D products.
    w, V = np.linalg.eigh(covf)
    keep = np.abs(w) > rcond * np.abs(w).max()
    P = _class_mean_dev(X, c.y, c.n_classes) @ V[:, keep]
    return float(np.sum(P * P / w[keep]) / (X.shape[0] - 1))


def ledoit_wolf_centered(X: np.ndarray) -> tuple[np.ndarray, float]:
    r"""scikit-learn's ``ledoit_wolf(X, assume_centered=True)`` — the shrunk covariance
    :math:`(1-\alpha) S + \alpha \mu I` and α — from a single Gram matrix.

    scikit-learn's shrinkage formula needs :math:`\sum_{ij} (X^{\circ 2\top} X^{\circ 2})_{ij}`,
    which it computes as a second D x D product; it equals :math:`\sum_n \lVert x_n\rVert^4`
    (O(N D)). Same value as scikit-learn (tested), half the O(N D^2) work.
    """
    n, p = X.shape
    S = X.T @ X / n
    if n == 1:  # scikit-learn's convention for a single sample
        return np.atleast_2d(S), 0.0
    trace = np.trace(S)
    mu = trace / p
    delta_ = np.sum(S * S)
    beta_ = np.sum(np.einsum("ij,ij->i", X, X) ** 2)
    beta = (beta_ / n - delta_) / (p * n)
    delta = (delta_ - 2.0 * mu * trace + p * mu ** 2) / p
    beta = min(beta, delta)
    alpha = 0.0 if beta == 0 else float(beta / delta)
    cov = (1.0 - alpha) * S
    cov.flat[:: p + 1] += alpha * mu
    return cov, alpha


@validate_params(_RCOND, method="shrinkage_hscore")
def shrinkage_hscore(features, labels, *, rcond: float = 1e-15) -> float:
    """Shrinkage H-score (Ibrahim et al. 2022):
    :math:`\\mathrm{tr}(\\mathrm{cov}_\\alpha(f)^{-1} (1-\\alpha)\\,\\mathrm{cov}(E[f\\mid y]))` with
    the Ledoit-Wolf covariance estimate :math:`\\mathrm{cov}_\\alpha` and its shrinkage α
    (scikit-learn ``LedoitWolf``), features centred first — as tllib's
    ``regularized_h_score``. Better conditioned than :func:`hscore` when N is not much
    larger than D. O(N D^2 + D^3).

    ``rcond`` is the pseudo-inverse cut-off of tllib's ``pinv`` (default 1e-15): every
    eigenvalue of the shrunk covariance is at least ``α·tr/D`` and at most ``tr``, so when
    ``α > rcond·D`` the pseudo-inverse drops nothing and equals the inverse, computed by a
    Cholesky solve; otherwise the pseudo-inverse with ``rcond`` is used.
    """
    from scipy.linalg import LinAlgError, cho_factor, solve_triangular

    c = check_features_labels(features, labels, method="shrinkage_hscore")
    X = c.X - c.X.mean(axis=0, keepdims=True)
    cov, alpha = ledoit_wolf_centered(X)
    d = _class_mean_dev(X, c.y, c.n_classes)
    tr = None
    if alpha > rcond * cov.shape[0]:
        try:
            # no eigenvalue falls below rcond * max: tr(cov^-1 d^T d) by Cholesky (what
            # tllib's pinv computes, a few times faster)
            L, _ = cho_factor(cov, lower=True)
            Z = solve_triangular(L, d.T, lower=True, check_finite=False)
            tr = float(np.sum(Z * Z))
        except LinAlgError:
            tr = None
    if tr is None:  # small shrinkage: tllib's pseudo-inverse with rcond
        tr = float(np.trace(np.linalg.pinv(cov, rcond=rcond, hermitian=True) @ (d.T @ d)))
    return (1.0 - alpha) * tr / (X.shape[0] - 1)
