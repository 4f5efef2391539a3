"""Regenerate the executed chapters that ``pytest --nbval-lax tests/nbval`` checks.

For each ``notebooks/<name>.py`` (or the names given), convert it with jupytext, execute it
with papermill in the current environment (the Makefile's mirrors must be set, e.g. run
``make install`` and then this through ``.venv/bin/python``), drop volatile metadata and
write ``tests/nbval/<name>.ipynb``. Commit the result: it is the reference the nbval check
compares the ``# NBVAL_CHECK_OUTPUT`` cells against.

    python tools/refresh_nbval.py            # all chapters
    python tools/refresh_nbval.py gbc ped    # some
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import jupytext
import nbformat
import papermill as pm

ROOT = Path(__file__).resolve().parents[1]


def refresh(name: str) -> Path:
    src = ROOT / "notebooks" / f"{name}.py"
    nb = jupytext.read(src)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    with tempfile.TemporaryDirectory() as tmp:
        inp = Path(tmp) / f"{name}.ipynb"
        nbformat.write(nb, inp)
        out = Path(tmp) / f"{name}.out.ipynb"
        pm.execute_notebook(str(inp), str(out), cwd=str(ROOT / "notebooks"), kernel_name="python3",
                            progress_bar=False)
        done = nbformat.read(out, as_version=4)
    # papermill adds an "injected-parameters" cell only when parameters are passed (none here)
    for cell in done.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    done.metadata.pop("papermill", None)
    dest = ROOT / "tests" / "nbval" / f"{name}.ipynb"
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(done, dest)
    return dest


def main(names):
    names = names or sorted(p.stem for p in (ROOT / "notebooks").glob("*.py"))
    for n in names:
        t = time.perf_counter()
        print(f"{refresh(n).relative_to(ROOT)}  ({time.perf_counter() - t:.0f} s)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
