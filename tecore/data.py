"""Datasets: one registry, one loader, one error.

``load(name, split)`` returns a :class:`Dataset`: images, integer labels and class names,
optionally subsampled per class under a fixed seed. Every dataset the papers use is
registered (:func:`list_datasets`); a user's own data comes in as a path.

Images
    ``Dataset.images`` is either a ``uint8`` array of shape ``(N, H, W, C)`` (``C`` = 1 for
    grayscale, 3 for colour) — MedMNIST, Fashion-MNIST, CIFAR, digits, ``.npz`` files — or,
    for sets whose images differ in size (Caltech-101, DTD, Aircraft, Flowers, Food, Pets,
    Cars, SUN397, an image folder), a :class:`LazyImages` sequence that decodes one image
    per ``images[i]`` into an ``(H, W, 3)`` ``uint8`` array. Both index the same way
    (``images[i]``, ``len(images)``); ``np.asarray(lazy)`` or ``lazy.materialize()`` stacks
    a lazy set when its images share one size (pass ``size=`` to resize on load).

Where data is looked for (first hit wins), and downloading
    1. ``root=`` (alias ``mirror=``) if given;
    2. ``$TECORE_DATA_MIRROR`` (one or more directories separated by ``os.pathsep``):
       a read-only local mirror, e.g. ``<mirror>/medmnist/breastmnist.npz``;
    3. dataset-specific system places (Debian's ``dataset-fashion-mnist`` under
       ``/usr/share/datasets/fashion-mnist`` or ``$FASHION_MNIST_DIR``; medmnist's own
       ``~/.medmnist``);
    4. the download cache ``$TECORE_DATA_DIR`` (default ``~/.cache/tecore/data``).

    Nothing is downloaded unless ``download=True`` is passed or ``$TECORE_DOWNLOAD=1`` is
    set: **the default is no download**, so a run never silently starts fetching gigabytes
    and an offline CI fails fast with a :class:`DatasetNotFoundError` that says where it
    looked and how to get the files. Downloads go to the download cache (4).

Per-class subsampling
    ``per_class=k`` keeps ``min(k, n_c)`` images of every class ``c``: for the classes in
    increasing order, one ``np.random.default_rng(seed)`` draws ``rng.random(n_c)`` keys for
    the class's indices (sorted ascending) and keeps the ``k`` smallest keys; the kept
    indices are returned sorted. Only ``Generator.random`` is used (no ``choice`` or
    ``permutation``, whose streams NumPy does not promise to keep), so the subset is the
    same on every platform and NumPy version. ``per_class=100`` is the "100 images per
    class" of Juodelyte et al. (arXiv 2412.20172, Sec. 4.1). Their *official* split
    (``src/data_split.py`` of DovileDo/transferability-in-medical-imaging) is in fact a
    uniform draw of ``100 x n_classes`` training images (``np.random.seed(24)``, five folds)
    — reproduced exactly by ``load(..., fold=k)`` (MedMNIST only).

Errors
    An unknown name raises ``ValueError`` listing the valid names; missing files raise
    :class:`DatasetNotFoundError` (a ``FileNotFoundError``); a file with the wrong checksum
    raises :class:`DatasetIntegrityError` (a ``ValueError``).
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from tecore.cache import file_digest

__all__ = [
    "Dataset",
    "DatasetSpec",
    "DatasetNotFoundError",
    "DatasetIntegrityError",
    "LazyImages",
    "list_datasets",
    "get_spec",
    "load",
    "load_train_test",
    "from_arrays",
    "subsample_per_class",
    "official_fold_indices",
    "data_dir",
    "mirror_dirs",
    "MEDMNIST_SIZES",
    "MEDICAL_TARGETS",
]

MEDMNIST_SIZES = (28, 64, 128, 224)
#: The 11 MedMNIST targets of Juodelyte et al. (arXiv 2412.20172), Table 1 (ChestMNIST,
#: multi-label, is excluded there as a target).
MEDICAL_TARGETS = (
    "bloodmnist", "breastmnist", "dermamnist", "octmnist", "organamnist", "organcmnist",
    "organsmnist", "pathmnist", "pneumoniamnist", "retinamnist", "tissuemnist",
)
_MEDMNIST_2D = MEDICAL_TARGETS + ("chestmnist",)

_IMG_EXT = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


# --------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------
class DatasetNotFoundError(FileNotFoundError):
    """The files of a dataset are not where tecore looked; the message says where it
    looked and how to get them."""


class DatasetIntegrityError(ValueError):
    """A dataset file is present but its checksum or content is wrong."""


# --------------------------------------------------------------------------------------
# places
# --------------------------------------------------------------------------------------
def data_dir() -> Path:
    """The download cache: ``$TECORE_DATA_DIR`` or ``~/.cache/tecore/data``."""
    return Path(os.environ.get("TECORE_DATA_DIR") or Path.home() / ".cache" / "tecore" / "data")


def mirror_dirs() -> list[Path]:
    """The local mirrors named by ``$TECORE_DATA_MIRROR`` (``os.pathsep``-separated)."""
    raw = os.environ.get("TECORE_DATA_MIRROR", "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def _download_default(download: bool | None) -> bool:
    if download is not None:
        return bool(download)
    return os.environ.get("TECORE_DOWNLOAD", "").strip().lower() in ("1", "true", "yes", "on")


def _bases(root) -> list[Path]:
    out = []
    if root is not None:
        out.append(Path(root).expanduser())
    out += mirror_dirs()
    return out


def _how_to_get(spec_name: str) -> str:
    return (f"pass download=True (or set TECORE_DOWNLOAD=1) to download into {data_dir()}, "
            f"or put the files in a local mirror named by root=... or $TECORE_DATA_MIRROR")


_MD5_MEMO: dict[tuple, str] = {}


def _md5_cached(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _MD5_MEMO:
        _MD5_MEMO[key] = file_digest(path, "md5")
    return _MD5_MEMO[key]


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


class _FileGetter:
    """Picklable image reader (DataLoader workers may be spawned)."""

    def __init__(self, files):
        self.files = tuple(str(f) for f in files)

    def __call__(self, j):
        from PIL import Image

        with Image.open(self.files[j]) as im:
            im.load()
            return im.copy()


class _TVGetter:
    def __init__(self, ds):
        self.ds = ds

    def __call__(self, j):
        return self.ds[j][0]


def _to_uint8_hwc(img, mode: str = "RGB", size: int | None = None) -> np.ndarray:
    from PIL import Image

    if not isinstance(img, Image.Image):
        img = Image.fromarray(np.asarray(img))
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


# --------------------------------------------------------------------------------------
# subsampling
# --------------------------------------------------------------------------------------
def subsample_per_class(labels, per_class: int, seed: int = 0) -> np.ndarray:
    """Sorted positions keeping ``min(per_class, n_c)`` samples of every class.

    Deterministic across platforms and NumPy versions: for the classes in increasing
    order, ``rng = np.random.default_rng(seed)`` draws ``rng.random(n_c)`` keys for the
    class's positions (ascending) and the ``per_class`` smallest keys are kept (a stable
    argsort). Classes with fewer samples are kept whole (with a warning).
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError("per-class subsampling needs single-label data (labels of shape (N,))")
    if int(per_class) != per_class or per_class < 1:
        raise ValueError(f"per_class must be a positive integer, got {per_class!r}")
    per_class = int(per_class)
    rng = np.random.default_rng(seed)
    keep, short = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        keys = rng.random(len(idx))
        if len(idx) <= per_class:
            if len(idx) < per_class:
                short.append((c.item() if hasattr(c, "item") else c, len(idx)))
            keep.append(idx)
        else:
            keep.append(idx[np.argsort(keys, kind="stable")[:per_class]])
    if short:
        warnings.warn(f"per_class={per_class}: classes with fewer samples are kept whole: "
                      + ", ".join(f"class {c} ({n})" for c, n in short), stacklevel=3)
    return np.sort(np.concatenate(keep)) if keep else np.zeros(0, np.int64)


