"""ETran: energy-based transferability estimation (Gholami et al., ICCV 2023).

Pool-level: :func:`etran_terms` computes the per-model terms, :func:`combine` turns a pool's
terms into one score per model.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from numbers import Real

from ._checks import BOOLEAN, Interval, check_features_labels, check_param, finite_result, validate_params
from ._pool_minmax import check_terms, minmax
from ._backend import DEVICE, backend
from .sfda import _shrunk_lda_proba, _softmax, _true_class
from tecore.metrics._stats import class_means

__all__ = ["etran_terms", "energy_score", "lda_score", "combine", "TERMS", "WEIGHTS"]

#: term names returned by :func:`etran_terms`, in order
TERMS = ("lda", "energy")
#: official weights (mgholamikn/ETran ``tw.py``: ``score*0.15 + score_labeled*0.85``)
WEIGHTS = {"lda": 0.85, "energy": 0.15}


def energy_score(X: np.ndarray, *, percent: float = 0.5) -> float:
    """Mean free-energy score ``logsumexp_d x_id`` of the ``percent`` % of samples with the
    lowest score (official ``Energy_Score(X, 0.5, 'bot')``: ``int(percent*10)*N//1000``
    samples). At least one sample is used (the official code averages an empty selection,
    NaN, when N < 200). Computed in the dtype of ``X`` (float32 as the official torch
    ``logsumexp``; float64 stays float64), the mean in float64."""
    X = np.asarray(X)
    m = X.max(axis=1, keepdims=True)
    T = X - m  # one N x D temporary, exponentiated in place
    np.exp(T, out=T)
    e = np.log(T.sum(axis=1).astype(np.float64)) + m[:, 0]  # terms in (0, 1], sum >= 1
    k = max(1, math.floor(X.shape[0] * percent / 100.0 + 1e-9))
    return float(np.mean(np.partition(e, k - 1)[:k]))


def lda_score(X: np.ndarray, y: np.ndarray, C: int, *, official: bool = False, device=None) -> float:
    """Mean true-class posterior of the ETran LDA classifier (see :func:`etran_terms`);
    ``device`` as in :mod:`tecore.metrics._backend`."""
    n = X.shape[0]
    be = backend(device)
    xp = be.xp
    with be.threads():
        Xb, yb = be.asarray(X), be.asarray(y)
        if official:
            means, counts = class_means(Xb, y, C)
            proba = _softmax(Xb @ means.T - 0.5 * xp.sum(means**2, axis=1) + xp.log(counts / n), xp)
        else:
            proba, _, _ = _shrunk_lda_proba(Xb, (y, yb), C, None, be)
        return float(xp.mean(_true_class(proba, yb)))


@validate_params({"energy_percent": [Interval(Real, 0, 100, closed="right")], "official": [BOOLEAN], **DEVICE},
                 method="etran")
def etran_terms(features, labels, *, energy_percent: float = 0.5, official: bool = False, device=None) -> dict:
    r"""ETran's per-model terms: ``{"lda": S_lda, "energy": S_en}`` (both higher = better).

    * ``energy`` (S_en, paper Sect. 3.2; official ``metrics.py`` ``Energy_Score`` called as
      ``Energy_Score(features, 0.5, 'bot')`` by ``evaluate_metric.py``): the free-energy
      score :math:`E(x) = \log\sum_d e^{x_d}` of each sample's *features* (the official code
      passes the penultimate features, not logits), averaged over the ``energy_percent`` % of
      samples with the lowest :math:`E` (0.5 % by default: ``int(0.5*10)*N//1000``).
    * ``lda`` (S_lda, official ``LDA_Score``): mean posterior of the true class,
      :math:`\frac1N\sum_i p(y_i|x_i)`, of a shrinkage linear discriminant with the SFDA rule
      :math:`s = \max(e^{-5\lambda_{\max}(S_w)}, 10^{-10})` (see
      :func:`tecore.metrics.sfda.shrunk_lda_proba`).

    Parameters
    ----------
    features : (N, D) array; labels : (N,) class labels (>= 2 classes).
    energy_percent : float, default 0.5 (per cent of samples kept, official value).
    official : bool, default False
        The official ``LDA._solve_eigen`` computes ``np.linalg.eigh(inv(Sw_s) @ Sb)`` on a
        non-symmetric matrix: ``eigh`` reads only its lower triangle and returns an
        orthogonal ``V``, so ``coef_ = M V V^T = M`` and the "LDA" is in fact the
        nearest-class-mean softmax :math:`p(c|x) \propto \pi_c e^{x^\top\mu_c - |\mu_c|^2/2}`
        (the shrinkage and the scatter matrices cancel). ``official=True`` computes that
        classifier, which reproduces the published ETran LDA scores; the default computes the
        shrinkage LDA the code intends (``V V^T = S_w^{-1}`` for properly normalised
        generalised eigenvectors).
    device : None (default: numpy/scipy on the CPU) or a torch device (``"cuda"``, ``"cpu"``,
        ...): the LDA term in torch float64 there (:mod:`tecore.metrics._backend`), equal to
        the numpy path to ~1e-10 relative; the energy term (O(N D)) stays in numpy.

    Returns
    -------
    dict with float entries ``"lda"`` and ``"energy"``; combine a pool with :func:`combine`.

    The official repository has no third (SVD / regression) term on the classification
    path: ``LDA._solve_eigen2`` (an SVD least-squares fit) is dead code, never called and
    referring to an undefined attribute; ``tw.py`` combines only ``lda`` and ``energy``.

    Complexity: O(N D) for the energy, O(N D^2 + D^3 + N D C) for the LDA (O(N D C) with
    ``official=True``).

    Differences from the official code: the LDA in float64; the energy in the features'
    dtype (float32 for float32 features, as the official torch ``logsumexp``); at least
    one sample in the energy average; a zero
    within-class scatter (one sample per class, N = 2, identical rows within every class)
    raises ``ValueError`` for the default LDA (official: NaN).
    """
    # float32 features are validated (copied) in float32: the energy term is computed in
    # float32 like the official torch code, the LDA in float64 (an exact widening)
    f32 = getattr(features, "dtype", None) == np.float32
    X, y, _, C = check_features_labels(features, labels, method="ETran", dtype=np.float32 if f32 else np.float64)
    hint = "the features overflow; standardise them or check the extraction."
    energy = finite_result(energy_score(X, percent=energy_percent), method="etran (energy)", hint=hint)
    lda = lda_score(X.astype(np.float64, copy=False), y, C, official=official, device=device)
    return {"lda": finite_result(lda, method="etran (lda)", hint=hint), "energy": energy}


def combine(terms: pd.DataFrame, *, weights: dict | None = None) -> pd.Series:
    r"""ETran score of every model in a pool: ``0.85 * minmax(lda) + 0.15 * minmax(energy)``.

    Each term is min-max normalised over the models of the pool, then the official weights
    are applied (mgholamikn/ETran ``tw.py``, ``metric == 'etran'``: ``scale()`` both score
    dicts, then ``score*0.15 + score_labeled*0.85``).

    Parameters
    ----------
    terms : DataFrame, one row per model (the index names the models), columns ``"lda"`` and
        ``"energy"`` (the dicts from :func:`etran_terms`); extra columns are ignored.
    weights : dict, default ``{"lda": 0.85, "energy": 0.15}``.

    Returns
    -------
    Series (index = models, name ``"etran"``), higher = better, in [0, 1] for the default
    weights.

    A pool of fewer than two models raises ``ValueError`` (min-max over one value is
    undefined). A term that is constant over the pool contributes 0 to every model (the
    official script divides by zero there).
    """
    w = dict(WEIGHTS if weights is None else weights)
    if set(w) != set(TERMS):
        raise ValueError(f"weights must have exactly the keys {TERMS}, got {sorted(w)}.")
    for t in TERMS:
        check_param(w[t], f"weights[{t!r}]", [Interval(Real, None, None)], method="etran combine")
    T = check_terms(terms, TERMS, method="ETran")
    out = sum(float(w[t]) * minmax(T[t]) for t in TERMS)
    return pd.Series(out, index=T.index, name="etran")
