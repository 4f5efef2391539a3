"""Fine-tuning grids and zoo x target extraction on worker processes (:mod:`tecore.dispatch`).

:func:`run_grid_parallel` is what :func:`tecore.finetune.run_grid` calls with ``engine=`` or
``workers=``: every (model, configuration) still missing from the results CSV becomes one
job; a worker builds the model, preprocesses the splits, fine-tunes once and *returns* the
result row; the driver (this process) alone appends it to the CSV, atomically, skipping a
``run_key`` already there. So the CSV is the same resumable file as the in-process runner
writes, a killed worker leaves nothing behind (its run is retried), and two writers never
race.

:func:`extract_grid` fills the feature cache for every (model, target) pair in parallel:
each job loads its target, extracts with the cache (content-addressed, written atomically)
and returns the cache key and timings; afterwards :func:`tecore.experiment.run` or
``tecore rank`` with the same settings and ``cache_dir`` read the features from the cache.
On a cluster, ``cache_dir`` must be a directory all workers share.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

__all__ = ["run_grid_parallel", "grid_job", "extract_grid", "extract_job"]


def grid_job(name: str, factory, splits: Mapping[str, tuple], cfg: Mapping,
             protocol: Mapping, dataset: str, device: str, n_classes: int, versions: Mapping) -> dict:
    """One fine-tuning run in a worker: build the model (``factory()``, or ``factory`` is
    the zoo's ModelSpec), preprocess the splits, train once; return the result row."""
    import torch

    from tecore import finetune

    from tecore._device import resolve_device

    device = str(resolve_device(device))  # None: this worker's GPU if it has one
    proto = finetune.get_protocol(protocol)
    if not callable(factory):  # a zoo ModelSpec
        from tecore import zoo

        spec = factory
        factory = lambda: zoo.create(spec, device="cpu")[:2]  # noqa: E731 - built in the worker
    _, preprocess = factory()
    data = {k: (finetune._to_tensor(imgs, preprocess, proto.image_size), torch.as_tensor(y))
            for k, (imgs, y) in splits.items()}
    t0 = time.perf_counter()
    res = finetune.train_once(factory, data, cfg, proto, device=device, n_classes=n_classes)
    return finetune._result_row(name, dataset, proto, cfg, res, time.perf_counter() - t0, device, versions)


def run_grid_parallel(models, train, val, test, protocol="itm", *, dataset: str = "target", out,
                      device: str | None = None, progress: bool = True, engine: str = "local",
                      workers: int | None = None, address=None, retries: int = 2) -> pd.DataFrame:
    """:func:`tecore.finetune.run_grid` with the runs dispatched to ``engine``; same
    arguments, same CSV, same return value (all result rows)."""
    from tecore import dispatch, finetune

    proto = finetune.get_protocol(protocol)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(models, Mapping):
        factories = dict(models)
    else:
        from tecore import zoo

        # the spec travels with the job: user entries need no registry in the worker
        factories = {n: zoo.get_spec(n) for n in models}  # unknown names fail here
    splits = {"train": finetune._as_xy(train, "train"), "val": finetune._as_xy(val, "val"),
              "test": finetune._as_xy(test, "test")}
    splits = {k: (_as_array(imgs), y) for k, (imgs, y) in splits.items()}
    n_classes = int(max(int(s[1].max()) for s in splits.values()) + 1)
    done = set(pd.read_csv(out)["run_key"]) if out.exists() else set()
    versions = finetune._versions()
    proto_dict = proto.to_dict()
    jobs = []
    for name, factory in factories.items():
        for cfg in proto.configs():
            key = finetune._run_key(name, dataset, proto, cfg)
            if key not in done:
                jobs.append((key, grid_job, (name, factory, splits, cfg, proto_dict, dataset, device,
                                             n_classes, versions), {}))

    def record(key, row):
        if out.exists() and key in set(pd.read_csv(out, usecols=["run_key"])["run_key"]):
            return  # already recorded (a retried job finished twice): never a duplicate row
        finetune._append_atomic(out, row)

    dispatch.run_jobs(jobs, record, engine=engine, workers=workers, address=address, retries=retries,
                      progress=progress, desc=f"fine-tune {dataset}")
    return pd.read_csv(out) if out.exists() else pd.DataFrame()


def _as_array(images):
    """Lazy images are decoded once in the driver, so workers get plain arrays (or the
    list of images when their sizes differ)."""
    import numpy as np

    if isinstance(images, np.ndarray):
        return images
    try:
        return np.asarray(images)
    except ValueError:
        return [images[i] for i in range(len(images))]


# ----------------------------------------------------------------------------- extraction
def extract_job(spec, target: str, per_class: int | None, test_per_class: int | None, seed: int,
                image_size: int | None, device: str, cache_dir, grad_probe: bool) -> dict:
    """Extract the features of ``target`` under the model ``spec`` (a
    :class:`tecore.zoo.ModelSpec`, so user entries need no registry in the worker) into the
    cache, exactly as ``tecore rank`` (``test_per_class=None``) or
    :func:`tecore.experiment.run` (its metric and held-out parts) load and extract them."""
    from tecore import data, extract, zoo

    t0 = time.perf_counter()
    created = zoo.create(spec, device=device, image_size=image_size)
    if test_per_class:
        train, test = data.load_train_test(target, per_class, test_per_class, seed=seed, one_split=True)
        parts = [(train, grad_probe), (test, False)]
    else:
        ds = data.load(target, per_class=per_class, seed=seed)
        parts = [(ds, grad_probe)]
    hits, dim = [], None
    for part, grad in parts:
        try:
            f = extract.extract(created, part, device=device, cache_dir=cache_dir, grad_probe=grad, progress=False)
        except ValueError:
            if not grad:
                raise
            f = extract.extract(created, part, device=device, cache_dir=cache_dir, progress=False)
        hits.append(bool(f.meta.get("cache_hit")))
        dim = int(f.features.shape[1])
    return {"target": str(target), "model": spec.name, "images": sum(len(p) for p, _ in parts), "dim": dim,
            "cache_hit": all(hits), "seconds": time.perf_counter() - t0, "worker_pid": os.getpid()}


def extract_grid(models, targets: Sequence[str], *, per_class: int | None = 40, test_per_class: int | None = None,
                 seed: int = 0, image_size: int | None = 112, device: str = "cpu", cache_dir=None,
                 grad_probe: bool = False, engine: str = "local", workers: int | None = None, address=None,
                 retries: int = 2, progress: bool = True) -> pd.DataFrame:
    """Fill the feature cache for every (model, target) pair on ``engine``; one row per
    pair (``target, model, images, dim, cache_hit, seconds, worker_pid``).

    ``models``: a zoo name, a model name or a list (:func:`tecore.experiment.resolve_models`).
    With ``test_per_class=None`` the cache then serves ``tecore rank --per-class PER_CLASS
    --seed SEED --image-size IMAGE_SIZE``; with ``test_per_class`` (and ``grad_probe=True``
    for ``lp_fu``) it serves :func:`tecore.experiment.run` with the same settings.
    """
    from tecore import dispatch, zoo
    from tecore.experiment import resolve_models

    specs = [zoo.get_spec(m) for m in resolve_models(models)]
    if isinstance(targets, str):
        targets = [targets]
    cache_dir = None if cache_dir is None else str(cache_dir)
    jobs = [((str(t), s.name), extract_job, (s, str(t), per_class, test_per_class, seed, image_size, device,
                                              cache_dir, grad_probe), {})
            for t in targets for s in specs]
    rows: list[dict] = []
    dispatch.run_jobs(jobs, lambda key, row: rows.append(row), engine=engine, workers=workers,
                      address=address, retries=retries, progress=progress, desc="extract")
    return pd.DataFrame(rows).sort_values(["target", "model"]).reset_index(drop=True)
