"""Model zoos: offline checkpoints really load, paper zoos resolve, custom entries, errors."""
import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from skimage import data as skdata  # noqa: E402

from tecore import zoo  # noqa: E402

CAT_CLASSES = range(281, 286)  # ImageNet: tabby, tiger cat, Persian, Siamese, Egyptian cat


@pytest.fixture(scope="module")
def chelsea():
    return skdata.chelsea()


@pytest.mark.parametrize("name", ["mobilenet_v2_fdet", "efficientnet_lite0", "efficientnet_lite1",
                                  "efficientnet_lite2"])
def test_offline_imagenet_classifiers_see_a_cat(name, chelsea):
    model, preprocess, spec = zoo.create(name)
    with torch.no_grad():
        feats, logits = model(preprocess(chelsea)[None])
    assert feats.shape == (1, 1280) and logits.shape == (1, 1000)
    assert int(logits.argmax()) in CAT_CLASSES
    assert float(logits.softmax(1).max()) > 0.25  # confident, not a lucky argmax of noise
    assert spec.sha256 and len(spec.sha256) == 64


def test_deepsort_features_only_model_loaded_real_weights(chelsea):
    model, preprocess, spec = zoo.create("mobilenet_v2_deepsort")
    random, _, _ = zoo.create("mobilenet_v2_deepsort", pretrained=False)
    assert not spec.has_head
    crop = chelsea[20:280, 60:380]  # another view of the same cat
    others = [skdata.astronaut(), skdata.camera(), skdata.coffee(), skdata.rocket()]

    def feat(m, img):
        with torch.no_grad():
            f, logits = m(preprocess(img)[None])
        assert logits is None
        return f[0]

    cos = torch.nn.functional.cosine_similarity
    for m in (model,):
        ref = feat(m, chelsea)
        assert torch.equal(ref, feat(m, chelsea))  # deterministic
        same = float(cos(ref, feat(m, crop), dim=0))
        diff = [float(cos(ref, feat(m, o), dim=0)) for o in others]
        assert same > 0.8 and max(diff) < 0.7, (same, diff)
    # a random network cannot tell these images apart
    rref = feat(random, chelsea)
    assert min(float(cos(rref, feat(random, o), dim=0)) for o in others) > 0.85
    w = dict(model.backbone.named_parameters())["features.0.0.weight"]
    wr = dict(random.backbone.named_parameters())["features.0.0.weight"]
    assert not torch.allclose(w, wr)


def test_checksum_mismatch_is_a_clear_error(tmp_path):
    spec = zoo.get_spec("mobilenet_v2_fdet")
    good = zoo.weights_path(spec)
    bad = tmp_path / "mobilenet_v2-b0353104.pth"
    shutil.copy(good, bad)
    with open(bad, "r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00\x01\x02\x03")
    broken = zoo.ModelSpec(**{**spec.__dict__, "name": "broken", "weights": f"file:{bad}"})
    with pytest.raises(zoo.WeightsError, match="sha256"):
        zoo.create(broken)


def test_mirror_only_checkpoint_says_where_to_put_it(monkeypatch, tmp_path):
    monkeypatch.setenv("TECORE_WEIGHTS_MIRROR", str(tmp_path))
    with pytest.raises(zoo.WeightsError, match="byol.pth.*TECORE_WEIGHTS_MIRROR"):
        zoo.create("ped/byol")


def test_zoos_and_names():
    assert zoo.list_zoos() == ["itm10", "medical9", "offline", "offline-bench", "offline-trained", "ped12", "sfda11"]
    sizes = {z: len(zoo.collection(z)) for z in zoo.list_zoos()}
    assert sizes == {"itm10": 10, "medical9": 9, "offline": 5, "offline-bench": 17, "offline-trained": 12, "ped12": 12,
                     "sfda11": 11}
    assert zoo.collection("offline-bench") == zoo.collection("offline") + zoo.collection("offline-trained")
    with pytest.raises(ValueError, match="valid zoos: itm10"):
        zoo.collection("imagenet")
    with pytest.raises(ValueError, match="valid models: .*mobilenet_v2_fdet"):
        zoo.get_spec("resnet9000")


def test_paper_zoo_entries_resolve_statically():
    import timm
    import torchvision

    timm_names = set(timm.list_models(pretrained=True))
    for name in zoo.list_models():
        spec = zoo.get_spec(name)
        kind, _, arch = spec.arch.partition(":")
        if kind == "timm":
            if spec.weights.startswith("timm:"):
                assert arch in timm_names, name
            else:
                assert arch.split(".")[0] in timm.list_models(), name
        else:
            torchvision.models.get_model_builder(arch)
        if spec.weights.startswith("torchvision:"):
            enum, _, member = spec.weights.partition(":")[2].partition(".")
            assert getattr(getattr(torchvision.models, enum), member).url.startswith("https://")


@pytest.mark.parametrize("name", ["medical/resnet18", "medical/mobilenet_v3_small", "medical/shufflenet_v2_x0_5",
                                  "medical/mnasnet1_0", "medical/googlenet", "sfda/mobilenet_v2", "ped/byol"])
