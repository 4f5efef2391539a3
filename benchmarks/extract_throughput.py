"""Extraction throughput vs forward-only throughput of the same model, same batch size.

``tecore.extract.extract`` does more than a forward pass: it decodes and preprocesses every
image (PIL -> resize -> tensor in ``DataLoader`` workers), copies batches to the device and
gathers the outputs. This script measures how much of the bare model speed survives:

* **forward-only**: images preprocessed once into device tensors beforehand, then a timed
  loop of ``model(x)`` under the same ``inference_mode`` / autocast / ``channels_last``
  settings ``extract`` uses, synchronised at the end;
* **extract**: ``extract(model, dataset, cache=False, progress=False)`` end to end.

Target on a GPU: extract >= 80 % of forward-only with enough workers (``--workers``).

Usage::

    python benchmarks/extract_throughput.py --models offline --dataset breastmnist \\
        --n 256 --batch-size 64 --workers 0 --out benchmarks/results/extract_throughput_cpu.md

``--models`` takes zoo names or a zoo group name (whatever ``tecore.zoo`` accepts; a group
is expanded with ``tecore.zoo.list_models(group)`` when that exists), or ``tv:<arch>`` for a
randomly initialised torchvision architecture wrapped the way ``tecore.zoo.create`` wraps
models (speed does not depend on the weights; ``--size`` sets its input size).
"""
from __future__ import annotations

import argparse
import contextlib
import platform
import time
from pathlib import Path

import numpy as np


def _expand(models: list[str]) -> list[str]:
    out = []
    for m in models:
        if m.startswith("tv:"):
            out.append(m)
            continue
        from tecore import zoo

        lister = getattr(zoo, "list_models", None) or getattr(zoo, "names", None)
        names = None
        if lister is not None:
            try:
                names = lister(m)
            except Exception:
                names = None
        out += list(names) if names else [m]
    return out


def _torchvision_stand_in(arch: str, size: int):
    """(model, preprocess, spec) for an untrained torchvision ``arch`` (throughput only)."""
    import types

    import torch
    import torchvision
    from torchvision import transforms as T

    net = torchvision.models.get_model(arch, weights=None)
    head_attr = "fc" if hasattr(net, "fc") else "classifier"
    head = getattr(net, head_attr)
    setattr(net, head_attr, torch.nn.Identity())

    class Wrapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.head = net, head

        def forward(self, x):
            f = self.body(x)
            return f, self.head(f)

    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    spec = types.SimpleNamespace(name=f"tv:{arch}", input_size=size, mean=mean, std=std,
                                 grad_layers=None)
    pre = T.Compose([T.Resize((size, size)), T.ToTensor(), T.Normalize(mean, std)])
    return Wrapped(), pre, spec


def _create(name: str, size: int):
    if name.startswith("tv:"):
        return _torchvision_stand_in(name[3:], size)
    from tecore import zoo

    return zoo.create(name)


def _sync(dev):
    import torch

    if dev.type == "cuda":
        torch.cuda.synchronize()


def forward_only(model, preprocess, ds, batch_size, dev, amp=True, repeats=1):
    import torch

    from tecore.extract import _View, _precision, _split_output

    view = _View(ds.images, preprocess)
    xs = torch.stack([view[i][0] for i in range(len(view))])
    batches = [xs[s:s + batch_size].to(dev) for s in range(0, len(xs), batch_size)]
    if dev.type == "cuda":
        model.to(memory_format=torch.channels_last)
        batches = [b.contiguous(memory_format=torch.channels_last) for b in batches]
    _, amp_dtype = _precision(dev, amp)
    ac = (torch.autocast("cuda", dtype=amp_dtype) if amp_dtype is not None else contextlib.nullcontext())
    model.eval().to(dev)
    with torch.inference_mode(), ac:
        _split_output(model(batches[0]))  # warm-up
        _sync(dev)
        t = time.perf_counter()
        for _ in range(repeats):
            for b in batches:
                _split_output(model(b))
        _sync(dev)
        dt = time.perf_counter() - t
    return repeats * len(xs) / dt


def extract_speed(created, ds, batch_size, dev, workers, repeats=1):
    from tecore.extract import extract

    extract(created, ds.subset(np.arange(min(len(ds), batch_size))), batch_size=batch_size,
            device=dev, cache=False, progress=False, num_workers=0)  # warm-up
    t = time.perf_counter()
    for _ in range(repeats):
        extract(created, ds, batch_size=batch_size, device=dev, cache=False, progress=False,
                num_workers=workers)
    _sync(dev)
    return repeats * len(ds) / (time.perf_counter() - t)


def main(argv=None):
    import torch

    from tecore import data

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["offline"])
    ap.add_argument("--dataset", default="breastmnist")
    ap.add_argument("--split", default="train")
    ap.add_argument("--n", type=int, default=256, help="images (first n of the split)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--workers", type=int, nargs="+", default=[0],
                    help="DataLoader worker counts to measure (one row each)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    ap.add_argument("--device", default=None)
    ap.add_argument("--size", type=int, default=112, help="input size of tv:<arch> stand-ins")
    ap.add_argument("--out", default=None, help="write a markdown table here")
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    dev = torch.device(a.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    ds = data.load(a.dataset, a.split)
    ds = ds.subset(np.arange(min(a.n, len(ds))))
    rows = []
    for name in _expand(a.models):
        created = _create(name, a.size)
        model, preprocess, spec = created
        fwd = forward_only(model, preprocess, ds, a.batch_size, dev, repeats=a.repeats)
        for w in a.workers:
            ext = extract_speed(created, ds, a.batch_size, dev, w, repeats=a.repeats)
            rows.append((name, str(getattr(spec, "input_size", "?")), w, fwd, ext, ext / fwd))
            print(f"{name:32s} workers {w} forward {fwd:8.1f} img/s   extract {ext:8.1f} img/s   "
                  f"{100 * ext / fwd:5.1f} %", flush=True)
    dev_name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else (platform.processor() or platform.machine())
    head = [
        "# Extraction throughput vs forward-only",
        "",
        f"* device: {dev.type} ({dev_name}); torch {torch.__version__}; threads {torch.get_num_threads()}",
        f"* dataset: {a.dataset}/{a.split}, first {len(ds)} images; batch size {a.batch_size}; "
        f"repeats {a.repeats}",
        "* forward-only: preprocessed tensors already on the device, bare `model(x)` loop;",
        "  extract: `tecore.extract.extract(..., cache=False)` end to end (decode, preprocess, copy, gather).",
        f"* command: `python benchmarks/extract_throughput.py {' '.join(argv or [])}`".rstrip(),
        "",
        "| model | input | workers | forward-only img/s | extract img/s | extract / forward |",
        "|---|---|---:|---:|---:|---:|",
    ]
    lines = head + [f"| {n} | {s} | {w} | {f:.1f} | {e:.1f} | {100 * r:.1f} % |" for n, s, w, f, e, r in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(text)
    return rows


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
