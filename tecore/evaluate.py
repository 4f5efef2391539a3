"""How well does a transferability score rank models? Rank correlations, tests, intervals.

Every function here compares ``scores`` (one transferability score per model, higher =
predicted to transfer better) with ``truth`` (one ground-truth number per model, usually
the accuracy after fine-tuning, higher = better).

Inputs
    ``scores`` and ``truth`` may be lists, 1-D arrays or pandas Series. When **both** are
    Series they are aligned on their index (model names): ``truth`` is reordered to the
    order of ``scores``; the two indexes must hold the same set of labels (a missing or an
    extra model is a ``ValueError`` naming it, never a silent inner join). Otherwise they
    are paired by position and must have the same length. At least two models are needed.

Missing values
    ``nan_policy="raise"`` (default) refuses NaN/inf with a message saying which models are
    affected; ``"omit"`` drops every model whose score or truth is NaN (the rest must still
    hold two models). :func:`weighted_tau` also accepts ``"smallest"``, the behaviour of
    ``scipy.stats.weightedtau`` itself (NaN is ranked below every number).

Tables
    :func:`rank_table` is the one entry point from tables to statistics: scores in tecore's
    vocabulary ``target, model, metric, score`` and ground truth ``target, model, truth``
    in, one row per group (e.g. per target and metric) with the statistics and an optional
    bootstrap interval ``ci_low, ci_high`` out.

Undefined correlations
    A rank correlation is undefined when one side is constant (every pair is tied). The
    correlation functions then return ``nan`` (as scipy does) and emit a
    :class:`ConstantInputWarning` naming the constant side, instead of silently passing a
    ``nan`` into an average.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import pandas as pd

__all__ = [
    "weighted_tau",
    "weighted_tau_itm",
    "kendall_tau",
    "spearman_rho",
    "pearson_r",
    "top_k_hit",
    "relative_top1",
    "correlations",
    "bootstrap_tau",
    "rank_table",
    "snap_ties",
    "STATS",
    "friedman",
    "FriedmanResult",
    "critical_difference",
    "ConstantInputWarning",
]


class ConstantInputWarning(RuntimeWarning):
    """A correlation was asked of a constant vector; the result is ``nan``."""


# --------------------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------------------
def _as_vector(a, name: str) -> np.ndarray:
    if isinstance(a, pd.DataFrame):
        if a.shape[1] != 1:
            raise ValueError(f"{name} must be one value per model (1-D); got a DataFrame with "
                             f"{a.shape[1]} columns. Pass a single column (df['col']).")
        a = a.iloc[:, 0]
    if isinstance(a, Mapping):
        a = pd.Series(a)
    try:
        v = np.array(a, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric, one value per model: {exc}") from None
    if v.ndim == 2 and 1 in v.shape:
        v = v.reshape(-1)
    if v.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per model), got shape {v.shape}.")
    return v


def _pair(scores, truth, *, nan_policy: str = "raise", allowed=("raise", "omit"),
          min_models: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Validate and pair ``scores`` and ``truth`` -> two float64 copies of equal length."""
    if nan_policy not in allowed:
        raise ValueError(f"nan_policy must be one of {allowed}, got {nan_policy!r}.")
    if isinstance(scores, Mapping) and not isinstance(scores, pd.Series):
        scores = pd.Series(scores, dtype=float)
    if isinstance(truth, Mapping) and not isinstance(truth, pd.Series):
        truth = pd.Series(truth, dtype=float)
    labels = None
    if isinstance(scores, pd.Series) and isinstance(truth, pd.Series):
        if scores.index.has_duplicates or truth.index.has_duplicates:
            raise ValueError("scores and truth are Series with duplicate index labels; "
                             "give each model one entry.")
        missing = [m for m in scores.index if m not in truth.index]
        extra = [m for m in truth.index if m not in scores.index]
        if missing or extra:
            raise ValueError(
                "scores and truth are Series with different models: "
                + (f"no truth for {missing[:5]}" if missing else "")
                + ("; " if missing and extra else "")
                + (f"no score for {extra[:5]}" if extra else "")
                + ". Select the common models first (scores.loc[common], truth.loc[common])."
            )
        truth = truth.loc[scores.index]
        labels = list(scores.index)
    s = _as_vector(scores, "scores")
    t = _as_vector(truth, "truth")
    if s.shape[0] != t.shape[0]:
        raise ValueError(f"scores and truth have different lengths ({s.shape[0]} vs {t.shape[0]}); "
                         "pass one score and one ground-truth value per model.")
    if labels is None:
        labels = list(range(s.shape[0]))
    if np.isinf(s).any() or np.isinf(t).any():
        bad = [labels[i] for i in np.flatnonzero(np.isinf(s) | np.isinf(t))]
        raise ValueError(f"scores/truth contain inf for model(s) {bad[:5]}; a metric overflowed — "
                         "fix or drop those models.")
    bad = np.isnan(s) | np.isnan(t)
    if bad.any():
        if nan_policy == "raise":
            who = [labels[i] for i in np.flatnonzero(bad)]
            raise ValueError(
                f"scores/truth contain NaN for model(s) {who[:5]}"
                f"{' …' if len(who) > 5 else ''}; drop those models, or pass nan_policy='omit' "
                "to ignore them" + (" (or 'smallest' for scipy's convention of ranking NaN last)"
                                    if "smallest" in allowed else "") + "."
            )
        if nan_policy == "omit":
            s, t = s[~bad], t[~bad]
    if s.shape[0] < min_models:
        raise ValueError(f"a rank correlation needs at least {min_models} models, got {s.shape[0]}"
                         f"{' after omitting NaN' if bad.any() else ''}.")
    return s, t


