"""Feature extraction: one forward pass per image, cached; and the gradient probe S_FU.

:func:`extract` turns ``(model, dataset)`` into :class:`Features` — penultimate features
``(N, D)`` float32, source-class logits ``(N, K)`` (or ``None`` for headless models), the
labels, and optionally the gradient ratio of Juodelyte et al. The model comes from
:func:`tecore.zoo.create` (``create(name) -> (model, preprocess, spec)`` with
``model(x) -> (features, logits | None)``) or is passed as such a triple.

Speed (CUDA)
    ``torch.autocast`` in bfloat16 (float16 where bf16 is unsupported), ``channels_last``
    memory format, a pinned-memory ``DataLoader`` (``num_workers`` processes decode and
    preprocess images), ``non_blocking`` host-to-device copies, and outputs kept on the
    device until a chunk is complete (one synchronising copy per chunk, not per batch).
    On CPU everything runs in float32. The precision is part of the cache key, so float32
    and bfloat16 features never mix. ``benchmarks/extract_throughput.py`` compares the
    throughput of :func:`extract` with a bare forward loop over pre-made tensors.

Caching and resume
    Results are stored in :class:`tecore.cache.FeatureCache` under a key made of the model
    id and weights hash, the dataset (name, split, subsample, content fingerprint), the
    preprocessing description and the precision. Extraction proceeds in chunks of
    ``chunk_size`` images, each saved atomically as it finishes; a killed run resumes from
    the finished chunks, and a finished entry is a pure cache hit (the model is not run).
    The gradient ratio is cached in its own small entry keyed by the features key plus the
    probe's settings.
"""
from __future__ import annotations

import contextlib
import platform
import re
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

__all__ = ["Features", "extract", "gradient_ratio", "triplet_margin_loss_all"]

DEFAULT_CHUNK = 2048


# --------------------------------------------------------------------------------------
# the result
# --------------------------------------------------------------------------------------
@dataclass
class Features:
    """What one model makes of one dataset.

    Attributes
    ----------
    features : ndarray (N, D) float32
        Penultimate-layer features.
    logits : ndarray (N, K) float32 or None
        Source-class logits (``None`` when the model has no classification head).
    labels : ndarray (N,) int64
        Target labels, aligned with the rows.
    grad_ratio : float or None
        :func:`gradient_ratio` (S_FU) when ``grad_probe`` was requested.
    meta : dict
        Model, dataset, cache key, whether it was a cache hit, device, precision, timings.
    """

    features: np.ndarray
    logits: np.ndarray | None
    labels: np.ndarray
    grad_ratio: float | None = None
    meta: dict = field(default_factory=dict)

    @property
    def probs(self) -> np.ndarray:
        """Softmax of the logits, float64 ``(N, K)`` (raises if there are no logits)."""
        if self.logits is None:
            raise ValueError(f"model {self.meta.get('model')!r} has no classification head: no logits/probs; "
                             "use a feature-based metric")
        z = self.logits.astype(np.float64)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        lg = None if self.logits is None else self.logits.shape
        return (f"Features(features={self.features.shape}, logits={lg}, grad_ratio={self.grad_ratio}, "
                f"model={self.meta.get('model')!r}, dataset={self.meta.get('dataset', {}).get('name')!r})")


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def _resolve_model(model_name_or_created):
    if isinstance(model_name_or_created, str):
        try:
            from tecore import zoo
        except ImportError as e:
            raise ValueError(f"model {model_name_or_created!r}: tecore.zoo cannot be imported ({e}); "
                             "pass a (model, preprocess, spec) triple instead") from None
        return zoo.create(model_name_or_created)
    if isinstance(model_name_or_created, (tuple, list)) and len(model_name_or_created) == 3:
        return tuple(model_name_or_created)
    raise ValueError("model must be a zoo name (see tecore.zoo) or the (model, preprocess, spec) "
                     f"triple tecore.zoo.create returns; got {type(model_name_or_created).__name__}")


