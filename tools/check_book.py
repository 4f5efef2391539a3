"""Check the built book in a real headless browser (Debian ``chromium``).

For every page given (default: every ``*.html`` of ``_build/html`` with a chapter): load it
in headless Chromium, save a screenshot to ``<out>/<page>.png``, and fail when

* the rendered text carries an error (``Traceback``, ``Error:`` at a line start, an output of
  a failed cell), or
* a table sticks out of the page's article column without a horizontally scrollable box
  around it, or the page itself scrolls sideways.

    python tools/check_book.py                       # _build/html, screenshots in build/screenshots
    python tools/check_book.py _build/html/notebooks/gbc.html --out /tmp/shots

Install the browser with ``make chromium`` (``apt-get install -y chromium``). Exit status 0
when all pages pass, 1 otherwise, 2 when Chromium is missing.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs in the page after load: layout facts the check needs, written into the DOM.
_PROBE = """
<script>
window.addEventListener("load", function () {
  setTimeout(function () {
    var art = document.querySelector("article") || document.querySelector("main") || document.body;
    var right = art.getBoundingClientRect().right;
    var bad = [];
    document.querySelectorAll("article table, main table").forEach(function (t, i) {
      var r = t.getBoundingClientRect();
      if (r.width === 0) return;
      var el = t.parentElement, scrolls = false;
      while (el && el !== document.body) {
        var ox = getComputedStyle(el).overflowX;
        if ((ox === "auto" || ox === "scroll") && el.getBoundingClientRect().right <= right + 1) {
          scrolls = true; break;
        }
        el = el.parentElement;
      }
      if (!scrolls && r.right > right + 1) {
        bad.push({table: i, right: Math.round(r.right), article_right: Math.round(right),
                  head: (t.innerText || "").slice(0, 60)});
      }
    });
    var page = document.documentElement.scrollWidth > window.innerWidth + 1;
    var pre = document.createElement("pre");
    pre.id = "tecore-probe";
    pre.textContent = JSON.stringify({overflowing_tables: bad, page_scrolls_sideways: page,
                                      text: (art.innerText || "")});
    document.body.appendChild(pre);
  }, 300);
});
</script>
"""
_ERRORS = re.compile(r"Traceback \(most recent call last\)|^\w*Error: |^\w*Exception: |"
                     r"An exception occurred|Cell execution failed", re.M)


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _run(browser: str, args: list[str], timeout: int = 120) -> str:
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--window-size=1280,2200", "--virtual-time-budget=8000", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout).stdout


def check_page(page: Path, out: Path, browser: str) -> list[str]:
    """Problems found on one page (empty: it passes); saves ``out/<page>.png``."""
    problems = []
    html = page.read_text(encoding="utf-8")
    with tempfile.NamedTemporaryFile("w", suffix=".html", dir=page.parent, prefix=".probe-",
                                     delete=False, encoding="utf-8") as f:
        f.write(html.replace("</body>", _PROBE + "</body>"))
        probe_page = Path(f.name)
    try:
        dom = _run(browser, ["--dump-dom", probe_page.as_uri()])
    finally:
        probe_page.unlink()
    m = re.search(r'<pre id="tecore-probe"[^>]*>(.*?)</pre>', dom, re.S)
    if not m:
        return [f"{page.name}: the page did not finish loading in Chromium"]
    import html as _html

    facts = json.loads(_html.unescape(m.group(1)))
    for t in facts["overflowing_tables"]:
        problems.append(f"{page.name}: table {t['table']} ({t['head']!r}...) ends at x={t['right']}, "
                        f"past the article's right edge {t['article_right']}, and nothing scrolls it")
    if facts["page_scrolls_sideways"]:
        problems.append(f"{page.name}: the page is wider than the window (it scrolls sideways)")
    for hit in _ERRORS.finditer(facts["text"]):
        line = facts["text"][hit.start():].splitlines()[0][:120]
        problems.append(f"{page.name}: error text on the page: {line!r}")
    out.mkdir(parents=True, exist_ok=True)
    _run(browser, [f"--screenshot={out / (page.stem + '.png')}", page.as_uri()])
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pages", nargs="*", type=Path, help="HTML pages (default: the built book's pages)")
    ap.add_argument("--html", type=Path, default=ROOT / "_build" / "html", help="built book")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "screenshots", help="screenshot folder")
    args = ap.parse_args(argv)
    browser = chromium()
    if browser is None:
        print("chromium not found: install it with `make chromium` (apt-get install -y chromium)", file=sys.stderr)
        return 2
    pages = args.pages or sorted([args.html / "intro.html", *(args.html / "notebooks").glob("*.html")])
    pages = [p for p in pages if p.is_file()]
    if not pages:
        print(f"no built pages under {args.html}; build the book first (make book)", file=sys.stderr)
        return 1
    problems = []
    for p in pages:
        found = check_page(p.resolve(), args.out, browser)
        print(f"{'FAIL' if found else 'ok  '} {p}  -> {args.out / (p.stem + '.png')}")
        problems += found
    for line in problems:
        print("  " + line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
