"""Natural-image sets through ``torchvision.datasets`` (CIFAR, Caltech-101, DTD, ...)."""
from __future__ import annotations

import numpy as np

from tecore.data.dataset import Dataset, LazyImages, _resize_array
from tecore.data.places import DatasetNotFoundError, _bases, _how_to_get, data_dir


class _TVGetter:
    """Picklable ``getter(j)`` -> the j-th image of a torchvision dataset."""

    def __init__(self, ds):
        self.ds = ds

    def __call__(self, j):
        return self.ds[j][0]


def _tv_labels(ds) -> np.ndarray:
    for attr in ("targets", "_labels", "y", "labels"):
        v = getattr(ds, attr, None)
        if v is not None and len(v) == len(ds):
            return np.asarray(v, dtype=np.int64).reshape(-1)
    if hasattr(ds, "_samples"):  # StanfordCars: list of (path, label)
        return np.asarray([s[1] for s in ds._samples], dtype=np.int64)
    return np.asarray([ds[i][1] for i in range(len(ds))], dtype=np.int64)  # slow fallback


def _tv_classes(ds, n: int) -> tuple:
    for attr in ("classes", "categories"):
        v = getattr(ds, attr, None)
        if v:
            return tuple(str(c) for c in v)
    return tuple(str(i) for i in range(n))


def load(spec, split, *, root=None, size=None, download=False, verify=True) -> Dataset:
    """One split through ``torchvision.datasets.<spec.options['cls']>`` (no checksums of ours)."""
    import importlib

    tvd = importlib.import_module("torchvision.datasets")
    cls = getattr(tvd, spec.options["cls"])
    kw = dict(spec.options["kwargs"])
    style = spec.options["style"]
    if style == "train_bool":
        kw["train"] = split == "train"
    elif style == "split":
        kw["split"] = split
    bases = _bases(root) + [data_dir()]
    ds, errors = None, []
    for b in bases:
        try:
            ds = cls(str(b), download=False, **kw)
            break
        except Exception as e:  # torchvision raises RuntimeError "Dataset not found" etc.
            errors.append(f"{b} ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})")
    if ds is None and download:
        data_dir().mkdir(parents=True, exist_ok=True)
        try:
            ds = cls(str(data_dir()), download=True, **kw)
        except Exception as e:
            raise DatasetNotFoundError(f"{spec.name}: torchvision.datasets.{spec.options['cls']} download "
                                       f"into {data_dir()} failed: {type(e).__name__}: {e}") from None
    if ds is None:
        raise DatasetNotFoundError(
            f"{spec.name} ({split}) not found by torchvision.datasets.{spec.options['cls']} under: "
            + "; ".join(errors) + f". {_how_to_get()} (torchvision's own folder layout "
            "under the mirror directory)"
        )
    labels = _tv_labels(ds)
    classes = _tv_classes(ds, int(labels.max()) + 1 if len(labels) else 0)
    ident = f"torchvision:{spec.options['cls']}:{split}:{getattr(ds, 'root', '')}"
    data = getattr(ds, "data", None)
    if isinstance(data, np.ndarray) and data.ndim == 4 and data.dtype == np.uint8:  # CIFAR
        images = _resize_array(data, size)
    else:
        images = LazyImages(_TVGetter(ds), np.arange(len(labels)), size=size, identity=ident)
    return Dataset(name=spec.name, split=split, images=images, labels=labels, classes=classes,
                   indices=np.arange(len(labels), dtype=np.int64),
                   meta={"source": ident, "size": size})

