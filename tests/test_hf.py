"""Hugging Face: ``datasets`` objects and files as targets, ``hf-hub:``/``local-dir:`` timm ids
as zoo entries. Offline, on files the tests generate."""
from __future__ import annotations

import numpy as np
import pytest

from tecore import data
from tecore.zoo import hf_hub as _hf_hub

datasets = pytest.importorskip("datasets")
Image = pytest.importorskip("PIL.Image")

NAMES = ["cat", "dog", "owl"]


@pytest.fixture
def hf_cache(tmp_path, monkeypatch):
    """Keep the ``datasets`` builders' cache inside the test's folder."""
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-datasets")
    return tmp_path


def _pixels(n=12, side=10, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((n, side, side, 3)) * 255).astype(np.uint8)


def _hf_dataset(pixels, labels):
    feats = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(names=NAMES)})
    return datasets.Dataset.from_dict({"image": [Image.fromarray(p) for p in pixels], "label": list(labels)},
                                      features=feats)


def _check(ds, pixels, labels):
    assert ds.classes == tuple(NAMES)
    np.testing.assert_array_equal(ds.labels, labels)
    np.testing.assert_array_equal(np.asarray(ds.images), pixels)  # lossless PNG round trip


def test_a_datasets_object_and_its_saved_copy(hf_cache):
    pixels, labels = _pixels(), np.array([0, 1, 2] * 4)
    hf = _hf_dataset(pixels, labels)
    ds = data.load(hf)
    _check(ds, pixels, labels)
    assert ds.images.identity.startswith("hf:") and ds.split == "all"
    # the same content gives the same cache fingerprint; other labels another one
    assert data.load(hf).fingerprint() == ds.fingerprint()
    other = _hf_dataset(pixels, labels[::-1].copy())
    assert data.load(other).fingerprint() != ds.fingerprint()

    hf.save_to_disk(str(hf_cache / "saved"))
    saved = data.load(str(hf_cache / "saved"))  # recognised by its state.json, no prefix needed
    _check(saved, pixels, labels)
    sub = data.load(hf_cache / "saved", per_class=2, seed=0)
    assert sorted(np.bincount(sub.labels)) == [2, 2, 2]

    datasets.DatasetDict({"train": hf, "test": hf.select(range(3))}).save_to_disk(str(hf_cache / "dict"))
    assert data.load(str(hf_cache / "dict")).split == "train"
    test = data.load(str(hf_cache / "dict"), "test")
    _check(test, pixels[:3], labels[:3])
    with pytest.raises(ValueError, match=r"splits \['train', 'test'\], not 'val'"):
        data.load(str(hf_cache / "dict"), "val")


def test_parquet_and_imagefolder_through_datasets(hf_cache):
    pixels, labels = _pixels(9, seed=1), np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    (hf_cache / "pq").mkdir()
    _hf_dataset(pixels, labels).to_parquet(str(hf_cache / "pq" / "train.parquet"))
    _check(data.load(str(hf_cache / "pq")), pixels, labels)
    _check(data.load(f"hf:parquet:{hf_cache / 'pq' / 'train.parquet'}"), pixels, labels)

    for i, (p, y) in enumerate(zip(pixels, labels)):
        d = hf_cache / "folder" / NAMES[y]
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(p).save(d / f"{i}.png")
    via_hf = data.load(f"hf:{hf_cache / 'folder'}")
    _check(via_hf, pixels, labels)
    own = data.load(str(hf_cache / "folder"))  # without hf: tecore's own image-folder reader
    assert own.images.identity.startswith("imagefolder:")
    np.testing.assert_array_equal(np.asarray(own.images), np.asarray(via_hf.images))


def test_columns_and_errors(hf_cache):
    pixels = _pixels(4)
    hf = datasets.Dataset.from_dict({"pic": [Image.fromarray(p) for p in pixels], "kind": ["b", "a", "b", "a"]},
                                    features=datasets.Features({"pic": datasets.Image(),
                                                                "kind": datasets.Value("string")}))
    with pytest.raises(ValueError, match="no label column found.*pass label_column="):
        data.load(hf)
    from tecore.data.sources.huggingface import load_hf

    ds = load_hf(hf, label_column="kind")  # string labels are encoded in sorted order
    assert ds.classes == ("a", "b") and list(ds.labels) == [1, 0, 1, 0]
    with pytest.raises(ValueError, match="image_column='nope' is not a column"):
        load_hf(hf, image_column="nope", label_column="kind")
    with pytest.raises(data.DatasetNotFoundError, match="does not exist"):
        data.load(f"hf:imagefolder:{hf_cache / 'absent'}")


