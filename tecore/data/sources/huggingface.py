"""Source: Hugging Face ``datasets`` as tecore targets (``pip install "tecore[hf]"``).

:func:`tecore.data.load` hands these to :func:`load_hf`:

* a ``datasets.Dataset`` or ``datasets.DatasetDict`` object;
* a folder written by ``Dataset.save_to_disk`` / ``DatasetDict.save_to_disk`` (recognised by
  its ``state.json`` / ``dataset_dict.json``), a ``.parquet`` file or a folder of ``.parquet``
  files — as a plain path or with the ``hf:`` prefix;
* ``"hf:imagefolder:<folder>"`` / ``"hf:parquet:<path>"``: that ``datasets`` builder on local
  files (a plain image folder is read by tecore's own loader; ``hf:<folder>`` with images
  uses the ``datasets`` ``imagefolder`` builder, which also reads ``metadata.csv`` labels);
* ``"hf:<org>/<name>"``: a dataset on the hub (``datasets.load_dataset``; needs internet or
  the Hugging Face cache with ``HF_HUB_OFFLINE=1``).

Columns: the image column is the first ``datasets.Image`` feature (else ``image``/``img``);
the label column the first ``ClassLabel`` feature (its names become the class names), else
``label``/``labels``/``target`` (integers or strings, encoded as for a user ``.npz``);
``image_column=`` / ``label_column=`` choose others. Images are decoded lazily, one at a
time, like tecore's image folders; the cache fingerprint is the ``datasets`` fingerprint of
the table.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["claims", "load_hf", "is_hf_object"]

_IMAGE_NAMES = ("image", "img", "images", "picture")
_LABEL_NAMES = ("label", "labels", "target", "targets", "class", "y")


def is_hf_object(obj) -> bool:
    """A ``datasets`` Dataset / DatasetDict (checked without importing ``datasets``)."""
    return type(obj).__module__.split(".")[0] == "datasets" and hasattr(obj, "column_names")


def _saved_dir(p: Path) -> bool:
    return p.is_dir() and ((p / "dataset_dict.json").is_file() or (p / "state.json").is_file())


def _parquet(p: Path) -> bool:
    """A ``.parquet`` file, or a folder with ``.parquet`` files at the top or one level down
    (``data/train-00000-of-00001.parquet``, the hub's layout)."""
    if p.is_file():
        return p.suffix == ".parquet"
    return p.is_dir() and (any(p.glob("*.parquet")) or any(p.glob("*/*.parquet")))


def claims(name) -> bool:
    """Whether :func:`tecore.data.load` should read ``name`` through ``datasets``."""
    if is_hf_object(name):
        return True
    if not isinstance(name, (str, os.PathLike)):
        return False
    s = os.fspath(name)
    if s.lower().startswith("hf:"):
        return True
    p = Path(s).expanduser()
    try:
        return _saved_dir(p) or _parquet(p)
    except OSError:
        return False


def _datasets():
    try:
        import datasets
    except ImportError:
        raise ImportError("reading Hugging Face datasets needs the datasets library: "
                          "pip install 'tecore[hf]'") from None
    return datasets


def _open(name):
    """``name`` -> (Dataset or DatasetDict, description)."""
    if is_hf_object(name):
        return name, f"datasets object {getattr(name, '_fingerprint', '')}"
    ds_lib = _datasets()
    s = os.fspath(name)
    rest = s[3:] if s.lower().startswith("hf:") else s
    builder = None
    for b in ("imagefolder", "parquet"):
        if rest.startswith(b + ":"):
            builder, rest = b, rest[len(b) + 1:]
    p = Path(rest).expanduser()
    if builder is None and p.exists():
        if _saved_dir(p):
            return ds_lib.load_from_disk(str(p)), f"saved dataset {p.resolve()}"
        builder = "parquet" if _parquet(p) else "imagefolder"
    if builder is not None:
        if not p.exists():
            from tecore.data.places import DatasetNotFoundError

            raise DatasetNotFoundError(f"dataset path {s!r}: {p} does not exist")
        kw = {"data_files": str(p)} if p.is_file() else {"data_dir": str(p)}
        return ds_lib.load_dataset(builder, **kw), f"{builder} {p.resolve()}"
    if not rest:
        raise ValueError(f"{s!r}: give hf:<folder>, hf:<file.parquet> or hf:<org>/<dataset>")
    return ds_lib.load_dataset(rest), f"hub dataset {rest}"


def _pick_split(obj, split):
    if hasattr(obj, "keys") and not hasattr(obj, "features"):  # DatasetDict
        names = list(obj.keys())
        if split is None:
            split = "train" if "train" in names else names[0]
        if split not in names:
            raise ValueError(f"the dataset has splits {names}, not {split!r}")
        return obj[split], split
    if split not in (None, "all", getattr(obj, "split", None) and str(obj.split)):
        raise ValueError(f"the dataset is a single split; use split=None (got {split!r})")
    return obj, str(getattr(obj, "split", None) or "all")


def _column(features, wanted, kind, names, what):
    if wanted is not None:
        if wanted not in features:
            raise ValueError(f"{what}_column={wanted!r} is not a column; columns: {', '.join(features)}")
        return wanted
    typed = [c for c, f in features.items() if type(f).__name__ == kind]
    if typed:
        return typed[0]
    named = [c for c in names if c in features]
    if named:
        return named[0]
    raise ValueError(f"no {what} column found (a {kind} feature or one of {', '.join(names)}); columns: "
                     f"{', '.join(features)}; pass {what}_column=")


class _HFGetter:
    """Picklable ``j -> image`` of one column of a ``datasets.Dataset``."""

    def __init__(self, ds, column):
        self.ds, self.column = ds, column

    def __call__(self, j):
        img = self.ds[int(j)][self.column]
        return img if hasattr(img, "convert") else np.asarray(img, dtype=np.uint8)


def load_hf(name, split=None, *, size=None, image_column=None, label_column=None):
    """A :class:`tecore.data.Dataset` from a Hugging Face dataset (see the module docstring)."""
    from tecore.data.dataset import Dataset, LazyImages
    from tecore.data.sources.user import _encode_image_labels

    obj, where = _open(name)
    ds, split = _pick_split(obj, split)
    features = ds.features
    icol = _column(features, image_column, "Image", _IMAGE_NAMES, "image")
    lcol = _column(features, label_column, "ClassLabel", _LABEL_NAMES, "label")
    if len(ds) == 0:
        raise ValueError(f"{where}: split {split!r} is empty")
    feat = features[lcol]
    names = tuple(feat.names) if type(feat).__name__ == "ClassLabel" else None
    raw = np.asarray(list(ds[lcol]))
    labels, classes = _encode_image_labels(raw, len(ds), where, names)
    fp = getattr(ds, "_fingerprint", None) or where
    ident = f"hf:{fp}:{icol}:{lcol}"
    images = LazyImages(_HFGetter(ds, icol), np.arange(len(ds)), size=size, identity=ident)
    return Dataset(name=f"hf:{where}", split=split, images=images, labels=labels, classes=classes,
                        indices=np.arange(len(ds), dtype=np.int64),
                        meta={"source": ident, "size": size, "hf": where})
