"""tecore.extract: extraction against a tiny torch model wrapped like tecore.zoo.create's
output, the cache (hits, resume after a crash, corrupt chunks), and the gradient probe
(golden values from the official code)."""
from __future__ import annotations

import types

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # torch is a declared dependency of the [torch] extra

from tecore import data  # noqa: E402
from tecore import extract as ex  # noqa: E402
from tecore.extract.cache import FeatureCache  # noqa: E402

pytestmark = pytest.mark.torch


def _crash_after(model, n_batches):
    """Make ``model`` raise in its ``n_batches + 1``-th forward pass (a killed run)."""
    forward = model.forward

    def crashing(x):
        if model.calls >= n_batches:
            raise RuntimeError(f"simulated crash after {n_batches} batches")
        return forward(x)

    model.forward = crashing
    return model


class Tiny(torch.nn.Module):
    """conv1 -> conv2 -> conv3 -> global mean (features, 6-d) [-> fc (logits, 5)].

    Weights drawn from ``np.random.default_rng(seed).normal(scale=0.5)`` in parameter order,
    so the model is identical on every platform. ``calls`` counts forward passes.
    """

    def __init__(self, head=True, seed=1, dtype=torch.float32, tensor_out=False):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 4, 3, stride=2)
        self.conv2 = torch.nn.Conv2d(4, 6, 3)
        self.conv3 = torch.nn.Conv2d(6, 6, 3)
        self.fc = torch.nn.Linear(6, 5) if head else None
        r = np.random.default_rng(seed)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.as_tensor(r.normal(scale=0.5, size=tuple(p.shape))))
        self.to(dtype)
        self.tensor_out = tensor_out
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        h = torch.relu(self.conv1(x))
        h = torch.tanh(self.conv2(h))
        h = torch.tanh(self.conv3(h))
        f = h.mean((2, 3))
        if self.tensor_out:
            return f
        return f, (self.fc(f) if self.fc is not None else None)


def _preprocess(size=16):
    from torchvision import transforms as T

    return T.Compose([T.Resize((size, size)), T.ToTensor(), T.Normalize([0.5] * 3, [0.5] * 3)])


def _created(head=True, name="tiny"):
    spec = types.SimpleNamespace(name=name, grad_layers=("conv1", "conv2"), input_size=16,
                                 mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), weights_sha256="0" * 64)
    return Tiny(head=head), _preprocess(), spec


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "features"


@pytest.fixture(scope="module")
def breast():
    return data.load("breastmnist", "train", per_class=15, seed=0)  # 30 images, 28x28 gray


def _manual(model, preprocess, ds):
    from PIL import Image

    xs = torch.stack([preprocess(Image.fromarray(im[..., 0]).convert("RGB")) for im in ds.images])
    with torch.no_grad():
        f, lg = model(xs)
    return f.numpy(), lg.numpy(), xs


# ------------------------------------------------------------------ extraction
def test_extract_matches_a_manual_forward(breast, cache_dir):
    model, pre, spec = _created()
    out = ex.extract((model, pre, spec), breast, batch_size=8, cache_dir=cache_dir, progress=False)
    f, lg, _ = _manual(Tiny(), pre, breast)
    assert out.features.shape == (30, 6) and out.features.dtype == np.float32
    assert out.logits.shape == (30, 5)
    np.testing.assert_allclose(out.features, f, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.logits, lg, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out.labels, breast.labels)
    p = out.probs
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(p, torch.softmax(torch.as_tensor(lg, dtype=torch.float64), 1).numpy(), rtol=1e-5)
    assert out.grad_ratio is None and out.meta["cache_hit"] is False
    assert out.meta["precision"] == "fp32" and out.meta["model"] == "tiny"


def test_batch_size_does_not_change_features(breast):
    a = ex.extract(_created(), breast, batch_size=3, cache=False, progress=False)
    b = ex.extract(_created(), breast, batch_size=64, cache=False, progress=False)
    np.testing.assert_allclose(a.features, b.features, rtol=1e-5, atol=1e-6)


def test_headless_model_has_no_probs(breast):
    out = ex.extract(_created(head=False), breast, cache=False, progress=False)
    assert out.logits is None
    with pytest.raises(ValueError, match="no classification head"):
        out.probs


