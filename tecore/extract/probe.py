"""The gradient probe S_FU of Juodelyte et al.: :func:`gradient_ratio`, one
:class:`ProbeSettings` shared with the cached probe of :func:`tecore.extract.extract`."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

from tecore.extract._io import _View, _deterministic_cudnn, _loader, _split_output

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


@dataclass(frozen=True)
class ProbeSettings:
    """The settings of one gradient probe (the defaults are the official code's; see
    :func:`gradient_ratio`). Used by :func:`gradient_ratio` and by ``extract(grad_probe=...)``,
    whose cache key holds :meth:`as_key`."""

    layers: tuple = ()
    margin: float = 0.05
    n_batches: int = 6
    batch_size: int | None = None
    shuffle: bool = True
    seed: int = 42

    @classmethod
    def from_options(cls, options, spec=None) -> "ProbeSettings":
        """From ``extract``'s ``grad_probe`` dict (unknown keys are an error); the layers
        default to ``spec.grad_layers``."""
        options = dict(options or {})
        allowed = {"layers", "margin", "n_batches", "batch_size", "shuffle", "seed"}
        bad = set(options) - allowed
        if bad:
            raise ValueError(f"unknown grad_probe options {sorted(bad)}; valid: {sorted(allowed)}")
        layers = options.pop("layers", getattr(spec, "grad_layers", None))
        if layers is None:
            raise ValueError(f"model {getattr(spec, 'name', '?')!r} declares no grad_layers; pass "
                             "grad_probe={'layers': (first, second)}")
        return cls(layers=tuple(str(ly) for ly in layers), **options)

    def as_key(self) -> dict:
        d = asdict(self)
        d.update(layers=list(d["layers"]), margin=float(self.margin), n_batches=int(self.n_batches),
                 shuffle=bool(self.shuffle), seed=int(self.seed))
        return d


def _probe(model, settings: ProbeSettings, labels, make_batches, dev, layers=None):
    """The probe itself: ``make_batches(list of index lists)`` yields ``(x, y)`` tensors.
    Returns ``(S_FU, details)``."""
    import torch

    labels = np.asarray(labels).reshape(-1)
    mods = _resolve_layers(model, settings.layers if layers is None else layers)
    if len(np.unique(labels)) < 2:
        raise ValueError("the gradient probe needs at least two classes (triplets need negatives)")
    order = _probe_order(len(labels), settings.shuffle, settings.seed)
    batches, bs = _probe_batches(len(labels), settings.batch_size, settings.n_batches, order)
    torch.manual_seed(settings.seed)
    was_training = model.training
    model.eval()
    try:
        with _deterministic_cudnn():
            n1, n2, losses = _grad_ratio_from_batches(model, make_batches(batches), mods,
                                                      settings.margin, dev)
    finally:
        model.train(was_training)
    r = _finish_ratio(n1, n2)
    return r, {"conv1_norms": n1, "conv2_norms": n2, "losses": losses, "batch_size": bs,
               "n_batches": len(batches)}


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
    margin: float = ProbeSettings.margin,
    n_batches: int = ProbeSettings.n_batches,
    batch_size: int | None = ProbeSettings.batch_size,
    shuffle: bool = ProbeSettings.shuffle,
    seed: int = ProbeSettings.seed,
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

    x = images if isinstance(images, torch.Tensor) else torch.as_tensor(np.asarray(images))
    if not torch.is_floating_point(x):
        raise ValueError("images must be preprocessed float tensors (N, C, H, W)")
    y = torch.as_tensor(np.asarray(labels).reshape(-1).astype(np.int64))
    if len(x) != len(y):
        raise ValueError(f"{len(x)} images but {len(y)} labels")
    settings = ProbeSettings(margin=margin, n_batches=n_batches, batch_size=batch_size,
                             shuffle=shuffle, seed=seed)
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    r, details = _probe(model, settings, y.numpy(), lambda batches: ((x[b], y[b]) for b in batches),
                        dev, layers=layers)
    return (r, details) if return_details else r


def _cached_grad_ratio(model, preprocess, spec, ds, store, key, dev, options, num_workers):
    """``extract(grad_probe=options)``: the probe on the dataset's images, cached under the
    features key plus the probe settings."""
    import torch

    from tecore.extract.cache import make_key

    settings = ProbeSettings.from_options(options, spec)
    gkey = make_key(kind="grad_ratio", features_key=key, settings=settings.as_key())
    if store is not None:
        hit = store.get(gkey)
        if hit is not None:
            arrays, _ = hit
            return float(arrays["grad_ratio"][0]), {**settings.as_key(), "cache_hit": True}
    labels = np.asarray(ds.labels).reshape(-1)
    mode = "L" if int(getattr(spec, "in_chans", 3) or 3) == 1 else "RGB"
    view = _View(ds.images, preprocess, mode)
    y_all = torch.as_tensor(labels.astype(np.int64))

    def make_batches(batches):
        loader = _loader(view, batches, num_workers=num_workers, pin=dev.type == "cuda")
        return ((x, y_all[idx]) for x, idx in loader)

    model.to(dev)
    r, d = _probe(model, settings, labels, make_batches, dev)
    if store is not None:
        store.put(gkey, {"grad_ratio": np.array([r]), "conv1_norms": d["conv1_norms"],
                         "conv2_norms": d["conv2_norms"], "losses": d["losses"]},
                  {"settings": settings.as_key(), "features_key": key})
    return r, {**settings.as_key(), "cache_hit": False, "batch_size": d["batch_size"],
               "n_batches_run": d["n_batches"]}
