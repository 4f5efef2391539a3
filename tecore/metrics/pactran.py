"""PACTran: PAC-Bayesian transferability metrics (Dirichlet, Gamma, Gaussian).

Ding, Chen, Levinboim, Goodman and Soricut, *PACTran: PAC-Bayesian metrics for estimating the
transferability of pretrained models to classification tasks*, ECCV 2022 (arXiv 2203.05126).
Reference implementation: google-research/pactran_metrics ``compute_metrics.py``
(``calculate_pac_dir``, ``calculate_pac_gamma``, ``calculate_pac_gauss`` and
``gmm_estimator``; pure numpy/scipy — TensorFlow is only used there for file I/O).

Sign: the official functions return a PAC-Bayesian *bound* (lower = transfers better; the
official ``compute_correlation.py`` correlates them with the fine-tuning *error*). Like every
tecore metric these return higher = better, i.e. **minus** the official value.

* ``pactran_dirichlet`` / ``pactran_gamma`` take the source classifier's probabilities
  (N, K), as the official ``pac_dir`` / ``pac_gam``; ``pactran_dirichlet_gmm`` /
  ``pactran_gamma_gmm`` take features and use the official Gaussian-mixture posteriors
  instead (``pac_ndir`` / ``pac_ngam``, for models without a classification head).
* ``pactran_gaussian`` takes features (``pac_gauss``): a linear softmax head fitted by L-BFGS
  with a Gaussian prior, plus the PAC-Bayes flatness term.
"""
from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy.special import digamma, gammaln

from tecore.metrics._shared import shared
from tecore.metrics._stats import class_sums, row_halves, softmax_flushed_
from tecore.metrics._subsample import MAX_FIT_SAMPLES, stratified_subsample
from tecore.metrics._checks import (RANDOM_STATE, Interval, Options, check_features_labels,
                                    check_probs_labels, validate_params)

__all__ = [
    "pactran_dirichlet",
    "pactran_gamma",
    "pactran_gaussian",
    "pactran_dirichlet_gmm",
    "pactran_gamma_gmm",
    "gmm_posteriors",
]

_N_ITER = 10  # the official variational updates (fixed count)
_EPS = 1e-10


_POSITIVE = [Interval(Real, 0, None, closed="neither")]
_SEED = [RANDOM_STATE, np.random.RandomState]
_GMM = {"alpha": _POSITIVE, "pca_variance": [Interval(Real, 0, 1, closed="right")], "random_state": _SEED,
        "max_fit_samples": [None, Interval(Integral, 10, None)]}


def _prior(y: np.ndarray, n_classes: int, alpha: float) -> np.ndarray:
    """Official prior concentration a0 (C, 1): alpha times the class frequencies, + 1e-10."""
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)[:, None]
    return alpha * counts / counts.sum() + _EPS