def _constant(s: np.ndarray, t: np.ndarray, what: str) -> bool:
    """True (and a warning) when one side is constant, making ``what`` undefined."""
    names = [n for n, v in (("scores", s), ("truth", t)) if np.all(v == v[0])]
    if names:
        warnings.warn(f"{what} is undefined: {' and '.join(names)} constant over the models; "
                      "returning nan.", ConstantInputWarning, stacklevel=3)
        return True
    return False


# --------------------------------------------------------------------------------------
# rank correlations
# --------------------------------------------------------------------------------------
def weighted_tau(scores, truth, *, nan_policy: str = "raise") -> float:
    r"""Weighted Kendall's tau, exactly ``scipy.stats.weightedtau(scores, truth)`` with its
    defaults — the number LogME, GBC, SFDA, NCTI, ETran, PED and the medical paper report.

    scipy's defaults (Vigna, *A weighted correlation index for rankings with ties*, WWW 2015):
    the hyperbolic weigher :math:`w(r) = 1/(r+1)` applied to the 0-based **rank** of an
    element (rank 0 = largest value), additive pair weights
    :math:`w_{ij} = w(r_i) + w(r_j)`, and

    .. math::
        \tau_w = \frac{\sum_{i<j} w_{ij}\,\mathrm{sgn}(x_i-x_j)\,\mathrm{sgn}(y_i-y_j)}
                      {\sqrt{\sum_{i<j} w_{ij}[x_i\ne x_j]}\,\sqrt{\sum_{i<j} w_{ij}[y_i\ne y_j]}}.

    With ``rank=True`` (the default) scipy computes this twice — once ranking the elements
    by decreasing ``(x, y)`` lexicographically, once by decreasing ``(y, x)`` — and returns
    the mean, so the result is symmetric in its two arguments. Disagreements among the top
    models therefore cost more than among the bottom ones.

    Parameters
    ----------
    scores, truth : array-like or Series
        One value per model (see the module docstring for Series alignment).
    nan_policy : {"raise", "omit", "smallest"}
        ``"raise"`` (default): NaN is a ``ValueError``. ``"omit"``: drop models with a NaN
        score or truth. ``"smallest"``: scipy's own convention (NaN ranks below every number).

    Returns
    -------
    float in [-1, 1]; ``nan`` (with :class:`ConstantInputWarning`) when scores or truth are
    constant (scipy returns ``nan`` there too).

    Complexity: O(M log M) (scipy's merge-sort algorithm).
    """
    from scipy.stats import weightedtau

    s, t = _pair(scores, truth, nan_policy=nan_policy, allowed=("raise", "omit", "smallest"))
    if nan_policy == "smallest" and (np.isnan(s).any() or np.isnan(t).any()):
        pass  # scipy ranks NaN lowest; the constant check below ignores NaN
    elif _constant(s, t, "weighted tau"):
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(weightedtau(s, t).statistic)