def _resolve_dataset(dataset):
    from tecore import data

    if isinstance(dataset, str):
        return data.load(dataset)
    if isinstance(dataset, tuple) and len(dataset) == 2:
        return data.from_arrays(*dataset)
    if not (hasattr(dataset, "images") and hasattr(dataset, "labels")):
        raise ValueError("dataset must be a tecore.data.Dataset (tecore.data.load(...)), an (images, labels) "
                         "tuple or a dataset name; "
                         f"got {type(dataset).__name__}")
    if len(dataset.labels) == 0:
        raise ValueError("dataset is empty")
    if len(dataset.images) != len(dataset.labels):
        raise ValueError(f"dataset has {len(dataset.images)} images but {len(dataset.labels)} labels")
    return dataset


_WEIGHT_ATTRS = ("weights_sha256", "weights_hash", "sha256", "weights_id", "weights", "checkpoint")


def _model_id(spec) -> dict:
    out = {"name": str(getattr(spec, "name", type(spec).__name__))}
    for a in _WEIGHT_ATTRS:
        v = getattr(spec, a, None)
        if v is not None and not callable(v):
            out["weights"] = str(v)
            break
    return out


_ADDR = re.compile(r" at 0x[0-9a-fA-F]+")


def _transform_id(preprocess, spec) -> dict:
    def val(v):
        if v is None:
            return None
        if isinstance(v, (int, float, str)):
            return v
        try:
            return [float(x) for x in v]
        except TypeError:
            return str(v)

    return {
        "preprocess": _ADDR.sub("", repr(preprocess)),
        "input_size": val(getattr(spec, "input_size", None)),
        "mean": val(getattr(spec, "mean", None)),
        "std": val(getattr(spec, "std", None)),
        "in_chans": int(getattr(spec, "in_chans", 3) or 3),
    }


def _precision(device, amp: bool) -> tuple[str, Any]:
    import torch

    if device.type == "cuda" and amp:
        if torch.cuda.is_bf16_supported():
            return "bf16", torch.bfloat16
        return "fp16", torch.float16
    return "fp32", None


def _split_output(out):
    """``model(x)`` -> (features, logits | None); a bare tensor is taken as features."""
    import torch

    if isinstance(out, torch.Tensor):
        feats, logits = out, None
    elif isinstance(out, (tuple, list)) and len(out) == 2:
        feats, logits = out
    elif isinstance(out, dict) and "features" in out:
        feats, logits = out["features"], out.get("logits")
    else:
        raise ValueError("model(x) must return (features, logits | None); got "
                         f"{type(out).__name__}")
    if feats.ndim > 2:
        feats = feats.flatten(1)
    return feats, logits


class _View:
    """A torch-style dataset: ``view[i] -> (preprocess(PIL image), i)``."""

    def __init__(self, images, preprocess, mode: str = "RGB"):
        self.images = images
        self.preprocess = preprocess
        self.mode = mode

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        from PIL import Image

        img = np.asarray(self.images[i])
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        pil = Image.fromarray(img)
        if pil.mode != self.mode:
            pil = pil.convert(self.mode)  # grayscale -> RGB replicates the channel (as_rgb)
        import torch

        nt = torch.get_num_threads()
        if nt > 1 and torch.utils.data.get_worker_info() is None:
            # one image gains nothing from intra-op threads, and on a busy CPU the thread
            # pool's start-up dominates small ops (Normalize: 20+ ms instead of 0.1 ms);
            # DataLoader workers already run single-threaded
            torch.set_num_threads(1)
            try:
                return self.preprocess(pil), i
            finally:
                torch.set_num_threads(nt)
        return self.preprocess(pil), i


def _loader(view, batches, *, num_workers, pin):
    import torch

    kw = {}
    if num_workers > 0:
        kw.update(prefetch_factor=4, persistent_workers=False)
    return torch.utils.data.DataLoader(view, batch_sampler=batches, num_workers=num_workers,
                                       pin_memory=pin, **kw)


@contextlib.contextmanager
def _deterministic_cudnn():
    import torch

    old = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    try:
        yield
    finally:
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = old


