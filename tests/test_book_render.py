"""The headless-browser check of the book (tools/check_book.py) on pages built for the test,
and on the built book when there is one. Needs Debian's chromium (`make chromium`)."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("check_book", ROOT / "tools" / "check_book.py")
check_book = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_book)
BROWSER = check_book.chromium()
pytestmark = pytest.mark.skipif(BROWSER is None, reason="chromium is not installed (make chromium)")

WIDE = "<table><tr>" + "".join(f"<td>column_{i}_value_123456</td>" for i in range(40)) + "</tr></table>"


def _page(tmp_path, name, body):
    p = tmp_path / name
    p.write_text(f"<html><body><article style='width:600px'>{body}</article></body></html>")
    return p


def test_check_flags_overflowing_tables_and_tracebacks(tmp_path):
    bad = _page(tmp_path, "bad.html", WIDE + "<pre>Traceback (most recent call last):\nValueError: boom</pre>")
    problems = check_book.check_page(bad, tmp_path / "shots", BROWSER)
    assert any("past the article's right edge" in p for p in problems)
    assert any("Traceback" in p for p in problems)
    assert (tmp_path / "shots" / "bad.png").stat().st_size > 1000


def test_check_passes_a_scrollable_table(tmp_path):
    good = _page(tmp_path, "good.html", f"<div style='overflow-x:auto'>{WIDE}</div><p>fine</p>")
    assert check_book.check_page(good, tmp_path / "shots", BROWSER) == []


def test_styler_table_of_tecore_scrolls(tmp_path):
    import pandas as pd

    from tecore.papers import display

    df = pd.DataFrame([[f"value_{i}_{j}_123456" for j in range(40)] for i in range(3)])
    page = _page(tmp_path, "styler.html", display.table(df)._repr_html_())
    assert check_book.check_page(page, tmp_path / "shots", BROWSER) == []


def test_text_table_detector(tmp_path):
    printed_frame = "model     a      b      c\nm1    0.123  0.456  0.789\nm2    1.000  2.000  3.000\nm3  -0.5 -0.25 1e-3"
    assert check_book.text_table(printed_frame) == "m1    0.123  0.456  0.789"
    # numbers in sentences and two-number lines are not a table
    assert check_book.text_table("chi2 = 1.0, p = 0.1\nfeatures (240, 64)\n3 of 4 cells, 0.5") is None
    page = "<div class='cell_output'><pre>" + printed_frame + "</pre></div><p>x</p>"
    problems = check_book.check_page(_page(tmp_path, "t.html", page), tmp_path / "shots", BROWSER)
    assert any("a text table in a cell output" in p for p in problems)
    fig = _page(tmp_path, "f.html", "<div class='cell_output'><pre>&lt;Figure size 640x480 with 1 Axes&gt;</pre></div>")
    assert any("a figure shown as text" in p for p in check_book.check_page(fig, tmp_path / "shots", BROWSER))


def test_chapters_render_from_their_executed_references(tmp_path):
    """Every chapter's executed reference (tests/nbval) built as a Jupyter Book page (no
    execution) and loaded in Chromium: no error text, no overflowing table, no text-dump
    table, and its tables are tecore.papers.display's HTML tables."""
    html = check_book.build_references(tmp_path / "book")
    pages = sorted((html / "notebooks").glob("*.html"))
    assert {p.stem for p in pages} == {p.stem for p in (ROOT / "tests" / "nbval").glob("*.ipynb")}
    problems = [x for p in pages for x in check_book.check_page(p, tmp_path / "shots", BROWSER)]
    assert problems == []
    for p in pages:
        assert p.read_text(encoding="utf-8").count('class="tecore-table"') >= 2, p.name
        assert (tmp_path / "shots" / f"{p.stem}.png").stat().st_size > 10_000


@pytest.mark.skipif(not (ROOT / "_build" / "html" / "intro.html").is_file(), reason="the book is not built")
def test_built_book_pages(tmp_path):
    assert check_book.main(["--out", str(tmp_path)]) == 0