def test_small_paper_models_have_their_layers(name):
    spec = zoo.get_spec(name)
    model, _, spec = zoo.create(name, pretrained=False)
    from tecore.extract.probe import _resolve_layers

    for m in _resolve_layers(model, spec.grad_layers):
        assert isinstance(m, torch.nn.Conv2d)
    with torch.no_grad():
        f, logits = model(torch.zeros(2, 3, 64, 64))
    assert f.ndim == 2 and f.shape[0] == 2
    assert (logits is not None) == spec.has_head


def test_custom_entry_from_toml(tmp_path, chelsea, zoo_registry):
    src = zoo.weights_path(zoo.get_spec("mobilenet_v2_fdet"))
    (tmp_path / "zoo.toml").write_text(f'''
[[model]]
name = "my_mobilenet"
zoo = "mine"
arch = "torchvision:mobilenet_v2"
weights = "file:{src}"
head = "classifier.1"
input_size = 192
''')
    specs = zoo.load_registry_file(tmp_path / "zoo.toml")
    assert [s.name for s in specs] == ["my_mobilenet"] and zoo.collection("mine") == ["my_mobilenet"]
    model, pre, spec = zoo.create("my_mobilenet")
    assert pre(chelsea).shape == (3, 192, 192)
    with torch.no_grad():
        assert int(model(pre(chelsea)[None])[1].argmax()) in CAT_CLASSES
    (tmp_path / "bad.toml").write_text('[[model]]\nname = "x"\nzoo = "y"\narch = "torchvision:resnet18"\nweights = "file:/x"\ncolour = 1\n')
    with pytest.raises(ValueError, match="unknown keys"):
        zoo.load_registry_file(tmp_path / "bad.toml")


def test_extract_contract_with_offline_model(tmp_path):
    from tecore import data, extract

    ds = data.load("breastmnist", per_class=10)
    f = extract.extract("mobilenet_v2_fdet", ds, grad_probe=True, cache_dir=tmp_path, progress=False)
    assert f.features.shape == (20, 1280) and f.probs.shape == (20, 1000)
    np.testing.assert_allclose(f.probs.sum(1), 1, rtol=1e-5)
    assert np.isfinite(f.grad_ratio) and f.grad_ratio > 0


def test_registry_file_with_builder_kwargs_fp16_safetensors_and_a_relative_path(tmp_path, zoo_registry):
    import timm
    import torch
    from safetensors.torch import save_file

    kw = {"img_size": 32, "patch_size": 8, "embed_dim": 32, "depth": 1, "num_heads": 2}
    torch.manual_seed(0)
    net = timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=3, **kw).eval()
    save_file({k: v.half().contiguous() for k, v in net.state_dict().items()}, str(tmp_path / "tiny.safetensors"))
    (tmp_path / "zoo.toml").write_text(
        '[[model]]\nname = "test/tiny_vit"\nzoo = "test-kwargs"\narch = "timm:vit_tiny_patch16_224"\n'
        'weights = "file:tiny.safetensors"\nnum_classes = 3\ninput_size = 32\nresize = 32\n'
        'arch_kwargs = { img_size = 32, patch_size = 8, embed_dim = 32, depth = 1, num_heads = 2 }\n')
    (spec,) = zoo.load_registry_file(tmp_path / "zoo.toml")
    assert spec.weights == f"file:{(tmp_path / 'tiny.safetensors').resolve()}"  # relative to the file
    assert dict(spec.arch_kwargs) == kw
    model, pre, spec = zoo.create("test/tiny_vit")
    x = torch.randn(2, 3, 32, 32)
    net.load_state_dict({k: v.half().float() for k, v in net.state_dict().items()})  # the fp16 rounding
    feats, logits = model(x)
    assert feats.shape == (2, 32) and torch.allclose(logits, net(x), atol=1e-5)


def test_offline_trained_zoo_loads_from_the_checkout():
    import torch

    groups = {"vit": 0, "simclr": 0}
    for name in zoo.collection("offline-trained"):
        model, pre, spec = zoo.create(name)  # sha256 of the committed file verified
        feats, logits = model(pre(np.zeros((28, 28), dtype=np.uint8))[None])
        assert torch.isfinite(feats).all() and (logits is None) == ("simclr" in name)
        groups["vit"] += "vit" in spec.arch
        groups["simclr"] += "simclr" in name
    assert groups == {"vit": 2, "simclr": 2}


def test_headless_torchvision_model_is_the_same_in_every_process():
    """A features-only torchvision entry has no randomly initialised source head left: its
    parameters, and so its feature-cache key, do not depend on the global random state
    (they did: every new process re-extracted mobilenet_v2_deepsort's features)."""
    from tecore.extract.features import _model_id

    ids, features = [], []
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    for seed in (0, 1):
        torch.manual_seed(seed)
        model, _, spec = zoo.create("mobilenet_v2_deepsort", image_size=64)
        ids.append(_model_id(spec, model))
        assert isinstance(model.backbone.get_submodule(spec.head), torch.nn.Identity)
        assert not any(n.startswith("classifier.1") for n, _ in model.backbone.named_parameters())
        with torch.no_grad():
            features.append(model(x)[0])
    assert ids[0] == ids[1]
    assert features[0].shape == (2, 1280) and torch.equal(features[0], features[1])
