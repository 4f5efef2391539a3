"""GBC: Gaussian Bhattacharyya Coefficient (Pándy et al., CVPR 2022)."""
from __future__ import annotations

import numpy as np

from numbers import Integral, Real

from ._backend import DEVICE, backend
from ._checks import BOOLEAN, Interval, Options, check_features_labels, validate_params
from ._pca import pca_scores
from ._stats import class_means, class_sums

__all__ = ["gbc", "bhattacharyya_distance"]

_TYPES = ("spherical", "diagonal", "full")


def bhattacharyya_distance(mu1, mu2, cov1, cov2) -> float:
    """Closed-form Bhattacharyya distance between two Gaussians N(mu1, cov1), N(mu2, cov2).

    ``D_B = 1/8 (mu1-mu2)^T S^{-1} (mu1-mu2) + 1/2 ln(|S| / sqrt(|cov1| |cov2|))`` with
    ``S = (cov1 + cov2) / 2`` (Pándy et al. eq. 2). ``cov1``/``cov2`` may be full (d, d)
    matrices, (d,) diagonals or scalars (spherical ``sigma^2 I``). The Bhattacharyya
    coefficient is ``exp(-D_B)``.
    """
    mu1 = np.atleast_1d(np.asarray(mu1, dtype=np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    d = mu1.shape[0]
    c1 = np.asarray(cov1, dtype=np.float64)
    c2 = np.asarray(cov2, dtype=np.float64)
    if c1.ndim == 2:
        S = (c1 + c2) / 2
        diff = mu1 - mu2
        L = np.linalg.cholesky(S)
        z = np.linalg.solve(L, diff)
        logdet = lambda A: np.linalg.slogdet(A)[1]  # noqa: E731
        return float(z @ z / 8 + 0.5 * (logdet(S) - 0.5 * logdet(c1) - 0.5 * logdet(c2)))
    c1 = np.broadcast_to(c1, (d,))
    c2 = np.broadcast_to(c2, (d,))
    S = (c1 + c2) / 2
    return float(np.sum((mu1 - mu2) ** 2 / S) / 8
                 + 0.5 * np.sum(np.log(S) - 0.5 * np.log(c1) - 0.5 * np.log(c2)))


@validate_params({"n_components": [None, Interval(Integral, 1, None)],
                  "gaussian_type": [Options(("spherical", "diagonal", "full"))],
                  "var_floor": [Interval(Real, 0, None, closed="neither")], "official": [BOOLEAN], **DEVICE},
                 method="gbc")
def gbc(
    features,
    labels,
    *,
    n_components: int | None = 64,
    gaussian_type: str = "spherical",
    var_floor: float = 1e-4,
    official: bool = False,
    device=None,
) -> float:
    r"""Gaussian Bhattacharyya Coefficient (GBC): negative total overlap of per-class Gaussians.

    The features are reduced to ``n_components`` principal components; each target class
    ``c`` is modelled as a Gaussian :math:`N(\mu_c, \Sigma_c)` with the class mean and the
    (maximum-likelihood, ``ddof=0``) class covariance; the pairwise Bhattacharyya distance
    (Pándy et al., eq. 2)

    .. math:: D_B(c_i, c_j) = \tfrac18 (\mu_i-\mu_j)^\top \Sigma^{-1} (\mu_i-\mu_j)
              + \tfrac12 \ln \frac{|\Sigma|}{\sqrt{|\Sigma_i||\Sigma_j|}},
              \quad \Sigma = \tfrac12(\Sigma_i + \Sigma_j)

    gives the Bhattacharyya coefficient :math:`BC = e^{-D_B}`, and (eq. 3)

    .. math:: \mathrm{GBC} = -\sum_{i \ne j} BC(c_i, c_j)

    summed over *ordered* pairs (each unordered pair counts twice, as in eq. 3 and the
    official code). Higher (closer to 0) = better separated classes = better transfer.
    The value lies in ``[-C(C-1), 0]``.

    Parameters
    ----------
    features : (N, D) array.
    labels : (N,) class labels (any hashable values).
    n_components : int or None, default 64
        PCA dimension (paper Sect. 3.3 "PCA dimensionality reduction": 64; the official
        ``transfer_experiment.py`` applies ``PCA(n_components, svd_solver='full')``).
        Clipped to ``min(N, D)``; ``None`` skips the PCA.
    gaussian_type : {"spherical", "diagonal", "full"}, default "spherical"
        Covariance model (paper Sect. 3.3; spherical is the paper's default). Spherical uses
        :math:`\sigma_c^2 I` with :math:`\sigma_c^2` the mean of the per-dimension variances;
        diagonal the per-dimension variances; full the full class covariance (not in the
        official code; the paper's ablation mentions it).
    var_floor : float, default 1e-4
        Variances below this are raised to it (official ``tf.maximum(variance, 1e-4)``); for
        ``"full"`` the eigenvalues of each class covariance are floored the same way.
    official : bool, default False
        Reproduce the official ``gbc.py`` for ``gaussian_type="spherical"``: it computes the
        log-determinant term on the *scalar* averaged variance, i.e.
        :math:`\tfrac12(\ln\bar\sigma^2 - \tfrac12\ln\sigma_i^2 - \tfrac12\ln\sigma_j^2)`,
        which is the determinant term of a 1-dimensional Gaussian, not of
        :math:`\sigma^2 I_d` (eq. 2 gives ``d`` times that). The default uses eq. 2 exactly.
        No effect for the other types (the official code agrees with eq. 2 there).
    device : None or a torch device
        ``None``: numpy (the reference); a torch device (``"cuda"``, ``"cpu"``): the same
        arithmetic in torch float64 on it (:mod:`tecore.metrics._backend`; the PCA is then a
        full ``eigh`` of the Gram matrix, torch having no partial one).

    Returns
    -------
    float, higher is better.

    Complexity (the dominant call is the PCA's Gram matrix ``syrk`` at large N, its partial
    ``eigh`` — LAPACK ``syevr``, the top ``n_components`` pairs — at large D): O(N D min(N, D)) for the PCA, O(N d) for the class statistics, O(C^2 d)
    for diagonal/spherical pairs and O(C^2 d^3) for full.

    Differences from the official code (google-research ``stable_transfer/transferability/
    gbc.py``, ``transfer_experiment.py``, ``features_targets_utils.py``):

    * float64 throughout (official: PCA output cast to float32, TF float32 arithmetic);
    * the spherical log-determinant bug described under ``official`` is fixed by default;
    * ``n_components`` larger than ``min(N, D)`` is clipped (scikit-learn raises);
    * ``"full"`` covariance is an addition.
    """
    b = backend(device)
    xp = b.xp
    X, y, _, C = check_features_labels(features, labels, method="GBC")
    with b.threads():
        X = b.asarray(X)
        yb = b.asarray(y)
        if n_components is not None:
            X, _ = pca_scores(X, n_components)
        n, d = X.shape
        means, counts = class_means(X, y, C)
        R = X - means[yb]  # within-class residuals

        if gaussian_type == "full":
            BD = _full_pairwise(R, yb, means, counts, var_floor, xp)
        else:
            var = class_sums(R * R, y, C) / counts[:, None]
            var = xp.clip(var, min=var_floor)
            if gaussian_type == "spherical":
                s = xp.mean(var, axis=1)  # (C,)
                S = (s[:, None] + s[None, :]) / 2
                sq = xp.sum(means**2, axis=1)
                dist2 = xp.clip(sq[:, None] + sq[None, :] - 2 * means @ means.T, min=0.0)
                logterm = xp.log(S) - 0.5 * xp.log(s)[:, None] - 0.5 * xp.log(s)[None, :]
                scale = 1.0 if official else float(d)
                BD = dist2 / S / 8 + 0.5 * scale * logterm
            else:
                BD = _diag_pairwise(means, var, xp)
        eye = b.asarray(np.eye(C, dtype=bool))
        return float(-xp.sum(xp.where(eye, 0.0, xp.exp(-BD))))


def _diag_pairwise(means, var, xp, chunk: int = 64):
    C = means.shape[0]
    logv = xp.log(var)
    rows = []
    for a in range(0, C, chunk):  # chunks over classes bound memory to chunk*C*d
        b = slice(a, min(a + chunk, C))
        S = (var[b, None, :] + var[None, :, :]) / 2
        diff2 = (means[b, None, :] - means[None, :, :]) ** 2
        rows.append(xp.sum(diff2 / S, axis=2) / 8
                    + 0.5 * xp.sum(xp.log(S) - 0.5 * logv[b, None, :] - 0.5 * logv[None, :, :], axis=2))
    return xp.concat(rows, axis=0)


def _full_pairwise(R, y, means, counts, var_floor, xp, chunk: int = 256):
    C, d = means.shape
    covs = []
    for c in range(C):  # loop over classes (not samples)
        Rc = R[y == c]
        covs.append(Rc.T @ Rc / counts[c])
    w, Q = xp.linalg.eigh(xp.stack(covs))
    w = xp.clip(w, min=var_floor)
    covs = (Q * w[:, None, :]) @ xp.permute_dims(Q, (0, 2, 1))
    logdet = xp.sum(xp.log(w), axis=1)
    iu, ju = np.triu_indices(C, 1)
    BD = xp.zeros((C, C), dtype=means.dtype, device=getattr(means, "device", None))
    for a in range(0, iu.size, chunk):
        i, j = iu[a:a + chunk], ju[a:a + chunk]
        S = (covs[i] + covs[j]) / 2
        L = xp.linalg.cholesky(S)
        diff = (means[i] - means[j])[:, :, None]
        z = xp.linalg.solve(L, diff)[:, :, 0]
        ld = 2 * xp.sum(xp.log(xp.linalg.diagonal(L)), axis=1)
        val = xp.sum(z * z, axis=1) / 8 + 0.5 * (ld - 0.5 * logdet[i] - 0.5 * logdet[j])
        BD[i, j] = val
        BD[j, i] = val
    return BD