def test_cache_hit_runs_no_forward(breast, cache_dir):
    m1, pre, spec = _created()
    a = ex.extract((m1, pre, spec), breast, batch_size=8, cache_dir=cache_dir, progress=False)
    assert m1.calls == 4
    m2 = Tiny()
    b = ex.extract((m2, pre, spec), breast, batch_size=16, cache_dir=cache_dir, progress=False)
    assert m2.calls == 0 and b.meta["cache_hit"] is True and b.meta["key"] == a.meta["key"]
    np.testing.assert_array_equal(a.features, b.features)
    np.testing.assert_array_equal(a.logits, b.logits)
    # another subsample, seed or model id is another entry
    other = data.load("breastmnist", "train", per_class=15, seed=1)
    ex.extract((m2, pre, spec), other, cache_dir=cache_dir, progress=False)
    assert m2.calls > 0
    spec2 = types.SimpleNamespace(**{**vars(spec), "name": "tiny-2"})
    m3 = Tiny()
    c = ex.extract((m3, pre, spec2), breast, cache_dir=cache_dir, progress=False)
    assert m3.calls > 0 and c.meta["key"] != a.meta["key"]
    # cache=False neither reads nor writes
    entries = sorted(cache_dir.rglob("*"))
    m4 = Tiny()
    ex.extract((m4, pre, spec), breast, cache=False, progress=False)
    assert m4.calls == 1  # 30 images, one batch of the default 64: the cache was not read
    assert sorted(cache_dir.rglob("*")) == entries  # nor written


def test_resume_after_crash_equals_uninterrupted_run(breast, cache_dir):
    ref = ex.extract(_created(), breast, batch_size=4, cache=False, progress=False)
    model, pre, spec = _created()
    with pytest.raises(RuntimeError, match="simulated crash"):
        # chunks of 8 images = 2 batches of 4; crash in the 6th batch: chunks 0 and 1 are saved
        ex.extract((_crash_after(model, 5), pre, spec), breast, batch_size=4, chunk_size=8,
                   cache_dir=cache_dir, progress=False)
    store = FeatureCache(cache_dir)
    m2 = Tiny()
    out = ex.extract((m2, pre, spec), breast, batch_size=4, chunk_size=8, cache_dir=cache_dir,
                     progress=False)
    assert out.meta["chunks_resumed"] == 2
    assert m2.calls == 4  # 30 images: chunks 2 (8 images, 2 batches) and 3 (6 images, 2 batches)
    np.testing.assert_allclose(out.features, ref.features, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(out.logits, ref.logits, rtol=1e-6, atol=1e-7)
    # the finished entry replaced the chunks
    assert not store.chunks(out.meta["key"]).dir.exists()


def test_corrupt_chunks_and_tmp_files_are_ignored(breast, cache_dir):
    ref = ex.extract(_created(), breast, batch_size=4, cache=False, progress=False)
    model, pre, spec = _created()
    with pytest.raises(RuntimeError):
        ex.extract((_crash_after(model, 4), pre, spec), breast, batch_size=4, chunk_size=8,
                   cache_dir=cache_dir, progress=False)
    store = FeatureCache(cache_dir)
    (chunk_dir,) = [p for p in cache_dir.rglob("*.chunks")]
    files = sorted(chunk_dir.iterdir())
    assert [f.name.split(".")[0] for f in files] == ["chunk-000000", "chunk-000001"]
    files[1].write_bytes(files[1].read_bytes()[:40])          # torn chunk
    (chunk_dir / ".chunk-000002.safetensors.tmp-1-ab").write_bytes(b"half")  # killed writer
    m2 = Tiny()
    out = ex.extract((m2, pre, spec), breast, batch_size=4, chunk_size=8, cache_dir=cache_dir,
                     progress=False)
    assert out.meta["chunks_resumed"] == 1 and m2.calls == 6
    np.testing.assert_allclose(out.features, ref.features, rtol=1e-6, atol=1e-7)
    assert store.get(out.meta["key"]) is not None


def test_arrays_tuple_dataset(breast, cache_dir):
    a = ex.extract(_created(), breast, cache=False, progress=False)
    b = ex.extract(_created(), (breast.images, breast.labels), cache_dir=cache_dir, progress=False)
    np.testing.assert_array_equal(a.features, b.features)
    flipped = breast.images.copy()
    flipped[0, 0, 0, 0] ^= 1
    m = Tiny()
    ex.extract((m, _preprocess(), _created()[2]), (flipped, breast.labels), cache_dir=cache_dir,
               progress=False)
    assert m.calls == 1  # other pixels -> other fingerprint -> a miss


def test_lazy_imagefolder_dataset(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for c in ("a", "b"):
        (tmp_path / "imgs" / c).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 256, (20 + i, 18, 3), dtype=np.uint8)).save(tmp_path / "imgs" / c / f"{i}.png")
    ds = data.load(tmp_path / "imgs")
    out = ex.extract(_created(), ds, batch_size=4, cache_dir=tmp_path / "f", progress=False)
    assert out.features.shape == (6, 6) and out.labels.tolist() == [0, 0, 0, 1, 1, 1]