def official_fold_indices(n_train: int, n_val: int, n_classes: int, fold: int = 1):
    """Indices of fold ``fold`` (1-5) of Juodelyte et al.'s official MedMNIST split.

    Reproduces ``make_splits`` in ``src/data_split.py`` of
    DovileDo/transferability-in-medical-imaging exactly: ``np.random.seed(24)``, then for
    folds 1..5 in turn ``choice(n_train, 100 * n_classes, replace=False)`` for training and,
    when the validation split has more than ``25 * n_classes`` images,
    ``choice(n_val, 25 * n_classes, replace=False)`` (else the whole validation split).
    The indices are in the official (random) order. Returns ``(train_idx, val_idx)``.
    """
    if not 1 <= int(fold) <= 5:
        raise ValueError(f"fold must be 1..5 (the official split has five folds), got {fold}")
    if n_train < 100 * n_classes:
        raise ValueError(f"the official split draws {100 * n_classes} training images but the "
                         f"split has only {n_train}")
    rs = np.random.RandomState(24)  # identical stream to np.random.seed(24) + np.random.choice
    for k in range(1, int(fold) + 1):
        tr = rs.choice(n_train, n_classes * 100, replace=False)
        if n_val > n_classes * 25:
            va = rs.choice(n_val, n_classes * 25, replace=False)
        else:
            va = np.arange(n_val)
        if k == fold:
            return tr.astype(np.int64), va.astype(np.int64)
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DatasetSpec:
    """A registered dataset.

    ``splits[0]`` is the default split. ``kind`` is one of ``"medmnist"``,
    ``"torchvision"``, ``"fashion-mnist"``, ``"sklearn"``.
    """

    name: str
    kind: str
    splits: tuple
    n_classes: int | None
    reference: str
    aliases: tuple = ()
    license: str = ""
    options: dict = field(default_factory=dict, hash=False, compare=False)


