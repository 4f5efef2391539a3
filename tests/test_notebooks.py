"""The chapters: no drift between notebooks/*.py and the nbval references, papermill with
non-default parameters, and one-line errors for unknown names."""
from __future__ import annotations

import json
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.py"))

# per chapter: non-default parameters, text the output must contain, and an unknown name
CASES = {
    "gbc": ({"targets": ["cifar10", "dtd"], "settings": ["frozen"]}, ["cifar10", "dtd"], {"targets": ["nope"]}),
    "ped": ({"datasets": ["cifar10", "dtd"]}, ["cifar10", "dtd"], {"datasets": ["nope"]}),
    "itm": ({"datasets": ["cifar10", "pets"], "tau": "weighted_tau", "run_offline": False}, ["cifar10", "pets"],
            {"datasets": ["nope"]}),
    "medical": ({"targets": ["breastmnist", "retinamnist"]}, ["breastmnist", "retinamnist"], {"targets": ["nope"]}),
    "leep": ({"dataset": "digits", "n_tasks": 6, "max_classes": 5}, ["leep", "nce"], {"dataset": "nope"}),
    "offline": (None, None, {"targets": ["nope"]}),
}


def _code(nb):
    return [c.source.strip() for c in nb.cells if c.cell_type == "code" and c.source.strip()]


@pytest.mark.parametrize("name", CHAPTERS)
def test_nbval_reference_matches_the_chapter(name):
    ref = ROOT / "tests" / "nbval" / f"{name}.ipynb"
    assert ref.is_file(), f"run `python tools/refresh_nbval.py {name}` and commit {ref.relative_to(ROOT)}"
    src = jupytext.read(ROOT / "notebooks" / f"{name}.py")
    got = nbformat.read(ref, as_version=4)
    assert _code(got) == _code(src), f"{ref.name} is stale: run `python tools/refresh_nbval.py {name}`"
    checked = [c for c in got.cells if c.cell_type == "code" and c.source.startswith("# NBVAL_CHECK_OUTPUT")]
    assert checked, "a chapter must pin its summary tables with # NBVAL_CHECK_OUTPUT"
    assert all(c.outputs for c in checked), "checked cells must have stored outputs"
    first = next(c for c in src.cells if c.cell_type == "code")
    assert "parameters" in first.metadata.get("tags", []), "the first code cell must be tagged parameters"


def _run(name, params, tmp_path):
    import papermill as pm

    nb = jupytext.read(ROOT / "notebooks" / f"{name}.py")
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    inp, out = tmp_path / f"{name}.ipynb", tmp_path / f"{name}.out.ipynb"
    nbformat.write(nb, inp)
    pm.execute_notebook(str(inp), str(out), parameters=params, cwd=str(ROOT / "notebooks"),
                        kernel_name="python3", progress_bar=False)
    return nbformat.read(out, as_version=4)


def _text(nb) -> str:
    parts = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            parts.append(o.get("text", ""))
            parts.extend(str(v) for k, v in o.get("data", {}).items() if k.startswith("text/"))
    return "\n".join(parts)


@pytest.mark.parametrize("name", [n for n in CHAPTERS if CASES.get(n, (None,))[0] is not None])
def test_papermill_with_other_parameters(name, tmp_path):
    params, expect, _ = CASES[name]
    nb = _run(name, params, tmp_path)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and all(k in injected[0].source for k in params)
    text = _text(nb)
    for word in expect:
        assert word in text, f"{word!r} missing from the output tables"
    checked = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("# NBVAL_CHECK_OUTPUT")]
    assert checked and all(c.outputs for c in checked)


@pytest.mark.parametrize("name", [n for n in CHAPTERS if n in CASES])
def test_unknown_name_fails_early_with_valid_choices(name, tmp_path):
    import papermill as pm

    with pytest.raises(pm.PapermillExecutionError) as err:
        _run(name, CASES[name][2], tmp_path)
    e = err.value
    assert e.ename == "ValueError", e.ename
    assert "\n" not in e.evalue.strip() and "valid" in e.evalue, e.evalue
    assert e.exec_count <= 3, f"failed only in cell {e.exec_count}; validate parameters first"


@pytest.mark.parametrize("name", CHAPTERS)
def test_no_table_is_built_and_dropped(name):
    """`display.table(df)` shows a table only as the last expression of its cell; anywhere
    else (before more statements, inside an `if` or a loop) its result is dropped and the
    table is missing from the page: use `display.show(df)` there."""
    import ast

    lost = []
    for cell in jupytext.read(ROOT / "notebooks" / f"{name}.py").cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        last = tree.body[-1].value if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "table"
                    and getattr(node.func.value, "id", None) == "display" and node is not last):
                parent_is_assigned = any(isinstance(n, (ast.Assign, ast.Return)) and n.value is node
                                         for n in ast.walk(tree))
                if not parent_is_assigned:
                    lost.append(cell.source.splitlines()[node.lineno - 1].strip())
    assert not lost, f"display.table(...) whose result is dropped (use display.show): {lost}"
