"""The front door: :func:`load`, :func:`load_train_test`, :func:`from_arrays`."""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from tecore.data.dataset import Dataset
from tecore.metrics._checks import check_positive_int
from tecore.data.places import _download_default, _verify_default
from tecore.data.registry import get_spec
from tecore.data.sampling import official_fold_indices, subsample_per_class
from tecore.data.sources.user import _as_uint8_nhwc, _encode_image_labels, _load_imagefolder, _load_npz, _user_path
# --------------------------------------------------------------------------------------
# the loader
# --------------------------------------------------------------------------------------
def load(
    name: str | os.PathLike,
    split: str | None = None,
    *,
    root: str | os.PathLike | None = None,
    mirror: str | os.PathLike | None = None,
    per_class: int | None = None,
    seed: int = 0,
    size: int | None = None,
    fold: int | None = None,
    download: bool | None = None,
    verify: bool | None = None,
) -> Dataset:
    """Load one split of a dataset.

    Parameters
    ----------
    name : str or path
        A registered name (:func:`list_datasets`; e.g. ``"breastmnist"``, ``"cifar10"``,
        ``"fashion-mnist"``, ``"digits"``), or user data: a directory (image folder:
        one sub-directory per class, optionally under ``train/``, ``val/``, ``test/``),
        ``"imagefolder:/path"``, a ``.npz`` file or ``"npz:/path"``; or a Hugging Face
        dataset: a ``datasets.Dataset``/``DatasetDict``, a ``save_to_disk`` folder, parquet,
        ``"hf:<folder or hub id>"`` (:mod:`tecore.data.sources.huggingface`; ``tecore[hf]``).
    split : str, optional
        ``None`` (default) takes the dataset's first split (``"train"`` where there is one;
        ``"trainval"`` for Pets and Aircraft; ``"all"`` for sets without official splits:
        Caltech-101, SUN397, digits, a flat image folder or unsplit ``.npz``).
    root, mirror : path, optional
        A directory searched first (the two names are synonyms).
    per_class : int, optional
        Keep at most this many images per class (see the module docstring).
    seed : int
        Seed of the per-class subsampling.
    size : int, optional
        MedMNIST: the official resolution to load (28, 64, 128 or 224; default 28).
        Other sets: resize every image to ``size x size`` (PIL bilinear) — lazily for
        lazy sets, at load time for arrays.
    fold : int, optional
        MedMNIST only: fold 1-5 of the official split of Juodelyte et al. (train: 100 x
        n_classes images, val: 25 x n_classes; test is not subsampled). Exclusive with
        ``per_class``.
    download : bool, optional
        Allow downloading into the download cache; default ``False`` unless
        ``$TECORE_DOWNLOAD=1``.
    verify : bool, optional
        (default ``True``; ``$TECORE_DATA_VERIFY=0`` turns it off, with a warning — for
        re-packed or stand-in files)
        Check MD5s where the publisher lists them (MedMNIST, Fashion-MNIST).

    Raises
    ------
    ValueError
        Unknown dataset or split, bad ``size``/``per_class``/``fold``.
    DatasetNotFoundError
        The files are missing (the message says where tecore looked and how to get them).
    DatasetIntegrityError
        A file has the wrong checksum or content.
    """
    if root is not None and mirror is not None and Path(root) != Path(mirror):
        raise ValueError("root= and mirror= are synonyms; pass one of them")
    root = root if root is not None else mirror
    download = _download_default(download)
    if per_class is not None and fold is not None:
        raise ValueError("per_class= and fold= are two different subsampling protocols; pass one")
    if size is not None:
        size = check_positive_int(size, "size")

    from tecore.data.sources import huggingface

    hf = huggingface.claims(name)  # a datasets object, a saved dataset, parquet, "hf:..."
    user = None if hf else _user_path(name)
    if hf:
        ds = huggingface.load_hf(name, split, size=size)
        spec_name = ds.name
    elif user is not None:
        kind, path = user
        ds = _load_npz(path, split, size) if kind == "npz" else _load_imagefolder(path, split, size)
        spec_name = ds.name
    else:
        spec = get_spec(str(name))
        spec_name = spec.name
        if split is None:
            split = spec.splits[0]
        if split not in spec.splits:
            raise ValueError(f"{spec.name} has no split {split!r}; valid splits: {', '.join(spec.splits)}")
        if fold is not None and spec.kind != "medmnist":
            raise ValueError("fold= is the official MedMNIST split of Juodelyte et al.; "
                             f"{spec.name} is not a MedMNIST set (use per_class=)")
        ds = spec.load_fn()(spec, split, root=root, size=size, download=download,
                            verify=_verify_default(verify))

    if fold is not None:
        if ds.split == "test":
            pass  # the official protocol evaluates on the full test set
        else:
            n_train = ds.meta["n_split"]["train"]
            n_val = ds.meta["n_split"]["val"]
            tr, va = official_fold_indices(n_train, n_val, ds.n_classes, fold)
            ds = ds.subset(tr if ds.split == "train" else va)
        ds.meta.update(fold=int(fold))
    if per_class is not None:
        idx = subsample_per_class(ds.labels, per_class, seed)
        ds = ds.subset(idx)
        ds.meta.update(per_class=int(per_class), seed=int(seed))
    ds.meta.setdefault("registry", spec_name)
    return ds