_REGISTRY: dict[str, DatasetSpec] = {}
_ALIASES: dict[str, str] = {}


def _register(spec: DatasetSpec) -> None:
    _REGISTRY[spec.name] = spec
    for a in (spec.name,) + spec.aliases:
        _ALIASES[_norm(a)] = spec.name


def _norm(name: str) -> str:
    return name.strip().lower().replace("_", "").replace("-", "").replace(" ", "")


def _medmnist_info(flag: str) -> dict:
    try:
        from medmnist import INFO
    except ImportError:  # pragma: no cover - medmnist is a declared dependency
        raise DatasetNotFoundError(
            f"{flag}: the 'medmnist' package is needed for its metadata; pip install medmnist"
        ) from None
    return INFO[flag]


for _flag in _MEDMNIST_2D:
    _short = _flag[: -len("mnist")]
    _register(DatasetSpec(
        name=_flag, kind="medmnist", splits=("train", "val", "test"), n_classes=None,
        reference="Yang et al., MedMNIST v2, Scientific Data 10:41 (2023); files and MD5s from "
                  "medmnist.INFO (Zenodo record 10519652)",
        aliases=(_short,), license="CC BY 4.0",
    ))

_TV = {
    # name: (torchvision class, splits, split-kwarg style, extra kwargs, aliases, reference)
    "cifar10": ("CIFAR10", ("train", "test"), "train_bool", {}, ("cifar-10",),
                "Krizhevsky, Learning multiple layers of features from tiny images (2009)"),
    "cifar100": ("CIFAR100", ("train", "test"), "train_bool", {}, ("cifar-100",),
                 "Krizhevsky (2009)"),
    "caltech101": ("Caltech101", ("all",), None, {"target_type": "category"}, ("caltech-101",),
                   "Fei-Fei et al., CVPR Workshops 2004"),
    "dtd": ("DTD", ("train", "val", "test"), "split", {"partition": 1}, ("textures",),
            "Cimpoi et al., Describing textures in the wild, CVPR 2014 (partition 1)"),
    "aircraft": ("FGVCAircraft", ("trainval", "train", "val", "test"), "split",
                 {"annotation_level": "variant"}, ("fgvc-aircraft", "fgvcaircraft"),
                 "Maji et al., Fine-grained visual classification of aircraft, arXiv 1306.5151"),
    "flowers102": ("Flowers102", ("train", "val", "test"), "split", {}, ("flowers", "oxford-flowers"),
                   "Nilsback & Zisserman, ICVGIP 2008"),
    "food101": ("Food101", ("train", "test"), "split", {}, ("food", "food-101"),
                "Bossard et al., Food-101, ECCV 2014"),
    "pets": ("OxfordIIITPet", ("trainval", "test"), "split", {"target_types": "category"},
             ("oxford-iiit-pet", "oxfordpets", "oxford-pets"), "Parkhi et al., Cats and dogs, CVPR 2012"),
    "cars": ("StanfordCars", ("train", "test"), "split", {}, ("stanford-cars", "stanfordcars"),
             "Krause et al., 3D object representations for fine-grained categorization, 2013"),
    "sun397": ("SUN397", ("all",), None, {}, ("sun",), "Xiao et al., SUN database, CVPR 2010"),
}
for _name, (_cls, _splits, _style, _kw, _al, _ref) in _TV.items():
    _register(DatasetSpec(name=_name, kind="torchvision", splits=_splits, n_classes=None,
                          reference=_ref, aliases=_al,
                          options={"cls": _cls, "style": _style, "kwargs": _kw}))