def _desc_ranks(v: np.ndarray) -> np.ndarray:
    """1-based ranks, 1 = largest value, ties get the average rank."""
    from scipy.stats import rankdata

    return rankdata(-v, method="average")


def weighted_tau_itm(scores, truth, *, nan_policy: str = "raise") -> float:
    r"""Weighted Kendall's tau as defined in the ITM paper, eq. 1.

    ITM ("Generalizable transferability estimation of foundation vision models via implicit
    learning", arXiv 2510.23145, Sec. 3.1, eq. 1):

    .. math::
        \tau_w = \frac{1}{\sum_{i<j} w_{ij}} \sum_{i<j} w_{ij}\,
                 \mathrm{sign}\big[(G_i - G_j)(P_i - P_j)\big],
        \qquad w_{ij} = \frac{1}{G_i + G_j},

    where :math:`G_i \in [1, M]` is the rank of model *i* in the ground truth and
    :math:`P_i \in [1, M]` its rank by the predicted score. Reading the paper literally:

    * rank 1 is the best model (highest truth / highest score), so the pairs of the best
      models weigh most (w = 1/3 for the top pair);
    * the weights depend on the **ground-truth** ranks only (unlike scipy's symmetric
      version); tied values get the average rank (``scipy.stats.rankdata(method="average")``);
    * a pair tied on either side contributes ``sign(0) = 0`` to the numerator but keeps its
      weight in the normaliser :math:`\sum_{i<j} w_{ij}` (eq. 1 normalises by all pairs), so
      ties pull the value towards 0 and the range is [-1, 1] with ±1 only without ties.

    It is not equal to :func:`weighted_tau` (different weights and normalisation); the ITM
    paper's Table 1 uses this one. Complexity O(M^2) memory and time (M = number of models,
    tens in practice).

    Parameters and Returns as :func:`weighted_tau` (``nan_policy`` in {"raise", "omit"});
    ``nan`` with a warning when scores or truth are constant.
    """
    s, t = _pair(scores, truth, nan_policy=nan_policy)
    if _constant(s, t, "weighted tau (ITM eq. 1)"):
        return float("nan")
    G = _desc_ranks(t)
    P = _desc_ranks(s)
    iu = np.triu_indices(len(s), 1)
    w = 1.0 / (G[iu[0]] + G[iu[1]])
    sgn = np.sign((G[iu[0]] - G[iu[1]]) * (P[iu[0]] - P[iu[1]]))
    return float(np.sum(w * sgn) / np.sum(w))


def _scipy_correlation(fn: str, label: str, scores, truth, nan_policy: str) -> float:
    """``scipy.stats.<fn>(scores, truth).statistic`` with its defaults, after the shared
    input checks; ``nan`` with a warning for constant input."""
    import scipy.stats

    s, t = _pair(scores, truth, nan_policy=nan_policy)
    if _constant(s, t, label):
        return float("nan")
    return float(getattr(scipy.stats, fn)(s, t).statistic)


