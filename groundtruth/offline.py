"""Full fine-tuning ground truth of the offline benchmark (stored as offline_finetune.csv).

Regenerate (resumable: finished runs in the CSV are skipped):

    python groundtruth/offline.py                      # all models x all targets
    python groundtruth/offline.py --targets digits     # a subset

Protocol (a reduced version of Juodelyte et al.'s, as data — see PROTOCOL below): full
fine-tuning of every layer with SGD (momentum 0.9), lr in {1e-2, 1e-3}, weight decay 1e-4,
4 epochs, batch 32, images resized to 64 px, no augmentation; the run and epoch with the
lowest validation loss give the test accuracy. Per target, a per-class subsample (seed 0):
30 training, 10 validation and 20 test images per class. The paper's full grid (6 lr x 5 wd
x 2 momenta x 2 batch sizes, up to 400 epochs, early stopping) is far beyond a 2-core CPU;
the reductions are recorded in every row (``protocol_json``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tecore import data, experiment, finetune, zoo  # noqa: E402

PROTOCOL = finetune.Protocol(
    "offline-reduced", "sgd", {"lr": (1e-2, 1e-3), "weight_decay": (1e-4,), "momentum": (0.9,)},
    epochs=4, metric="accuracy", selection="min_val_loss", batch_size=32, image_size=64,
    reference="reduced from Juodelyte et al. (arXiv 2412.20172) Sec. 3.3 for a 2-core CPU",
)
TARGETS = ("breastmnist", "retinamnist", "fashion-mnist", "digits")
TRAIN, VAL, TEST = 30, 10, 20


def splits(target: str, seed: int = 0):
    ds = data.load(target, per_class=TRAIN + VAL + TEST, seed=seed)
    tr, rest = experiment.split_per_class(ds.labels, TRAIN)
    rest_ds = ds.subset(rest)
    te, va = experiment.split_per_class(rest_ds.labels, TEST)
    return ds.subset(tr), rest_ds.subset(va), rest_ds.subset(te)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="*", default=zoo.collection("offline"))
    p.add_argument("--targets", nargs="*", default=list(TARGETS))
    p.add_argument("--out", default=str(ROOT / "groundtruth" / "offline_finetune.csv"))
    p.add_argument("--device", default=None)
    a = p.parse_args(argv)
    import torch

    torch.set_num_threads(max(1, torch.get_num_threads()))
    factories = {m: (lambda m=m: zoo.create(m)[:2]) for m in a.models}
    for t in a.targets:
        tr, va, te = splits(t)
        finetune.run_grid(factories, tr, va, te, PROTOCOL, dataset=t, out=a.out, device=a.device)
    gt = finetune.ground_truth(a.out)
    print(gt.pivot(index="model", columns="target", values="truth").round(3).to_string())


if __name__ == "__main__":
    main()
