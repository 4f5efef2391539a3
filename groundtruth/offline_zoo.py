"""Train the ``offline-trained`` zoo: small networks tecore trains itself, offline, on a CPU.

Regenerate every checkpoint and the registry file (resumable: a model whose weights exist is
skipped; ``--force`` retrains):

    OMP_NUM_THREADS=1 python groundtruth/offline_zoo.py            # ~20 min on one free core
    OMP_NUM_THREADS=1 python groundtruth/offline_zoo.py --only vit_sup vit_simclr   # some runs

Runs are independent (each seeds its own generator), so they may be split over processes.

Source data: Fashion-MNIST *training* split, classes 0-4 (T-shirt/top, trouser, pullover,
dress, coat), 4000 images per class (seed 0), 28 px grey images resized to 32 px RGB with
the zoo's own preprocessing (``tecore.zoo.make_preprocess``), normalised with mean = std =
0.5. The benchmark's targets are other data: Fashion-MNIST classes 5-9 (sandal, shirt,
sneaker, bag, ankle boot; official test split), digits, BreastMNIST and RetinaMNIST.

The zoo mixes
* architectures: timm's small test ResNet, ConvNeXt and EfficientNet, and a 4-block ViT at
  32 px (patch 4, width 96);
* pretraining objectives: supervised (5-way cross-entropy; the head is kept, so LEEP/NCE
  apply) and SimCLR (NT-Xent on two augmented views, temperature 0.2; features only);
* checkpoints along one training run (Li et al., "Ranking neural checkpoints", CVPR 2021):
  the supervised ResNet after 20 and 200 steps and at the end, and a second run of it at a
  quarter of the learning rate after 10, 50 and 100 steps and at the end.

Everything is seeded and single-threaded; weights are stored as fp16 safetensors next to
``offline_trained.toml``, which this script writes (sha256 of every file included) and
``tecore.zoo`` registers at import. Training history: ``offline_zoo/train_log.csv``.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "groundtruth" / "offline_zoo"
ZOO = "offline-trained"
SOURCE_CLASSES = (0, 1, 2, 3, 4)
PER_CLASS = 4000
SIZE = 32
MEAN = STD = (0.5, 0.5, 0.5)
VIT = {"img_size": 32, "patch_size": 4, "embed_dim": 96, "depth": 4, "num_heads": 3}
ARCHS = {"resnet": ("timm:test_resnet", {}), "convnext": ("timm:test_convnext", {}),
         "effnet": ("timm:test_efficientnet", {}), "vit": ("timm:vit_tiny_patch16_224", VIT)}
# name, arch, objective, epochs, lr, {checkpoint name: step}
RUNS = [
    ("resnet_sup", "resnet", "supervised", 3, 2e-3, {"resnet_sup_step20": 20, "resnet_sup_step200": 200}),
    ("convnext_sup", "convnext", "supervised", 2, 2e-3, {}),
    ("effnet_sup", "effnet", "supervised", 2, 2e-3, {}),
    ("resnet_simclr", "resnet", "simclr", 2, 2e-3, {}),
    ("vit_sup", "vit", "supervised", 1, 1e-3, {}),
    ("vit_simclr", "vit", "simclr", 1, 1e-3, {}),
    # a second checkpointed run (added to widen the zoo's spread in transfer quality): the
    # same ResNet at a quarter of the learning rate, with three early checkpoints
    ("resnet_sup_lowlr", "resnet", "supervised", 3, 5e-4,
     {"resnet_sup_lowlr_step10": 10, "resnet_sup_lowlr_step50": 50, "resnet_sup_lowlr_step100": 100}),
]
REFERENCE = ("trained by tecore (groundtruth/offline_zoo.py) on Fashion-MNIST train classes 0-4, "
             "4000 per class, 32 px: {what}")


def _spec(name, arch, objective):
    from tecore import zoo

    a, kw = ARCHS[arch]
    return zoo.ModelSpec(name=f"fmnist/{name}", zoo=ZOO, arch=a, weights=f"file:{name}.safetensors",
                         num_classes=len(SOURCE_CLASSES) if objective == "supervised" else 0,
                         input_size=SIZE, resize=SIZE, mean=MEAN, std=STD, arch_kwargs=tuple(sorted(kw.items())))


def source_tensors(seed: int = 0):
    """The source images as one normalised (N, 3, 32, 32) tensor and their labels 0-4."""
    import torch

    from tecore import data, zoo

    ds = data.load("fashion-mnist", "train")
    keep = np.flatnonzero(np.isin(ds.labels, SOURCE_CLASSES))
    ds = ds.subset(keep)
    ds = ds.subset(data.subsample_per_class(ds.labels, PER_CLASS, seed))
    pre = zoo.make_preprocess(_spec("x", "resnet", "supervised"))
    X = torch.stack([pre(img) for img in ds.images])
    return X, torch.as_tensor(ds.labels, dtype=torch.long)


def _augment(x, gen, strong: bool):
    """Per-sample random resized crop (scale 0.35-1 strong / 0.8-1 weak), horizontal flip and,
    for SimCLR, brightness/contrast jitter — on the batch tensor, no PIL."""
    import torch
    import torch.nn.functional as F

    n = x.shape[0]
    lo = 0.35 if strong else 0.8
    s = torch.sqrt(lo + (1 - lo) * torch.rand(n, generator=gen))  # side fraction
    tx = (1 - s) * (2 * torch.rand(n, generator=gen) - 1)
    ty = (1 - s) * (2 * torch.rand(n, generator=gen) - 1)
    flip = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 2], theta[:, 1, 1], theta[:, 1, 2] = s * flip, tx, s, ty
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, align_corners=False, padding_mode="border")
    if strong:
        b = 0.4 * (torch.rand(n, 1, 1, 1, generator=gen) - 0.5)
        c = 1 + 0.8 * (torch.rand(n, 1, 1, 1, generator=gen) - 0.5)
        m = out.mean(dim=(1, 2, 3), keepdim=True)
        out = (out - m) * c + m + b
    return out


def _nt_xent(z1, z2, temperature=0.2):
    import torch
    import torch.nn.functional as F

    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.T / temperature
    n = z1.shape[0]
    sim.fill_diagonal_(-1e9)
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target)


def _save(net, path: Path):
    from safetensors.torch import save_file

    sd = {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in net.state_dict().items()}
    save_file(sd, str(path))


def train(run, X, y, log_rows, seed: int = 0, batch_size: int = 64):
    import timm
    import torch

    name, arch, objective, epochs, lr, ckpts = run
    spec = _spec(name, arch, objective)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = timm.create_model(spec.arch.split(":", 1)[1], pretrained=False,
                            num_classes=spec.num_classes, **dict(spec.arch_kwargs))
    params = list(net.parameters())
    proj = None
    if objective == "simclr":
        d = net.num_features
        proj = torch.nn.Sequential(torch.nn.Linear(d, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64))
        params += list(proj.parameters())
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.05)
    steps_per_epoch = len(X) // batch_size
    total = epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 0.5 * (1 + math.cos(math.pi * t / total)))
    step, t0 = 0, time.perf_counter()
    if 0 in ckpts.values():
        _save(net, OUT / f"{[k for k, v in ckpts.items() if v == 0][0]}.safetensors")
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(len(X), generator=gen)
        run_loss = 0.0
        for i in range(steps_per_epoch):
            idx = perm[i * batch_size:(i + 1) * batch_size]
            xb = X[idx]
            if objective == "supervised":
                loss = torch.nn.functional.cross_entropy(net(_augment(xb, gen, strong=False)), y[idx])
            else:
                loss = _nt_xent(proj(net(_augment(xb, gen, True))), proj(net(_augment(xb, gen, True))))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            run_loss += float(loss.detach())
            for ck, at in ckpts.items():
                if step == at:
                    _save(net, OUT / f"{ck}.safetensors")
                    log_rows.append({"model": f"fmnist/{ck}", "run": name, "step": step, "epoch": epoch + 1,
                                     "train_loss": float(loss), "seconds": time.perf_counter() - t0})
        print(f"{name}: epoch {epoch + 1}/{epochs} loss {run_loss / steps_per_epoch:.4f} "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
        log_rows.append({"model": f"fmnist/{name}", "run": name, "step": step, "epoch": epoch + 1,
                         "train_loss": run_loss / steps_per_epoch, "seconds": time.perf_counter() - t0})
    _save(net, OUT / f"{name}.safetensors")


def write_registry():
    """offline_trained.toml: one [[model]] per existing checkpoint, with its sha256."""
    from tecore.cache import file_digest

    lines = ["# The offline-trained zoo. GENERATED by `python groundtruth/offline_zoo.py` (see its",
             "# docstring for the data and the recipe); weights are the fp16 safetensors next to it.", ""]
    for name, arch, objective, epochs, lr, ckpts in RUNS:
        for ck, at in [*ckpts.items(), (name, None)]:
            path = OUT / f"{ck}.safetensors"
            if not path.is_file():
                continue
            spec = _spec(ck, arch, objective)
            what = (f"{objective} {ARCHS[arch][0]}, "
                    + (f"checkpoint after {at} steps of the {epochs}-epoch run {name}" if at is not None
                       else f"{epochs} epochs, AdamW lr {lr}, cosine, batch 64"))
            kw = ", ".join(f"{k} = {json.dumps(v)}" for k, v in spec.arch_kwargs)
            lines += ["[[model]]", f'name = "{spec.name}"', f'zoo = "{ZOO}"', f'arch = "{spec.arch}"',
                      f'weights = "{spec.weights}"', f'sha256 = "{file_digest(path)}"',
                      f"num_classes = {spec.num_classes}", f"input_size = {SIZE}", f"resize = {SIZE}",
                      f"mean = {list(MEAN)}", f"std = {list(STD)}", f"arch_kwargs = {{ {kw} }}",
                      f'reference = "{REFERENCE.format(what=what)}"', ""]
    (OUT / "offline_trained.toml").write_text("\n".join(lines))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*", default=None, help="run names (e.g. resnet_sup vit_simclr)")
    p.add_argument("--force", action="store_true", help="retrain even if the weights exist")
    a = p.parse_args(argv)
    import pandas as pd
    import torch

    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    todo = [r for r in RUNS if (a.only is None or r[0] in [o.split("/")[-1] for o in a.only])
            and (a.force or not (OUT / f"{r[0]}.safetensors").is_file())]
    if todo:
        X, y = source_tensors()
        print(f"source: {tuple(X.shape)} images", flush=True)
    log = OUT / "train_log.csv"
    for run in todo:
        rows = []
        train(run, X, y, rows)
        old = pd.read_csv(log) if log.is_file() else pd.DataFrame()
        if len(old):
            old = old[old["run"] != run[0]]
        pd.concat([old, pd.DataFrame(rows)], ignore_index=True).to_csv(log, index=False)
        write_registry()
    write_registry()


if __name__ == "__main__":
    main()