def test_extract_reads_a_hf_dataset(hf_cache):
    torch = pytest.importorskip("torch")
    pixels, labels = _pixels(6, side=16), np.array([0, 1, 2] * 2)
    ds = data.load(_hf_dataset(pixels, labels))
    from tecore import extract

    class Net(torch.nn.Module):
        def forward(self, x):
            return x.mean(dim=(2, 3)), None

    class Spec:
        name, weights_id = "mean-rgb", "none"

    pre = lambda img: torch.as_tensor(np.array(img), dtype=torch.float32).permute(2, 0, 1) / 255.0  # noqa: E731
    f = extract.extract((Net(), pre, Spec()), ds, cache=False, progress=False, device="cpu")
    np.testing.assert_allclose(f.features, pixels.mean(axis=(1, 2)) / 255.0, rtol=1e-5)
    np.testing.assert_array_equal(f.labels, labels)


# ------------------------------------------------------------------ hub ids
@pytest.fixture(autouse=True)
def _own_zoo_registry(zoo_registry):
    """Hub ids register themselves on first use: keep that out of the other tests."""


def test_hub_id_parsing_and_routing(tmp_path):
    assert _hf_hub.is_hub_id("hf-hub:timm/resnet18.a1_in1k") and _hf_hub.is_hub_id("timm:hf-hub:a/b")
    assert not _hf_hub.is_hub_id("resnet18") and not _hf_hub.is_hub_id("timm:resnet18")
    assert _hf_hub.parse("hf-hub:timm/resnet18.a1_in1k") == ("hf-hub", "timm/resnet18.a1_in1k")
    assert _hf_hub.parse("hf-hub:org/model@v1.0") == ("hf-hub", "org/model@v1.0")
    for bad in ("hf-hub:resnet18", "hf-hub:", "hf-hub:a/b/c"):
        with pytest.raises(ValueError, match="expected hf-hub:<org>/<model>"):
            _hf_hub.parse(bad)
    with pytest.raises(ValueError, match="no config.json"):
        _hf_hub.parse(f"local-dir:{tmp_path}")
    from tecore import zoo

    spec = zoo.get_spec("hf-hub:timm/resnet18.a1_in1k")  # registered on first use, no download
    assert spec.zoo == "hf-hub" and spec.arch == "timm:hf-hub:timm/resnet18.a1_in1k"
    assert "hf-hub:timm/resnet18.a1_in1k" in zoo.list_models("hf-hub")
    assert spec.reference == "https://huggingface.co/timm/resnet18.a1_in1k"


def test_local_dir_model_takes_its_config(tmp_path):
    torch = pytest.importorskip("torch")
    timm = pytest.importorskip("timm")
    torch.manual_seed(0)
    net = timm.create_model("test_resnet", pretrained=False, num_classes=7)
    timm.models.save_for_hf(net, tmp_path / "m", model_config={"num_classes": 7}, safe_serialization=True)
    from tecore import zoo

    model, preprocess, spec = zoo.create(f"local-dir:{tmp_path / 'm'}")
    cfg = net.pretrained_cfg
    assert spec.num_classes == 7 and spec.input_size == cfg["input_size"][-1]
    assert spec.mean == tuple(cfg["mean"]) and spec.resize == round(cfg["input_size"][-1] / cfg["crop_pct"])
    from tecore._store import file_digest

    assert spec.sha256 == file_digest(tmp_path / "m" / "model.safetensors")  # cache keys follow the file
    x = preprocess(np.zeros((20, 20, 3), np.uint8))[None]
    with torch.no_grad():
        feats, logits = model(x)
        net.eval()
        ref = net(x)
    assert feats.shape == (1, net.num_features) and logits.shape == (1, 7)
    torch.testing.assert_close(logits, ref)  # the saved weights, not a fresh initialisation
