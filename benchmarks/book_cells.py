"""Time every cell of every chapter with a cold feature cache (what the book build runs).

Each chapter (``notebooks/<name>.py``) is executed by papermill in a fresh kernel with
``$TECORE_CACHE`` pointing at an empty temporary folder, so feature extraction runs as on a
fresh machine; the per-cell wall times come from papermill's cell metadata. Prints, per
chapter, the total and the slowest cell (its number and first line), and checks the slowest
cell against the book's cell timeout (``execute.timeout`` in ``_config.yml``).

    nice -n 10 python benchmarks/book_cells.py            # every chapter
    nice -n 10 python benchmarks/book_cells.py leep ped   # some

Run it with the Makefile's mirrors in the environment (``TECORE_DATA_MIRROR`` etc.; ``make
install`` then ``.venv/bin/python``), and ``PYTHONPATH`` at the checkout when it is not the
installed one.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

import jupytext
import nbformat
import papermill as pm

ROOT = Path(__file__).resolve().parents[1]


def cell_timeout() -> int:
    m = re.search(r"^\s*timeout:\s*(\d+)", (ROOT / "_config.yml").read_text(), re.M)
    return int(m.group(1)) if m else 0


def time_chapter(name: str) -> tuple[float, list[tuple[float, int, str]]]:
    nb = jupytext.read(ROOT / "notebooks" / f"{name}.py")
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    with tempfile.TemporaryDirectory() as tmp:
        old = os.environ.get("TECORE_CACHE")
        os.environ["TECORE_CACHE"] = str(Path(tmp) / "cache")  # cold: nothing extracted yet
        try:
            inp, out = Path(tmp) / f"{name}.ipynb", Path(tmp) / f"{name}.out.ipynb"
            nbformat.write(nb, inp)
            t = time.perf_counter()
            pm.execute_notebook(str(inp), str(out), cwd=str(ROOT / "notebooks"), kernel_name="python3",
                                progress_bar=False)
            total = time.perf_counter() - t
            done = nbformat.read(out, as_version=4)
        finally:
            if old is None:
                os.environ.pop("TECORE_CACHE", None)
            else:
                os.environ["TECORE_CACHE"] = old
    cells = []
    for i, c in enumerate(x for x in done.cells if x.cell_type == "code"):
        d = c.metadata.get("papermill", {}).get("duration") or 0.0
        first = next((ln for ln in c.source.splitlines() if ln.strip() and not ln.startswith("#")), "")
        cells.append((float(d), i + 1, first.strip()[:60]))
    return total, sorted(cells, reverse=True)


def main(names: list[str]) -> None:
    names = names or sorted(p.stem for p in (ROOT / "notebooks").glob("*.py"))
    limit = cell_timeout()
    print(f"cell timeout (_config.yml): {limit} s; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    print("| chapter | total | slowest cell | its time | share of the timeout | cell starts with |")
    print("|---|---:|---:|---:|---:|---|")
    for n in names:
        total, cells = time_chapter(n)
        d, i, first = cells[0]
        share = f"{100 * d / limit:.0f} %" if limit else ""
        print(f"| {n} | {total:.0f} s | {i} | {d:.0f} s | {share} | `{first}` |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