# ------------------------------------------------------------------ errors
def test_errors(breast):
    with pytest.raises(ValueError, match="zoo name"):
        ex.extract(42, breast)
    with pytest.raises(ValueError, match="tecore.data.Dataset"):
        ex.extract(_created(), np.zeros((3, 8, 8, 3)))
    with pytest.raises(ValueError, match="unknown dataset"):
        ex.extract(_created(), "no-such-dataset")
    with pytest.raises(ValueError, match="batch_size"):
        ex.extract(_created(), breast, batch_size=0, cache=False)
    with pytest.raises(ValueError, match="unknown grad_probe options"):
        ex.extract(_created(), breast, cache=False, progress=False, grad_probe={"margn": 1})


def test_unknown_zoo_model(breast):
    with pytest.raises(ValueError):
        ex.extract("no-such-model-xyz", breast, cache=False)


# ------------------------------------------------------------------ triplet loss
def test_triplet_loss_independent_formulations():
    r = np.random.default_rng(0)
    e = torch.as_tensor(r.normal(size=(9, 4)))
    y = torch.as_tensor(np.array([0, 1, 2, 0, 1, 2, 0, 0, 1]))
    m = 0.3
    got = ex.triplet_margin_loss_all(e, y, m, anchor_block=2).item()
    en = e / e.norm(dim=1, keepdim=True)
    vals = []
    for a in range(9):
        for p in range(9):
            for n in range(9):
                if a != p and y[a] == y[p] and y[n] != y[a]:
                    vals.append(max(float((en[a] - en[p]).norm() - (en[a] - en[n]).norm()) + m, 0.0))
    vals = np.array(vals)
    assert got == pytest.approx(vals[vals > 0].mean(), rel=1e-12)
    # torch.nn.TripletMarginLoss on the same explicit triplets (its eps=1e-6 shifts distances)
    idx = [(a, p, n) for a in range(9) for p in range(9) for n in range(9)
           if a != p and y[a] == y[p] and y[n] != y[a]]
    a, p, n = (torch.as_tensor(t) for t in zip(*idx))
    per = torch.nn.TripletMarginLoss(margin=m, reduction="none")(en[a], en[p], en[n])
    assert got == pytest.approx(per[per > 0].mean().item(), rel=1e-5)
    # no violated triplet -> 0, still differentiable
    w = e.clone().requires_grad_(True)
    z = ex.triplet_margin_loss_all(w, y, margin=-10.0)
    assert z.item() == 0.0
    z.backward()
    assert torch.all(w.grad == 0)


