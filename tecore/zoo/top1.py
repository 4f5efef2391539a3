"""Published ImageNet-1k top-1 accuracy of the zoo's weights: the task-agnostic baseline
("pick the best ImageNet model", Renggli et al., CVPR 2022), used by the ``imagenet_top1``
metric.

The numbers live in ``tecore/zoo_top1.csv``, one row per zoo model with the weights it names,
the value, its source (torchvision's weights metadata ``meta["_metrics"]["ImageNet-1K"]
["acc@1"]``, timm's ``results/results-imagenet.csv``) and a note; models without a published
top-1 (self-supervised checkpoints with no ImageNet head) have an empty value and a note
saying why. A model registered by the user can carry its own value in
:attr:`ModelSpec.imagenet_top1 <tecore.zoo.ModelSpec>`.
"""
from __future__ import annotations

import csv
import math
from functools import lru_cache
from pathlib import Path

from tecore.zoo.registry import _REGISTRY

__all__ = ["TOP1_FILE", "top1_table", "imagenet_top1"]

TOP1_FILE = Path(__file__).resolve().parents[1] / "zoo_top1.csv"


@lru_cache(maxsize=1)
def top1_table() -> dict[str, dict]:
    """The table as ``{zoo model name or weights id: row}``; a row has ``model``, ``weights``,
    ``imagenet_top1`` (float, NaN where unknown), ``source`` and ``note``."""
    out: dict[str, dict] = {}
    with open(TOP1_FILE, newline="") as fh:
        for row in csv.DictReader(fh):
            row = dict(row)
            row["imagenet_top1"] = float(row["imagenet_top1"]) if row["imagenet_top1"] else math.nan
            out[row["model"]] = row
            out.setdefault(row["weights"], row)
    return out


def imagenet_top1(name: str) -> dict:
    """``{"imagenet_top1": float (NaN if unknown), "source": str, "note": str}`` for a zoo model
    name or a weights id (``"torchvision:ResNet50_Weights.IMAGENET1K_V1"``,
    ``"timm:resnet18.tv_in1k"``).

    Order: the registered model's own ``ModelSpec.imagenet_top1``, the table row of its name,
    the table row of its weights; for a name that is not registered, the table row of that
    name or weights id.
    """
    table = top1_table()
    spec = _REGISTRY.get(name)
    if spec is not None and spec.imagenet_top1 is not None:
        return {"imagenet_top1": float(spec.imagenet_top1), "source": spec.reference or "ModelSpec.imagenet_top1",
                "note": ""}
    row = table.get(name) or (table.get(spec.weights) if spec is not None else None)
    if row is None:
        return {"imagenet_top1": math.nan, "source": "",
                "note": f"no ImageNet top-1 recorded for model {name!r}; give its ModelSpec an imagenet_top1 "
                        f"(with its source in reference) or add a row to {TOP1_FILE.name}"}
    return {k: row[k] for k in ("imagenet_top1", "source", "note")}
