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
from tecore.metrics._stats import _TINY, softmax_flushed_
from tecore.metrics._pool_minmax import check_terms
from tecore.metrics._shared import shared
from tecore.metrics._subsample import MAX_FIT_SAMPLES, stratified_subsample

__all__ = ["lp", "lp_fu_terms", "combine_lp_fu"]


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
        memory stays O(N)). ``None`` always fits on all N (the official behaviour): O(N)
        memory in tecore's NCA (scikit-learn's holds several N x N float64 matrices, ~20 GB
        each at N = 50 000) but O(N^2) time per iteration (100x the default fit there).
        Measured effect on the value: ``benchmarks/README.md`` (S_LP subsampled fit).

    Returns a float in [0, 1]; higher = the pre-trained features predict the target labels
    better. The paper writes a sum over samples; the official code (and tecore) divide by N,
    which does not change rankings within a target.

    NCA is scikit-learn's ``NeighborhoodComponentsAnalysis(n_components, random_state,
    max_iter)`` with its ``init="auto"``, fitted by tecore's own loss and gradient under the
    same scipy L-BFGS-B call (:func:`_nca_fit`), then ``X @ components_.T``:

    * the starting map: where ``init="auto"`` picks LDA (``n_components <= C - 1``, as at
      C > 50), the same LDA map from a Cholesky factor (N > D, well conditioned) or an
      eigendecomposition of the within-class Gram matrix instead of scikit-learn's full SVD
      of the N x D data (equal up to row signs, which neither NCA's loss nor the k-NN sees;
      tested); at N = 3000, D = 2048 that SVD was 90% of the time;
    * the loss and gradient (:func:`_nca_loss_grad`): scikit-learn's formulas in blocks of
      rows, two half-sets of rows on two threads, and probabilities below the smallest
      normal float64 set to 0 (Intel CPUs compute with subnormal numbers through a slow
      microcode path: 10-25x slower ``exp`` and matrix products). Equal to scikit-learn's
      to rounding (1e-12 relative, tested); since 50 L-BFGS steps amplify rounding
      differences, the fitted map matches scikit-learn's to ~1e-5 of its scale where the
      optimisation has not converged, like scikit-learn's own fit between two BLAS thread
      counts. Measured (one BLAS thread, Intel Xeon, 2 cores): N = 1100, D = 512:
      3.7 s -> 0.8 s; a 5000-sample fit (the subsample at N = 50 000): 67 s -> 22 s.

    Complexity: NCA is O(n_fit^2 D) time per iteration and O(n_fit) memory beyond the
    features, n_fit = min(N, ``max_fit_samples``) — seconds for a few thousand samples; the
    k-NN step is O(N^2 n_components) time in chunks.
    """
    from sklearn.neighbors import KNeighborsClassifier

    c = check_features_labels(features, labels, method="lp")
    k = int(n_neighbors)
    n = c.X.shape[0]
    if n <= k + int(leave_one_out):
        raise ValueError(f"lp needs more than {k + int(leave_one_out)} samples for a {k}-NN score, got {n}")
    n_out = min(n_components, c.X.shape[1])
    # One BLAS thread: NCA's L-BFGS path depends on the reduction order of its matrix products,
    # so without this the score changes with the machine's thread count (seen: tau_w of lp_fu
    # 0.371 vs 0.476 on one offline target between 1 and 2 threads).
    from threadpoolctl import threadpool_limits

    fit = stratified_subsample(c.y, c.n_classes, max_fit_samples, k + 1, random_state)
    Xf, yf = (c.X, c.y) if fit is None else (c.X[fit], c.y[fit])
    with threadpool_limits(limits=1, user_api="blas"):
        components = _nca_fit(Xf, yf, _nca_init(Xf, yf, n_out, random_state), max_iter)
        Z = c.X @ components.T  # scikit-learn's transform
    if not leave_one_out:
        knn = KNeighborsClassifier(n_neighbors=k).fit(Z, c.y)
        prob = knn.predict_proba(Z)
        return float(prob[np.arange(n), np.searchsorted(knn.classes_, c.y)].mean())
    from sklearn.neighbors import NearestNeighbors

    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(Z).kneighbors(Z)
    others = np.array([row[row != i][:k] for i, row in enumerate(idx)])
    return float((c.y[others] == c.y[:, None]).mean())


def _nca_init(X: np.ndarray, y: np.ndarray, n_components: int, random_state) -> np.ndarray:
    """scikit-learn's ``NeighborhoodComponentsAnalysis(init="auto")`` starting map
    (``_initialize``): LDA when ``n_components <= min(D, C - 1)``, else PCA when
    ``n_components < min(D, N)`` (``PCA(n_components, random_state=check_random_state(
    random_state))``, as scikit-learn), else the identity. The LDA map is tecore's
    (:func:`_lda_init`), scikit-learn's own where that one is rank-deficient."""
    from sklearn.utils import check_random_state

    n, d = X.shape
    n_classes = len(np.unique(y))
    if n_components <= min(d, n_classes - 1):
        init = _lda_init(X, y, n_components)
        if init.shape[0] == n_components:
            return init
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        return LinearDiscriminantAnalysis(n_components=n_components).fit(X, y).scalings_.T[:n_components]
    if n_components < min(d, n):
        from sklearn.decomposition import PCA

        return PCA(n_components=n_components, random_state=check_random_state(random_state)).fit(X).components_
    return np.eye(n_components, d)


