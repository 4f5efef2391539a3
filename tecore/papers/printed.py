"""Tables typed in from the papers, with their citations, and printed-vs-recomputed checks.

Every number in this module was typed in by hand from the plain-text extraction of a paper
(``../shared/papers``, see its README) and carries its citation: the paper and the table
number. :func:`load` returns a table as a tidy :class:`pandas.DataFrame` (one row per
printed cell) or in its printed (wide) shape; :func:`compare` sets a printed table beside a
recomputed one, cell by cell.

Names and labels
----------------
Rows and columns use tecore's names (``"logme"``, ``"ped+logme"``, ``"cifar100"``,
``"oxford_iiit_pet"``...) so that a printed table lines up with a recomputed one without a
renaming step; the labels exactly as printed in the paper are kept in
:attr:`PrintedTable.labels` (``load(..., printed_labels=True)`` uses them).

Typing errors, extraction damage and what the papers print
----------------------------------------------------------
Where the extracted text is damaged, the fix is stated in the table's ``notes`` (e.g. PED
Table 1 prints ``0574`` for NLEEP on Food, read as 0.574, which the supplementary Table 3
repeats). Values that look wrong but are legible (PED Table 4, SimCLRv2 on DTD: 94.71,
where the authors' own code has 74.71, one of five such cells) are typed in *as printed*: the disagreement is a
finding that :func:`compare` against the published ground truth shows, not something to
fix silently.

>>> from tecore.papers import printed
>>> printed.load("gbc_table1").query("method == 'gbc' and dataset == 'stanford_dogs'")["tau_w"].item()
0.8
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from tecore.papers.printed_tables import (DATASET_ALIASES, GBC_ARCHITECTURES, PAPERS, TABLES,
                                          PrintedTable)

__all__ = [
    "PrintedTable",
    "TABLES",
    "PAPERS",
    "names",
    "get",
    "load",
    "citation",
    "compare",
    "check_averages",
    "kendall_grid",
    "GBC_ARCHITECTURES",
    "DATASET_ALIASES",
]


def names(paper: str | None = None) -> list[str]:
    """Registered table names, optionally of one paper (``"gbc"``, ``"ped"``, ``"itm"``)."""
    if paper is not None and paper not in PAPERS:
        raise ValueError(f"unknown paper {paper!r}; valid: {', '.join(sorted(PAPERS))}")
    return sorted(n for n, t in TABLES.items() if paper is None or t.paper == paper)


def get(name: str) -> PrintedTable:
    """The :class:`PrintedTable` registered as ``name``."""
    try:
        return TABLES[name]
    except KeyError:
        raise ValueError(
            f"unknown printed table {name!r}; valid: {', '.join(names())}"
        ) from None


def citation(name: str) -> str:
    """Paper and table number of a printed table."""
    return get(name).citation


def load(
    name: str,
    *,
    tidy: bool = True,
    with_average: bool = False,
    printed_labels: bool = False,
) -> pd.DataFrame:
    """A printed table as a DataFrame (a fresh copy; ``df.attrs["citation"]`` cites it).

    Parameters
    ----------
    name: a registered table (:func:`names`).
    tidy: one row per printed cell with columns ``*index, columns_name, quantity``
        (e.g. ``method, dataset, tau_w``); ``False``: the printed (wide) shape.
    with_average: keep the printed "average" column / row (dropped by default, since it is
        not an observation; :func:`check_averages` compares it with the cells).
    printed_labels: use the labels exactly as printed instead of tecore names.
    """
    t = get(name)
    wide = t.frame.copy()
    if not with_average:
        wide = wide.drop(columns=[c for c in wide.columns if c == "average"])
        if "average" in wide.index.get_level_values(-1):
            wide = wide[wide.index.get_level_values(-1) != "average"]
    if printed_labels and t.labels:
        wide = wide.rename(index=lambda k: t.labels.get(k, k), columns=lambda k: t.labels.get(k, k))
    if tidy:
        out = wide.stack(future_stack=True).rename(t.quantity).reset_index()
        out = out.dropna(subset=[t.quantity]).reset_index(drop=True)
    else:
        out = wide
    out.attrs["citation"] = t.citation
    out.attrs["name"] = t.name
    return out


def compare(printed, recomputed, tol: float = 0.01, *, against: str = "recomputed"):
    """Set a printed table beside a recomputed one, cell by cell.

    Parameters
    ----------
    printed, recomputed: two wide DataFrames (rows x columns, as :func:`load` with
        ``tidy=False`` returns) or two Series. Only cells present and finite in both are
        compared (the intersection of rows and columns, in the printed order).
    tol: a cell "matches" when ``|recomputed - printed| <= tol`` (with 1e-9 slack for
        floating point, so 0.56 vs 0.55 matches at tol=0.01). The default 0.01 is the
        rounding step of a table printed to two decimals.
    against: the name of the second table's value column (``"recomputed"``; e.g.
        ``"published"`` when the other table is an authors' file).

    Returns
    -------
    (table, n_match, n_total): ``table`` is tidy, one row per compared cell, with the row /
    column keys, ``printed``, ``recomputed`` (named ``against``), ``difference`` (it - printed) and
    ``match`` (bool); ``n_match`` cells of ``n_total`` match.

    Raises
    ------
    ValueError: the two have no cell in common, or ``tol`` is negative.

    >>> import pandas as pd
    >>> p = pd.DataFrame({"a": [0.50, 0.20]}, index=["x", "y"])
    >>> r = pd.DataFrame({"a": [0.505, 0.25]}, index=["x", "y"])
    >>> table, n_match, n_total = compare(p, r)
    >>> n_match, n_total
    (1, 2)
    """
    if not np.isfinite(tol) or tol < 0:
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
    if isinstance(printed, pd.Series) != isinstance(recomputed, pd.Series):
        raise ValueError("compare: pass two DataFrames or two Series, not one of each")
    if isinstance(printed, pd.Series):
        printed = printed.to_frame("value")
        recomputed = recomputed.to_frame("value")
    if not isinstance(printed, pd.DataFrame) or not isinstance(recomputed, pd.DataFrame):
        raise ValueError("compare: printed and recomputed must be pandas DataFrames or Series")
    rows = [r for r in printed.index if r in set(recomputed.index)]
    cols = [c for c in printed.columns if c in set(recomputed.columns)]
    if not rows or not cols:
        raise ValueError(
            "compare: no cell in common; printed rows/columns "
            f"{list(printed.index)[:5]}... / {list(printed.columns)[:5]}..., recomputed "
            f"{list(recomputed.index)[:5]}... / {list(recomputed.columns)[:5]}..."
        )
    p = printed.loc[rows, cols].astype(float)
    r = recomputed.loc[rows, cols].astype(float)
    rname = printed.index.names if printed.index.nlevels > 1 else [printed.index.name or "row"]
    cname = printed.columns.name or "column"
    tp = p.stack(future_stack=True).rename("printed")
    tr = r.stack(future_stack=True).rename("recomputed")
    table = pd.concat([tp, tr], axis=1)
    table.index.names = [*rname, cname]
    table = table[np.isfinite(table["printed"]) & np.isfinite(table["recomputed"])]
    if table.empty:
        raise ValueError("compare: no cell is finite in both tables")
    table["difference"] = table["recomputed"] - table["printed"]
    table["match"] = table["difference"].abs() <= tol + 1e-9
    table = table.reset_index().rename(columns={"recomputed": against})
    return table, int(table["match"].sum()), int(len(table))


def check_averages(name: str) -> pd.DataFrame:
    """Printed "average" column (or row) against the mean of the printed cells.

    Returns a DataFrame indexed like the averaged rows with ``printed``, ``mean_of_cells``
    and ``difference``. A table without a printed average raises ``ValueError``.
    """
    t = get(name)
    f = t.frame
    if "average" in f.columns:
        cells = f.drop(columns=["average"])
        out = pd.DataFrame({"printed": f["average"], "mean_of_cells": cells.mean(axis=1)})
    elif "average" in f.index.get_level_values(-1):
        is_avg = f.index.get_level_values(-1) == "average"
        out = pd.DataFrame({"printed": f[is_avg].iloc[0], "mean_of_cells": f[~is_avg].mean()})
    else:
        raise ValueError(f"{name!r} has no printed average; tables with one: "
                         + ", ".join(n for n in names() if _has_avg(TABLES[n])))
    out["difference"] = out["mean_of_cells"] - out["printed"]
    return out


def _has_avg(t: PrintedTable) -> bool:
    return t.has_average or "average" in t.frame.index.get_level_values(-1)


def kendall_grid(values, n_items: int, *, decimals: int = 3) -> pd.DataFrame:
    """Which printed Kendall tau values are possible without ties.

    With ``n`` items and no ties, Kendall's tau = (C - D) / P with P = n(n-1)/2 pairs and
    C + D = P, so C - D has the parity of P. A printed value (rounded to ``decimals``) that
    equals no such (C - D)/P after rounding implies ties (in the scores or the ground truth)
    -- or a tau other than the plain one.

    Parameters
    ----------
    values: DataFrame or Series of printed tau values (the "average" column is skipped).
    n_items: number of ranked items (models).
    decimals: the printed precision.

    Returns
    -------
    Tidy DataFrame: the cell's keys, ``printed``, ``nearest`` (closest (C - D)/P), ``c_minus_d``,
    ``on_grid`` (bool: ``round(nearest, decimals) == printed``).
    """
    if int(n_items) != n_items or n_items < 2:
        raise ValueError(f"n_items must be an integer >= 2, got {n_items!r}")
    n_pairs = n_items * (n_items - 1) // 2
    grid_k = np.arange(-n_pairs, n_pairs + 1, 2)  # C - D, same parity as P
    if isinstance(values, pd.Series):
        s = values
    else:
        values = values.drop(columns=[c for c in values.columns if c == "average"])
        s = values.stack(future_stack=True)
    s = s.astype(float).dropna()
    v = s.to_numpy()
    k = grid_k[np.abs(grid_k[None, :] / n_pairs - v[:, None]).argmin(axis=1)]
    nearest = k / n_pairs
    out = pd.DataFrame(
        {"printed": v, "nearest": nearest, "c_minus_d": k,
         "on_grid": np.isclose(np.round(nearest, decimals), v, atol=10.0 ** (-decimals) / 2)},
        index=s.index,
    ).reset_index()
    return out