def _posteriors(log_s: np.ndarray, T: np.ndarray, y: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """The mean-field update q(z): the row softmax of ``log_s + T[y]`` (the official
    ``logits_qz``, ``Y @ T`` for one-hot Y being the row of T of each sample's class) written
    into ``Q`` (N, K); returns the (N,) log normalisers (the official ``logsumexp``).
    Probabilities below the smallest normal float64 are 0 (``softmax_flushed_``): digamma of
    an empty table cell (~1e-10) is ~-1e10, and their exponentials would be subnormal."""
    def part(h):
        q = Q[h]
        np.take(T, y[h], axis=0, out=q, mode="clip")  # mode="raise" would buffer the output
        q += log_s[h]
        m, ssum = softmax_flushed_(q)
        return (m + np.log(ssum))[:, 0]

    return np.concatenate(row_halves(part, Q.shape[0], Q.size))


def _kl_sum(T: np.ndarray, y: np.ndarray, Q: np.ndarray, lse: np.ndarray) -> float:
    """sum over n, k of q (log q - log s), without forming log q: log q - log s = T[y] - lse,
    so the sum is sum(T * class sums of q) - sum_n lse_n sum_k q_nk (O(N K), one pass)."""
    return float(np.sum(T * class_sums(Q, y, T.shape[0])) - np.dot(lse, Q.sum(axis=1)))


def _dirichlet(P: np.ndarray, y: np.ndarray, n_classes: int, alpha: float) -> float:
    a0 = _prior(y, n_classes, alpha)
    log_s = np.log(P + _EPS)
    Q = np.empty_like(log_s)
    qz = P
    for _ in range(_N_ITER):
        aw = a0 + class_sums(qz, y, n_classes)  # (C, K): the official einsum over one-hot Y
        T = digamma(aw) - digamma(aw.sum(axis=0))[None, :]
        lse = _posteriors(log_s, T, y, Q)
        qz = Q
    log_c0 = gammaln(a0.sum()) - gammaln(a0).sum()
    log_c = gammaln(aw.sum(axis=0)) - gammaln(aw).sum(axis=0)
    # official: sum_k (log_c0 - log_c_k - sum_n q_nk (log q_nk - log s_nk))
    bound = P.shape[1] * log_c0 - np.sum(log_c) - _kl_sum(T, y, Q, lse)
    # official: pac_dir = -bound / size (lower = better); tecore: higher = better
    return float(bound / (y.shape[0] * n_classes))


def _gamma(P: np.ndarray, y: np.ndarray, n_classes: int, alpha: float) -> float:
    a0 = _prior(y, n_classes, alpha)
    beta = bw = 1.0
    log_s = np.log(P + _EPS)
    Q = np.empty_like(log_s)
    qz = P
    for _ in range(_N_ITER):
        aw = a0 + class_sums(qz, y, n_classes)  # (C, K)
        lw = P @ (aw / bw).sum(axis=0)  # (N,)
        T = digamma(aw) - np.log(bw)
        lse = _posteriors(log_s, T, y, Q)
        qz = Q
    bound = (np.sum(gammaln(a0) - gammaln(aw) + aw * np.log(bw) - a0 * np.log(beta))
             + _kl_sum(T, y, Q, lse) + np.sum(np.log(lw) - 1.0))
    return float(-(bound / (y.shape[0] * n_classes) + 1.0))


@validate_params({"alpha": _POSITIVE}, method="pactran_dirichlet")
def pactran_dirichlet(probs, labels, *, alpha: float = 1.0) -> float:
    """PACTran-Dirichlet (Ding et al. 2022) on source-class probabilities (N, K).

    A Dirichlet prior with concentration ``alpha`` x the target class frequencies over the
    K x C table p(target class | source class), 10 mean-field updates of the source-class
    posteriors q(z), then the PAC-Bayesian bound (log normalisers and KL(q || p_source)),
    per sample and class. ``alpha=1`` is the official setting (``compute_metrics.py``).
    Returns minus the official ``pac_dir`` (higher = better). O(N K C) per update.
    """
    c = check_probs_labels(probs, labels, method="pactran_dirichlet")
    return _dirichlet(c.X, c.y, c.n_classes, float(alpha))


@validate_params({"alpha": _POSITIVE}, method="pactran_gamma")
def pactran_gamma(probs, labels, *, alpha: float = 1.0) -> float:
    """PACTran-Gamma (Ding et al. 2022) on source-class probabilities (N, K): as
    :func:`pactran_dirichlet` with independent Gamma(a0, 1) priors on the table entries
    (official ``calculate_pac_gamma``, ``alpha=1``). Returns minus the official ``pac_gam``.
    """
    c = check_probs_labels(probs, labels, method="pactran_gamma")
    return _gamma(c.X, c.y, c.n_classes, float(alpha))


@shared  # pactran_dirichlet_gmm and pactran_gamma_gmm of one pool share the mixture
def gmm_posteriors(features, labels, *, pca_variance: float = 0.8, random_state=0,
                   max_fit_samples: int | None = MAX_FIT_SAMPLES) -> np.ndarray:
    """The official ``gmm_estimator``: PCA keeping ``pca_variance`` of the variance, then a
    full-covariance Gaussian mixture with max(min(C, int(0.2 n)), int(0.1 n)) components;
    returns its posteriors (N, n_components). The official code leaves the mixture's seed to
    numpy's global state; here it is ``random_state`` (an int or a RandomState).

    ``max_fit_samples`` (default 5000): up to this N, the official estimator (n = N, scikit-
    learn's PCA and mixture on all samples). Above it, the rule's 0.1 N components grow with
    N (5000 full-covariance components at N = 50 000: an N x 5000 posterior matrix per EM
    step, hours and tens of GB), so, as N-LEEP and LP do, the mixture is *fitted* on a
    class-stratified random subsample of ``max_fit_samples`` samples (n = that size, so 0.1 n
    components: 500 by default; the subsample drawn with ``random_state``), on an exact PCA
    of all N (tecore's Gram eigendecomposition, :func:`tecore.metrics._pca.pca_variance_scores`),
    and the posteriors are computed for all N. ``None`` always fits on all N (the official
    behaviour). Measured effect on the value: ``benchmarks/README.md`` (subsampled fits).
    """
    from sklearn.decomposition import PCA
    from sklearn.mixture import GaussianMixture

    from tecore.metrics._pca import gmm_predict_proba, pca_variance_scores

    c = check_features_labels(features, labels, method="PACTran (GMM)")
    from tecore.metrics._checks import check_param

    check_param(pca_variance, "pca_variance", _GMM["pca_variance"], method="PACTran (GMM)")
    check_param(max_fit_samples, "max_fit_samples", _GMM["max_fit_samples"], method="PACTran (GMM)")
    n = c.X.shape[0]
    fit = None
    if max_fit_samples is not None and n > max_fit_samples:  # only then: a RandomState moves on
        seed = random_state.randint(2 ** 31) if isinstance(random_state, np.random.RandomState) else random_state
        fit = stratified_subsample(c.y, c.n_classes, max_fit_samples, 1, seed)
    n_fit = n if fit is None else len(fit)
    n_comp = max(min(c.n_classes, int(n_fit * 0.2)), int(n_fit * 0.1))
    if n_comp < 1:
        raise ValueError(f"PACTran (GMM) needs at least 10 samples for its mixture, got {n_fit}.")
    Z = PCA(n_components=pca_variance).fit_transform(c.X) if fit is None else pca_variance_scores(c.X, pca_variance)
    try:
        gmm = GaussianMixture(n_components=n_comp, random_state=random_state).fit(Z if fit is None else Z[fit])
        return gmm.predict_proba(Z) if fit is None else gmm_predict_proba(gmm, Z)
    except MemoryError:
        # the official rule gives 0.1 N components: at N = 50 000, 5000 full-covariance
        # components and an N x 5000 float64 posterior matrix per EM step
        raise ValueError(
            f"PACTran (GMM) ran out of memory: the official rule fits {n_comp} mixture components "
            f"(0.1 N) to {n_fit} samples ({Z.shape[1]} PCA dimensions), an {n_fit} x {n_comp} posterior "
            "matrix per EM step. Fit the mixture on a subsample (max_fit_samples, default "
            f"{MAX_FIT_SAMPLES}), score a stratified subsample of the target, or use "
            "pactran_dirichlet / pactran_gamma on source probabilities."
        ) from None


@validate_params(_GMM, method="pactran_dirichlet_gmm")
def pactran_dirichlet_gmm(features, labels, *, alpha: float = 1.0, pca_variance: float = 0.8,
                          random_state=0, max_fit_samples: int | None = MAX_FIT_SAMPLES) -> float:
    """PACTran-Dirichlet on the Gaussian-mixture posteriors of the features
    (:func:`gmm_posteriors`, whose ``max_fit_samples`` subsamples the mixture's fit above
    5000 samples; the official ``pac_ndir``). Returns minus the official value."""
    P = gmm_posteriors(features, labels, pca_variance=pca_variance, random_state=random_state,
                       max_fit_samples=max_fit_samples)
    return pactran_dirichlet(P, labels, alpha=alpha)


@validate_params(_GMM, method="pactran_gamma_gmm")
def pactran_gamma_gmm(features, labels, *, alpha: float = 1.0, pca_variance: float = 0.8,
                      random_state=0, max_fit_samples: int | None = MAX_FIT_SAMPLES) -> float:
    """PACTran-Gamma on the Gaussian-mixture posteriors of the features (official
    ``pac_ngam``; ``max_fit_samples`` as :func:`gmm_posteriors`). Returns minus the official
    value."""
    P = gmm_posteriors(features, labels, pca_variance=pca_variance, random_state=random_state,
                       max_fit_samples=max_fit_samples)
    return pactran_gamma(P, labels, alpha=alpha)


_F32_ABOVE = 1e9  # precision="auto": float32 products once N x D x C exceeds this


@validate_params({"lda_factor": _POSITIVE, "s2_factor": _POSITIVE, "max_iter": [Interval(Integral, 1, None)],
                  "tol": _POSITIVE, "random_state": _SEED,
                  "precision": [Options(("auto", "float64", "float32"))]}, method="pactran_gaussian")
def pactran_gaussian(features, labels, *, lda_factor: float = 1.0, s2_factor: float = 100.0,
                     max_iter: int = 100, tol: float = 1e-6, random_state=0, precision: str = "auto") -> float:
    """PACTran-Gaussian (Ding et al. 2022), the official ``calculate_pac_gauss``.

    Features are centred; a linear softmax head (weights W (D, C), bias b) minimises the mean
    cross-entropy + ||W||² / (2 λ) with λ = ``lda_factor`` x N (L-BFGS-B, ``max_iter`` 100,
    ``tol`` 1e-6, W initialised N(0, 0.03²) from ``random_state``, b = 0). With L* the
    minimum and h the diagonal of the Hessian there (bias entries included, as officially),
    σ⁻² = sum(h) λ / (D C) + 1e-10 and

    .. math:: \\mathrm{PAC}_{Gauss} = L^* + \\frac{D C}{2 \\lambda} \\frac{s_2}{D} \\log \\sigma^{-2},
              \\quad s_2 = \\texttt{s2\\_factor}.

    Returns minus that (higher = better). The official script evaluates the grid
    ``lda_factor`` 10 / 1 / 0.1 with ``s2_factor`` (1000, 100) / (100, 10) / (10, 1) and the
    paper picks per dataset; the default here is the middle factor with its first s2
    (λ = N, s2 = 100). The official 100 L-BFGS iterations may stop short of the optimum, so
    the value can depend (in the 4th digit) on the random start and on the order of the
    classes; raise ``max_iter`` and lower ``tol`` for the converged value.

    ``precision``: the dtype of the two N x D x C matrix products of every L-BFGS step
    (softmax, loss and gradient sums stay float64; L* and h are always evaluated in
    float64). ``"float64"`` is the official arithmetic (the golden values hold to 1e-7).
    ``"float32"`` runs the products 3x faster; the float32 rounding (~1e-7) moves the
    L-BFGS path, by ~1e-8 relative where the 100 iterations converge and, where they stop
    short, by less than the spread between random starts (N = 50 000, D = 768, C = 100:
    5.6e-5, against 6.0e-4 between ``random_state`` 0 and 1, and 8.3e-4 to the converged
    value; ``benchmarks/README.md``). ``"auto"`` (default) is ``"float64"`` up to
    N x D x C = 1e9 and ``"float32"`` above (at N = 50 000, D = 768, C = 100 on 2 cores:
    13.6 s against 29.4 s a model; the 10-model pool of issue 12 has 300 s). Float32 sums
    also depend on the CPU's BLAS kernels, so at that size two machines can differ at
    ~1e-4; the thread count does not matter (every product runs single-threaded on two
    fixed halves of the rows; tested).
    Cost: L-BFGS on (D + 1) C parameters, O(N D C) per evaluation.
    """
    c = check_features_labels(features, labels, method="pactran_gaussian", copy=False)
    from scipy.optimize import minimize
    from threadpoolctl import threadpool_limits

    n, d = c.X.shape
    C = c.n_classes
    y = c.y
    if precision == "auto":
        precision = "float32" if n * d * C > _F32_ABOVE else "float64"
    # [X - mean, 1]: the bias is the last row of theta (D + 1, C), so one product gives the
    # logits and one the whole gradient (the bias gradient is the column sums)
    X1 = np.empty((n, d + 1))
    np.subtract(c.X, c.X.mean(axis=0), out=X1[:, :d])
    X1[:, d] = 1.0
    Xp = X1.astype(np.float32) if precision == "float32" else X1
    kd = d * C
    ldas2 = lda_factor * n
    # the official xent keeps sum(Y log(Y + 1e-10)) (one-hot Y: n log(1 + 1e-10))
    ylogy = n * np.log(1.0 + _EPS)
    Z64 = np.empty((n, C))  # logits, then probabilities, then the gradient of the loss in them
    G = Z64 if Xp.dtype == np.float64 else np.empty((n, C), dtype=np.float32)
    Zp = Z64 if Xp.dtype == np.float64 else np.empty((n, C), dtype=np.float32)

    def loglik(Z, ys):
        """sum of the true-class logits minus the log normalisers of the logits ``Z``, which
        become the probabilities (in place)."""
        true = np.sum(Z[np.arange(Z.shape[0]), ys])
        m, ssum = softmax_flushed_(Z)
        return true - np.sum(m + np.log(ssum))

    def objective(ll, w):  # the official mean cross-entropy + ||W||^2 / (2 lambda)
        return (ylogy - ll) / n + 0.5 * np.sum(w * w) / ldas2

    def half(sl, th):
        """One fixed half of the rows: its logits, softmax, log-likelihood and gradient
        partial (one-thread BLAS: the numbers do not depend on the machine's thread count)."""
        np.matmul(Xp[sl], th, out=Zp[sl])
        Z = Z64[sl]
        if Zp is not Z64:
            np.copyto(Z, Zp[sl])
        ll = loglik(Z, y[sl])
        Z[np.arange(Z.shape[0]), y[sl]] -= 1.0
        if G is not Z64:
            np.copyto(G[sl], Z)
        return ll, Xp[sl].T @ G[sl]

    def loss_grad(theta):
        w = theta[:kd].reshape(d, C)
        th = theta.astype(Xp.dtype).reshape(d + 1, C)
        (l0, g0), (l1, g1) = row_halves(lambda h: half(h, th), n, n * (d + 1) * C)
        loss = objective(l0 + l1, w)
        grad = (g0 + g1).astype(np.float64, copy=False)  # summed in this order
        grad /= n
        grad[:d] += w / ldas2
        return loss, grad.ravel()

    rng = random_state if isinstance(random_state, np.random.RandomState) \
        else np.random.RandomState(random_state)
    theta0 = np.concatenate([rng.normal(size=(d, C)) * 0.03, np.zeros((1, C))]).ravel()
    # every BLAS on one thread: the products run as two fixed halves of the rows on two
    # threads (row_halves), the same numbers whatever the thread count (float32 products
    # are not: OpenBLAS splits their sums by thread); and L-BFGS-B's own vector operations
    # (scipy's OpenBLAS) no longer fight numpy's spinning threads (28 ms -> 4 ms a step)
    with threadpool_limits(limits=1, user_api="blas"):
        theta = minimize(loss_grad, theta0, method="L-BFGS-B", jac=True,
                         options=dict(maxiter=max_iter), tol=tol).x

    p = X1 @ theta.reshape(d + 1, C)  # L* and h in float64 whatever the precision of the search
    pac_opt = objective(loglik(p, y), theta[:kd])  # p becomes the probabilities
    h2 = p - p * p
    # sum over (d, c) of the official pac_grad2 = sum_n |x_n|^2 sum_c h2 + D C / λ + sum(h2)
    h_rows = h2.sum(axis=1)
    h_sum = np.dot(np.einsum("ij,ij->i", X1[:, :d], X1[:, :d]), h_rows) + kd / ldas2 + np.sum(h_rows)
    sigma2_inv = h_sum * ldas2 / kd + _EPS
    s2 = s2_factor / d
    return float(-(pac_opt + 0.5 * kd / ldas2 * s2 * np.log(sigma2_inv)))
