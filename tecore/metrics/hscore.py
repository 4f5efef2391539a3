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

from tecore.metrics._backend import DEVICE, backend
from tecore.metrics._checks import Interval, check_features_labels, validate_params
from tecore.metrics._stats import class_means

#: the Cholesky route of :func:`hscore` is taken when LAPACK's condition estimate of cov(f)
#: is below this (its trace is then accurate to ~1e-6 relative, like the eigh route)
_COND_CHOLESKY = 1e10

__all__ = ["hscore", "shrinkage_hscore", "ledoit_wolf_centered"]


def _class_mean_dev(X, y, n_classes: int, xp=np):
    """Rows sqrt(n_c) (mu_c - mu), so that cov(E[f|y]) (np.cov's N-1 normalisation, without
    materialising the N x D matrix of class means) is d^T d / (N - 1)."""
    means, counts = class_means(X, y, n_classes)
    return (means - xp.mean(X, axis=0)) * xp.sqrt(counts)[:, None]


def _chol_trace(S, d):
    """tr(S^-1 dᵀd) = ||L^-1 dᵀ||² by a Cholesky factor of ``S`` (numpy), with LAPACK's
    condition estimate of ``S`` (``dpocon``); ``None`` when ``S`` is not positive definite."""
    from scipy.linalg import LinAlgError, cho_factor, lapack, solve_triangular

    try:
        L, _ = cho_factor(S, lower=True, check_finite=False)
    except LinAlgError:
        return None, np.inf
    rc, info = lapack.dpocon(L, float(np.abs(S).sum(axis=0).max()), uplo="L")
    Z = solve_triangular(L, d.T, lower=True, check_finite=False)
    return float(np.sum(Z * Z)), (np.inf if info != 0 or rc <= 0 else 1.0 / rc)


_RCOND = {"rcond": [Interval(Real, 0, 1, closed="left")]}


@validate_params({**_RCOND, **DEVICE}, method="hscore")
def hscore(features, labels, *, rcond: float = 1e-15, device=None) -> float:
    """H-score (Bao et al. 2019): :math:`\\mathrm{tr}(\\mathrm{cov}(f)^{+}\\,\\mathrm{cov}(E[f\\mid y]))`.

    The covariances use np.cov's N-1 normalisation and the pseudo-inverse with
    ``rcond=1e-15``, as tllib's ``h_score``. Higher = more class information in the
    features' principal directions. O(N D^2 + D^3).

    With N <= D the features span every direction in which the classes differ and H-score
    is C - 1 for any model (up to rounding): compare models with N > D, or use
    :func:`shrinkage_hscore`.

    Speed: the pseudo-inverse equals the inverse when no eigenvalue of cov(f) falls below
    ``rcond`` times the largest, so when LAPACK's condition estimate (``dpocon``, 1-norm, an
    upper bound of the spectral condition number up to its estimation factor) is below
    ``min(1/rcond, 1e10) / 10`` the trace comes from one Cholesky factorisation (D^3/3);
    otherwise from one ``eigh`` of cov(f) with the pinv cut (the path of ill-conditioned and
    N <= D features). The D x D Gram matrix (``syrk``, N D^2) is then the dominant call.

    device : ``None`` (numpy) or a torch device: the same arithmetic in torch float64 (always
        the ``eigh`` route; :mod:`tecore.metrics._backend`).
    """
    b = backend(device)
    xp = b.xp
    c = check_features_labels(features, labels, method="hscore")
    with b.threads():
        X = b.asarray(c.X)  # a private copy: centre it in place (np.cov's normalisation, N - 1)
        X -= xp.mean(X, axis=0)
        n1 = X.shape[0] - 1
        covf = X.T @ X / n1  # the dominant call (syrk; 1 thread: 0.28 s at N=3000, D=2048)
        d = _class_mean_dev(X, c.y, c.n_classes, xp)
        if not b.is_torch:
            tr, cond = _chol_trace(covf, d)
            if tr is not None and 10 * cond < min(1.0 / rcond if rcond > 0 else np.inf, _COND_CHOLESKY):
                return tr / n1
        # tr(pinv(covf) covg) with covg = d^T d / (N-1), through one eigendecomposition of covf:
        # pinv keeps the eigenvalues with |w| > rcond * max|w| (numpy's hermitian pinv rule), so
        # the trace is sum_k |d v_k|^2 / w_k / (N-1) -- no D x D x D products.
        w, V = xp.linalg.eigh(covf)
        aw = xp.abs(w)
        keep = aw > rcond * xp.max(aw)
        w = xp.where(keep, w, 1.0)
        P = d @ V
        return float(xp.sum(xp.where(keep, P * P / w, 0.0)) / n1)


