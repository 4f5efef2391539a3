"""How the chapters show a table: HTML through pandas' Styler in the book, plain text elsewhere.

:func:`table` wraps a DataFrame so that Jupyter (and the book) renders it as an HTML table
— numbers formatted, mismatching cells highlighted, wide tables in a horizontally
scrollable box, an optional caption — while ``repr`` (a terminal, a text-only notebook
check such as nbval) still gives ``DataFrame.to_string()``. The HTML is deterministic (a
fixed Styler uuid), so re-running a chapter gives the same output.
"""
from __future__ import annotations

import hashlib
import html as _html

import numpy as np
import pandas as pd

__all__ = ["Table", "table", "show", "glue", "figure_png", "MISMATCH_STYLE"]

#: CSS of a highlighted (mismatching) cell
MISMATCH_STYLE = "background-color: #f8d7da; color: #842029; font-weight: bold"
_CSS = ("overflow-x: auto; max-width: 100%; margin-bottom: 1em")


class Table:
    """A DataFrame shown as a styled HTML table (see :func:`table`)."""

    def __init__(self, df: pd.DataFrame, styler, caption: str | None, precision: int):
        self.df, self.styler, self.caption, self.precision = df, styler, caption, precision

    def _repr_html_(self) -> str:
        return f'<div class="tecore-table" style="{_CSS}">{self.styler.to_html()}</div>'

    def __repr__(self) -> str:
        p = self.precision
        with pd.option_context("display.width", 200, "display.max_columns", None):
            text = self.df.to_string(float_format=lambda x: f"{x:.{p}f}")
        return f"{self.caption}\n{text}" if self.caption else text


def table(df, *, precision: int = 3, caption: str | None = None, highlight=None,
          index: bool = True) -> Table:
    """Wrap ``df`` (a DataFrame or Series) for display as an HTML table.

    Parameters
    ----------
    precision : decimals of float cells (integers and text are shown as they are; NaN as "–").
    caption : shown above the table (and as the first line of the text form).
    highlight : which cells to mark as mismatching: ``None`` (none), the name of a boolean
        column whose *False* rows are highlighted (e.g. ``"match"`` of
        :func:`tecore.papers.printed.compare`), or a boolean DataFrame / array of the same
        shape as ``df`` where *True* marks a cell.
    index : show the index (``False`` hides it, e.g. for a tidy table).
    """
    if isinstance(df, pd.Series):
        df = df.to_frame()
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"table: expected a pandas DataFrame or Series, got {type(df).__name__}")
    # a deterministic uuid per table (Styler's CSS is keyed by it: two tables on one page
    # must not share it, and a re-run must give the same HTML), from what the table shows:
    # digits below the displayed precision (they differ between CPUs' BLAS kernels) do not
    # change the HTML
    shown = df.to_csv(float_format=f"%.{int(precision)}f")
    key = hashlib.sha1(f"{caption}\n{shown}\n{highlight!r}".encode()).hexdigest()[:10]
    styler = df.style.set_uuid(f"tecore{key}").format(precision=precision, na_rep="–")
    if highlight is not None:
        if isinstance(highlight, str):
            if highlight not in df.columns:
                raise ValueError(f"table: highlight={highlight!r} is not a column of the table "
                                 f"(columns: {list(df.columns)})")
            bad = ~df[highlight].astype(bool).to_numpy()
            mask = np.repeat(bad[:, None], df.shape[1], axis=1)
        else:
            mask = np.asarray(highlight, dtype=bool)
            if mask.shape != df.shape:
                raise ValueError(f"table: highlight has shape {mask.shape}, the table {df.shape}")
        css = pd.DataFrame(np.where(mask, MISMATCH_STYLE, ""), index=df.index, columns=df.columns)
        styler = styler.apply(lambda _: css, axis=None)
    if caption:
        styler = styler.set_caption(_html.escape(caption))
    if not index:
        styler = styler.hide(axis="index")
    text_cols = [i for i, c in enumerate(df.columns) if not pd.api.types.is_numeric_dtype(df[c])]
    styler = styler.set_table_styles([
        {"selector": "", "props": "border-collapse: collapse; font-size: 0.85em"},
        {"selector": "th, td", "props": "padding: 2px 8px; text-align: right; white-space: nowrap"},
        {"selector": "th.col_heading", "props": "white-space: normal; vertical-align: bottom"},
        *({"selector": f"td.col{i}", "props": "text-align: left; white-space: normal; min-width: 8em"}
          for i in text_cols),
        {"selector": "caption", "props": "caption-side: top; text-align: left; font-style: italic"},
    ])
    return Table(df, styler, caption, precision)


def show(df, **kwargs) -> None:
    """Display ``table(df, **kwargs)`` now (for a table inside a loop)."""
    from IPython.display import display

    display(table(df, **kwargs))


def glue(name: str, value, *, fmt: str | None = None) -> None:
    """Glue a computed value into the chapter's prose (myst-nb ``glue``), shown nowhere else.

    A number is glued as it is (the page formats it: ``{glue:text}`name:.3f```); a string,
    or a number with ``fmt`` (e.g. ``".3f"``), is glued as Markdown text
    (``{glue:md}`name```), so the prose shows it without quotes. Without myst-nb (a plain
    Jupyter kernel) nothing happens. A matplotlib figure is glued and closed, so it appears
    only where the page places it with a caption (``{glue:figure}`` directive).
    """
    try:
        from myst_nb import glue as _glue
    except ImportError:  # pragma: no cover - myst-nb is a book dependency
        return
    if isinstance(value, str) or fmt is not None:
        from IPython.display import Markdown

        text = value if isinstance(value, str) else format(value, fmt)
        _glue(name, Markdown(text), display=False)
    elif hasattr(value, "savefig"):  # a matplotlib figure: shown by {glue:figure} only
        import matplotlib.pyplot as plt

        _glue(name, figure_png(value), display=False)
        plt.close(value)
    else:
        _glue(name, value, display=False)


def figure_png(fig, *, dpi: int = 100):
    """A matplotlib figure as an ``IPython.display.Image`` (PNG). The figure is rendered here,
    not by the kernel's matplotlib backend: under ``MPLBACKEND=Agg`` (the book build, nbval
    references) a kernel shows a figure object only as its text ``<Figure size ...>``."""
    import io

    from IPython.display import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return Image(data=buf.getvalue(), format="png")