_register(DatasetSpec(
    name="fashion-mnist", kind="fashion-mnist", splits=("train", "test"), n_classes=10,
    reference="Xiao et al., Fashion-MNIST, arXiv 1708.07747 (files: Debian dataset-fashion-mnist "
              "or torchvision FashionMNIST)",
    aliases=("fashionmnist", "fmnist"), license="MIT",
))
_register(DatasetSpec(
    name="digits", kind="sklearn", splits=("all",), n_classes=10,
    reference="UCI optical recognition of handwritten digits, as bundled in "
              "sklearn.datasets.load_digits (1797 images, 8x8)",
    aliases=("sklearn-digits",), license="CC BY 4.0",
))

#: Where Debian's ``dataset-fashion-mnist`` package puts the four files.
FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")
# MD5s of the four official files *after decompression* (the Debian package re-compresses
# them, so the .gz bytes differ from the official .gz whose MD5s torchvision lists in
# FashionMNIST.resources; the decompressed bytes are identical). Values: md5sum of the
# gunzipped official files, as listed e.g. in the `raw_data` table of several public
# FashionMNIST loaders; checked equal to Debian's dataset-fashion-mnist 0.0~git20200523.
_FASHION_FILES = {
    "train": ("train-images-idx3-ubyte", "f4a8712d7a061bf5bd6d2ca38dc4d50a",
              "train-labels-idx1-ubyte", "9018921c3c673c538a1fc5bad174d6f9"),
    "test": ("t10k-images-idx3-ubyte", "8181f5470baa50b63fa0f6fddb340f0a",
             "t10k-labels-idx1-ubyte", "15d484375f8d13e6eb1aabb0c3f46965"),
}


def list_datasets() -> list[str]:
    """Names of the registered datasets (user data: pass a directory or ``.npz`` path)."""
    return sorted(_REGISTRY)


