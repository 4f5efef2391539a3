"""The medical label-prediction score S_LP and its pool-level combination with S_FU.

Juodelyte et al., *On dataset transferability in medical image classification*, arXiv
2412.20172 (``../shared/papers/002_d8c33938ac5150ea.txt``); official code
DovileDo/transferability-in-medical-imaging, ``src/metrics.py`` (``LP_Score``) and the two
result notebooks (normalisation and product).

S_FU — the ratio of gradient norms of the second to the first convolution after one
backward pass of a triplet-margin loss — needs the network and the images, so it is computed
at extraction time by :func:`tecore.extract.gradient_ratio` and enters here as the number
``grad_ratio``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from numbers import Integral

from tecore.metrics._checks import (BOOLEAN, RANDOM_STATE, Interval, check_features_labels, plain,
                                    validate_params)
from tecore.metrics._lda import lda_svd
from tecore.metrics._pool_minmax import check_terms
from tecore.metrics._shared import shared
from tecore.metrics._subsample import stratified_subsample

__all__ = ["lp", "lp_fu_terms", "combine_lp_fu"]

#: default ``max_fit_samples`` of :func:`lp`: above it NCA is fitted on a stratified subsample
MAX_FIT_SAMPLES = 5000


@shared  # lp_fu's terms reuse the lp of the same pool (tecore.metrics._shared)
@validate_params({"n_components": [Interval(Integral, 1, None)], "n_neighbors": [Interval(Integral, 1, None)],
                  "random_state": [None, RANDOM_STATE], "leave_one_out": [BOOLEAN],
                  "max_iter": [Interval(Integral, 1, None)],
                  "max_fit_samples": [None, Interval(Integral, 2, None)]}, method="lp")
def lp(features, labels, *, n_components: int = 50, n_neighbors: int = 5, random_state: int = 42,
       leave_one_out: bool = False, max_iter: int = 50,
       max_fit_samples: int | None = MAX_FIT_SAMPLES) -> float:
    """Label-prediction score S_LP (Juodelyte et al., eq. 2): NCA embedding, then the mean
    5-nearest-neighbour probability of each sample's true class.

    .. math:: S_{LP} = \\frac1n \\sum_{i=1}^n p(y_i \\mid \\tilde x_i),\\qquad
              \\tilde x = \\mathrm{NCA}_{50}(x)

    Parameters
    ----------
    features : (N, D) penultimate features of the target set.
    labels : (N,) target labels.
    n_components : NCA output dimension (official: 50); clipped to D when D is smaller
        (the official code raises there).
    n_neighbors : k of the k-NN classifier (official: 5).
    random_state : NCA's initialisation seed (official: 42).
    leave_one_out : ``False`` (official): the k-NN classifier is fitted on the embedded
        samples and asked about the same samples, so every sample is its own first
        neighbour (weight 1/k on its own label). ``True`` excludes each sample from its own
        neighbourhood (k other samples), an estimate the paper's eq. 2 also admits.
    max_iter : NCA iterations (scikit-learn's default, as the official code).
    max_fit_samples : the largest number of samples NCA is *fitted* on. Up to this size
        (default 5000) the score is the official one (NCA fitted on all N). Above it, NCA is
        fitted on a class-stratified random subsample of ``max_fit_samples`` samples (each
        class in proportion, at least ``n_neighbors + 1`` of its samples or all of them;
        drawn with ``random_state``), the learnt linear map embeds all N samples, and the
        k-NN score is computed on all N as usual (scikit-learn's k-NN works in chunks, so
        memory stays O(N)). ``None`` always fits on all N (the official behaviour;
        scikit-learn's NCA holds several N x N float64 matrices: ~20 GB each at N = 50 000).
        Measured effect on the value: ``benchmarks/README.md`` (S_LP subsampled fit).

    Returns a float in [0, 1]; higher = the pre-trained features predict the target labels
    better. The paper writes a sum over samples; the official code (and tecore) divide by N,
    which does not change rankings within a target.

    Where scikit-learn's ``init="auto"`` picks LDA (``n_components <= C - 1``, as at
    C > 50), tecore computes that same LDA map from an eigendecomposition of the within-class
    Gram matrix (min(N, D) sized) instead of scikit-learn's full SVD of the N x D data, and
    passes it to NCA as ``init`` (equal to scikit-learn's up to row signs, which neither NCA's
    loss nor the k-NN sees; tested). At N = 3000, D = 2048 that SVD was 90% of the time.

    Complexity: NCA is O(n_fit^2 D) time and O(n_fit^2) memory per iteration, n_fit =
    min(N, ``max_fit_samples``) — seconds for a few thousand samples; the k-NN step is
    O(N^2 n_components) time in chunks.
    """
    from sklearn.neighbors import KNeighborsClassifier, NeighborhoodComponentsAnalysis

    c = check_features_labels(features, labels, method="lp")
    k = int(n_neighbors)
    n = c.X.shape[0]
    if n <= k + int(leave_one_out):
        raise ValueError(f"lp needs more than {k + int(leave_one_out)} samples for a {k}-NN score, got {n}")
    nca = NeighborhoodComponentsAnalysis(n_components=min(n_components, c.X.shape[1]),
                                         random_state=random_state, max_iter=max_iter)
    # One BLAS thread: NCA's L-BFGS path depends on the reduction order of its matrix products,
    # so without this the score changes with the machine's thread count (seen: tau_w of lp_fu
    # 0.371 vs 0.476 on one offline target between 1 and 2 threads).
    from threadpoolctl import threadpool_limits

    fit = stratified_subsample(c.y, c.n_classes, max_fit_samples, k + 1, random_state)
    Xf, yf = (c.X, c.y) if fit is None else (c.X[fit], c.y[fit])
    with threadpool_limits(limits=1, user_api="blas"):
        if nca.n_components <= min(Xf.shape[1], len(np.unique(yf)) - 1):
            # scikit-learn's init="auto" is LDA here; the same LDA map from a D x D (or N x N)
            # Gram eigendecomposition instead of a full SVD of the N x D data (3x faster at
            # N = 3000, D = 2048; tests/test_nca.py checks it against scikit-learn's)
            init = _lda_init(Xf, yf, nca.n_components)
            if init.shape[0] == nca.n_components:  # else (rank-deficient) scikit-learn's own path
                nca.set_params(init=init)
        Z = nca.fit(Xf, yf).transform(c.X)
    if not leave_one_out:
        knn = KNeighborsClassifier(n_neighbors=k).fit(Z, c.y)
        prob = knn.predict_proba(Z)
        return float(prob[np.arange(n), np.searchsorted(knn.classes_, c.y)].mean())
    from sklearn.neighbors import NearestNeighbors

    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(Z).kneighbors(Z)
    others = np.array([row[row != i][:k] for i, row in enumerate(idx)])
    return float((c.y[others] == c.y[:, None]).mean())


def _lda_init(X: np.ndarray, y: np.ndarray, n_components: int, tol: float = 1e-4) -> np.ndarray:
    """scikit-learn's ``LinearDiscriminantAnalysis(n_components).fit(X, y).scalings_.T[:n_components]``
    (solver ``"svd"``, the map NCA's ``init="lda"`` starts from), by
    :func:`tecore.metrics._lda.lda_svd` (the within-class SVD replaced by an
    eigendecomposition of the smaller Gram matrix). Equal to scikit-learn's up to the sign of
    each row, which NCA's loss and the k-NN do not see."""
    classes, yi = np.unique(y, return_inverse=True)
    scalings_ = lda_svd(np.asarray(X, dtype=np.float64), yi.reshape(-1), len(classes), tol=tol)[0]
    return scalings_.T[:n_components]


def lp_fu_terms(features, labels, grad_ratio, **lp_kwargs) -> dict:
    """The per-model terms of the medical score: ``{"lp": S_LP, "fu": S_FU}``.

    ``grad_ratio`` is S_FU from :func:`tecore.extract.gradient_ratio` (a positive number).
    Combine a pool's terms with :func:`combine_lp_fu`."""
    try:
        fu = float(grad_ratio)
    except (TypeError, ValueError):
        raise ValueError(f"grad_ratio must be a number (S_FU from tecore.extract.gradient_ratio), "
                         f"got {plain(grad_ratio)!r}") from None
    if not np.isfinite(fu) or fu <= 0:
        raise ValueError(f"grad_ratio must be a positive finite number, got {plain(grad_ratio)!r}")
    return {"lp": lp(features, labels, **lp_kwargs), "fu": fu}


def _normalise(x: pd.Series, inverted: bool) -> pd.Series:
    lo, hi = x.min(), x.max()
    if hi == lo:
        return pd.Series(1.0, index=x.index)  # a constant term carries no ranking information
    return (x - hi) / (lo - hi) if inverted else (x - lo) / (hi - lo)


def combine_lp_fu(terms: pd.DataFrame, *, cross_domain: bool = False) -> pd.Series:
    """Pool-level medical score S = norm(S_LP) x norm(S_FU) (eqs. 5-6), one value per model.

    Parameters
    ----------
    terms : DataFrame, rows = the candidate models (or source datasets) of ONE target,
        columns ``lp`` and ``fu`` (from :func:`lp_fu_terms`).
    cross_domain : ``False``: min-max normalisation ``(x - min)/(max - min)`` (eq. 5), as the
        dataset-transferability experiment. ``True``: the cross-domain variant of eq. 8,
        ``(x - max)/(min - max)``, used by the paper (and its model-level notebook) for
        ImageNet architectures on medical targets — it reverses both terms before the
        product, so *smaller* feature quality and feature update rank higher.

    A term that is constant over the pool normalises to 1 (it then does not change the
    ranking); the official notebooks divide by zero there. Needs at least two models.
    """
    t = check_terms(terms, ("lp", "fu"), method="lp_fu")
    return (_normalise(t["lp"], cross_domain) * _normalise(t["fu"], cross_domain)).rename("lp_fu")
