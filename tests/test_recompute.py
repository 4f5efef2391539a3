"""Recompute mode in the stand-in world (tests/standin.py): every zoo entry has a public
source, every checkpoint layout maps onto its architecture, and every chapter's recompute
mode runs through papermill to its tables with every cell filled (or undefined because the
metric tied all models — never missing). Proves the path, not the values."""
from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import pytest

from tests import standin

ROOT = Path(__file__).resolve().parents[1]

# per chapter: tiny recompute parameters (the models and datasets the world must hold)
RUNS = {
    "ped": {"source": "recompute", "datasets": ["dtd", "pets"], "models": ["ped/moco-v2", "ped/swav", "ped/byol"],
            "image_size": 32, "imagenet_dir": "{world}/data/imagenet/val", "per_class": 6},
    "gbc": {"source": "recompute", "targets": ["oxford_iiit_pet", "sun397"], "per_class": 6, "image_size": 32,
            "models": ["sfda/resnet50", "sfda/densenet121", "sfda/mobilenet_v2"], "metrics": ["gbc", "leep", "logme", "hscore"]},
    "itm": {"source": "recompute", "datasets": ["dtd", "caltech101"], "per_class": 6, "image_size": 32,
            "models": ["itm/resnet18", "itm/mobilenet_v2", "itm/efficientnet_b0"],
            "methods": {"logme": "logme", "nleep": "nleep", "sfda": "sfda", "etran": "etran", "itm": "itm"},
            "run_offline": False},  # the chapter's offline-zoo section needs the real offline files
    "medical": {"source": "recompute", "experiments": ["model"], "targets": ["breastmnist", "pneumoniamnist"],
                "models": ["medical/resnet18", "medical/mobilenet_v3_small", "medical/shufflenet_v2_x0_5"],
                "image_size": 32, "methods": ["logme", "leep", "nleep", "lp_fu"]},
    # LEEP always recomputes (offline real files by default); here on a stand-in checkpoint and folder
    "leep": {"model": "medical/resnet18", "dataset": "dtd", "train_per_class": 6, "test_per_class": 3,
             "n_tasks": 4, "min_classes": 2, "max_classes": 3, "n_levels": 2},
}
DATASETS = ["dtd", "pets", "sun397", "caltech101", "imagenet-val", "breastmnist", "pneumoniamnist"]

# one entry per checkpoint layout a zoo uses (tests/standin.py writes each in its publisher's format)
LAYOUTS = ["ped/moco-v2", "ped/swav", "ped/infomin", "ped/byol", "itm/mocov3_vitb16", "itm/simmim_vitb16",
           "medical/resnet18", "itm/resnet18"]


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("standin")
    models = sorted({m for p in RUNS.values() for m in p.get("models", [])})
    env = standin.build_world(root, models=models, datasets=DATASETS)
    return root, env


@pytest.fixture
def in_world(world, monkeypatch):
    root, env = world
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return root


def test_every_zoo_entry_has_a_public_source():
    from tecore import zoo

    for name in zoo.list_models():
        spec = zoo.get_spec(name)
        kind, _, loc = spec.weights.partition(":")
        if kind == "mirror":  # only where the publisher has no direct file: the manual step is documented
            assert "manual" in spec.reference and loc in spec.reference, (name, spec.reference)
        elif kind == "file":  # weights tecore trains and ships in the repository (offline benchmark)
            assert Path(loc).resolve().is_relative_to(ROOT) and Path(loc).is_file(), (name, loc)
        else:
            assert kind in ("torchvision", "timm", "url", "package"), (name, spec.weights)
        if kind == "url":
            assert re.match(r"https://\S+/\S+", loc), loc


