"""Chapter parameters fail in the first code cell (issue 8, part 7): tecore.params.check, the
chapters' calls of it, and papermill runs with bad parameters.

On main before the fix, per_class=0, seed=-1, image_size=0 and device="cuda:7" failed in
later cells after models were built, with messages that did not name the parameter;
n_boot=0 and a mistyped hyper key ran for minutes."""
from __future__ import annotations

import ast
import time
from pathlib import Path

import jupytext
import pytest

from tecore import params
from tests.test_notebooks import CHAPTERS, _run

ROOT = Path(__file__).resolve().parents[1]
RULED = {"per_class", "train_per_class", "test_per_class", "n_tasks", "n_levels", "n_boot", "min_classes",
         "max_classes", "seed", "image_size", "alpha", "tol", "device", "hyper", "zoo", "targets", "datasets",
         "dataset", "data_dir", "published_dir", "cache_dir", "probe_Cs", "models", "fold", "finetune",
         "finetune_out", "imagenet_dir", "n_jobs", "n_components", "seeds", "centre_seeds", "offline_zoo",
         "offline_image_size", "offline_hyper", "blas_threads", "claims_margin"}


@pytest.mark.parametrize("kw,words", [
    ({"per_class": 0}, ["per_class", ">= 1", "got 0"]),
    ({"seed": -1}, ["seed", ">= 0", "got -1"]),
    ({"image_size": 0}, ["image_size", "got 0"]),
    ({"n_boot": 0}, ["n_boot", "got 0"]),
    ({"n_boot": 2.5}, ["n_boot", "integer"]),
    ({"alpha": 1.5}, ["alpha", "(0, 1)"]),
    ({"min_classes": 5, "max_classes": 3}, ["min_classes", "max_classes"]),
    ({"device": "cuda:7"}, ["device", "cuda:7"]),
    ({"device": "gpu0"}, ["device", "gpu0"]),
    ({"hyper": {"itmm": {"n_iter": 5}}}, ["hyper", "'itmm' is not a metric", "logme"]),
    ({"hyper": {"itm": {"n_itr": 5}}}, ["hyper['itm']", "no parameter 'n_itr'", "n_iter"]),
    ({"hyper": {"logme": {"tol": float("nan")}}}, ["hyper['logme']['tol']", "got nan"]),
    ({"targets": ["digits", "/no/such/folder"]}, ["targets", "no such file or folder", "/no/such/folder"]),
    ({"dataset": "./nope.npz"}, ["dataset", "no such file or folder"]),
    ({"data_dir": "/no/such/folder"}, ["data_dir", "no such file or folder"]),
    ({"zoo": "ofline"}, ["zoo", "valid zoos", "offline"]),
    ({"probe_Cs": (0.1, -1)}, ["probe_Cs", "got -1"]),
    ({"models": ["resnet5O"]}, ["models", "unknown model 'resnet5O'"]),
    ({"imagenet_dir": "/no/such/val"}, ["imagenet_dir", "no such file or folder"]),
    ({"finetune": "yes"}, ["finetune", "True, False"]),
    ({"seeds": []}, ["seeds", "non-empty list"]),
    ({"offline_hyper": {"itm": {"n_itr": 5}}}, ["offline_hyper['itm']", "no parameter 'n_itr'"]),
    ({"centre_seeds": [0, -1]}, ["centre_seeds (each)", "got -1"]),
    ({"n_components": 0}, ["n_components", "got 0"]),
    ({"offline_zoo": "ofline"}, ["offline_zoo", "valid zoos"]),
])
def test_check_names_the_parameter(kw, words):
    with pytest.raises(ValueError) as e:
        params.check(**kw)
    msg = str(e.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, (w, msg)
    if "zoo" in kw:
        assert "mobilenet" not in msg  # the zoos, not every model name


def test_check_accepts_the_defaults():
    params.check(per_class=None, seed=0, image_size=None, n_boot=1000, device=None, zoo="offline",
                 hyper={"itm": {"n_iter": 100}, "ped+logme": {"tol": 1e-3}}, targets=["digits", "fashion-mnist"],
                 data_dir=None, cache_dir="/tmp/not-yet-created", alpha=0.05, tol=0.01, probe_Cs=(0.1, 1.0))
    params.check(device="cpu", zoo=["mobilenet_v2_fdet"], datasets=None)


def _cells(name):
    nb = jupytext.read(ROOT / "notebooks" / f"{name}.py")
    code = [c for c in nb.cells if c.cell_type == "code"]
    return code[0].source, code[1].source


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_chapter_checks_its_parameters_in_the_first_cell(name):
    first, second = _cells(name)
    declared = {t.id for node in ast.parse(first).body if isinstance(node, ast.Assign)
                for t in node.targets if isinstance(t, ast.Name)}
    calls = [n for n in ast.walk(ast.parse(second)) if isinstance(n, ast.Call)
             and ast.unparse(n.func) == "params.check"]
    assert calls, f"{name}: the cell after the parameters must call tecore.params.check"
    passed = {k.arg for k in calls[0].keywords}
    missing = (declared & RULED) - passed
    assert not missing, f"{name}: parameters not checked by params.check: {sorted(missing)}"
    assert all(ast.unparse(k.value) == k.arg for k in calls[0].keywords), "pass each parameter as itself"


BAD = [
    ("offline", {"per_class": 0}, "per_class"),
    ("offline", {"seed": -1}, "seed"),
    ("offline", {"image_size": 0}, "image_size"),
    ("offline", {"device": "cuda:7"}, "device"),
    ("offline", {"n_boot": 0}, "n_boot"),
    ("offline", {"claims_margin": -0.1}, "claims_margin"),
    ("offline", {"blas_threads": 0}, "blas_threads"),
    ("offline", {"n_jobs": 0}, "n_jobs"),
    ("offline", {"hyper": {"itm": {"n_itr": 5}}}, "hyper"),
    ("offline", {"targets": ["/no/such/folder"]}, "no such file or folder"),
    ("offline", {"zoo": "ofline"}, "valid zoos"),
    ("leep", {"train_per_class": 0}, "train_per_class"),
    ("leep", {"data_dir": "/no/such/folder"}, "no such file or folder"),
    ("gbc", {"seed": -1}, "seed"),
    ("itm", {"zoo": "itm1O"}, "valid zoos"),
    ("itm", {"offline_targets": ["fashion-mnist"]}, "benchmark target"),
    ("itm", {"iterations": [100, 200]}, "100 and 500"),
    ("itm", {"seeds": []}, "seeds"),
    ("ped", {"per_class": 0}, "per_class"),
    ("medical", {"alpha": 2}, "alpha"),
]


@pytest.mark.parametrize("name,bad,word", BAD, ids=[f"{n}-{list(b)[0]}" for n, b, _ in BAD])
def test_bad_parameter_fails_fast_in_the_first_cell(name, bad, word, tmp_path):
    import papermill as pm

    t = time.perf_counter()
    with pytest.raises(pm.PapermillExecutionError) as err:
        _run(name, bad, tmp_path)
    e = err.value
    assert e.ename == "ValueError", (e.ename, e.evalue)
    assert word in e.evalue and "\n" not in e.evalue.strip(), e.evalue
    assert e.exec_count <= 3, f"failed only in cell {e.exec_count}"
    assert time.perf_counter() - t < 120