def kendall_tau(scores, truth, *, nan_policy: str = "raise") -> float:
    """Kendall's tau-b, ``scipy.stats.kendalltau(scores, truth)`` (defaults); ``nan`` with a
    warning for constant input."""
    return _scipy_correlation("kendalltau", "Kendall's tau", scores, truth, nan_policy)


def spearman_rho(scores, truth, *, nan_policy: str = "raise") -> float:
    """Spearman's rank correlation, ``scipy.stats.spearmanr(scores, truth)``; ``nan`` with a
    warning for constant input."""
    return _scipy_correlation("spearmanr", "Spearman's rho", scores, truth, nan_policy)


def pearson_r(scores, truth, *, nan_policy: str = "raise") -> float:
    """Pearson's linear correlation, ``scipy.stats.pearsonr(scores, truth)``; ``nan`` with a
    warning for constant input."""
    return _scipy_correlation("pearsonr", "Pearson's r", scores, truth, nan_policy)


# --------------------------------------------------------------------------------------
# selection quality
# --------------------------------------------------------------------------------------
def top_k_hit(scores, truth, k: int = 1, *, nan_policy: str = "raise") -> float:
    """1.0 if a truly best model (highest ``truth``; any of them when tied) is among the
    ``k`` highest-scoring models, else 0.0 (a float, so it averages over targets).

    The top-k set is every model whose score is at least the k-th largest score, so models
    tied with the k-th score are included (the set may hold more than k models).
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}.")
    s, t = _pair(scores, truth, nan_policy=nan_policy)
    k = min(int(k), len(s))
    cut = np.sort(s)[::-1][k - 1]
    chosen = s >= cut
    return float(np.any(t[chosen] == t.max()))


def relative_top1(scores, truth, *, nan_policy: str = "raise") -> float:
    """Ground truth of the model the score picks, divided by the best ground truth:
    ``truth[argmax(scores)] / max(truth)`` (1.0 = the score picks the best model).

    When several models share the top score, their mean truth is used (the expected value
    of breaking the tie at random). Needs ``max(truth) > 0`` (accuracies), else ValueError.
    """
    s, t = _pair(scores, truth, nan_policy=nan_policy)
    best = t.max()
    if not best > 0:
        raise ValueError(f"relative_top1 divides by the best ground truth, which is {best:.4g}; "
                         "it is meant for accuracies (positive, higher = better).")
    return float(t[s == s.max()].mean() / best)


def correlations(scores, truth, *, nan_policy: str = "raise") -> dict[str, float]:
    """All the agreement measures at once: ``weighted_tau``, ``weighted_tau_itm``,
    ``kendall_tau``, ``spearman_rho``, ``pearson_r``, ``top1_hit``, ``top3_hit``,
    ``relative_top1`` (``nan`` where truth is not positive) and ``n_models``."""
    s, t = _pair(scores, truth, nan_policy=nan_policy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstantInputWarning)
        out = {
            "weighted_tau": weighted_tau(s, t),
            "weighted_tau_itm": weighted_tau_itm(s, t),
            "kendall_tau": kendall_tau(s, t),
            "spearman_rho": spearman_rho(s, t),
            "pearson_r": pearson_r(s, t),
        }
    if any(math.isnan(v) for v in out.values()):
        _constant(s, t, "the rank correlations")  # one warning, not five
    out["top1_hit"] = top_k_hit(s, t, 1)
    out["top3_hit"] = top_k_hit(s, t, 3)
    out["relative_top1"] = relative_top1(s, t) if t.max() > 0 else float("nan")
    out["n_models"] = int(len(s))
    return out


# --------------------------------------------------------------------------------------
# bootstrap
# --------------------------------------------------------------------------------------
def _weighted_tau_batch(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """scipy's default weighted tau for each row of ``X``, ``Y`` (B, M), vectorised.

    Same definition as :func:`weighted_tau` (hyperbolic weigher on the lexicographic
    decreasing rank, additive weights, mean of the (x, y) and (y, x) rankings), written as
    the O(M^2) pair sum: B x M x M arrays, fine for pools of up to a few hundred models.
    Rows where either side is constant give ``nan``.
    """
    B, M = X.shape
    rows = np.arange(B)[:, None]
    sx = np.sign(X[:, :, None] - X[:, None, :])
    sy = np.sign(Y[:, :, None] - Y[:, None, :])
    num_s = sx * sy
    nx = (sx != 0)
    ny = (sy != 0)
    out = np.zeros(B)
    for a, b in ((X, Y), (Y, X)):
        perm = np.lexsort((b, a), axis=-1)  # ascending by a, then b (stable, as scipy)
        rank = np.empty_like(perm)
        rank[rows, perm[:, ::-1]] = np.arange(M)
        w = 1.0 / (rank + 1.0)
        W = w[:, :, None] + w[:, None, :]
        num = (W * num_s).sum(axis=(1, 2))
        den = np.sqrt((W * nx).sum(axis=(1, 2)) * (W * ny).sum(axis=(1, 2)))
        with np.errstate(invalid="ignore", divide="ignore"):
            out += num / den
    return out / 2.0


def bootstrap_tau(scores, truth, *, n_boot: int = 1000, ci: float = 0.95, seed: int = 0,
                  stat: Callable = weighted_tau, nan_policy: str = "raise") -> dict:
    """Percentile bootstrap interval of a rank statistic over the **models**.

    Each replicate draws M model indices with replacement (``numpy.random.default_rng(seed)``,
    all B x M indices at once) and evaluates ``stat(scores[idx], truth[idx])``.

    Degenerate resamples: a resample in which the scores or the truth are constant (e.g.
    the same model drawn M times) has an undefined correlation; such replicates are
    **dropped** and counted in ``n_degenerate``; the interval is the percentile interval of
    the remaining ``n_valid`` replicates. If fewer than half of the replicates are valid a
    ValueError is raised (too few models for a bootstrap).

    Speed: with the default ``stat=weighted_tau`` the replicates are computed in one
    vectorised pass (:func:`_weighted_tau_batch`, equal to scipy to ~1e-15, tested); any
    other callable is evaluated replicate by replicate.

    Returns
    -------
    dict with ``estimate`` (stat on the full data), ``low``, ``high`` (percentile interval
    at level ``ci``), ``n_boot``, ``n_valid``, ``n_degenerate``, ``ci``.
    """
    s, t = _pair(scores, truth, nan_policy=nan_policy)
    from tecore.metrics._checks import check_positive_int

    n_boot = check_positive_int(n_boot, "n_boot")
    if not (isinstance(ci, (float, int)) and 0 < ci < 1):
        raise ValueError(f"ci must be in (0, 1), e.g. 0.95; got {ci!r}.")
    estimate = float(stat(s, t))
    M = len(s)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, M, size=(n_boot, M))
    S, T = s[idx], t[idx]
    degenerate = (S == S[:, :1]).all(axis=1) | (T == T[:, :1]).all(axis=1)
    ok = ~degenerate
    vals = np.full(n_boot, np.nan)
    if stat is weighted_tau:
        if ok.any():
            vals[ok] = _weighted_tau_batch(S[ok], T[ok])
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConstantInputWarning)
            for b in np.flatnonzero(ok):
                vals[b] = stat(S[b], T[b])
    valid = vals[np.isfinite(vals)]
    if valid.size < n_boot / 2:
        raise ValueError(f"only {valid.size} of {n_boot} bootstrap resamples of {M} models give a "
                         "defined statistic; a bootstrap over so few models is meaningless.")
    alpha = (1.0 - ci) / 2.0
    low, high = np.quantile(valid, [alpha, 1.0 - alpha])
    return {"estimate": estimate, "low": float(low), "high": float(high), "n_boot": n_boot,
            "n_valid": int(valid.size), "n_degenerate": int(n_boot - valid.size), "ci": float(ci)}


# --------------------------------------------------------------------------------------
# the one entry point from tables: rank_table
# --------------------------------------------------------------------------------------
#: statistic name -> ``fn(scores, truth) -> float``: the columns :func:`rank_table` computes
STATS: dict[str, Callable] = {
    "weighted_tau": weighted_tau,
    "weighted_tau_itm": weighted_tau_itm,
    "kendall_tau": kendall_tau,
    "spearman_rho": spearman_rho,
    "pearson_r": pearson_r,
    "top1_hit": lambda s, t: top_k_hit(s, t, 1),
    "top3_hit": lambda s, t: top_k_hit(s, t, 3),
    "relative_top1": lambda s, t: relative_top1(s, t) if np.max(t) > 0 else float("nan"),
}


def snap_ties(values, digits: int | None = 10) -> np.ndarray:
    """``values`` rounded to ``digits`` significant digits (``None``: unchanged), so that
    scores equal up to floating-point rounding rank as ties. Example: with N <= D H-score
    is C - 1 for every model, computed as 9.000000000000004, 8.999999999999998, …; a rank
    correlation of those last digits is noise."""
    v = np.asarray(values, dtype=np.float64)
    if digits is None:
        return v.copy()
    out = v.copy()
    ok = np.isfinite(v) & (v != 0)
    mag = np.floor(np.log10(np.abs(v[ok])))
    scale = 10.0 ** (digits - 1 - mag)
    out[ok] = np.round(v[ok] * scale) / scale
    return out


def _stat_fns(stats) -> dict[str, Callable]:
    if isinstance(stats, str) and stats == "all":
        return dict(STATS)
    if isinstance(stats, str) or callable(stats):
        stats = [stats]
    out = {}
    for st in stats:
        if callable(st):
            out[getattr(st, "__name__", "stat")] = st
        elif st in STATS:
            out[st] = STATS[st]
        else:
            raise ValueError(f"unknown statistic {st!r} in stats; valid: 'all', {', '.join(STATS)} "
                             "or a function fn(scores, truth) -> float.")
    if not out:
        raise ValueError(f"stats is empty; choose among 'all', {', '.join(STATS)}.")
    return out


def rank_table(scores: pd.DataFrame, truth, *, by=("target", "metric"), stats="all", bootstrap: int = 0,
               ci: float = 0.95, seed: int = 0, tie_digits: int | None = 10,
               min_models: int = 3) -> pd.DataFrame:
    """Rank statistics of scores against the ground truth, one row per group.

    Parameters
    ----------
    scores : tidy DataFrame ``[target,] model, metric, score`` (e.g. :func:`tecore.pool.score_pool`,
        :func:`tecore.experiment.run`, :func:`tecore.papers.medical.method_scores`; other
        columns are ignored).
    truth : tidy DataFrame ``[target,] model, truth``, or a Series / mapping model -> truth,
        or ``None`` when ``scores`` already has a ``truth`` column (a joined table). Rows are matched on ``model`` and, when both tables have it, ``target``; a model
        without truth (or without a finite score) is left out of its group (``n_models``
        counts the models used).
    by : the columns that define a group, e.g. ``("target", "metric")`` (default) or
        ``"metric"`` for one target.
    stats : ``"all"`` (every entry of :data:`STATS`), a name, a list of names, or functions
        ``fn(scores, truth) -> float`` (column named after the function).
    bootstrap : number of percentile-bootstrap resamples over the models
        (:func:`bootstrap_tau` with ``ci`` and ``seed``) of the first statistic; adds
        ``ci_low``, ``ci_high`` (NaN where too few resamples are defined). 0: no interval.
    tie_digits : scores are compared at this many significant digits (:func:`snap_ties`;
        ``None`` compares them exactly), so models whose scores agree up to floating-point
        rounding are ties. The ground truth is used as given.
    min_models : a group with fewer models, or whose scores or truth are constant, has no
        rank statistics: its statistics are NaN (no warning).

    Returns
    -------
    DataFrame with the ``by`` columns, ``n_models``, one column per statistic and, with
    ``bootstrap``, ``ci_low``, ``ci_high``; groups in order of first appearance.
    """
    if isinstance(by, str):
        by = [by]
    by = list(by)
    fns = _stat_fns(stats)
    if not isinstance(scores, pd.DataFrame) or not {"model", "score"} <= set(scores.columns):
        raise ValueError("scores must be a tidy DataFrame with columns 'model' and 'score' "
                         "(tecore's vocabulary: target, model, metric, score).")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, (int, np.integer)) or bootstrap < 0:
        raise ValueError(f"bootstrap must be a number of resamples >= 0 (0: no interval), got {bootstrap!r}.")
    if bootstrap and not (isinstance(ci, (float, int)) and 0 < ci < 1):
        raise ValueError(f"ci must be in (0, 1), e.g. 0.95; got {ci!r}.")
    bad = [c for c in by if c not in scores.columns or c in ("model", "score", "truth")]
    if bad:
        raise ValueError(f"by: {bad} are not group columns of scores (it has {list(scores.columns)}).")
    if truth is None:  # a joined table: each row's own truth
        if "truth" not in scores.columns:
            raise ValueError("truth=None needs a 'truth' column in scores; pass the ground truth "
                             "as a table target, model, truth.")
        merged = scores[[*dict.fromkeys(by + ["model", "score", "truth"])]].copy()
    else:
        if not isinstance(truth, pd.DataFrame):
            truth = pd.Series(truth, dtype=float).rename_axis("model").rename("truth").reset_index()
        if not {"model", "truth"} <= set(truth.columns):
            raise ValueError(f"truth must have columns 'model' and 'truth' (tecore's vocabulary: target, "
                             f"model, truth), got {list(truth.columns)}.")
        keys = [c for c in ("target", "model") if c in scores.columns and c in truth.columns]
        merged = scores[[*dict.fromkeys(by + keys + ["score"])]].merge(truth[keys + ["truth"]], on=keys)
    merged["score"] = snap_ties(merged["score"], tie_digits)
    first = next(iter(fns.values()))
    rows = []
    for key, g in merged.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        g = g[np.isfinite(g["score"]) & np.isfinite(g["truth"].astype(float))]
        row = dict(zip(by, key), n_models=len(g))
        s, t = g["score"].to_numpy(), g["truth"].to_numpy(dtype=np.float64)
        defined = len(g) >= min_models and len(np.unique(s)) > 1 and len(np.unique(t)) > 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name, fn in fns.items():
                row[name] = float(fn(s, t)) if defined else np.nan
            if bootstrap:
                row["ci_low"] = row["ci_high"] = np.nan
                if defined:
                    try:
                        b = bootstrap_tau(s, t, n_boot=bootstrap, ci=ci, seed=seed, stat=first)
                        row["ci_low"], row["ci_high"] = b["low"], b["high"]
                    except ValueError:
                        pass
        rows.append(row)
    cols = by + ["n_models", *fns] + (["ci_low", "ci_high"] if bootstrap else [])
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------------------
# Friedman + Nemenyi
# --------------------------------------------------------------------------------------
def critical_difference(n_methods: int, n_blocks: int, alpha: float = 0.05) -> float:
    r"""Nemenyi critical difference of average ranks (Demšar 2006, eq. in Sec. 3.2.2):
    :math:`CD = q_\alpha \sqrt{k(k+1)/(6N)}` with :math:`q_\alpha` the studentized-range
    quantile (infinite degrees of freedom) divided by :math:`\sqrt2`, taken from
    ``scipy.stats.studentized_range`` — the distribution scikit-posthocs'
    ``posthoc_nemenyi_friedman`` uses for its p-values, so ``|ΔR| > CD`` exactly when the
    Nemenyi p-value is below ``alpha``. Equal to ``autorank``'s critical distance (tested)."""
    from scipy.stats import studentized_range

    k, n = int(n_methods), int(n_blocks)
    if k < 2 or n < 1:
        raise ValueError(f"critical difference needs >= 2 methods and >= 1 block, got {k}, {n}.")
    q = studentized_range.ppf(1.0 - alpha, k, np.inf) / math.sqrt(2.0)
    return float(q * math.sqrt(k * (k + 1) / (6.0 * n)))


