"""The dataset registry: one :class:`DatasetSpec` per name, with ``loader = "module:function"``
(as :class:`tecore.metrics.MetricSpec` ``fn``), aliases, and the "path or name" rule :func:`is_path`."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

MEDMNIST_SIZES = (28, 64, 128, 224)
#: The 11 MedMNIST targets of Juodelyte et al. (arXiv 2412.20172), Table 1 (ChestMNIST,
#: multi-label, is excluded there as a target).
MEDICAL_TARGETS = (
    "bloodmnist", "breastmnist", "dermamnist", "octmnist", "organamnist", "organcmnist",
    "organsmnist", "pathmnist", "pneumoniamnist", "retinamnist", "tissuemnist",
)
_MEDMNIST_2D = MEDICAL_TARGETS + ("chestmnist",)


# --------------------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DatasetSpec:
    """A registered dataset.

    ``splits[0]`` is the default split. ``kind`` is one of ``"medmnist"``,
    ``"torchvision"``, ``"fashion-mnist"``, ``"sklearn"``. ``loader`` is
    ``"module:function"``, imported when the dataset is loaded (default: the source module
    of ``kind``); the function is called as ``fn(spec, split, root=, size=, download=,
    verify=)`` and returns a :class:`tecore.data.Dataset`.
    """

    name: str
    kind: str
    splits: tuple
    n_classes: int | None
    reference: str
    aliases: tuple = ()
    license: str = ""
    options: dict = field(default_factory=dict, hash=False, compare=False)
    loader: str = ""

    def __post_init__(self):
        if not self.loader:
            object.__setattr__(self, "loader", _LOADERS[self.kind])

    def load_fn(self):
        """The loader function named by ``loader``."""
        import importlib

        mod, _, fn = self.loader.partition(":")
        return getattr(importlib.import_module(mod), fn)


_LOADERS = {
    "medmnist": "tecore.data.sources.medmnist:load",
    "torchvision": "tecore.data.sources.torchvision:load",
    "fashion-mnist": "tecore.data.sources.fashion:load",
    "sklearn": "tecore.data.sources.digits:load",
}


_REGISTRY: dict[str, DatasetSpec] = {}
_ALIASES: dict[str, str] = {}


def _register(spec: DatasetSpec) -> None:
    _REGISTRY[spec.name] = spec
    for a in (spec.name,) + spec.aliases:
        _ALIASES[_norm(a)] = spec.name


def _norm(name: str) -> str:
    return name.strip().lower().replace("_", "").replace("-", "").replace(" ", "")


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


def is_path(name) -> bool:
    """The one "path or dataset name?" rule (used by :func:`tecore.data.load`,
    :func:`tecore.experiment.run` and the notebooks).

    A path is: an ``os.PathLike``; a string starting with ``imagefolder:`` or ``npz:``; a
    string holding a path separator or ending in ``.npz`` (unless it is a registered name
    and no such file exists); or a string that is not a registered name but names an
    existing file or folder. Everything else is a dataset name. ``is_path`` never touches
    the network and never raises; whether the path exists is checked when it is loaded.
    """
    if isinstance(name, os.PathLike):
        return True
    from tecore.data.sources import huggingface

    if huggingface.claims(name):  # a datasets object or "hf:..."
        return True
    s = str(name)
    low = s.lower()
    if low.startswith(("imagefolder:", "npz:")):
        return True
    registered = _norm(s) in _ALIASES
    if os.sep in s or (os.altsep and os.altsep in s) or low.endswith(".npz"):
        return not (registered and not Path(s).expanduser().exists())
    return not registered and Path(s).exists()


