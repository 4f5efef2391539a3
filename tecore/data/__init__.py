"""Datasets: one registry, one loader, one error.

Layout: ``front`` (:func:`load`, :func:`load_train_test`, :func:`from_arrays`), ``dataset``
(:class:`Dataset`, :class:`LazyImages`), ``sampling`` (per-class subsets, official folds),
``registry`` (:class:`DatasetSpec` with ``loader = "module:function"``, :func:`is_path`),
``places`` (where files are looked for; the errors), ``sources/`` (one module per source:
``medmnist``, ``fashion``, ``torchvision``, ``digits``, ``user``, ``huggingface``).

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

    16-bit and float images (PNG/TIFF in a folder, ``uint16``/float arrays in a ``.npz``)
    keep their dynamic range: the type's full range (0..65535, or [0, 1] for floats) is
    scaled onto 0..255, so the model sees the file's range mapped onto [0, 1] before its
    normalisation; values outside that range raise instead of being clipped
    (:func:`tecore.data.dataset.to_uint8`). An image folder's files are all decoded once at
    load time: a truncated or undecodable file raises naming it; an empty class folder is
    an error.

Where data is looked for (first hit wins), and downloading
    1. ``root=`` (alias ``mirror=``) if given;
    2. ``$TECORE_DATA_MIRROR`` (one or more directories separated by ``os.pathsep``):
       a read-only local mirror, e.g. ``<mirror>/medmnist/breastmnist.npz``;
    3. dataset-specific system places (Debian's ``dataset-fashion-mnist`` under
       ``/usr/share/datasets/fashion-mnist`` or ``$FASHION_MNIST_DIR``; medmnist's own
       ``~/.medmnist``);
    4. the download cache ``$TECORE_CACHE/data`` (``tecore._store.root("data")``;
       ``$TECORE_DATA_DIR`` overrides it; default ``~/.cache/tecore/data``).

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

from tecore.data.dataset import Dataset, LazyImages
from tecore.data.front import from_arrays, load, load_train_test
from tecore.data.places import DatasetIntegrityError, DatasetNotFoundError, data_dir, mirror_dirs
from tecore.data.sources.fashion import FASHION_CLASSES, FASHION_SYSTEM_DIR  # noqa: F401  (importable as before)
from tecore.data.registry import (MEDICAL_TARGETS, MEDMNIST_SIZES, DatasetSpec, get_spec, is_path,
                                  list_datasets)
from tecore.data.sampling import official_fold_indices, subsample_per_class

__all__ = [
    "Dataset",
    "DatasetSpec",
    "DatasetNotFoundError",
    "DatasetIntegrityError",
    "LazyImages",
    "list_datasets",
    "get_spec",
    "is_path",
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
