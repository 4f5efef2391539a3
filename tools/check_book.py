"""Check the built book in a real headless browser (Debian ``chromium``).

For every page given (default: every ``*.html`` of ``_build/html`` with a chapter): load it
in headless Chromium, save a screenshot to ``<out>/<page>.png``, and fail when

* the rendered text carries an error (``Traceback``, ``Error:`` at a line start, an output of
  a failed cell), or
* a table sticks out of the page's article column without a horizontally scrollable box
  around it, or the page itself scrolls sideways, or
* a cell's text output holds a plain-text table (three lines of three or more numbers: a
  printed DataFrame instead of an HTML table through ``tecore.papers.display``), or a
  matplotlib figure appears as its text ``<Figure size ...>`` (not rendered).

    python tools/check_book.py                       # _build/html, screenshots in build/screenshots
    python tools/check_book.py _build/html/notebooks/gbc.html --out /tmp/shots
    python tools/check_book.py --references itm offline   # build those chapters from their
                                                           # executed nbval references, check them

``--references`` renders the committed executed chapters (``tests/nbval/<name>.ipynb``) as a
small Jupyter Book without executing anything (a minute instead of the full ``make book``),
with the book's own configuration, static files and bibliography, and checks those pages.

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
    var outputs = [];
    document.querySelectorAll("div.cell_output pre, div.output pre").forEach(function (p) {
      outputs.push(p.textContent || "");
    });
    var pre = document.createElement("pre");
    pre.id = "tecore-probe";
    pre.textContent = JSON.stringify({overflowing_tables: bad, page_scrolls_sideways: page,
                                      text: (art.innerText || ""), outputs: outputs});
    document.body.appendChild(pre);
  }, 300);
});
</script>
"""
_ERRORS = re.compile(r"Traceback \(most recent call last\)|^\w*Error: |^\w*Exception: |"
                     r"An exception occurred|Cell execution failed", re.M)


_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d+|\d+)(?:e[-+]?\d+)?(?![\w.])")


def text_table(block: str, rows: int = 3, cols: int = 3) -> str | None:
    """The first line of a plain-text table in a cell's text output — ``rows`` consecutive
    lines with at least ``cols`` numbers each (a printed DataFrame) — or None."""
    run = []
    for line in block.splitlines():
        run = run + [line] if len(_NUMBER.findall(line)) >= cols else []
        if len(run) >= rows:
            return run[0].strip()
    return None


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
    for block in facts.get("outputs", []):
        first = text_table(block)
        if first is not None:
            problems.append(f"{page.name}: a text table in a cell output (show it with "
                            f"tecore.papers.display.table): {first[:80]!r}")
    for hit in re.finditer(r"<Figure size \d+x\d+ with \d+ Axes>", facts["text"]):
        problems.append(f"{page.name}: a figure shown as text ({hit.group(0)!r}): glue it with "
                        f"tecore.papers.display.glue, which renders it to PNG")
    for hit in _ERRORS.finditer(facts["text"]):
        line = facts["text"][hit.start():].splitlines()[0][:120]
        problems.append(f"{page.name}: error text on the page: {line!r}")
    out.mkdir(parents=True, exist_ok=True)
    _run(browser, [f"--screenshot={out / (page.stem + '.png')}", page.as_uri()])
    return problems


def build_references(dest: Path, names: list[str] | None = None) -> Path:
    """Render the executed chapters ``tests/nbval/<name>.ipynb`` (all when ``names`` is empty)
    as a Jupyter Book in ``dest`` with the book's ``_config.yml`` (no execution, warnings
    are errors); returns the HTML folder. Raises ``RuntimeError`` with the build log's tail
    when the build fails."""
    import os
    import yaml

    names = names or sorted(p.stem for p in (ROOT / "tests" / "nbval").glob("*.ipynb"))
    missing = [n for n in names if not (ROOT / "tests" / "nbval" / f"{n}.ipynb").is_file()]
    if missing:
        raise ValueError(f"build_references: no executed reference tests/nbval/<name>.ipynb for {missing}")
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "notebooks").mkdir(parents=True)
    shutil.copytree(ROOT / "_static", dest / "_static", ignore=shutil.ignore_patterns("mathjax"))
    mathjax = ROOT / "_static" / "mathjax"
    if mathjax.is_dir():
        os.symlink(mathjax, dest / "_static" / "mathjax")
    else:  # tools/build_book.sh installs it from npm; the layout checks do not need it
        (dest / "_static" / "mathjax").mkdir()
        (dest / "_static" / "mathjax" / "tex-chtml.js").write_text("// stand-in\n")
    (dest / "book").mkdir()
    for f in ("references.bib", "bibliography.md"):
        shutil.copy(ROOT / "book" / f, dest / "book" / f)
    (dest / "book" / "intro.md").write_text("# Chapters from their executed references\n")
    for n in names:
        shutil.copy(ROOT / "tests" / "nbval" / f"{n}.ipynb", dest / "notebooks" / f"{n}.ipynb")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"
    (dest / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    toc = {"format": "jb-book", "root": "book/intro",
           "chapters": [{"file": f"notebooks/{n}"} for n in names] + [{"file": "book/bibliography"}]}
    (dest / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    jb = shutil.which("jupyter-book") or str(Path(sys.executable).parent / "jupyter-book")
    proc = subprocess.run([jb, "build", str(dest), "-W", "-n", "--keep-going"], capture_output=True,
                          text=True, timeout=900, env={**os.environ, "MPLBACKEND": "Agg"})
    if proc.returncode != 0:
        raise RuntimeError(f"building the references failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    return dest / "_build" / "html"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pages", nargs="*", type=Path, help="HTML pages (default: the built book's pages)")
    ap.add_argument("--html", type=Path, default=ROOT / "_build" / "html", help="built book")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "screenshots", help="screenshot folder")
    ap.add_argument("--references", nargs="*", metavar="NAME", default=None,
                    help="build these chapters (none named: all) from tests/nbval/<name>.ipynb "
                         "into build/references and check them")
    args = ap.parse_args(argv)
    browser = chromium()
    if browser is None:
        print("chromium not found: install it with `make chromium` (apt-get install -y chromium)", file=sys.stderr)
        return 2
    if args.references is not None:
        try:
            args.html = build_references(ROOT / "build" / "references", args.references)
        except RuntimeError as e:
            print(e, file=sys.stderr)
            return 1
        args.pages = args.pages or sorted((args.html / "notebooks").glob("*.html"))
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