# --------------------------------------------------------------------------------------
# extraction
# --------------------------------------------------------------------------------------
def extract(
    model_name_or_created,
    dataset,
    *,
    batch_size: int = 64,
    device=None,
    cache: bool | Any = True,
    cache_dir=None,
    grad_probe: bool | dict = False,
    num_workers: int = 0,
    progress: bool = True,
    amp: bool = True,
    chunk_size: int = DEFAULT_CHUNK,
    _fail_after_batches: int | None = None,
) -> Features:
    """Features (and logits, and optionally the gradient ratio) of ``dataset`` under a model.

    Parameters
    ----------
    model_name_or_created : str or (model, preprocess, spec)
        A :mod:`tecore.zoo` name, or what ``tecore.zoo.create`` returns.
    dataset : tecore.data.Dataset, (images, labels) or str
        From :func:`tecore.data.load` (a name is loaded with its defaults); a tuple goes
        through :func:`tecore.data.from_arrays`.
    batch_size : int
        Forward batch size (does not enter the cache key).
    device : str or torch.device, optional
        Default ``"cuda"`` when available, else ``"cpu"``.
    cache : bool or FeatureCache
        ``True``: read/write :class:`tecore.cache.FeatureCache` (``cache_dir`` or
        ``$TECORE_CACHE``); ``False``: neither.
    grad_probe : bool or dict
        Also compute :func:`gradient_ratio` on the same images (a dict passes its keyword
        arguments, e.g. ``{"margin": 0.05, "shuffle": False}``); layers come from
        ``spec.grad_layers``.
    num_workers : int
        ``DataLoader`` worker processes decoding and preprocessing images.
    progress : bool
        Show a tqdm progress bar.
    amp : bool
        Mixed precision on CUDA (bf16, else fp16). Ignored on CPU.
    chunk_size : int
        Images per resumable chunk.

    Returns
    -------
    Features
    """
    import torch

    from tecore.cache import FeatureCache, make_key

    model, preprocess, spec = _resolve_model(model_name_or_created)
    ds = _resolve_dataset(dataset)
    if int(batch_size) < 1 or int(chunk_size) < 1:
        raise ValueError("batch_size and chunk_size must be positive integers")
    batch_size, chunk_size = int(batch_size), int(chunk_size)
    dev = torch.device(device) if device is not None else torch.device(
        "cuda" if torch.cuda.is_available() else "cpu")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' requested but torch sees no CUDA device")
    prec_name, amp_dtype = _precision(dev, amp)
    labels = np.asarray(ds.labels)
    n = len(labels)
    dataset_id = ds.cache_id() if hasattr(ds, "cache_id") else {"name": getattr(ds, "name", "?"), "n": n}
    key = make_key(kind="features", model=_model_id(spec), dataset=dataset_id,
                   transform=_transform_id(preprocess, spec), precision=prec_name)
    store = None
    if cache is not False and cache is not None:
        store = cache if isinstance(cache, FeatureCache) else FeatureCache(cache_dir)

    meta = {"model": _model_id(spec)["name"], "model_id": _model_id(spec), "dataset": dataset_id,
            "key": key, "precision": prec_name, "device": str(dev), "n": n,
            "torch": torch.__version__, "python": platform.python_version()}
    hit = store.get(key) if store is not None else None
    t0 = time.perf_counter()
    if hit is not None:
        arrays, stored = hit
        feats = arrays["features"]
        logits = arrays.get("logits")
        meta.update(cache_hit=True, chunks_resumed=0, seconds=stored.get("seconds"))
    else:
        feats, logits, resumed = _extract_chunks(
            model, preprocess, spec, ds, store, key, dev, amp_dtype, batch_size, chunk_size,
            num_workers, progress, _fail_after_batches)
        meta.update(cache_hit=False, chunks_resumed=resumed, seconds=time.perf_counter() - t0)
        if store is not None:
            arrays = {"features": feats}
            if logits is not None:
                arrays["logits"] = logits
            store.put(key, arrays, {k: v for k, v in meta.items() if k != "cache_hit"})

    grad = None
    if grad_probe:
        gkw = dict(grad_probe) if isinstance(grad_probe, dict) else {}
        grad, gmeta = _cached_grad_ratio(model, preprocess, spec, ds, store, key, dev, gkw,
                                         num_workers)
        meta["grad_probe"] = gmeta
    return Features(features=np.asarray(feats, dtype=np.float32),
                    logits=None if logits is None else np.asarray(logits, dtype=np.float32),
                    labels=labels.copy(), grad_ratio=grad, meta=meta)


