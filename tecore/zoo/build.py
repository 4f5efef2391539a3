"""Building a registered model: :func:`create` -> ``(model, preprocess, spec)``."""
from __future__ import annotations

import dataclasses

from tecore.zoo.registry import ModelSpec, WeightsError, get_spec
from tecore.zoo.weights import _load_state_dict, _mirror_file, map_checkpoint, weights_path

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
        kwargs.update(dict(spec.arch_kwargs))
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

        from tecore.zoo import hf_hub

        if hf_hub.is_hub_id(arch):  # the hub model with its own head and config
            return hf_hub.build(arch, pretrained)
        if pretrained and wkind == "timm":
            local = _mirror_file(f"{arch}.safetensors") or _mirror_file(f"{arch}.pth")
            overlay = {"file": str(local)} if local is not None else None
            return timm.create_model(arch, pretrained=True, pretrained_cfg_overlay=overlay,
                                     num_classes=spec.num_classes or 0, **dict(spec.arch_kwargs))
        net = timm.create_model(arch, pretrained=False, num_classes=spec.num_classes or 0,
                                **dict(spec.arch_kwargs))
    if pretrained and wkind in ("url", "package", "file", "mirror"):
        sd = map_checkpoint(_load_state_dict(weights_path(spec), strip=spec.key_map is None), spec, net)
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
                if not spec.has_head:
                    # a headless torchvision network is built with torchvision's randomly
                    # initialised 1000-class head (its forward needs one): drop it, so the
                    # parameters (and the feature-cache key, which hashes them) are the same in
                    # every process. Done after construction: the random-number stream that
                    # seeded code (fine-tuning) sees is unchanged.
                    parent, _, child = spec.head.rpartition(".")
                    setattr(backbone.get_submodule(parent) if parent else backbone, child, torch.nn.Identity())
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


def create(name: str | ModelSpec, *, pretrained: bool = True, device="cpu", image_size: int | None = None):
    """Build ``name`` -> ``(model, preprocess, spec)``; ``model`` is in eval mode on ``device``
    (``None``: :func:`tecore._device.resolve_device`'s default) and returns
    ``(features, logits or None)``. ``image_size`` overrides the spec's input (and resize)
    size: the returned ``spec`` and ``preprocess`` use it."""
    from tecore._device import resolve_device

    spec = get_spec(name)
    device = resolve_device(device)
    net = _build(spec, pretrained)
    from tecore.zoo import hf_hub

    if hf_hub.is_hub_id(spec.arch):
        spec = hf_hub.spec_from_model(spec, net)
    if spec.grad_layers is None and not spec.arch.startswith("timm:vit"):
        try:
            spec = dataclasses.replace(spec, grad_layers=_first_two_convs(net))
        except ValueError:
            pass
    model = _make_wrapper()(net, spec).eval().to(device)
    if image_size is not None:
        spec = dataclasses.replace(spec, input_size=int(image_size), resize=int(image_size))
    return model, make_preprocess(spec), spec

