"""Full fine-tuning ground truth of the offline benchmark (``tecore.benchmark``), stored as
``groundtruth/offline_bench/<target>__<zoo>.csv``.

Regenerate or resume (finished runs are skipped, so spread the CPU time over several runs;
targets and zoos in separate processes never share a file):

    export OMP_NUM_THREADS=1 TECORE_DATA_MIRROR=../shared/data
    nice -n 10 python groundtruth/offline.py                                  # everything
    nice -n 10 python groundtruth/offline.py --zoo offline-trained            # one zoo
    nice -n 10 python groundtruth/offline.py --targets breastmnist --zoo offline
    nice -n 10 python groundtruth/offline.py --models fmnist/vit_sup --tag vit   # a parallel process
    nice -n 10 python groundtruth/offline.py --seeds 3 4 5 --tag more-seeds     # more replicates

Protocol (``tecore.benchmark.PROTOCOL``, version 2, recorded in every row's ``protocol_json``):
full fine-tuning of every layer plus a new linear head, AdamW, lr in {1e-4, 3e-5}, weight decay
1e-2, 8 epochs, batch 16, 32 px, no augmentation, seeds 0, 1, 2; macro one-vs-rest AUC; per
model, the learning rate with the best mean validation AUC over seeds gives the ground truth,
the mean test AUC at the best-validation epoch. Splits: ``tecore.benchmark.target_splits``
(Fashion-MNIST 5-9 and digits: 50 training and 20 validation images per class; MedMNIST: the
whole official splits). About 1.5 CPU-hours on one quiet core for the 17 models.

``groundtruth/offline_bench_v1/`` holds the grid of version 1 (lr {1e-3, 1e-4}, 50 training
images per class on every target), which this script no longer writes.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tecore import benchmark, zoo  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--zoo", nargs="*", default=list(benchmark.ZOOS), help="zoos to fine-tune")
    p.add_argument("--models", nargs="*", default=None, help="model names (default: every model of --zoo)")
    p.add_argument("--targets", nargs="*", default=list(benchmark.TARGETS))
    p.add_argument("--out", default=str(ROOT / benchmark.RESULTS))
    p.add_argument("--device", default="cpu")
    p.add_argument("--tag", default="", help="file suffix, so parallel processes never share a CSV")
    p.add_argument("--seeds", nargs="*", type=int, default=None,
                   help="other seeds of the same protocol (default: its own, 0 1 2), e.g. 3 4 5 to add replicates")
    a = p.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    names = a.models or [m for z in a.zoo for m in zoo.collection(z)]
    benchmark.run_finetune(a.out, models_=names, targets=a.targets, device=a.device, progress=False, tag=a.tag,
                           seeds=a.seeds)
    print(benchmark.ground_truth(a.out).pivot(index="model", columns="target", values="truth").round(3).to_string())
    print(benchmark.ceiling(a.out).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
