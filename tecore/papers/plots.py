"""Figure helpers shared by the chapters.

* :func:`cd_diagram` — critical-difference diagram of average ranks (Friedman + Nemenyi),
  drawn with ``scikit_posthocs.critical_difference_diagram``;
* :func:`score_vs_truth_grid` — one scatter panel per metric (and optionally per target
  dataset): transferability score against fine-tuned accuracy, with τw in the title (the
  layout of the medical paper's Fig. 5 and GBC's Fig. 3);
* :func:`tau_heatmap` — a metrics x datasets table of correlations as an annotated heatmap.

Every function returns the :class:`matplotlib.figure.Figure` (pass ``ax=`` where offered to
draw into an existing figure). matplotlib is imported on first use; set ``MPLBACKEND=Agg``
for headless use.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["cd_diagram", "score_vs_truth_grid", "tau_heatmap"]


def _plt():
    import matplotlib.pyplot as plt

    return plt


def cd_diagram(avg_ranks_or_table, sig_matrix: pd.DataFrame | None = None, *, cd: float | None = None,
               alpha: float = 0.05, ax=None, title: str | None = None, show_cd: bool = True):
    """Critical-difference diagram (Demšar 2006) of methods compared over several targets.

    Parameters
    ----------
    avg_ranks_or_table : one of
        * DataFrame, rows = blocks (datasets), columns = methods, higher = better: the
          Friedman test, average ranks, Nemenyi p-values and CD are computed with
          :func:`tecore.evaluate.friedman`;
        * a :class:`tecore.evaluate.FriedmanResult`;
        * Series method -> average rank (1 = best), together with ``sig_matrix`` (the
          Nemenyi p-value matrix) and optionally ``cd``.
    alpha : methods whose Nemenyi p-value is >= alpha are joined by a crossbar.
    show_cd : draw the critical difference bar (needs ``cd``; computed for tables/results).

    Returns
    -------
    Figure. ``fig.tecore_result`` holds the FriedmanResult when one was computed.
    """
    from tecore.evaluate import FriedmanResult, friedman

    result = None
    if isinstance(avg_ranks_or_table, pd.DataFrame):
        result = friedman(avg_ranks_or_table, alpha=alpha)
    elif isinstance(avg_ranks_or_table, FriedmanResult):
        result = avg_ranks_or_table
    if result is not None:
        ranks, sig = result.avg_ranks, result.nemenyi
        cd = result.cd if cd is None else cd
        alpha = result.alpha
    else:
        ranks = pd.Series(avg_ranks_or_table, dtype=float)
        if sig_matrix is None:
            raise ValueError("cd_diagram with average ranks needs sig_matrix (the Nemenyi p-value "
                             "matrix, FriedmanResult.nemenyi); or pass the score table itself.")
        sig = sig_matrix
        missing = [m for m in ranks.index if m not in sig.index or m not in sig.columns]
        if missing:
            raise ValueError(f"sig_matrix has no row/column for {missing[:5]}.")
    import scikit_posthocs as sp

    plt = _plt()
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 0.5 + 0.3 * len(ranks)))
    else:
        fig = ax.figure
    sp.critical_difference_diagram(ranks, sig.loc[ranks.index, ranks.index], alpha=alpha, ax=ax,
                                   cd=cd if show_cd else None)
    if title:
        ax.set_title(title)
    fig.tecore_result = result
    return fig


def _truth_series(truth) -> pd.Series:
    if isinstance(truth, pd.DataFrame):
        raise ValueError("truth as a DataFrame needs `keys`; see score_vs_truth_grid.")
    return pd.Series(truth, dtype=float)


def score_vs_truth_grid(scores: pd.DataFrame, truth, *, col: str = "metric", row: str | None = None,
                        truth_col: str = "truth", metrics: Sequence[str] | None = None,
                        label_points: bool = True, ncols: int | None = None, sharey: bool = True,
                        panel_size: tuple[float, float] = (3.0, 2.6), xlabel: str = "score",
                        ylabel: str = "fine-tuned accuracy"):
    """Scatter panels of score (x) against ground truth (y), one per metric (x dataset).

    Parameters
    ----------
    scores : tidy DataFrame with columns ``model``, ``metric``, ``score`` (from
        :func:`tecore.pool.score_pool`), plus ``row`` (e.g. ``"target"``) when given.
    truth : Series / mapping model -> ground truth; or, with ``row``, a tidy DataFrame with
        columns ``model``, ``row`` and ``truth_col`` (default ``"truth"``, tecore's vocabulary).
    col, row : the column that makes the grid's columns (default ``"metric"``) and,
        optionally, rows. Without ``row`` the panels wrap into ``ncols`` columns.
    metrics : restrict / order the metrics.
    label_points : write the model name next to each point.

    Each panel's title reads ``"<metric>  τw = 0.53"`` (:func:`tecore.evaluate.weighted_tau`,
    NaN scores left out; ``τw = n/a`` when undefined). Returns the Figure; its axes are
    ``fig.axes`` in row-major order (unused wrap slots are removed).
    """
    from tecore.evaluate import ConstantInputWarning, weighted_tau

    if not isinstance(scores, pd.DataFrame) or not {"model", col, "score"} <= set(scores.columns):
        raise ValueError(f"scores must be a tidy DataFrame with columns 'model', {col!r}, 'score'.")
    df = scores.copy()
    if metrics is not None:
        df = df[df["metric"].isin(list(metrics))]
        if df.empty:
            raise ValueError(f"none of the metrics {list(metrics)} is in scores.")
    if row is not None:
        if row not in df.columns:
            raise ValueError(f"scores has no column {row!r} for the grid rows.")
        if isinstance(truth, pd.DataFrame):
            need = {"model", row, truth_col}
            if not need <= set(truth.columns):
                raise ValueError(f"truth DataFrame needs columns {sorted(need)}.")
            df = df.merge(truth[["model", row, truth_col]], on=["model", row], how="left")
        else:
            df[truth_col] = df["model"].map(_truth_series(truth))
    else:
        t = _truth_series(truth) if not isinstance(truth, pd.DataFrame) else \
            truth.set_index("model")[truth_col].astype(float)
        df[truth_col] = df["model"].map(t)
    if df[truth_col].isna().any():
        lack = sorted(df.loc[df[truth_col].isna(), "model"].unique())
        raise ValueError(f"no ground truth for model(s) {lack[:5]}.")

    col_vals = list(metrics) if (metrics is not None and col == "metric") else list(pd.unique(df[col]))
    row_vals = list(pd.unique(df[row])) if row is not None else [None]
    cells = [(r, c) for r in row_vals for c in col_vals]
    if row is None:
        nc = ncols or min(4, len(col_vals))
        nr = math.ceil(len(col_vals) / nc)
    else:
        nc, nr = len(col_vals), len(row_vals)
    plt = _plt()
    fig, axes = plt.subplots(nr, nc, figsize=(panel_size[0] * nc, panel_size[1] * nr),
                             squeeze=False, sharey=sharey)
    flat = axes.ravel()
    import warnings

    for ax, (r, c) in zip(flat, cells):
        sel = df[df[col] == c] if r is None else df[(df[col] == c) & (df[row] == r)]
        sel = sel[sel["score"].notna()]
        ax.scatter(sel["score"], sel[truth_col], s=22, color="C0", zorder=3)
        if label_points:
            for _, p in sel.iterrows():
                ax.annotate(str(p["model"]), (p["score"], p[truth_col]), fontsize=6,
                            xytext=(2, 2), textcoords="offset points")
        tau = float("nan")
        if len(sel) >= 2:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConstantInputWarning)
                tau = weighted_tau(sel["score"].to_numpy(), sel[truth_col].to_numpy())
        head = str(c) if r is None else f"{r} / {c}"
        ax.set_title(f"{head}  τw = {tau:.2f}" if np.isfinite(tau) else f"{head}  τw = n/a", fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        ax.tecore_tau = tau
    for ax in flat[len(cells):]:
        fig.delaxes(ax)
    for ax in axes[:, 0]:
        if ax in fig.axes:
            ax.set_ylabel(ylabel, fontsize=8)
    fig.tight_layout()
    return fig


def tau_heatmap(table: pd.DataFrame, *, annot: bool = True, fmt: str = ".2f", cmap: str = "RdBu",
                vmin: float = -1.0, vmax: float = 1.0, ax=None, title: str | None = None,
                cbar_label: str = "weighted τ", mean_column: bool = False):
    """Annotated heatmap of a metrics x datasets table (e.g. weighted tau).

    Parameters
    ----------
    table : DataFrame, rows = metrics, columns = datasets (or any two labels), numeric;
        NaN cells are left blank.
    mean_column : append a column ``"mean"`` with the row means (NaN ignored), like the
        "Avg." columns of the papers' tables.
    cmap, vmin, vmax : the colour scale (diverging, centred on 0 by default).

    Returns the Figure (image in ``fig.axes[0]``, colour bar in ``fig.axes[1]``).
    """
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise ValueError("tau_heatmap expects a non-empty DataFrame (rows = metrics, columns = datasets).")
    try:
        T = table.astype(float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"tau_heatmap: table must be numeric: {exc}") from None
    if mean_column:
        T = T.assign(mean=T.mean(axis=1, skipna=True))
    plt = _plt()
    if ax is None:
        fig, ax = plt.subplots(figsize=(1.0 + 0.75 * T.shape[1], 0.8 + 0.45 * T.shape[0]))
    else:
        fig = ax.figure
    data = np.ma.masked_invalid(T.to_numpy())
    im = ax.imshow(data, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(range(T.shape[1]), [str(c) for c in T.columns], rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(T.shape[0]), [str(i) for i in T.index], fontsize=8)
    if annot:
        for i in range(T.shape[0]):
            for j in range(T.shape[1]):
                v = T.iat[i, j]
                if np.isfinite(v):
                    dark = abs((v - (vmin + vmax) / 2) / ((vmax - vmin) / 2 or 1)) > 0.6
                    ax.text(j, i, format(v, fmt), ha="center", va="center", fontsize=7,
                            color="white" if dark else "black")
    cb = fig.colorbar(im, ax=ax)
    cb.set_label(cbar_label)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
