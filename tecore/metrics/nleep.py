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

__all__ = ["nleep"]


@validate_params({"pca_variance": [Interval(Real, 0, 1, closed="right")],
                  "components_per_class": [Interval(Integral, 1, None)],
                  "covariance_type": [Options(("full", "tied", "diag", "spherical"))],
                  "random_state": [None, RANDOM_STATE], "log": [BOOLEAN],
                  "max_iter": [Interval(Integral, 1, None)]}, method="nleep")
def nleep(features, labels, *, pca_variance: float = 0.8, components_per_class: int = 5,
          covariance_type: str = "full", random_state: int | None = 0, log: bool = True,
          max_iter: int = 100) -> float:
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
    log : ``True`` (the paper: LEEP is a log-likelihood). ``False`` reproduces the SFDA and
        medical-paper code, which return the mean of the expected empirical prediction
        without the log — use it to compare with scores published by those repositories.

    Higher = better. Cost is dominated by the mixture: O(iterations · N · 5C · d²) with d the
    PCA dimension.
    """
    from sklearn.decomposition import PCA
    from sklearn.mixture import GaussianMixture

    c = check_features_labels(features, labels, method="nleep")
    k = int(components_per_class) * c.n_classes
    if k > c.X.shape[0]:
        raise ValueError(
            f"nleep fits {k} mixture components ({components_per_class} per class) but has only "
            f"{c.X.shape[0]} samples; lower components_per_class or use more samples."
        )
    n_comp = pca_variance if pca_variance < 1 else None
    Z = PCA(n_components=n_comp, svd_solver="full").fit_transform(c.X)
    try:
        gmm = GaussianMixture(n_components=k, covariance_type=covariance_type, random_state=random_state,
                              max_iter=max_iter, reg_covar=1e-6).fit(Z)
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
    post = gmm.predict_proba(Z)  # p(z|x), N x k
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
