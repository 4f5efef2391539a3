"""N-LEEP: LEEP with a Gaussian mixture on the features in place of the source classifier.

Li et al., *Ranking neural checkpoints*, CVPR 2021. Implementations read: google-research
``stable_transfer/transferability/nleep.py``, TencentARC/SFDA and
DovileDo/transferability-in-medical-imaging (``NLEEP`` in ``metrics.py``).
"""
from __future__ import annotations

import numpy as np

from numbers import Integral, Real

from tecore.metrics._checks import (BOOLEAN, RANDOM_STATE, Interval, Options, check_features_labels,
                                    finite_result, validate_params)
from tecore.metrics._pca import gmm_predict_proba, pca_variance_scores
from tecore.metrics._subsample import MAX_FIT_SAMPLES, stratified_subsample

__all__ = ["nleep"]


@validate_params({"pca_variance": [Interval(Real, 0, 1, closed="right")],
                  "components_per_class": [Interval(Integral, 1, None)],
                  "covariance_type": [Options(("full", "tied", "diag", "spherical"))],
                  "random_state": [None, RANDOM_STATE], "log": [BOOLEAN],
                  "max_iter": [Interval(Integral, 1, None)],
                  "max_fit_samples": [None, Interval(Integral, 1, None)]}, method="nleep")
def nleep(features, labels, *, pca_variance: float = 0.8, components_per_class: int = 5,
          covariance_type: str = "full", random_state: int | None = 0, log: bool = True,
          max_iter: int = 100, max_fit_samples: int | None = MAX_FIT_SAMPLES) -> float:
    """N-LEEP (Li et al. 2021): reduce the features by PCA to the components that explain
    ``pca_variance`` of the variance, fit a Gaussian mixture with ``components_per_class``·C
    components, and compute LEEP with the mixture's posteriors p(z | x) as the "source
    classifier":

    .. math:: \\frac1n\\sum_i \\log\\sum_z \\hat P(y_i\\mid z)\\,p(z\\mid x_i)

    Parameters
    ----------
    pca_variance : fraction of variance kept by PCA (0.8 in the paper and all repositories).
    components_per_class : mixture components per target class (5).
    covariance_type : scikit-learn ``GaussianMixture`` covariance (the repositories use the
        default, ``"full"``).
    random_state : seeds the mixture's k-means initialisation (the repositories leave it
        unseeded, so their values vary from run to run; tecore is deterministic). PCA is
        exact (``svd_solver="full"``).
    max_iter : EM iterations of the mixture (scikit-learn's default, as the repositories).
    max_fit_samples : the largest number of samples the mixture is *fitted* on. Up to this
        size (default 5000) the estimator is the official one: the mixture is fitted on all
        N samples. Above it, the mixture is fitted on a class-stratified random subsample of
        ``max_fit_samples`` samples (each class in proportion, at least
        ``components_per_class`` samples or all of its samples; drawn with ``random_state``)
        and the posteriors p(z | x) are then computed for all N samples, as is the rest of the
        score. The PCA is always exact on all N samples. ``None`` always fits on all N (the
        official estimator; at N = 50 000, C = 100 a single EM iteration of the 500-component
        full-covariance mixture takes about a minute here, and EM runs up to 100 of them).
        Measured effect on the value where the exact fit runs: see
        ``benchmarks/README.md`` (N-LEEP subsampled fit).
    log : ``True`` (the paper: LEEP is a log-likelihood). ``False`` reproduces the SFDA and
        medical-paper code, which return the mean of the expected empirical prediction
        without the log — use it to compare with scores published by those repositories.

    Higher = better. Cost is dominated by the mixture: O(iterations · n_fit · 5C · d²) with d
    the PCA dimension and n_fit = min(N, ``max_fit_samples``), plus one posterior pass
    O(N · 5C · d²). The PCA is one eigendecomposition of the smaller Gram matrix (equal to
    scikit-learn's exact ``PCA(svd_solver="full")`` up to the signs of the components, which
    the mixture does not see).
    """
    from sklearn.mixture import GaussianMixture

    c = check_features_labels(features, labels, method="nleep")
    k = int(components_per_class) * c.n_classes
    if k > c.X.shape[0]:
        raise ValueError(
            f"nleep fits {k} mixture components ({components_per_class} per class) but has only "
            f"{c.X.shape[0]} samples; lower components_per_class or use more samples."
        )
    Z = pca_variance_scores(c.X, pca_variance)
    fit = stratified_subsample(c.y, c.n_classes, max_fit_samples, components_per_class, random_state)
    if fit is not None and len(fit) < k:
        raise ValueError(
            f"nleep: the stratified subsample for the mixture (max_fit_samples={max_fit_samples}) holds "
            f"{len(fit)} samples, fewer than the {k} mixture components (some classes have fewer than "
            f"{components_per_class} samples); raise max_fit_samples or set it to None."
        )
    try:
        gmm = GaussianMixture(n_components=k, covariance_type=covariance_type, random_state=random_state,
                              max_iter=max_iter, reg_covar=1e-6).fit(Z if fit is None else Z[fit])
    except ValueError as exc:
        if "reg_covar" not in str(exc):
            raise
        distinct = len(np.unique(c.X, axis=0))
        raise ValueError(
            f"nleep: the Gaussian mixture ({k} components) collapsed: some components sit on "
            f"duplicated samples ({distinct} distinct feature vectors among {c.X.shape[0]}) and "
            f"their covariance is not positive definite at the features' scale (largest |value| "
            f"{float(np.abs(c.X).max()):.3g}). Standardise the features, lower "
            "components_per_class, or remove duplicated samples."
        ) from None
    post = gmm_predict_proba(gmm, Z)  # p(z|x), N x k
    onehot = np.zeros((c.X.shape[0], c.n_classes))
    onehot[np.arange(c.X.shape[0]), c.y] = 1.0
    joint = onehot.T @ post / c.X.shape[0]
    pz = joint.sum(axis=0)
    cond = np.divide(joint, pz, out=np.zeros_like(joint), where=pz > 0)
    eep = np.einsum("nk,nk->n", post, cond[c.y])
    if not log:
        return finite_result(eep.mean(), method="nleep", hint="standardise the features.")
    return finite_result(np.mean(np.log(np.maximum(eep, np.finfo(float).tiny))), method="nleep",
                         hint="standardise the features.")