def get_spec(name: str) -> DatasetSpec:
    """The :class:`DatasetSpec` registered as ``name`` (aliases and case are forgiven)."""
    key = _ALIASES.get(_norm(str(name)))
    if key is None:
        raise ValueError(
            f"unknown dataset {name!r}; valid datasets: {', '.join(list_datasets())} "
            "(or a path: an image-folder directory, 'imagefolder:/path', a '.npz' file or 'npz:/path')"
        )
    return _REGISTRY[key]


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
    verify: bool = True,
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
        ``"hf:<folder or hub id>"`` (:mod:`tecore._hf_data`; needs ``tecore[hf]``).
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
    verify : bool
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
    if size is not None and (int(size) != size or size < 1):
        raise ValueError(f"size must be a positive integer, got {size!r}")

    from tecore import _hf_data

    hf = _hf_data.claims(name)  # a datasets object, a saved dataset, parquet, "hf:..."
    user = None if hf else _user_path(name)
    if hf:
        ds = _hf_data.load_hf(name, split, size=size)
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
        if spec.kind == "medmnist":
            ds = _load_medmnist(spec, split, root, size, download, verify)
        elif spec.kind == "fashion-mnist":
            ds = _load_fashion(spec, split, root, size, download, verify)
        elif spec.kind == "sklearn":
            ds = _load_digits(spec, split, size)
        else:
            ds = _load_torchvision(spec, split, root, size, download)

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
                    root=None, **kwargs) -> tuple[Dataset, Dataset]:
    """A training and a test set of ``train_per_class`` / ``test_per_class`` images per class.

    Datasets with official ``train`` and ``test`` splits are subsampled from those. A dataset
    with a single split (scikit-learn digits, an image folder or ``.npz`` without splits)
    gives ``train_per_class + test_per_class`` images per class (``seed``), divided per class
    into disjoint training and test parts; their ``split`` reads ``"train"`` / ``"test"``
    and ``meta["derived_split"]`` records the derivation. Other keyword arguments go to
    :func:`load`.
    """
    for v, what in ((train_per_class, "train_per_class"), (test_per_class, "test_per_class")):
        if isinstance(v, bool) or int(v) != v or v < 1:
            raise ValueError(f"{what} must be a positive integer, got {v!r}")
    from tecore import _hf_data

    splits = None if _hf_data.claims(name) or _user_path(name) is not None else get_spec(str(name)).splits
    if splits is not None and "train" in splits and "test" in splits:
        return (load(name, "train", per_class=train_per_class, seed=seed, root=root, **kwargs),
                load(name, "test", per_class=test_per_class, seed=seed, root=root, **kwargs))
    ds = load(name, per_class=int(train_per_class) + int(test_per_class), seed=seed, root=root, **kwargs)
    first = np.zeros(len(ds), dtype=bool)
    for c in np.unique(ds.labels):
        first[np.flatnonzero(ds.labels == c)[:int(train_per_class)]] = True
    out = []
    for part, mask in (("train", first), ("test", ~first)):
        sub = ds.subset(np.flatnonzero(mask))
        sub = replace(sub, split=part, meta={**sub.meta, "derived_split": f"{part} part of {ds.split!r}, "
                                             f"{train_per_class}/{test_per_class} per class"})
        out.append(sub)
    return out[0], out[1]


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


# --------------------------------------------------------------------------------------
# MedMNIST
# --------------------------------------------------------------------------------------
def _load_medmnist(spec, split, root, size, download, verify) -> Dataset:
    flag = spec.name
    info = _medmnist_info(flag)
    size = 28 if size is None else int(size)
    if size not in MEDMNIST_SIZES:
        raise ValueError(f"MedMNIST comes in sizes {MEDMNIST_SIZES}; got size={size}")
    fname = f"{flag}.npz" if size == 28 else f"{flag}_{size}.npz"
    md5 = info["MD5"] if size == 28 else info.get(f"MD5_{size}")
    looked = []
    cands = []
    for b in _bases(root):
        cands += [b / "medmnist" / fname, b / fname]
    cands += [data_dir() / "medmnist" / fname, Path.home() / ".medmnist" / fname]
    path = None
    for c in cands:
        looked.append(str(c))
        if c.is_file():
            path = c
            break
    if path is None and download:
        dest = data_dir() / "medmnist"
        dest.mkdir(parents=True, exist_ok=True)
        try:
            import medmnist

            getattr(medmnist, info["python_class"])(split="train", root=str(dest), size=size,
                                                     download=True)
        except Exception as e:  # network, disk, medmnist API
            raise DatasetNotFoundError(
                f"{flag} ({fname}): download into {dest} failed: {type(e).__name__}: {e}"
            ) from None
        path = dest / fname
    if path is None or not path.is_file():
        raise DatasetNotFoundError(
            f"{flag} (size {size}) not found: looked for {fname} in " + ", ".join(looked)
            + f". {_how_to_get(flag)}; the official file is {info.get('url' if size == 28 else f'url_{size}')}"
        )
    got = None
    if verify and md5:
        got = _md5_cached(path)
        if got != md5:
            raise DatasetIntegrityError(
                f"{path}: MD5 {got} differs from the official {md5} (medmnist.INFO[{flag!r}]); "
                "the file is corrupt or not the official release — delete it and fetch it again"
            )
    try:
        with np.load(path) as z:
            images = z[f"{split}_images"]
            labels = z[f"{split}_labels"]
            n_split = {s: int(z[f"{s}_labels"].shape[0]) for s in ("train", "val", "test")}
    except (KeyError, OSError, ValueError) as e:
        raise DatasetIntegrityError(f"{path}: not a MedMNIST npz ({type(e).__name__}: {e})") from None
    if images.ndim == 3:
        images = images[..., None]
    if info["task"] == "multi-label":
        labels = labels.astype(np.int64)
    else:
        labels = labels.reshape(-1).astype(np.int64)
    classes = tuple(info["label"][k] for k in sorted(info["label"], key=int))
    return Dataset(
        name=flag, split=split, images=np.ascontiguousarray(images), labels=labels, classes=classes,
        indices=np.arange(len(labels), dtype=np.int64),
        meta={"source": str(path), "md5": got or md5, "size": size, "task": info["task"],
              "n_split": n_split, "license": info.get("license")},
    )


