"""Hugging Face hub models as zoo entries: ``hf-hub:<org>/<name>`` timm ids.

Any timm model on the hub (``hf-hub:timm/resnet18.a1_in1k``, ``hf-hub:org/my-finetune``) or
a local folder in the hub's layout (``config.json`` + ``model.safetensors``, as
``timm.models.save_for_hf`` writes it; ``local-dir:/path/to/folder``) is a model name
everywhere tecore takes one: ``tecore.zoo.create("hf-hub:timm/resnet18.a1_in1k")``,
``tecore rank --zoo hf-hub:timm/resnet18.a1_in1k,hf-hub:timm/vit_tiny_patch16_224.augreg_in21k``,
or ``arch = "timm:hf-hub:..."`` in a zoo TOML file. The entry is registered on first use,
in the zoo ``"hf-hub"`` (or ``"local-dir"``).

The preprocessing (input size, crop, mean, std) and the source classes come from the
model's own ``config.json`` once it is built (:func:`spec_from_model`), as timm's
``resolve_data_config`` would choose them.

Offline: timm downloads through ``huggingface_hub``; with ``HF_HUB_OFFLINE=1`` a model already
in the Hugging Face cache (``$HF_HUB_CACHE``, default ``~/.cache/huggingface/hub``) loads
without network. Any failure to fetch becomes a :class:`tecore.zoo.WeightsError` saying so.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

__all__ = ["PREFIXES", "is_hub_id", "parse", "hub_spec", "build", "spec_from_model"]

PREFIXES = ("hf-hub:", "local-dir:")
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*(@[A-Za-z0-9._/-]+)?$")


def is_hub_id(name) -> bool:
    """Whether ``name`` is an ``hf-hub:`` / ``local-dir:`` timm id (with or without ``timm:``)."""
    return isinstance(name, str) and name.removeprefix("timm:").startswith(PREFIXES)


def parse(name: str) -> tuple[str, str]:
    """``"hf-hub:org/name"`` -> ``("hf-hub", "org/name")``; ``"local-dir:/p"`` ->
    ``("local-dir", "/p")``. ValueError for a malformed id or a missing folder."""
    if not is_hub_id(name):
        raise ValueError(f"{name!r} is not a hub id; write hf-hub:<org>/<model> or local-dir:<folder>")
    source, _, ident = name.removeprefix("timm:").partition(":")
    if source == "hf-hub":
        if not _REPO_ID.match(ident):
            raise ValueError(f"hub id {name!r}: expected hf-hub:<org>/<model>[@revision], e.g. "
                             "hf-hub:timm/resnet18.a1_in1k")
        return source, ident
    p = Path(ident).expanduser()
    if not (p / "config.json").is_file():
        raise ValueError(f"{name!r}: {p} is not a model folder in the Hugging Face layout (no config.json; "
                         "write one with timm.models.save_for_hf(model, folder))")
    return source, str(p.resolve())


def _weights_digest(folder: str) -> str | None:
    from tecore._store import file_digest

    for f in ("model.safetensors", "pytorch_model.bin", "open_clip_pytorch_model.bin"):
        if (Path(folder) / f).is_file():
            return file_digest(Path(folder) / f)
    return None


def hub_spec(name: str):
    """The :class:`tecore.zoo.ModelSpec` of a hub id (preprocessing settled at build time)."""
    from tecore.zoo.registry import ModelSpec

    source, ident = parse(name)
    model_id = f"{source}:{ident}"
    return ModelSpec(
        name=name.removeprefix("timm:"), zoo=source, arch=f"timm:{model_id}", weights=f"timm:{model_id}",
        sha256=_weights_digest(ident) if source == "local-dir" else None,
        reference=(f"https://huggingface.co/{ident.split('@')[0]}" if source == "hf-hub"
                   else f"local folder {ident}"),
    )


def build(arch: str, pretrained: bool = True):
    """``timm.create_model(arch, pretrained=...)`` with the model's own head; a failure to
    reach the hub becomes a WeightsError that says what to do."""
    import timm

    from tecore.zoo.registry import WeightsError

    source, ident = parse(arch)
    try:
        return timm.create_model(f"{source}:{ident}", pretrained=pretrained)
    except (OSError, ValueError, RuntimeError, ImportError) as exc:  # hub errors subclass these
        what = " ".join(str(exc).split())[:300]
        if source == "hf-hub":
            raise WeightsError(
                f"cannot load hf-hub:{ident} from the Hugging Face hub ({type(exc).__name__}: {what}). "
                "Without internet, put the model in the Hugging Face cache and set HF_HUB_OFFLINE=1, or "
                "download the repository folder and use local-dir:<folder>.") from None
        raise WeightsError(f"cannot load local-dir:{ident} ({type(exc).__name__}: {what})") from None


def spec_from_model(spec, net):
    """``spec`` with the input size, resize, mean, std and source classes of the built
    timm model ``net`` (its ``pretrained_cfg``, i.e. the hub's ``config.json``)."""
    cfg = dict(getattr(net, "pretrained_cfg", {}) or {})
    size = cfg.get("test_input_size") or cfg.get("input_size") or (3, spec.input_size, spec.input_size)
    side = int(size[-1])
    crop = float(cfg.get("test_crop_pct") or cfg.get("crop_pct") or 0.875)
    return dataclasses.replace(
        spec, input_size=side, resize=int(round(side / crop)),
        mean=tuple(float(v) for v in cfg.get("mean", spec.mean)),
        std=tuple(float(v) for v in cfg.get("std", spec.std)),
        num_classes=int(getattr(net, "num_classes", 0) or 0),
    )