@dataclass(frozen=True)
class FriedmanResult:
    """Result of :func:`friedman`.

    statistic, pvalue: Friedman chi-square and its p-value (``scipy.stats.friedmanchisquare``).
    avg_ranks: Series method -> average rank over blocks (1 = best, i.e. highest value),
        sorted best first.
    cd: Nemenyi critical difference at ``alpha`` (average-rank units).
    nemenyi: DataFrame method x method of Nemenyi post-hoc p-values
        (``scikit_posthocs.posthoc_nemenyi_friedman``).
    n_blocks, n_methods, alpha.
    """

    statistic: float
    pvalue: float
    avg_ranks: pd.Series
    cd: float
    nemenyi: pd.DataFrame
    n_blocks: int
    n_methods: int
    alpha: float

    def significant_pairs(self) -> list[tuple[str, str]]:
        """Pairs of methods whose Nemenyi p-value is below ``alpha``."""
        cols = list(self.nemenyi.columns)
        return [(a, b) for i, a in enumerate(cols) for b in cols[i + 1:]
                if self.nemenyi.loc[a, b] < self.alpha]


def friedman(table, *, alpha: float = 0.05) -> FriedmanResult:
    """Friedman test over blocks, with the Nemenyi post-hoc test and critical difference.

    Parameters
    ----------
    table : DataFrame
        Rows = blocks (target datasets), columns = methods (TE metrics), values = a quality
        to compare where **higher is better** (e.g. weighted tau). Complete blocks only: a
        row with NaN is a ValueError (drop it first, ``table.dropna()``).
    alpha : significance level of the critical difference.

    Ranks are taken within each block with rank 1 = highest value, ties averaged, as in
    Demšar (2006) and the medical paper's Friedman test.
    """
    from scipy.stats import friedmanchisquare

    if not isinstance(table, pd.DataFrame):
        table = pd.DataFrame(table)
    if table.shape[1] < 3:
        raise ValueError(f"the Friedman test needs at least 3 methods (columns), got {table.shape[1]}; "
                         "for two methods use a Wilcoxon signed-rank test.")
    if table.shape[0] < 2:
        raise ValueError(f"the Friedman test needs at least 2 blocks (rows), got {table.shape[0]}.")
    try:
        vals = table.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"table must be numeric: {exc}") from None
    if not np.isfinite(vals).all():
        bad = list(table.index[~np.isfinite(vals).all(axis=1)])
        raise ValueError(f"table has NaN/inf in block(s) {bad[:5]}; the Friedman test needs complete "
                         "blocks — drop them (table.dropna()) or fill them.")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}.")
    import scikit_posthocs as sp
    from scipy.stats import rankdata

    cols = [str(c) for c in table.columns]
    stat, p = friedmanchisquare(*vals.T)
    ranks = rankdata(-vals, axis=1, method="average").mean(axis=0)
    avg = pd.Series(ranks, index=cols, name="avg_rank").sort_values(kind="stable")
    nem = sp.posthoc_nemenyi_friedman(pd.DataFrame(vals, columns=cols))
    nem.index = cols
    nem.columns = cols
    return FriedmanResult(float(stat), float(p), avg, critical_difference(len(cols), len(vals), alpha),
                          nem, int(vals.shape[0]), int(vals.shape[1]), float(alpha))