# --------------------------------------------------------------------------------------
# Fashion-MNIST
# --------------------------------------------------------------------------------------
def _read_idx(path: Path, md5: str | None = None) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise DatasetIntegrityError(f"{path}: unreadable ({type(e).__name__}: {e})") from None
    if md5 is not None and hashlib.md5(raw).hexdigest() != md5:
        raise DatasetIntegrityError(
            f"{path}: MD5 of the decompressed content is {hashlib.md5(raw).hexdigest()}, not the "
            f"official {md5}; the file is corrupt — reinstall dataset-fashion-mnist or re-download")
    if len(raw) < 8 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DatasetIntegrityError(f"{path}: not an IDX file of unsigned bytes")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">i4", count=ndim, offset=4).astype(int)
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise DatasetIntegrityError(f"{path}: truncated IDX file ({data.size} of {np.prod(dims)} bytes)")
    return data.reshape(tuple(dims))


def _find_idx(d: Path, stem: str) -> Path | None:
    for cand in (d / f"{stem}.gz", d / stem):
        if cand.is_file():
            return cand
    return None


def _load_fashion(spec, split, root, size, download, verify) -> Dataset:
    img_stem, img_md5, lab_stem, lab_md5 = _FASHION_FILES[split]
    dirs = []
    for b in _bases(root)[:1] if root is not None else []:
        dirs += [b / "fashion-mnist", b, b / "FashionMNIST" / "raw"]
    if os.environ.get("FASHION_MNIST_DIR"):
        dirs.append(Path(os.environ["FASHION_MNIST_DIR"]))
    dirs.append(FASHION_SYSTEM_DIR)
    for m in mirror_dirs():
        dirs += [m / "fashion-mnist", m / "FashionMNIST" / "raw"]
    dirs += [data_dir() / "fashion-mnist", data_dir() / "FashionMNIST" / "raw"]
    found = None
    for d in dirs:
        ip, lp = _find_idx(d, img_stem), _find_idx(d, lab_stem)
        if ip and lp:
            found = (ip, lp)
            break
    if found is None and download:
        try:
            from torchvision.datasets import FashionMNIST

            FashionMNIST(str(data_dir()), train=(split == "train"), download=True)
        except Exception as e:
            raise DatasetNotFoundError(f"fashion-mnist: download into {data_dir()} failed: "
                                       f"{type(e).__name__}: {e}") from None
        d = data_dir() / "FashionMNIST" / "raw"
        ip, lp = _find_idx(d, img_stem), _find_idx(d, lab_stem)
        found = (ip, lp) if ip and lp else None
    if found is None:
        raise DatasetNotFoundError(
            f"fashion-mnist ({split}): {img_stem}[.gz] and {lab_stem}[.gz] not found in "
            + ", ".join(str(d) for d in dirs)
            + ". Install the Debian package (apt-get install dataset-fashion-mnist, files in "
              "/usr/share/datasets/fashion-mnist), point $FASHION_MNIST_DIR at the four files, or "
            + _how_to_get("fashion-mnist")
        )
    ip, lp = found
    images = _read_idx(ip, img_md5 if verify else None)[..., None]
    labels = _read_idx(lp, lab_md5 if verify else None).astype(np.int64)
    if len(images) != len(labels):
        raise DatasetIntegrityError(f"{ip} has {len(images)} images but {lp} has {len(labels)} labels")
    images = _resize_array(images, size)
    return Dataset(name=spec.name, split=split, images=images, labels=labels, classes=FASHION_CLASSES,
                   indices=np.arange(len(labels), dtype=np.int64),
                   meta={"source": str(ip.parent), "size": size, "files": [ip.name, lp.name]})


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


