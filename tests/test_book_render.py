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


@pytest.mark.skipif(not (ROOT / "_build" / "html" / "intro.html").is_file(), reason="the book is not built")
def test_built_book_pages(tmp_path):
    assert check_book.main(["--out", str(tmp_path)]) == 0