@pytest.mark.parametrize("name", LAYOUTS)
def test_checkpoint_in_its_publishers_layout_loads_exactly(name, in_world):
    import torch

    from tecore import zoo

    standin.write_checkpoint(name, in_world / "weights")
    model, _, spec = zoo.create(name)
    want = standin._arch_state(spec)
    got = model.backbone.state_dict()
    head = f"{spec.head}." if spec.head and not spec.has_head else None
    keys = [k for k in want if not (head and k.startswith(head))]
    assert set(keys) <= set(got)
    assert all(torch.equal(got[k], want[k]) for k in keys), name


def test_a_checkpoint_in_the_wrong_layout_fails_clearly(tmp_path, monkeypatch):
    import torch

    from tecore import zoo
    from tecore.zoo import WeightsError

    monkeypatch.setenv("TECORE_WEIGHTS_MIRROR", str(tmp_path))
    spec = zoo.get_spec("ped/moco-v2")  # expects module.encoder_q.*
    torch.save({"state_dict": {"module.conv1.weight": torch.zeros(64, 3, 7, 7)}},
               tmp_path / "moco_v2_800ep_pretrain.pth.tar")
    with pytest.raises(WeightsError, match="module.encoder_q."):
        zoo.create(spec.name)


def test_ped_without_imagenet_statistics_announces_the_fallback(in_world):
    from tecore.papers import recompute

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = recompute.ped(["dtd"], models=RUNS["ped"]["models"], image_size=32, per_class=6)
    assert r.settings["standardisation"] == "target (fallback)"
    assert any(n.startswith("FALLBACK") for n in r.notes)
    assert set(r.scores.loc[r.scores.metric.str.startswith("ped+"), "standardisation"]) == {"target (fallback)"}
    assert set(r.table.loc["lambda"]) <= {0.3, 0.6}


@pytest.mark.parametrize("chapter", sorted(RUNS))
def test_chapter_recompute_runs_to_its_tables(chapter, world, tmp_path, monkeypatch):
    import jupytext
    import nbformat
    import papermill as pm

    root, env = world
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    params = {k: (v.format(world=root) if isinstance(v, str) else v) for k, v in RUNS[chapter].items()}
    nb = jupytext.read(ROOT / "notebooks" / f"{chapter}.py")
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    inp, out = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    nbformat.write(nb, inp)
    pm.execute_notebook(str(inp), str(out), parameters=params, cwd=str(ROOT / "notebooks"),
                        kernel_name="python3", progress_bar=False)
    text = "\n".join(o.get("text", "") + "".join(str(v) for k, v in o.get("data", {}).items() if k.startswith("text/"))
                     for c in nbformat.read(out, as_version=4).cells for o in c.get("outputs", []))
    if chapter == "leep":  # its tables: metric x tau per task set, and the transferability levels
        assert "leep" in text and "nce" in text and "hscore" in text
        return
    m = re.search(r"recomputed cells: (\d+) of (\d+) filled, (\d+) undefined .*?, (\d+) missing", text)
    assert m, f"{chapter}: no recompute census in the output"
    n_filled, total, undefined, missing = map(int, m.groups())
    assert missing == 0 and n_filled + undefined == total and n_filled > 0, m.group(0)


def test_finetune_ground_truth_runs_the_papers_protocol(in_world, tmp_path):
    """finetune=True: PED's protocol (tecore.finetune "ped"), shrunk to one configuration and
    one epoch, gives a target, model, truth table for every model."""
    from tecore.papers import recompute

    models = RUNS["ped"]["models"][:2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = recompute.ped(["dtd"], models=models, image_size=32, per_class=6, metrics=("logme",),
                          finetune=True, finetune_out=tmp_path,
                          protocol_changes={"epochs": 1, "seeds": (0,), "batch_size": 8,
                                            "grid": {"lr": (1e-2,), "weight_decay": (0.0,), "momentum": (0.9,)}})
    assert sorted(r.truth["model"]) == sorted(models) and set(r.truth["target"]) == {"dtd"}
    assert r.truth["truth"].between(0, 1).all()
    assert (tmp_path / "dtd.csv").is_file()