# --------------------------------------------------------------------------------------
# scikit-learn digits
# --------------------------------------------------------------------------------------
def _load_digits(spec, split, size) -> Dataset:
    from sklearn.datasets import load_digits

    d = load_digits()
    # 0..16 gray levels -> 0..255
    images = np.rint(d.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    images = _resize_array(images, size)
    labels = d.target.astype(np.int64)
    return Dataset(name=spec.name, split=split, images=images, labels=labels,
                   classes=tuple(str(c) for c in range(10)), indices=np.arange(len(labels)),
                   meta={"source": "sklearn.datasets.load_digits", "size": size})


# --------------------------------------------------------------------------------------
# torchvision natural-image sets
# --------------------------------------------------------------------------------------
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


def _load_torchvision(spec, split, root, size, download) -> Dataset:
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
            + "; ".join(errors) + f". {_how_to_get(spec.name)} (torchvision's own folder layout "
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


# --------------------------------------------------------------------------------------
# user data: image folders and .npz files
# --------------------------------------------------------------------------------------
def _user_path(name) -> tuple[str, Path] | None:
    s = os.fspath(name) if isinstance(name, os.PathLike) else str(name)
    low = s.lower()
    if low.startswith("imagefolder:"):
        return "folder", _must_exist(Path(s[len("imagefolder:"):]).expanduser(), s)
    if low.startswith("npz:"):
        return "npz", _must_exist(Path(s[len("npz:"):]).expanduser(), s)
    if isinstance(name, os.PathLike) or os.sep in s or low.endswith(".npz") or (os.altsep and os.altsep in s):
        p = Path(s).expanduser()
        if _norm(s) in _ALIASES and not p.exists():
            return None
        _must_exist(p, s)
        return ("npz", p) if p.is_file() else ("folder", p)
    if _norm(s) not in _ALIASES and Path(s).exists():  # a relative path without a separator
        p = Path(s)
        return ("npz", p) if p.is_file() else ("folder", p)
    return None


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
    ``(N, H, W, C)`` or ``(N, C, H, W)`` with C in {1, 3}; ``uint8``, integers in 0..255, or
    floats in [0, 1] (scaled by 255 and rounded). Labels: integers or strings (encoded in
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
    if a.dtype == np.uint8:
        return np.ascontiguousarray(a)
    if a.dtype.kind in "iu":
        if a.size and (a.min() < 0 or a.max() > 255):
            raise ValueError(f"{path}: integer images must lie in 0..255")
        return np.ascontiguousarray(a.astype(np.uint8))
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or (a.size and (a.min() < 0 or a.max() > 1)):
            raise ValueError(f"{path}: float images must lie in [0, 1] (they are scaled by 255)")
        return np.ascontiguousarray(np.rint(a * 255.0).astype(np.uint8))
    raise ValueError(f"{path}: images of dtype {a.dtype} are not supported")


def _load_imagefolder(path: Path, split: str | None, size) -> Dataset:
    """An image folder: ``path/<class>/<image>`` (class names = sub-directory names, sorted,
    as torchvision's ``ImageFolder``), or ``path/<split>/<class>/<image>``. Images are
    decoded lazily and converted to RGB."""
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
    files, labels = [], []
    for k, c in enumerate(classes):
        for f in sorted((base / c).rglob("*")):
            if f.is_file() and f.suffix.lower() in _IMG_EXT:
                files.append(f)
                labels.append(k)
    if not files:
        raise DatasetNotFoundError(
            f"image folder {base}: no images found (expected <class>/<image>{'|'.join(_IMG_EXT)})")
    h = hashlib.sha256()
    for f in files:
        st = f.stat()
        h.update(f"{f.relative_to(base)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    ident = f"imagefolder:{base.resolve()}:{h.hexdigest()}"

    images = LazyImages(_FileGetter(files), np.arange(len(files)), size=size, identity=ident)
    return Dataset(name=f"imagefolder:{path.resolve()}", split=split, images=images,
                   labels=np.asarray(labels, dtype=np.int64), classes=tuple(classes),
                   indices=np.arange(len(files), dtype=np.int64),
                   meta={"source": ident, "size": size, "files": [str(f) for f in files]})
