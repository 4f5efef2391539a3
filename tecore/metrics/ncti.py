"""NCTI: neural-collapse-informed transferability index (Wang et al., ICCV 2023).

Pool-level: :func:`ncti_terms` computes the three per-model terms, :func:`combine` turns a
pool's terms into one score per model.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from numbers import Integral

from ._backend import DEVICE, backend
from ._checks import Interval, check_features_labels, validate_params
from ._lda import lda_svd
from ._pca import pca_scores
from ._pool_minmax import check_terms, minmax

__all__ = ["ncti_terms", "combine", "TERMS"]

#: term names returned by :func:`ncti_terms`, in order
TERMS = ("seli", "ncc", "vc")


def _pca_scores_on(X, n_components, device):
    """:func:`tecore.metrics._pca.pca_scores` (scores and explained variances) with the Gram
    matrix and its eigendecomposition in torch float64 on ``device``; the component signs
    are not fixed (the NCTI terms do not depend on them)."""
    be = backend(device)
    xp = be.xp
    n, d = X.shape
    k = max(1, min(int(n_components), n, d))
    with be.threads():
        Xb = be.asarray(X)
        Xc = Xb - xp.mean(Xb, axis=0)
        w, V = xp.linalg.eigh(Xc.T @ Xc if n >= d else Xc @ Xc.T)
        w, V = xp.flip(w[-k:], axis=0), xp.flip(V[:, -k:], axis=1)
        w = xp.clip(w, 0.0, None)
        if n < d:  # V holds left singular vectors: map them to loadings
            s = xp.sqrt(w)
            V = (Xc.T @ V) / xp.where(s > 0, s, xp.ones_like(s))
        return be.to_numpy(Xc @ V), be.to_numpy(w) / max(n - 1, 1)


@validate_params({"n_components": [Interval(Integral, 1, None)],
                  "n_shrinkage_components": [Interval(Integral, 1, None)], **DEVICE}, method="ncti")
def ncti_terms(features, labels, *, n_components: int = 64, n_shrinkage_components: int = 32,
               device=None) -> dict:
    r"""NCTI's three per-model terms ``{"seli", "ncc", "vc"}`` (BUserName/NCTI ``metrics.py``
    ``NCTI_Score``, which returns them as ``(all_lowfeat_nuc, sfda_score, log(class_pred_nuc))``).

    Steps, following the official code:

    1. PCA of the features to ``n_components`` (64) dimensions, giving ``Z`` and the
       explained variances :math:`\lambda_k` (``ddof=1``).
    2. A linear discriminant analysis of ``Z`` (scikit-learn ``LinearDiscriminantAnalysis``,
       as the official code): with shrinkage
       :math:`s = \max(\exp(-\sum_{k\le 32}\lambda_k), 10^{-10})` and ``solver="eigen"``, or,
       when ``s`` hits the floor :math:`10^{-10}`, ``solver="svd"`` without shrinkage.
    3. The terms:

       * ``seli`` (simplex encoded label interpolation geometry; printed "seli" by the
         official script): nuclear norm of the centred LDA projection
         :math:`\|H - \bar H\|_*`, :math:`H = \mathrm{LDA.transform}(Z)` (N x min(C-1, d));
         higher = better;
       * ``ncc`` (nearest-centre classifier; "ncc"): mean LDA posterior of the true class,
         :math:`\frac1N\sum_i p(y_i|z_i)`; higher = better;
       * ``vc`` (within-class variability collapse; "vc"):
         :math:`\log\sum_c \|P_c\|_*`, :math:`P_c` the (n_c x C) posteriors of class ``c``'s
         samples; *lower* = more collapsed = better (it enters :func:`combine` with a minus
         sign, as in the official evaluation scripts).

    Parameters
    ----------
    features : (N, D) array; labels : (N,) class labels (>= 2 classes).
    n_components : int, default 64 (official ``PCA(n_components=64)``); clipped to
        ``min(N, D)`` (scikit-learn raises there).
    n_shrinkage_components : int, default 32 (official ``explained_variance_[:32]``).
    device : None (default: numpy/scipy) or a torch device (``"cuda"``, ``"cpu"``, ...): the
        PCA (the Gram matrix and its eigendecomposition, the dominant cost) in torch float64
        there (:mod:`tecore.metrics._backend`); the discriminant and the terms stay in
        scikit-learn/numpy. Equal to the numpy path to ~1e-8 relative.

    Returns
    -------
    dict of floats ``{"seli", "ncc", "vc"}``; combine a pool with :func:`combine`.

    Complexity: O(N D min(N, D)) for the PCA (bound by its two LAPACK/BLAS calls: the
    ``dsyrk`` Gram matrix and the partial ``dsyevr`` of the leading 64 eigenpairs; measured
    3000 x 2048: ncti 4.2 s, the eigendecomposition alone 2.5 s, with the Gram 4.05 s, on a
    loaded 2-core machine, one thread), O(N d^2 + N C d) for the LDA and
    O(sum_c n_c C min(n_c, C)) for the class nuclear norms.

    Speed: float32 features are read in place and centred in float64 in one pass (the same
    numbers as a float64 copy). When the shrinkage hits its floor (the usual case: the
    official ``solver="svd"``) the LDA is computed in closed form on the PCA scores
    (:func:`_lda_svd`: scikit-learn's steps with the N x d SVD replaced by a d x d Gram
    eigendecomposition; equal to scikit-learn to ~1e-14; scikit-learn itself when the
    within-class scatter is rank-deficient or C < 3), and ``seli``'s nuclear norm comes from
    a (C-1) x (C-1) Gram matrix. N = 50 000, D = 768, C = 100, one thread, loaded machine:
    1.95 s -> 1.14 s (official 0.87 s), of which the PCA (Gram, partial eigh, scores)
    ~0.9 s and the class nuclear norms ~0.15 s (an SVD each: the posteriors' small singular
    values need it).

    Differences from the official code: the PCA is exact, in float64 (the official
    ``PCA(n_components=64)`` uses scikit-learn's ``svd_solver="auto"``, which for inputs
    larger than 500 x 500 is a *randomized* SVD with no fixed seed, so the official terms
    vary slightly from run to run; on inputs where scikit-learn picks an exact solver the
    values agree). The LDA is fitted on the PCA scores exactly as officially; its results
    do not depend on the signs of the principal components.
    """
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    from scipy.linalg import LinAlgError

    # read in place (no copy; float32 stays float32 until pca_scores centres it in float64)
    low = getattr(features, "dtype", None) == np.float32
    X, y, _, C = check_features_labels(features, labels, method="NCTI", copy=False,
                                       dtype=np.float32 if low else np.float64)
    if device is None:
        Z, ev = pca_scores(X, n_components)
    else:
        Z, ev = _pca_scores_on(np.array(X, dtype=np.float64), n_components, device)  # writable for torch
    if not ev.sum() > 0:
        raise ValueError(
            "ncti: the features are constant (every sample has the same feature vector), so "
            "the PCA has no variance and the discriminant is undefined; check the extraction."
        )
    s = max(float(np.exp(-ev[:n_shrinkage_components].sum())), 1e-10)
    fast = _lda_svd(Z, y, C) if s == 1e-10 else None  # the official solver="svd", closed form
    if fast is not None:
        H, P = fast
    else:
        if s == 1e-10:
            clf = LinearDiscriminantAnalysis(solver="svd")
        else:
            clf = LinearDiscriminantAnalysis(solver="eigen", shrinkage=s)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Variables are collinear")
            try:
                H = clf.fit_transform(Z, y)
                P = clf.predict_proba(Z)
            except LinAlgError:
                raise ValueError(
                    "ncti: the within-class covariance of the PCA scores is singular (constant or "
                    "duplicated features within every class; explained variance "
                    f"{float(ev.sum()):.3g}), so scikit-learn's discriminant cannot be fitted. "
                    "Remove constant features or use more varied samples per class."
                ) from None
    H = H - H.mean(axis=0, keepdims=True)
    seli = _nuclear_norm(H) if H.size else 0.0
    n = Z.shape[0]
    ncc = float(np.mean(P[np.arange(n), y]))
    order = np.argsort(y, kind="stable")
    bounds = np.searchsorted(y[order], np.arange(C + 1))
    nuc = 0.0
    from threadpoolctl import threadpool_limits

    # C small SVDs (n_c x C), the official np.linalg.norm(P_c, "nuc"): posteriors that put
    # almost no mass on some classes have singular values the Gram shortcut of
    # _nuclear_norm cannot resolve (it fell back to the SVD for 85 of 100 classes at L),
    # so the SVD directly; one BLAS thread each is faster than two (L: 0.10 s vs 0.18 s)
    with threadpool_limits(limits=1, user_api="blas"):
        for c in range(C):  # loop over classes, not samples
            nuc += float(np.sum(np.linalg.svd(P[order[bounds[c]:bounds[c + 1]]], compute_uv=False)))
    return {"seli": seli, "ncc": ncc, "vc": float(np.log(nuc))}


def _lda_svd(Z: np.ndarray, y: np.ndarray, C: int, tol: float = 1e-4):
    """scikit-learn's ``LinearDiscriminantAnalysis(solver="svd").fit(Z, y)`` followed by
    ``transform(Z)`` and ``predict_proba(Z)`` (the official call when the shrinkage hits its
    floor), fitted by :func:`tecore.metrics._lda.lda_svd` (the within-class SVD of the N x d
    scaled residuals replaced by the eigendecomposition of their d x d Gram matrix):
    ``(H, P)``, equal to scikit-learn's to ~1e-12 (up to the signs of H's columns, which no
    term depends on). ``None`` where that is not guaranteed (fewer than 3 classes, the
    within-class Gram matrix not well conditioned or near scikit-learn's rank threshold
    ``tol``): the caller then runs scikit-learn itself.

    Then scikit-learn's ``coef``, ``intercept``, ``(Z - xbar) @ scalings_`` and the softmax of
    the decision function."""
    n, d = Z.shape
    if C < 3 or n <= C:
        return None
    fit = lda_svd(Z, y, C, tol=tol, strict=True)
    if fit is None:
        return None  # rank-deficient or ill-conditioned: scikit-learn's SVD decides
    scalings_, means, priors, xbar = fit
    coef = (means - xbar) @ scalings_
    intercept = -0.5 * np.sum(coef ** 2, axis=1) + np.log(priors)
    coef_ = coef @ scalings_.T
    intercept -= xbar @ coef_.T
    H = ((Z - xbar) @ scalings_)[:, :min(C - 1, d)]
    P = Z @ coef_.T + intercept
    P -= P.max(axis=1, keepdims=True)
    np.exp(P, out=P)
    P /= P.sum(axis=1, keepdims=True)
    return H, P


def _nuclear_norm(A: np.ndarray) -> float:
    """Sum of the singular values of ``A`` (the official ``np.linalg.norm(A, ord='nuc')``).

    First from the eigenvalues of the smaller Gram matrix (a ``syrk`` and a small
    ``eigvalsh`` instead of an SVD of the tall matrix: ~10x faster for the N x (C-1)
    projection); that is exact to ~1e-13 relative only while every eigenvalue is above
    ~1e-8 of the largest (a singular value sigma moves by about eps * sigma_max^2 / sigma),
    so below that the SVD is taken, as officially (posteriors that put no mass on some
    classes do)."""
    G = A.T @ A if A.shape[0] >= A.shape[1] else A @ A.T
    w = np.linalg.eigvalsh(G)
    if w.size and w[0] >= 1e-8 * w[-1]:
        return float(np.sum(np.sqrt(w)))
    return float(np.sum(np.linalg.svd(A, compute_uv=False)))


def combine(terms: pd.DataFrame) -> pd.Series:
    r"""NCTI score of every model in a pool:
    ``minmax(seli) + minmax(ncc) - minmax(vc)``.

    Each term is min-max normalised over the models of the pool, then summed with the
    official signs (BUserName/NCTI ``evaluate_metric_group1_cpu.py``:
    ``score = mcscore + mascore - cpscore``, i.e. ncc + seli - vc; the within-class
    variability term enters negatively because a smaller nuclear norm means more collapse).

    Parameters
    ----------
    terms : DataFrame, one row per model (index = model names), columns ``"seli"``,
        ``"ncc"``, ``"vc"`` (the dicts from :func:`ncti_terms`); extra columns are ignored.

    Returns
    -------
    Series (index = models, name ``"ncti"``), higher = better, in [-1, 2].

    A pool of fewer than two models raises ``ValueError`` (min-max over one value is
    undefined). A term that is constant over the pool contributes 0 to every model (the
    official script divides by zero there).
    """
    T = check_terms(terms, TERMS, method="NCTI")
    out = minmax(T["seli"]) + minmax(T["ncc"]) - minmax(T["vc"])
    return pd.Series(out, index=T.index, name="ncti")
