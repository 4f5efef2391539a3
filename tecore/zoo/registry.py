"""The model registry: :class:`ModelSpec`, :func:`register`, TOML/YAML registry files, and the
look-ups (:func:`list_zoos`, :func:`list_models`, :func:`collection`, :func:`get_spec`)."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

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
    key_map: how to map a foreign checkpoint's keys: ``"by_order"`` (match tensors in order,
        shapes checked), ``"prefix:<p>"`` (keep the keys under ``<p>``, e.g.
        ``module.encoder_q.`` of MoCo or ``module.base_encoder.`` of MoCo v3, strip it, and drop
        the pre-training heads), ``"simmim"`` (SimMIM's ``encoder.`` ViT with a shared relative
        position bias, onto timm's BEiT), or ``None``
        (:func:`tecore.zoo.weights.map_checkpoint`).
    arch_kwargs: extra keyword arguments of the architecture builder, as ``(name, value)``
        pairs (e.g. ``(("global_pool", "token"),)``).
    reference: where the model and weights come from.
    imagenet_top1: published ImageNet-1k top-1 accuracy (%) of these weights, for the
        ``imagenet_top1`` baseline; ``None``: looked up in ``tecore/zoo_top1.csv`` by name, then
        by weights (:func:`tecore.zoo.imagenet_top1`).
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
    imagenet_top1: float | None = None
    arch_kwargs: tuple = ()

    @property
    def has_head(self) -> bool:
        return self.num_classes > 0

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
    """Register every ``[[model]]`` entry of a TOML (or YAML: a list under ``model``) file.
    A relative ``file:`` weights path is read relative to the registry file."""
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
        w = e.get("weights", "")
        if w.startswith("file:") and not Path(w[5:]).expanduser().is_absolute():
            e["weights"] = "file:" + str((path.parent / w[5:]).resolve())  # relative to the file
        if isinstance(e.get("arch_kwargs"), dict):
            e["arch_kwargs"] = tuple(sorted(e["arch_kwargs"].items()))
        out.append(register(ModelSpec(**e), overwrite=True))
    return out


_GROUPS: dict[str, tuple[str, ...]] = {}  # a zoo made of other zoos, e.g. the offline benchmark's


def register_group(name: str, zoos) -> None:
    """Register ``name`` as the union of the zoos ``zoos`` (in that order)."""
    _GROUPS[name] = tuple(zoos)


def list_zoos() -> list[str]:
    return sorted({s.zoo for s in _REGISTRY.values()} | set(_GROUPS))


def list_models(zoo: str | None = None) -> list[str]:
    """Model names, all or of one zoo (in the zoo's registration order)."""
    if zoo is None:
        return sorted(_REGISTRY)
    return collection(zoo)


def collection(zoo: str) -> list[str]:
    """The model names of ``zoo`` in registration order; ValueError naming the zoos if unknown."""
    if zoo in _GROUPS:
        return [m for z in _GROUPS[zoo] for m in collection(z)]
    names = [n for n, s in _REGISTRY.items() if s.zoo == zoo]
    if not names:
        raise ValueError(f"unknown zoo {zoo!r}; valid zoos: {', '.join(list_zoos())}")
    return names


def get_spec(name: str) -> ModelSpec:
    if isinstance(name, ModelSpec):
        return name
    from tecore.zoo import hf_hub

    if name not in _REGISTRY and hf_hub.is_hub_id(name):  # hf-hub:<org>/<model>, local-dir:<folder>
        return register(hf_hub.hub_spec(name))
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; valid models: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]