def load_train_test(name, train_per_class: int, test_per_class: int, *, seed: int = 0,
                    root=None, one_split: bool = False, **kwargs) -> tuple[Dataset, Dataset]:
    """A training and a test set of exactly ``train_per_class`` / ``test_per_class`` images
    per class.

    Datasets with official ``train`` and ``test`` splits are subsampled from those (unless
    ``one_split=True``). A dataset with a single split (scikit-learn digits, an image folder
    or ``.npz`` without splits), or any dataset with ``one_split=True`` (its first split),
    gives ``train_per_class + test_per_class`` images per class (``seed``), divided per class
    into disjoint training and test parts (the first ``train_per_class`` kept positions of
    each class train); their ``split`` reads ``"train"`` / ``"test"`` and
    ``meta["derived_split"]`` records the derivation. Other keyword arguments go to
    :func:`load`.

    Raises ``ValueError`` when a class has fewer images than asked for, saying how many
    there are (never a silently smaller or empty test set).
    """
    for v, what in ((train_per_class, "train_per_class"), (test_per_class, "test_per_class")):
        check_positive_int(v, what)
    train_per_class, test_per_class = int(train_per_class), int(test_per_class)
    from tecore.data.sources import huggingface

    splits = None if huggingface.claims(name) or _user_path(name) is not None else get_spec(str(name)).splits
    if not one_split and splits is not None and "train" in splits and "test" in splits:
        out = []
        for part, k in (("train", train_per_class), ("test", test_per_class)):
            full = load(name, part, root=root, **kwargs)
            _check_counts(full.labels, k, f"{name!r} ({part} split)",
                          "train_per_class" if part == "train" else "test_per_class")
            idx = subsample_per_class(full.labels, k, seed)
            sub = full.subset(idx)
            sub.meta.update(per_class=k, seed=int(seed))
            sub.meta.setdefault("registry", full.meta.get("registry"))
            out.append(sub)
        return out[0], out[1]
    full = load(name, root=root, **kwargs)
    _check_counts(full.labels, train_per_class + test_per_class, f"{name!r} ({full.split} split)",
                  "train_per_class + test_per_class")
    idx = subsample_per_class(full.labels, train_per_class + test_per_class, seed)
    ds = full.subset(idx)
    ds.meta.update(per_class=train_per_class + test_per_class, seed=int(seed))
    first = np.zeros(len(ds), dtype=bool)
    for c in np.unique(ds.labels):
        first[np.flatnonzero(ds.labels == c)[:train_per_class]] = True
    out = []
    for part, mask in (("train", first), ("test", ~first)):
        sub = ds.subset(np.flatnonzero(mask))
        sub = replace(sub, split=part, meta={**sub.meta, "derived_split": f"{part} part of {ds.split!r}, "
                                             f"{train_per_class}/{test_per_class} per class"})
        out.append(sub)
    return out[0], out[1]


def _check_counts(labels, need: int, where: str, what: str) -> None:
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"{where}: per-class train/test sets need single-label data")
    values, counts = np.unique(labels, return_counts=True)
    short = [(v, n) for v, n in zip(values.tolist(), counts.tolist()) if n < need]
    if short:
        raise ValueError(
            f"{where} has fewer than {what} = {need} images in {len(short)} class(es): "
            + ", ".join(f"class {v}: {n}" for v, n in short[:10])
            + f"; ask for at most {min(counts.tolist())} per class in all")


def from_arrays(images, labels, *, name: str = "arrays", split: str = "all",
                classes: Sequence[str] | None = None) -> Dataset:
    """A :class:`Dataset` from in-memory arrays (same rules as a user ``.npz``: images
    ``(N, H, W)``, ``(N, H, W, C)`` or ``(N, C, H, W)``, uint8 or floats in [0, 1]; integer
    or string labels). The content fingerprint hashes the pixels, so cache keys follow the
    data, not the ``name``."""
    imgs = _as_uint8_nhwc(images, name)
    y, names = _encode_image_labels(labels, len(imgs), name, classes)
    return Dataset(name=name, split=split, images=imgs, labels=y, classes=names,
                   indices=np.arange(len(y), dtype=np.int64), meta={"source": f"arrays:{name}"})


