"""A user's own data: image folders and ``.npz`` files."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from tecore.data.dataset import Dataset, LazyImages, _FileGetter, _resize_array, read_image, to_uint8
from tecore.data.places import DatasetIntegrityError, DatasetNotFoundError, _md5_cached
from tecore.data.registry import is_path

_IMG_EXT = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
# --------------------------------------------------------------------------------------
# user data: image folders and .npz files
# --------------------------------------------------------------------------------------
def _user_path(name) -> tuple[str, Path] | None:
    """``("npz" | "folder", path)`` when :func:`tecore.data.is_path` says ``name`` is a path
    (which must exist), else ``None`` (a dataset name)."""
    if not is_path(name):
        return None
    s = os.fspath(name) if isinstance(name, os.PathLike) else str(name)
    low = s.lower()
    if low.startswith("imagefolder:"):
        return "folder", _must_exist(Path(s[len("imagefolder:"):]).expanduser(), s)
    if low.startswith("npz:"):
        return "npz", _must_exist(Path(s[len("npz:"):]).expanduser(), s)
    p = _must_exist(Path(s).expanduser(), s)
    return ("npz", p) if p.is_file() else ("folder", p)


def _must_exist(p: Path, given: str) -> Path:
    if not p.exists():
        raise DatasetNotFoundError(f"dataset path {given!r}: {p} does not exist")
    return p


_IMG_KEYS = ("images", "x", "imgs", "data", "image", "X")
_LAB_KEYS = ("labels", "y", "targets", "label", "target", "Y")


def _load_npz(path: Path, split: str | None, size) -> Dataset:
    """A user ``.npz``.

    Accepted keys (first match wins): images ``images``, ``x``, ``imgs``, ``data``,
    ``image``, ``X``; labels ``labels``, ``y``, ``targets``, ``label``, ``target``, ``Y``;
    split-wise ``<split>_images`` / ``<split>_labels`` (MedMNIST style) or ``x_<split>`` /
    ``y_<split>``; optional class names ``classes`` or ``class_names``. Images: ``(N, H, W)``,
    ``(N, H, W, C)`` or ``(N, C, H, W)`` with C in {1, 3}; ``uint8``, ``uint16`` (0..65535
    scaled to 0..255), integers in 0..255, or floats in [0, 1] (scaled by 255 and rounded):
    see :func:`tecore.data.dataset.to_uint8`; nothing is clipped. Labels: integers or strings (encoded in
    sorted order; the strings become the class names).
    """
    try:
        z = np.load(path, allow_pickle=False)
    except Exception as e:
        raise DatasetIntegrityError(f"{path}: cannot read as .npz ({type(e).__name__}: {e})") from None
    with z:
        keys = set(z.files)
        splits = sorted({k[: -len("_images")] for k in keys if k.endswith("_images")}
                        | {k[2:] for k in keys if k.startswith("x_")})
        ik = lk = None
        if splits:
            if split is None:
                split = "train" if "train" in splits else splits[0]
            if split not in splits:
                raise ValueError(f"{path} has splits {splits}, not {split!r}")
            for a, b in ((f"{split}_images", f"{split}_labels"), (f"x_{split}", f"y_{split}")):
                if a in keys and b in keys:
                    ik, lk = a, b
        else:
            if split not in (None, "all"):
                raise ValueError(f"{path} has no split keys (like 'train_images'); use split='all'")
            split = "all"
            ik = next((k for k in _IMG_KEYS if k in keys), None)
            lk = next((k for k in _LAB_KEYS if k in keys), None)
        if ik is None or lk is None:
            raise ValueError(
                f"{path}: keys {sorted(keys)} — need images ({'/'.join(_IMG_KEYS)} or <split>_images) "
                f"and labels ({'/'.join(_LAB_KEYS)} or <split>_labels)")
        images, raw_labels = z[ik], z[lk]
        names = next((z[k] for k in ("classes", "class_names") if k in keys), None)
    images = _as_uint8_nhwc(images, path)
    labels, classes = _encode_image_labels(raw_labels, len(images), path, names)
    images = _resize_array(images, size)
    return Dataset(name=f"npz:{path.resolve()}", split=split, images=images, labels=labels,
                   classes=classes, indices=np.arange(len(labels), dtype=np.int64),
                   meta={"source": str(path.resolve()), "md5": _md5_cached(path), "size": size})


def _encode_image_labels(raw_labels, n_images: int, where, names=None) -> tuple[np.ndarray, tuple]:
    """Labels of a user's images as int64 ``0..C-1`` plus class names: integer labels (or
    whole-number floats) are kept as class indices, named by ``names`` when given; string
    labels are encoded in sorted order. ``(N, 1)`` labels are accepted."""
    raw = np.asarray(raw_labels)
    if raw.ndim == 2 and raw.shape[1] == 1:
        raw = raw[:, 0]
    if raw.ndim != 1 or len(raw) != n_images:
        raise ValueError(f"{where}: labels of shape {raw.shape} do not match {n_images} images")
    if raw.dtype.kind in "iub":
        labels = raw.astype(np.int64)
        if labels.min(initial=0) < 0:
            raise ValueError(f"{where}: negative labels")
        n = int(labels.max(initial=-1)) + 1
        classes = tuple(str(c) for c in names) if names is not None else tuple(str(i) for i in range(n))
    elif raw.dtype.kind in "fc":
        if not np.all(np.isfinite(raw)) or np.any(raw != np.round(raw)):
            raise ValueError(f"{where}: labels must be integers or strings, got non-integral floats")
        labels = raw.astype(np.int64)
        classes = tuple(str(i) for i in range(int(labels.max(initial=-1)) + 1))
    else:
        uniq, labels = np.unique(raw.astype(str), return_inverse=True)
        labels = labels.astype(np.int64)
        classes = tuple(str(u) for u in uniq)
    if len(classes) <= int(labels.max(initial=-1)):
        raise ValueError(f"{where}: {len(classes)} class names but labels go up to {labels.max()}")
    return labels, classes


def _as_uint8_nhwc(images, path) -> np.ndarray:
    a = np.asarray(images)
    if a.ndim == 3:
        a = a[..., None]
    if a.ndim != 4:
        raise ValueError(f"{path}: images must be (N, H, W), (N, H, W, C) or (N, C, H, W); got {a.shape}")
    if a.shape[-1] not in (1, 3) and a.shape[1] in (1, 3):
        a = np.transpose(a, (0, 2, 3, 1))
    if a.shape[-1] not in (1, 3):
        raise ValueError(f"{path}: images need 1 or 3 channels; got shape {a.shape}")
    return np.ascontiguousarray(to_uint8(a, path))


def _load_imagefolder(path: Path, split: str | None, size) -> Dataset:
    """An image folder: ``path/<class>/<image>`` (class names = sub-directory names, sorted,
    as torchvision's ``ImageFolder``), or ``path/<split>/<class>/<image>``. Every file is
    decoded once at load time (a truncated or undecodable file raises naming it; an empty
    class folder is an error), then lazily on access, converted to RGB; 16-bit and float
    images keep their dynamic range (:func:`tecore.data.dataset.to_uint8`)."""
    if not path.is_dir():
        raise DatasetNotFoundError(f"image folder {path} is not a directory")
    split_dirs = [s for s in ("train", "val", "test") if (path / s).is_dir()]
    if split_dirs:
        if split is None:
            split = split_dirs[0]
        if split not in split_dirs:
            raise ValueError(f"{path} has splits {split_dirs}, not {split!r}")
        base = path / split
    else:
        if split not in (None, "all"):
            raise ValueError(f"{path} has no train/val/test sub-directories; use split='all'")
        split, base = "all", path
    classes = sorted(d.name for d in base.iterdir() if d.is_dir() and not d.name.startswith("."))
    files, labels, empty = [], [], []
    for k, c in enumerate(classes):
        got = [f for f in sorted((base / c).rglob("*")) if f.is_file() and f.suffix.lower() in _IMG_EXT]
        if not got:
            empty.append(c)
        files += got
        labels += [k] * len(got)
    if empty and files:
        raise ValueError(f"image folder {base}: class folder(s) {empty} hold no images "
                         f"({'|'.join(_IMG_EXT)}); add images or remove the folder(s)")
    if not files:
        raise DatasetNotFoundError(
            f"image folder {base}: no images found (expected <class>/<image>{'|'.join(_IMG_EXT)})")
    h = hashlib.sha256()
    for f in files:
        st = f.stat()
        h.update(f"{f.relative_to(base)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    ident = f"imagefolder:{base.resolve()}:{h.hexdigest()}"
    for f in files:  # a truncated or undecodable file fails now, naming the file
        read_image(f)

    images = LazyImages(_FileGetter(files), np.arange(len(files)), size=size, identity=ident)
    return Dataset(name=f"imagefolder:{path.resolve()}", split=split, images=images,
                   labels=np.asarray(labels, dtype=np.int64), classes=tuple(classes),
                   indices=np.arange(len(files), dtype=np.int64),
                   meta={"source": ident, "size": size, "files": [str(f) for f in files]})