def _extract_chunks(model, preprocess, spec, ds, store, key, dev, amp_dtype, batch_size,
                    chunk_size, num_workers, progress, fail_after):
    import torch
    from tecore._progress import progress_bar

    n = len(ds.labels)
    n_chunks = (n + chunk_size - 1) // chunk_size
    chunks = store.chunks(key, chunk_size) if store is not None else None
    done: dict[int, dict] = {}
    if chunks is not None:
        for i in chunks.done():
            if i < n_chunks:
                arr = chunks.load(i)
                expect = min(chunk_size, n - i * chunk_size)
                if arr is not None and len(arr.get("features", ())) == expect:
                    done[i] = arr
    todo = [i for i in range(n_chunks) if i not in done]
    batches = []
    for i in todo:
        lo, hi = i * chunk_size, min(n, (i + 1) * chunk_size)
        batches += [list(range(s, min(s + batch_size, hi))) for s in range(lo, hi, batch_size)]

    mode = "L" if int(getattr(spec, "in_chans", 3) or 3) == 1 else "RGB"
    cuda = dev.type == "cuda"
    was_training = model.training
    model.eval()
    model.to(dev)
    if cuda:
        model.to(memory_format=torch.channels_last)
    autocast = (torch.autocast(device_type="cuda", dtype=amp_dtype) if amp_dtype is not None
                else contextlib.nullcontext())
    bar = progress_bar(total=n, initial=n - sum(len(b) for b in batches), disable=not progress,
                       desc=f"extract {getattr(spec, 'name', '')}", unit="img", leave=False)
    cur_f, cur_l, cur_n, cur_chunk = [], [], 0, None
    has_logits = None
    try:
        loader = _loader(_View(ds.images, preprocess, mode), batches, num_workers=num_workers, pin=cuda)
        with torch.inference_mode():
            for b, (x, idx) in enumerate(loader):
                if fail_after is not None and b >= fail_after:
                    raise RuntimeError(f"simulated crash after {fail_after} batches")
                ci = int(idx[0]) // chunk_size
                if cur_chunk is None:
                    cur_chunk = ci
                x = x.to(dev, non_blocking=True)
                if cuda:
                    x = x.contiguous(memory_format=torch.channels_last)
                with autocast:
                    f, lg = _split_output(model(x))
                has_logits = lg is not None
                cur_f.append(f.float())
                if has_logits:
                    cur_l.append(lg.float())
                cur_n += len(idx)
                bar.update(len(idx))
                expect = min(chunk_size, n - cur_chunk * chunk_size)
                if cur_n == expect:  # chunk complete: one device->host copy, one atomic write
                    arr = {"features": torch.cat(cur_f).cpu().numpy()}
                    if has_logits:
                        arr["logits"] = torch.cat(cur_l).cpu().numpy()
                    done[cur_chunk] = arr
                    if chunks is not None:
                        chunks.save(cur_chunk, arr)
                    cur_f, cur_l, cur_n, cur_chunk = [], [], 0, None
    finally:
        bar.close()
        model.train(was_training)
    if cur_n:
        raise RuntimeError("internal error: a chunk was left incomplete")
    parts = [done[i] for i in range(n_chunks)]
    feats = np.concatenate([p["features"] for p in parts]).astype(np.float32, copy=False)
    has = {("logits" in p) for p in parts}
    if len(has) > 1:
        raise RuntimeError("cached chunks disagree on whether the model has logits; clear the cache entry")
    logits = np.concatenate([p["logits"] for p in parts]).astype(np.float32, copy=False) if has == {True} else None
    return feats, logits, n_chunks - len(todo)