def ledoit_wolf_centered(X, xp=np) -> tuple:
    r"""scikit-learn's ``ledoit_wolf(X, assume_centered=True)`` — the shrunk covariance
    :math:`(1-\alpha) S + \alpha \mu I` and α — from a single Gram matrix.

    scikit-learn's shrinkage formula needs :math:`\sum_{ij} (X^{\circ 2\top} X^{\circ 2})_{ij}`,
    which it computes as a second D x D product; it equals :math:`\sum_n \lVert x_n\rVert^4`
    (O(N D)). Same value as scikit-learn (tested), half the O(N D^2) work. ``X`` a numpy
    array, or a tensor with ``xp`` its array-API namespace.
    """
    n, p = X.shape
    S = X.T @ X / n
    if n == 1:  # scikit-learn's convention for a single sample
        return S.reshape(p, p), 0.0
    trace = float(xp.sum(xp.linalg.diagonal(S)))
    mu = trace / p
    delta_ = float(xp.sum(S * S))
    sq = np.einsum("ij,ij->i", X, X) if isinstance(X, np.ndarray) else xp.sum(X * X, axis=1)  # no N x D temporary
    beta_ = float(xp.sum(sq ** 2))
    beta = (beta_ / n - delta_) / (p * n)
    delta = (delta_ - 2.0 * mu * trace + p * mu ** 2) / p
    beta = min(beta, delta)
    alpha = 0.0 if beta == 0 else float(beta / delta)
    cov = (1.0 - alpha) * S
    if isinstance(cov, np.ndarray):
        cov.flat[:: p + 1] += alpha * mu
    else:
        cov = cov + (alpha * mu) * xp.eye(p, dtype=cov.dtype, device=cov.device)
    return cov, alpha


@validate_params({**_RCOND, **DEVICE}, method="shrinkage_hscore")
def shrinkage_hscore(features, labels, *, rcond: float = 1e-15, device=None) -> float:
    """Shrinkage H-score (Ibrahim et al. 2022):
    :math:`\\mathrm{tr}(\\mathrm{cov}_\\alpha(f)^{-1} (1-\\alpha)\\,\\mathrm{cov}(E[f\\mid y]))` with
    the Ledoit-Wolf covariance estimate :math:`\\mathrm{cov}_\\alpha` and its shrinkage α
    (scikit-learn ``LedoitWolf``), features centred first — as tllib's
    ``regularized_h_score``. Better conditioned than :func:`hscore` when N is not much
    larger than D. O(N D^2 + D^3).

    ``rcond`` is the pseudo-inverse cut-off of tllib's ``pinv`` (default 1e-15): every
    eigenvalue of the shrunk covariance is at least ``α·tr/D`` and at most ``tr``, so when
    ``α > rcond·D`` the pseudo-inverse drops nothing and equals the inverse, computed by a
    Cholesky solve; otherwise the pseudo-inverse with ``rcond`` is used. The dominant call
    is then the D x D Gram matrix (``syrk``, N D^2).

    device : ``None`` (numpy) or a torch device: the same arithmetic in torch float64
        (:mod:`tecore.metrics._backend`).
    """
    b = backend(device)
    xp = b.xp
    c = check_features_labels(features, labels, method="shrinkage_hscore")
    with b.threads():
        X = b.asarray(c.X)
        X -= xp.mean(X, axis=0)
        cov, alpha = ledoit_wolf_centered(X, xp)
        d = _class_mean_dev(X, c.y, c.n_classes, xp)
        tr = None
        if alpha > rcond * cov.shape[0]:
            # no eigenvalue falls below rcond * max: tr(cov^-1 d^T d) by Cholesky (what
            # tllib's pinv computes, a few times faster)
            if b.is_torch:
                import torch

                L, info = torch.linalg.cholesky_ex(cov)
                if int(info) == 0:
                    Z = torch.linalg.solve_triangular(L, d.T, upper=False)
                    tr = float(xp.sum(Z * Z))
            else:
                tr, _ = _chol_trace(cov, d)
        if tr is None:  # small shrinkage: tllib's pseudo-inverse with rcond
            w, V = xp.linalg.eigh(cov)
            aw = xp.abs(w)
            keep = aw > rcond * xp.max(aw)
            P = d @ V
            tr = float(xp.sum(xp.where(keep, P * P / xp.where(keep, w, 1.0), 0.0)))
    return (1.0 - alpha) * tr / (X.shape[0] - 1)