# ------------------------------------------------------------------ gradient probe
def _golden_inputs(n=36, seed=3):
    r = np.random.default_rng(seed)
    x = r.normal(size=(n, 3, 12, 12))
    y = np.repeat(np.arange(3), n // 3)
    return torch.as_tensor(x), y[r.permutation(n)]


@pytest.mark.parametrize("seed, layers, golden", [
    # Golden values: the official FU_Score (src/metrics.py of
    # DovileDo/transferability-in-medical-imaging, commit 7e308c4998e98d5781fbac5cdde2fa7c0002977d)
    # run in a scratch dir with pytorch-metric-learning 2.8.1, torch 2.14 CPU, on this float64
    # Tiny(head=False, tensor_out=True) model and _golden_inputs(seed), through
    # DataLoader(TensorDataset(x, y[:, None]), batch_size=floor(36 / 6), shuffle=False) and
    # first/second = the named layers.
    (3, ("conv1", "conv2"), 0.9667638896198327),
    (3, ("conv1", "conv3"), 0.5544626362445534),
    (5, ("conv1", "conv2"), 0.9896670009678615),
])
def test_gradient_ratio_matches_official(seed, layers, golden):
    x, y = _golden_inputs(seed=seed)
    net = Tiny(head=False, dtype=torch.float64, tensor_out=True)
    got = ex.gradient_ratio(net, x, y, layers=layers, shuffle=False)
    assert got == pytest.approx(golden, rel=1e-9)
    # the (features, logits) output convention gives the same number
    net2 = Tiny(head=True, dtype=torch.float64)
    assert ex.gradient_ratio(net2, x, y, layers=layers, shuffle=False) == pytest.approx(golden, rel=1e-9)


def test_gradient_ratio_properties():
    x, y = _golden_inputs()
    net = Tiny(dtype=torch.float64)
    before = [p.detach().clone() for p in net.parameters()]
    r1, det = ex.gradient_ratio(net, x, y, layers=("conv1", "conv2"), return_details=True)
    r2 = ex.gradient_ratio(net, x, y, layers=("conv1", "conv2"))
    assert r1 == r2 and np.isfinite(r1) and r1 > 0
    assert det["batch_size"] == 6 and det["n_batches"] == 6 and np.all(det["conv1_norms"] > 0)
    assert r1 == pytest.approx(det["conv2_norms"].mean() / det["conv1_norms"].mean())
    r3 = ex.gradient_ratio(net, x, y, layers=("conv1", "conv3"))
    assert abs(r3 - r1) > 1e-3                                    # depends on the layer choice
    assert ex.gradient_ratio(net, x, y, layers=("conv1", "conv2"), seed=1) != r1  # shuffle seed
    assert ex.gradient_ratio(net, x, y, layers=[net.conv1, net.conv2]) == r1      # modules work
    assert ex.gradient_ratio(net, x, y, layers=("conv1", "conv2"), margin=0.5) != r1
    for p, q in zip(before, net.parameters()):                    # weights untouched
        assert torch.equal(p, q) and q.grad is None
    assert net.training  # mode restored


def test_gradient_ratio_errors():
    x, y = _golden_inputs()
    net = Tiny(dtype=torch.float64)
    with pytest.raises(ValueError, match="no module 'conv9'"):
        ex.gradient_ratio(net, x, y, layers=("conv1", "conv9"))
    with pytest.raises(ValueError, match="two modules"):
        ex.gradient_ratio(net, x, y, layers=("conv1",))
    with pytest.raises(ValueError, match="two classes"):
        ex.gradient_ratio(net, x, np.zeros(36, int), layers=("conv1", "conv2"))
    with pytest.raises(ValueError, match=">= 2 images"):
        ex.gradient_ratio(net, x[:6], y[:6], layers=("conv1", "conv2"))
    with pytest.raises(ValueError, match="undefined"):
        ex.gradient_ratio(net, x, y, layers=("conv1", "conv2"), margin=-100.0)


def test_grad_probe_through_extract(breast, cache_dir):
    model, pre, spec = _created()
    out = ex.extract((model, pre, spec), breast, cache_dir=cache_dir, progress=False, grad_probe=True)
    _, _, xs = _manual(Tiny(), pre, breast)
    ref = ex.gradient_ratio(Tiny(), xs, breast.labels, layers=("conv1", "conv2"))
    assert out.grad_ratio == pytest.approx(ref, rel=1e-6)
    assert out.meta["grad_probe"]["cache_hit"] is False
    m2 = Tiny()
    again = ex.extract((m2, pre, spec), breast, cache_dir=cache_dir, progress=False, grad_probe=True)
    assert m2.calls == 0 and again.grad_ratio == out.grad_ratio
    assert again.meta["grad_probe"]["cache_hit"] is True
    other = ex.extract((Tiny(), pre, spec), breast, cache_dir=cache_dir, progress=False,
                       grad_probe={"layers": ("conv1", "conv3")})
    assert other.grad_ratio != out.grad_ratio


# ---- issue 8 part 3: the cache knows what it holds ------------------------------------------
def test_cache_key_follows_the_models_actual_weights(breast, cache_dir):
    # reproducer: two models with the same name (and spec) but other weights, e.g.
    # pretrained=False vs pretrained, or two custom models called "tiny", shared one entry:
    # the second call was served the first model's features
    _, pre, spec = _created()
    a = ex.extract((Tiny(seed=1), pre, spec), breast, cache_dir=cache_dir, progress=False)
    other = Tiny(seed=2)
    b = ex.extract((other, pre, spec), breast, cache_dir=cache_dir, progress=False)
    ref = ex.extract((Tiny(seed=2), pre, spec), breast, cache=False, progress=False)
    assert other.calls > 0 and b.meta["cache_hit"] is False and b.meta["key"] != a.meta["key"]
    np.testing.assert_array_equal(b.features, ref.features)
    assert not np.allclose(a.features, b.features)
    # a model changed in place (fine-tuned) is a new entry too; an unchanged one hashes once
    with torch.no_grad():
        other.conv1.weight.add_(0.1)
    c = ex.extract((other, pre, spec), breast, cache_dir=cache_dir, progress=False)
    assert c.meta["key"] not in (a.meta["key"], b.meta["key"])
    assert ex.features.model_digest(other) == ex.features.model_digest(other)


def test_cache_key_follows_the_preprocessing(breast, cache_dir):
    m, pre, spec = _created()
    a = ex.extract((m, pre, spec), breast, cache_dir=cache_dir, progress=False)
    b = ex.extract((m, _preprocess(12), spec), breast, cache_dir=cache_dir, progress=False)
    assert b.meta["cache_hit"] is False and b.meta["key"] != a.meta["key"]


def _rewrite_entry(store, key, arrays):
    """Write ``arrays`` in place of the entry ``key``, keeping its stored metadata (a stale
    checksum unless the caller recomputes it)."""
    from tecore.extract import cache as tc

    path = store.path(key)
    _, meta = tc._decode(path)
    path.write_bytes(tc._encode(arrays, meta, store.fmt))
    return meta


@pytest.mark.parametrize("damage", ["flipped byte", "nan", "five rows"])
def test_damaged_entry_is_a_miss_and_recomputed(breast, cache_dir, damage):
    from tecore.extract import cache as tc

    m, pre, spec = _created()
    a = ex.extract((m, pre, spec), breast, cache_dir=cache_dir, progress=False)
    store = FeatureCache(cache_dir)
    key = a.meta["key"]
    path = store.path(key)
    if damage == "flipped byte":  # inside the float data, so the file still parses
        raw = bytearray(path.read_bytes())
        raw[-7] ^= 0x10
        path.write_bytes(bytes(raw))
    elif damage == "nan":
        f = a.features.copy()
        f[3, 2] = np.nan
        _rewrite_entry(store, key, {"features": f, "logits": a.logits})
    else:  # 5 rows for a 30-image dataset, with a checksum that matches those 5 rows
        arrays = {"features": a.features[:5], "logits": a.logits[:5]}
        meta = _rewrite_entry(store, key, arrays)
        meta["content_sha256"] = tc.content_digest(arrays)
        path.write_bytes(tc._encode(arrays, meta, store.fmt))
    assert store.get(key, rows=len(breast)) is None
    m2 = Tiny()
    b = ex.extract((m2, pre, spec), breast, cache_dir=cache_dir, progress=False)
    assert m2.calls > 0 and b.meta["cache_hit"] is False
    np.testing.assert_array_equal(b.features, a.features)
    # the recomputed entry replaced the damaged one
    m3 = Tiny()
    c = ex.extract((m3, pre, spec), breast, cache_dir=cache_dir, progress=False)
    assert m3.calls == 0 and c.meta["cache_hit"] is True


def test_unwritable_cache_fails_before_any_work(breast, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    m, pre, spec = _created()
    with pytest.raises(ValueError, match=r"not writable.*TECORE_CACHE.*cache=False"):
        ex.extract((m, pre, spec), breast, cache_dir=blocker / "features", progress=False)
    assert m.calls == 0