def _nca_fit(X: np.ndarray, y: np.ndarray, init: np.ndarray, max_iter: int, tol: float = 1e-5) -> np.ndarray:
    """``components_`` of scikit-learn's ``NeighborhoodComponentsAnalysis(init=init,
    max_iter=max_iter, tol=tol).fit(X, y)``: the same L-BFGS-B call (scipy ``minimize``,
    ``jac=True``, ``tol``, ``maxiter``) on the same loss and gradient (:func:`_nca_loss_grad`:
    computed in blocks of rows, values below the smallest normal float64 set to zero).
    ``X`` float64 (N, D); ``init`` (d, D)."""
    from scipy.optimize import minimize

    X = np.asarray(X, dtype=np.float64)
    res = minimize(_nca_loss_grad, np.ravel(init), args=(X, np.asarray(y)), method="L-BFGS-B", jac=True,
                   tol=tol, options={"maxiter": max_iter})
    return res.x.reshape(-1, X.shape[1])


def _nca_loss_grad(flat: np.ndarray, X: np.ndarray, y: np.ndarray):
    """scikit-learn's ``NeighborhoodComponentsAnalysis._loss_grad_lbfgs(..., sign=-1)``: the
    negated NCA objective (expected number of correctly classified samples) and its gradient.

    The same formulas (scikit-learn's ``_euclidean_distances`` for the squared distances, its
    ``softmax``, ``W = p_ij [y_i = y_j] - p_ij p_i``, gradient
    ``2 E^T (W + W^T - diag(colsum W)) X``), computed in blocks of rows of the N x N
    matrices (about 4 MB each) instead of six whole N x N arrays: memory O(N) and a few
    passes over cache-sized blocks (N = 5000: 0.25 s per evaluation against scikit-learn's
    1.1 s on one thread). ``E^T W^T`` is accumulated as ``(W E)^T`` block by block. Equal to
    scikit-learn's to rounding (tested to 1e-12 relative); the summation order differs.

    Values below the smallest normal float64 (~2.2e-308) are set to 0: probabilities whose
    softmax argument is below ``log(tiny * N)`` (subnormal, or subnormal once divided by the
    row sum, at most N), and weighted probabilities smaller than ``tiny`` in magnitude (in the
    rows where they can occur, ``p_i < s_i / N``). Far-apart samples give such values by the
    thousand, and Intel CPUs compute with subnormal numbers through a slow microcode path
    (the ``exp`` and the two matrix products slowed down 12x and 24x at N = 1100; AMD EPYC
    barely notices). A subnormal term cannot change a sum of normal numbers above ~1e-292.

    ``y``: the labels (scikit-learn passes the N x N class-equality mask instead)."""
    n, d = X.shape
    A = flat.reshape(-1, d)
    E = np.dot(X, A.T)  # (N, n_components)
    sq = np.einsum("ij,ij->i", E, E)
    b = max(16, min(n, (1 << 19) // n))  # rows per block: ~4 MB of float64
    WE = np.empty_like(E)  # W E, filled by row blocks
    starts = list(range(0, n, b))
    half = (len(starts) + 1) // 2
    parts = [starts[:half], starts[half:]]  # two fixed halves of the rows, summed in this order
    run = lambda st: _nca_blocks(E, sq, y, st, b, WE)  # noqa: E731
    if n * n >= _PARALLEL_MIN_PAIRS and parts[1]:
        # on two threads (numpy and BLAS release the GIL): the same numbers as one after the other
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(2) as ex:
            out = list(ex.map(run, parts))
    else:
        out = [run(st) for st in parts]
    (l0, ETW, c0), (l1, ETW1, c1) = out
    loss = l0 + l1
    ETW = ETW + ETW1
    colsum = c0 + c1
    G = ETW
    G += WE.T
    G -= E.T * colsum  # E^T (W + W^T - diag(colsum))
    gradient = 2 * G.dot(X)
    return -loss, -gradient.ravel()


#: above this many pairs (N^2) the NCA loss runs its row blocks on two threads
_PARALLEL_MIN_PAIRS = 1500 ** 2


def _nca_blocks(E, sq, y, starts, b, WE):
    """The row blocks ``starts`` of :func:`_nca_loss_grad`: ``(loss, E^T W, colsum W)`` over
    those rows; their rows of ``W E`` are written into ``WE``."""
    n = E.shape[0]
    ETW = np.zeros((E.shape[1], n))  # stays 0 for an empty list of blocks
    colsum = np.zeros(n)
    loss = 0.0
    for a in starts:  # loop over row blocks
        r = slice(a, min(a + b, n))
        L = E[r] @ E.T
        L *= -2  # squared distances (-2 e_i.e_j + |e_i|^2 + |e_j|^2), clipped at 0
        L += sq[r, None]
        L += sq[None, :]
        np.maximum(L, 0, out=L)
        rows = np.arange(r.stop - r.start)
        L[rows, rows + a] = np.inf  # p_ii = 0
        np.negative(L, out=L)  # softmax of the negated distances, in place
        s = softmax_flushed_(L)[1].ravel()  # p_ij; every kept value >= tiny * N / s >= tiny
        W = L * (y[r, None] == y[None, :])  # masked p_ij
        p = W.sum(axis=1)
        loss += p.sum()
        L *= p[:, None]
        W -= L  # weighted p_ij = masked - p_ij p_i
        low = np.flatnonzero(p * n < s)  # where p_ij p_i can be subnormal
        if low.size:
            Wl = W[low]
            Wl[np.abs(Wl) < _TINY] = 0.0
            W[low] = Wl
        ETW += E[r].T @ W
        WE[r] = W @ E
        colsum += W.sum(axis=0)
    return loss, ETW, colsum


def _lda_init(X: np.ndarray, y: np.ndarray, n_components: int, tol: float = 1e-4) -> np.ndarray:
    """scikit-learn's ``LinearDiscriminantAnalysis(n_components).fit(X, y).scalings_.T[:n_components]``
    (solver ``"svd"``, the map NCA's ``init="lda"`` starts from), by
    :func:`tecore.metrics._lda.lda_svd` (the within-class SVD replaced by a Cholesky factor or
    an eigendecomposition of the smaller Gram matrix). Equal to scikit-learn's up to the sign of
    each row, which NCA's loss and the k-NN do not see."""
    classes, yi = np.unique(y, return_inverse=True)
    scalings_ = lda_svd(np.asarray(X, dtype=np.float64), yi.reshape(-1), len(classes), tol=tol,
                        cholesky=True)[0]
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