# --------------------------------------------------------------------------------------
# the gradient probe (S_FU of Juodelyte et al.)
# --------------------------------------------------------------------------------------
def triplet_margin_loss_all(embeddings, labels, margin: float = 0.05, *, normalize: bool = True,
                            anchor_block: int | None = None):
    """Batch-all triplet margin loss, averaged over the triplets that violate the margin.

    The semantics of ``pytorch_metric_learning.losses.TripletMarginLoss()`` with its
    defaults (margin 0.05, ``triplets_per_anchor="all"``, ``LpDistance`` with L2-normalised
    embeddings, ``AvgNonZeroReducer``): over every triplet ``(a, p, n)`` of the batch with
    ``a != p``, ``y_a == y_p``, ``y_n != y_a``,

        l_apn = max(||e_a - e_p||_2 - ||e_a - e_n||_2 + margin, 0),  e = x / ||x||_2,

    and the loss is the mean of the positive ``l_apn`` (0, still attached to the graph, when
    there is none). Distances come from ``torch.cdist`` as in the official code. The
    ``(a, p, n)`` cube is evaluated in blocks of anchors, so memory is
    ``O(anchor_block * B^2)``, not ``O(B^3)``.
    """
    import torch
    import torch.nn.functional as F

    e = F.normalize(embeddings, p=2, dim=1) if normalize else embeddings
    d = torch.cdist(e, e, p=2)
    y = labels.reshape(-1)
    same = y[:, None] == y[None, :]
    eye = torch.eye(len(y), dtype=torch.bool, device=y.device)
    pos = same & ~eye
    neg = ~same
    B = len(y)
    if anchor_block is None:
        anchor_block = max(1, (1 << 24) // max(1, B * B))
    total = embeddings.sum() * 0.0
    count = 0
    for lo in range(0, B, anchor_block):
        hi = min(B, lo + anchor_block)
        v = d[lo:hi, :, None] - d[lo:hi, None, :] + margin          # (A, P, N)
        mask = pos[lo:hi, :, None] & neg[lo:hi, None, :]
        v = torch.relu(v) * mask
        total = total + v.sum()
        count += int(((v > 0) & mask).sum())
    return total / count if count > 0 else total


def _resolve_layers(model, layers):
    import torch

    if layers is None or len(layers) != 2:
        raise ValueError("layers must name two modules (first conv, second conv), e.g. "
                         "('conv1', 'layer1.0.conv1') — see spec.grad_layers")
    mods = []
    for ly in layers:
        if isinstance(ly, torch.nn.Module):
            mods.append(ly)
            continue
        try:  # names are relative to the network (tecore.zoo wrappers keep it in .backbone)
            root = getattr(model, "backbone", model)
            try:
                mods.append(root.get_submodule(str(ly)))
            except AttributeError:
                mods.append(model.get_submodule(str(ly)))
        except AttributeError:
            names = [nm for nm, m in model.named_modules() if getattr(m, "weight", None) is not None][:12]
            raise ValueError(f"model has no module {ly!r}; modules with weights include: {names}") from None
    for ly, m in zip(layers, mods):
        if not isinstance(getattr(m, "weight", None), torch.Tensor):
            raise ValueError(f"layer {ly!r} has no weight tensor")
    return mods


def _probe_order(n: int, shuffle: bool, seed: int) -> np.ndarray:
    if not shuffle:
        return np.arange(n)
    return np.argsort(np.random.default_rng(seed).random(n), kind="stable")


def _probe_batches(n: int, batch_size: int | None, n_batches: int, order: np.ndarray):
    bs = int(batch_size) if batch_size is not None else n // int(n_batches)
    if bs < 2:
        raise ValueError(f"the gradient probe needs batches of >= 2 images; with N={n} and "
                         f"n_batches={n_batches} the batch would hold {bs}")
    return [order[s:s + bs].tolist() for s in range(0, n, bs)], bs


def _grad_ratio_from_batches(model, batch_iter, mods, margin, dev):
    """Per batch: loss, grads of the two layers' weights, their L2 norms."""
    import torch

    w1, w2 = mods[0].weight, mods[1].weight
    flags = (w1.requires_grad, w2.requires_grad)
    w1.requires_grad_(True)
    w2.requires_grad_(True)
    n1, n2, losses = [], [], []
    try:
        for x, y in batch_iter:
            x = x.to(dev, non_blocking=True)
            y = y.to(dev, non_blocking=True)
            with torch.enable_grad():
                feats, _ = _split_output(model(x))
                if feats.dtype in (torch.float16, torch.bfloat16):
                    feats = feats.float()
                loss = triplet_margin_loss_all(feats, y, margin)
                if loss.requires_grad:
                    g1, g2 = torch.autograd.grad(loss, [w1, w2], allow_unused=True)
                else:
                    g1 = g2 = None
            n1.append(0.0 if g1 is None else float(torch.linalg.vector_norm(g1, dtype=torch.float64)))
            n2.append(0.0 if g2 is None else float(torch.linalg.vector_norm(g2, dtype=torch.float64)))
            losses.append(float(loss.detach()))
    finally:
        w1.requires_grad_(flags[0])
        w2.requires_grad_(flags[1])
    return np.asarray(n1), np.asarray(n2), np.asarray(losses)


def _finish_ratio(n1, n2):
    if not np.all(np.isfinite(n1)) or not np.all(np.isfinite(n2)):
        raise ValueError("the gradient probe produced non-finite gradients")
    if n1.mean() == 0:
        raise ValueError("no triplet violated the margin in any batch (or the first layer gets no "
                         "gradient): the gradient ratio is undefined; check the labels hold >= 2 "
                         "classes and the batches mix them (shuffle=True)")
    return float(n2.mean() / n1.mean())


def gradient_ratio(
    model,
    images,
    labels,
    *,
    layers: Sequence,
    margin: float = 0.05,
    n_batches: int = 6,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int = 42,
    device=None,
    return_details: bool = False,
):
    """S_FU: gradient-norm ratio of the second to the first conv layer under a triplet loss.

    Juodelyte et al. (arXiv 2412.20172), eq. 4: one backward pass of a triplet margin loss
    on the penultimate features, then ``||grad W_conv2||_2 / ||grad W_conv1||_2``.

    What the official code does (``FU_Score`` in ``src/metrics.py`` and ``get_layers`` in
    ``src/transferability_scores.py`` of DovileDo/transferability-in-medical-imaging), and
    this function by default:

    * the model is in ``eval()`` mode (batch-norm running statistics) and outputs the
      penultimate features (``fc = Identity``);
    * the data is split into batches of ``floor(N / 6)`` images, in order
      (``DataLoader(shuffle=False)``, last partial batch kept) — one forward and one
      backward pass per batch;
    * the loss is ``pytorch_metric_learning.losses.TripletMarginLoss()`` with defaults:
      margin 0.05, *all* valid triplets of the batch, L2-normalised embeddings, mean over
      the triplets with a positive loss (:func:`triplet_margin_loss_all`);
    * per batch the L2 (Frobenius) norm of the gradient of each layer's whole ``weight``
      tensor (bias excluded) is recorded; S_FU = mean over batches of the second layer's
      norms / mean of the first layer's;
    * layers: for ResNets ``conv1`` and ``layer1[0].conv1`` (the zoo's ``grad_layers``);
    * seeds 42 (``torch.manual_seed``; nothing random runs in eval mode).

    Differences from the official code
        ``shuffle=True`` (default) orders the images by ``np.random.default_rng(seed)``
        before batching. The official folds are already in random order (they come from
        ``np.random.choice``), but a per-class subsample from :func:`tecore.data.load` is
        sorted by class, and in-order batches would then hold one class each: no negatives,
        zero loss. Pass ``shuffle=False`` on an official fold (``load(..., fold=k)``) to
        reproduce the official batches exactly. Gradients are taken with
        ``torch.autograd.grad`` on the two weights (same values as ``backward()``), in float32.

    Parameters
    ----------
    model : torch.nn.Module
        ``model(x)`` returns ``(features, logits | None)`` or the features.
    images : tensor or ndarray (N, C, H, W)
        Preprocessed images (float).
    labels : array-like (N,)
        Integer class labels.
    layers : two module names (dotted, for ``model.get_submodule``) or modules
        First and second convolution.
    margin : float
        Triplet margin (0.05, the pytorch-metric-learning default the official code uses).
    n_batches : int
        Batch size ``floor(N / n_batches)`` (official: 6). Ignored when ``batch_size`` is set.
    batch_size : int, optional
        Explicit batch size.
    shuffle, seed : see above.
    device : optional
        Default: the device of the model's parameters.
    return_details : bool
        Also return a dict with per-batch norms and losses.

    Returns
    -------
    float
        S_FU > 0 (or ``(S_FU, details)``).

    Complexity: ``ceil(N / batch)`` forward + backward passes; the loss is
    ``O(batch^3)`` time in blocks of ``O(batch^2)`` memory.
    """
    import torch

    mods = _resolve_layers(model, layers)
    x = images if isinstance(images, torch.Tensor) else torch.as_tensor(np.asarray(images))
    if not torch.is_floating_point(x):
        raise ValueError("images must be preprocessed float tensors (N, C, H, W)")
    y = torch.as_tensor(np.asarray(labels).reshape(-1).astype(np.int64))
    if len(x) != len(y):
        raise ValueError(f"{len(x)} images but {len(y)} labels")
    if len(np.unique(y.numpy())) < 2:
        raise ValueError("the gradient probe needs at least two classes (triplets need negatives)")
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    order = _probe_order(len(y), shuffle, seed)
    batches, bs = _probe_batches(len(y), batch_size, n_batches, order)
    torch.manual_seed(seed)
    was_training = model.training
    model.eval()
    try:
        with _deterministic_cudnn():
            it = ((x[b], y[b]) for b in batches)
            n1, n2, losses = _grad_ratio_from_batches(model, it, mods, margin, dev)
    finally:
        model.train(was_training)
    r = _finish_ratio(n1, n2)
    if return_details:
        return r, {"conv1_norms": n1, "conv2_norms": n2, "losses": losses, "batch_size": bs,
                   "n_batches": len(batches)}
    return r


def _cached_grad_ratio(model, preprocess, spec, ds, store, key, dev, gkw, num_workers):
    import torch

    from tecore.cache import make_key

    allowed = {"layers", "margin", "n_batches", "batch_size", "shuffle", "seed"}
    bad = set(gkw) - allowed
    if bad:
        raise ValueError(f"unknown grad_probe options {sorted(bad)}; valid: {sorted(allowed)}")
    layers = gkw.get("layers", getattr(spec, "grad_layers", None))
    if layers is None:
        raise ValueError(f"model {getattr(spec, 'name', '?')!r} declares no grad_layers; pass "
                         "grad_probe={'layers': (first, second)}")
    layers = tuple(str(ly) for ly in layers)
    settings = {"layers": layers, "margin": float(gkw.get("margin", 0.05)),
                "n_batches": int(gkw.get("n_batches", 6)), "batch_size": gkw.get("batch_size"),
                "shuffle": bool(gkw.get("shuffle", True)), "seed": int(gkw.get("seed", 42))}
    gkey = make_key(kind="grad_ratio", features_key=key, settings=settings)
    if store is not None:
        hit = store.get(gkey)
        if hit is not None:
            arrays, _ = hit
            return float(arrays["grad_ratio"][0]), {**settings, "cache_hit": True}
    labels = np.asarray(ds.labels).reshape(-1)
    if len(np.unique(labels)) < 2:
        raise ValueError("the gradient probe needs at least two classes (triplets need negatives)")
    mods = _resolve_layers(model, layers)
    order = _probe_order(len(labels), settings["shuffle"], settings["seed"])
    batches, bs = _probe_batches(len(labels), settings["batch_size"], settings["n_batches"], order)
    mode = "L" if int(getattr(spec, "in_chans", 3) or 3) == 1 else "RGB"
    loader = _loader(_View(ds.images, preprocess, mode), batches, num_workers=num_workers,
                     pin=dev.type == "cuda")
    y_all = torch.as_tensor(labels.astype(np.int64))
    torch.manual_seed(settings["seed"])
    was_training = model.training
    model.eval()
    model.to(dev)
    try:
        with _deterministic_cudnn():
            it = ((x, y_all[idx]) for x, idx in loader)
            n1, n2, losses = _grad_ratio_from_batches(model, it, mods, settings["margin"], dev)
    finally:
        model.train(was_training)
    r = _finish_ratio(n1, n2)
    if store is not None:
        store.put(gkey, {"grad_ratio": np.array([r]), "conv1_norms": n1, "conv2_norms": n2,
                         "losses": losses}, {"settings": settings, "features_key": key})
    return r, {**settings, "cache_hit": False, "batch_size": bs, "n_batches_run": len(batches)}
