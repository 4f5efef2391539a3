"""Feature extraction: :class:`Features` and :func:`extract` (cached, resumable)."""
from __future__ import annotations

import contextlib
import hashlib
import platform
import re
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tecore._device import resolve_device
from tecore._numeric import softmax
from tecore.metrics._checks import check_positive_int
from tecore.extract._io import _View, _loader, _split_output

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
        return softmax(self.logits)

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


_DIGESTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def model_digest(model) -> str:
    """sha256 of a torch module's parameters and buffers (names, dtypes, shapes, bytes).

    Memoised per model object and recomputed only when a tensor changed (torch's in-place
    version counters), so repeated extractions with one model hash it once. Two models
    with the same name but other weights (``pretrained=False``, a fine-tuned copy, two
    custom models) get different digests, hence different feature-cache entries."""
    import torch

    state = list(model.state_dict(keep_vars=True).items())
    stamp = tuple((k, t.data_ptr(), t._version) for k, t in state)
    try:
        memo = _DIGESTS.get(model)
    except TypeError:  # not weak-referenceable
        memo = None
    if memo is not None and memo[0] == stamp:
        return memo[1]
    h = hashlib.sha256()
    for k, t in state:
        t = t.detach()
        h.update(f"{k}|{t.dtype}|{tuple(t.shape)}\n".encode())
        if t.numel():
            h.update(t.cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    digest = h.hexdigest()
    try:
        _DIGESTS[model] = (stamp, digest)
    except TypeError:
        pass
    return digest


def _model_id(spec, model) -> dict:
    """What identifies the model in a cache key: its name, the registry's weights id (where
    the spec has one) and the digest of its actual parameters and buffers."""
    out = {"name": str(getattr(spec, "name", type(spec).__name__)),
           "params_sha256": model_digest(model)}
    wid = getattr(spec, "weights_id", None)
    if isinstance(wid, str):
        out["weights"] = wid
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
        "description": val(getattr(preprocess, "description", None)),
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

    from tecore.extract.cache import FeatureCache, make_key

    batch_size = check_positive_int(batch_size, "batch_size")
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    store = None
    if cache is not False and cache is not None:
        store = cache if isinstance(cache, FeatureCache) else FeatureCache(cache_dir)
        store.check_writable()  # before any work: a clear error naming TECORE_CACHE and cache=False
    dev = resolve_device(device)
    model, preprocess, spec = _resolve_model(model_name_or_created)
    ds = _resolve_dataset(dataset)
    prec_name, amp_dtype = _precision(dev, amp)
    labels = np.asarray(ds.labels)
    n = len(labels)
    dataset_id = ds.cache_id() if hasattr(ds, "cache_id") else {"name": getattr(ds, "name", "?"), "n": n}
    model_id = _model_id(spec, model)
    key = make_key(kind="features", model=model_id, dataset=dataset_id,
                   transform=_transform_id(preprocess, spec), precision=prec_name)

    meta = {"model": model_id["name"], "model_id": model_id, "dataset": dataset_id,
            "key": key, "precision": prec_name, "device": str(dev), "n": n,
            "torch": torch.__version__, "python": platform.python_version()}
    hit = store.get(key, rows=n) if store is not None else None
    t0 = time.perf_counter()
    if hit is not None:
        arrays, stored = hit
        feats = arrays["features"]
        logits = arrays.get("logits")
        meta.update(cache_hit=True, chunks_resumed=0, seconds=stored.get("seconds"))
    else:
        feats, logits, resumed = _extract_chunks(
            model, preprocess, spec, ds, store, key, dev, amp_dtype, batch_size, chunk_size,
            num_workers, progress)
        meta.update(cache_hit=False, chunks_resumed=resumed, seconds=time.perf_counter() - t0)
        if store is not None:
            arrays = {"features": feats}
            if logits is not None:
                arrays["logits"] = logits
            store.put(key, arrays, {k: v for k, v in meta.items() if k != "cache_hit"})

    grad = None
    if grad_probe:
        gkw = dict(grad_probe) if isinstance(grad_probe, dict) else {}
        from tecore.extract.probe import _cached_grad_ratio

        grad, gmeta = _cached_grad_ratio(model, preprocess, spec, ds, store, key, dev, gkw,
                                         num_workers)
        meta["grad_probe"] = gmeta
    return Features(features=np.asarray(feats, dtype=np.float32),
                    logits=None if logits is None else np.asarray(logits, dtype=np.float32),
                    labels=labels.copy(), grad_ratio=grad, meta=meta)


def _extract_chunks(model, preprocess, spec, ds, store, key, dev, amp_dtype, batch_size,
                    chunk_size, num_workers, progress):
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
            for x, idx in loader:
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

