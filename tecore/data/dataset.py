"""The dataset object: :class:`Dataset` (images, labels, class names, provenance) and
:class:`LazyImages` (decoded on access)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

import numpy as np

# --------------------------------------------------------------------------------------
# the dataset object
# --------------------------------------------------------------------------------------
class LazyImages(Sequence):
    """A sequence of images decoded on access: ``images[i]`` -> ``(H, W, 3)`` ``uint8``.

    ``getter(j)`` returns a PIL image (or array) for source index ``j``; ``index`` selects
    and orders the source indices (subsampling never copies pixels). ``size`` resizes every
    image to ``size x size`` (PIL bilinear).
    """

    def __init__(self, getter: Callable[[int], Any], index: Sequence[int], *, size: int | None = None,
                 mode: str = "RGB", identity: str = ""):
        self._getter = getter
        self.index = np.asarray(index, dtype=np.int64)
        self.size = size
        self.mode = mode
        self.identity = identity

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i):
        if isinstance(i, (slice, np.ndarray, list)):
            return LazyImages(self._getter, self.index[i], size=self.size, mode=self.mode,
                              identity=self.identity)
        img = self._getter(int(self.index[int(i)]))
        return _to_uint8_hwc(img, self.mode, self.size)

    def materialize(self) -> np.ndarray:
        """Decode every image and stack them (they must share one size; pass ``size=``)."""
        arrs = [self[i] for i in range(len(self))]
        shapes = {a.shape for a in arrs}
        if len(shapes) > 1:
            raise ValueError(f"images differ in size ({len(shapes)} shapes); load with size=... "
                             "to resize them to one size")
        return np.stack(arrs) if arrs else np.zeros((0, 0, 0, 3), np.uint8)

    def __array__(self, dtype=None, copy=None):
        a = self.materialize()
        return a if dtype is None else a.astype(dtype)

    def __repr__(self) -> str:
        return f"LazyImages(n={len(self)}, size={self.size}, source={self.identity!r})"


def to_uint8(a, where) -> np.ndarray:
    """The one rule for pixel values: any image array -> ``uint8`` with its dynamic range kept.

    * ``uint8``: unchanged;
    * ``uint16`` (16-bit PNG/TIFF, ``.npz``) and 32-bit integer images of a 16-bit file
      (PIL mode ``"I"``): the type's full range 0..65535 maps onto 0..255 (``round(v / 257)``);
    * other integer types with values in 0..255: unchanged;
    * floats in [0, 1] (float TIFF, ``.npz``): ``round(v * 255)``.

    The model then sees ``v / 255`` (``ToTensor``), i.e. the file's range mapped onto
    [0, 1] before its normalisation; the only loss is 8-bit quantisation (at most 1/510 of
    the range). Values outside the type's range (negative, > 65535, floats outside [0, 1],
    NaN) raise a ``ValueError`` naming ``where``: they are never clipped silently."""
    a = np.asarray(a)
    if a.dtype == np.uint8:
        return a
    if a.dtype.kind in "iu":
        lo, hi = (int(a.min()), int(a.max())) if a.size else (0, 0)
        if a.dtype == np.uint16 or (a.dtype.itemsize >= 4 and hi > 255):
            if lo < 0 or hi > 65535:
                raise ValueError(f"{where}: integer image values in [{lo}, {hi}] fit neither 8 nor 16 "
                                 "bits; scale them to 0..65535 (or 0..255) first")
            return np.rint(a.astype(np.float64) / 257.0).astype(np.uint8)
        if lo < 0 or hi > 255:
            raise ValueError(f"{where}: integer images must lie in 0..255 (or be uint16), got [{lo}, {hi}]")
        return a.astype(np.uint8)
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or (a.size and (a.min() < 0 or a.max() > 1)):
            lo, hi = (float(np.nanmin(a)), float(np.nanmax(a))) if a.size else (0.0, 0.0)
            raise ValueError(f"{where}: float images must lie in [0, 1] (they are scaled by 255); got "
                             f"values in [{lo:g}, {hi:g}]{' and NaN/inf' if not np.all(np.isfinite(a)) else ''}")
        return np.rint(a * 255.0).astype(np.uint8)
    if a.dtype == np.bool_:
        return a.astype(np.uint8) * 255
    raise ValueError(f"{where}: images of dtype {a.dtype} are not supported")


def read_image(path):
    """Decode one image file fully -> PIL image with 8-bit values (:func:`to_uint8` for
    16-bit and float files). A truncated or undecodable file raises
    :class:`tecore.data.DatasetIntegrityError` naming it."""
    from PIL import Image

    from tecore.data.places import DatasetIntegrityError

    try:
        with Image.open(path) as im:
            im.load()
            im = im.copy()
    except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError, DecompressionBombError...
        raise DatasetIntegrityError(f"image file {path} cannot be decoded ({type(exc).__name__}: {exc}); "
                                    "remove or replace it") from None
    if im.mode in ("I", "F") or im.mode.startswith("I;16"):
        im = Image.fromarray(to_uint8(np.asarray(im), path))
    return im


class _FileGetter:
    """Picklable image reader (DataLoader workers may be spawned)."""

    def __init__(self, files):
        self.files = tuple(str(f) for f in files)

    def __call__(self, j):
        return read_image(self.files[j])


def _to_uint8_hwc(img, mode: str = "RGB", size: int | None = None) -> np.ndarray:
    from PIL import Image

    if not isinstance(img, Image.Image):
        a = to_uint8(img, "image")
        img = Image.fromarray(a[..., 0] if a.ndim == 3 and a.shape[-1] == 1 else a)
    elif img.mode in ("I", "F") or img.mode.startswith("I;16"):
        img = Image.fromarray(to_uint8(np.asarray(img), "image"))
    if img.mode != mode:
        img = img.convert(mode)
    if size is not None and img.size != (size, size):
        img = img.resize((size, size), Image.BILINEAR)
    a = np.asarray(img, dtype=np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    return a


@dataclass
class Dataset:
    """Images, integer labels and class names of one split of one dataset.

    Attributes
    ----------
    name, split : str
        Registry name (or ``"imagefolder:<path>"`` / ``"npz:<path>"``) and split.
    images : ndarray (N, H, W, C) uint8 or LazyImages
        See the module docstring.
    labels : ndarray (N,) int64
        Class indices into ``classes`` (for the multi-label ChestMNIST: ``(N, 14)`` 0/1).
    classes : tuple of str
        Class names, ``classes[k]`` names label ``k``.
    indices : ndarray (N,) int64
        Positions of the kept images in the full split (subsampling provenance).
    meta : dict
        Provenance: source file(s), checksums, ``per_class``, ``seed``, ``size``, ``fold``.
    """

    name: str
    split: str
    images: Any
    labels: np.ndarray
    classes: tuple
    indices: np.ndarray
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        return self.images[i], self.labels[i]

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def lazy(self) -> bool:
        return isinstance(self.images, LazyImages)

    def subset(self, idx) -> "Dataset":
        """The images at positions ``idx`` (into this dataset)."""
        idx = np.asarray(idx, dtype=np.int64)
        return replace(self, images=self.images[idx], labels=self.labels[idx],
                       indices=self.indices[idx], meta=dict(self.meta))

    def fingerprint(self) -> str:
        """sha256 identifying the content: source identity, kept indices and labels (and
        the pixels themselves for in-memory arrays). Used in feature-cache keys."""
        h = hashlib.sha256()
        h.update(json.dumps({k: self.meta.get(k) for k in ("source", "md5", "size", "fold")},
                            sort_keys=True, default=str).encode())
        h.update(np.ascontiguousarray(self.indices, dtype=np.int64).tobytes())
        h.update(np.ascontiguousarray(self.labels, dtype=np.int64).tobytes())
        if isinstance(self.images, np.ndarray):
            h.update(str(self.images.shape).encode())
            h.update(np.ascontiguousarray(self.images).tobytes())
        elif isinstance(self.images, LazyImages):
            h.update(self.images.identity.encode())
            h.update(str(self.images.size).encode())
        return h.hexdigest()

    def cache_id(self) -> dict:
        """What a feature cache key needs to know about this dataset."""
        return {
            "name": self.name, "split": self.split, "n": len(self),
            "per_class": self.meta.get("per_class"), "seed": self.meta.get("seed"),
            "size": self.meta.get("size"), "fold": self.meta.get("fold"),
            "fingerprint": self.fingerprint(),
        }

    def __repr__(self) -> str:
        shape = self.images.shape if isinstance(self.images, np.ndarray) else repr(self.images)
        return (f"Dataset({self.name!r}, split={self.split!r}, n={len(self)}, "
                f"classes={self.n_classes}, images={shape})")



def _resize_array(images: np.ndarray, size: int | None) -> np.ndarray:
    if size is None or images.shape[1:3] == (size, size):
        return np.ascontiguousarray(images)
    from PIL import Image

    c = images.shape[-1]
    out = np.empty((len(images), size, size, c), np.uint8)
    for i, im in enumerate(images):
        pil = Image.fromarray(im[..., 0] if c == 1 else im)
        r = np.asarray(pil.resize((size, size), Image.BILINEAR))
        out[i] = r[..., None] if c == 1 else r
    return out

