"""N-LEEP: LEEP with a Gaussian mixture on the features in place of the source classifier.

Li et al., *Ranking neural checkpoints*, CVPR 2021. Implementations read: google-research
``stable_transfer/transferability/nleep.py``, TencentARC/SFDA and
DovileDo/transferability-in-medical-imaging (``NLEEP`` in ``metrics.py``).
"""
from __future__ import annotations

import numpy as np

from tecore.metrics._checks import check_features_labels, check_positive_int

__all__ = ["nleep"]


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
    if not 0 < pca_variance <= 1:
        raise ValueError(f"pca_variance must be in (0, 1], got {pca_variance!r}")
    k = check_positive_int(components_per_class, "components_per_class") * c.n_classes
    if k > c.X.shape[0]:
        raise ValueError(
            f"nleep fits {k} mixture components ({components_per_class} per class) but has only "
            f"{c.X.shape[0]} samples; lower components_per_class or use more samples."
        )
    n_comp = pca_variance if pca_variance < 1 else None
    Z = PCA(n_components=n_comp, svd_solver="full").fit_transform(c.X)
    gmm = GaussianMixture(n_components=k, covariance_type=covariance_type, random_state=random_state,
                          max_iter=max_iter, reg_covar=1e-6).fit(Z)
    post = gmm.predict_proba(Z)  # p(z|x), N x k
    onehot = np.zeros((c.X.shape[0], c.n_classes))
    onehot[np.arange(c.X.shape[0]), c.y] = 1.0
    joint = onehot.T @ post / c.X.shape[0]
    pz = joint.sum(axis=0)
    cond = np.divide(joint, pz, out=np.zeros_like(joint), where=pz > 0)
    eep = np.einsum("nk,nk->n", post, cond[c.y])
    if not log:
        return float(eep.mean())
    return float(np.mean(np.log(np.maximum(eep, np.finfo(float).tiny))))
