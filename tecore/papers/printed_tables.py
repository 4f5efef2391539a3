"""The tables typed in from the papers, with their citations (the data of :mod:`tecore.papers.printed`).

Every number here was typed in by hand from the plain-text extraction of a paper
(``../shared/papers``, see its README) and carries its citation: the paper and the table
number. Read them through :mod:`tecore.papers.printed` (``load``, ``get``, ``compare``).
This module is long because it is data: one ``_add`` call per printed table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["PrintedTable", "TABLES", "PAPERS", "GBC_ARCHITECTURES", "DATASET_ALIASES"]

#: Short key -> full reference of the papers the tables come from (file in ``../shared/papers``).
PAPERS: dict[str, str] = {
    "medical": "Juodelyte, Lu, Jiménez-Sánchez, Bottazzi, Ferrante, Cheplygina, On dataset "
    "transferability in medical image classification, arXiv 2412.20172 (papers/002_d8c33938ac5150ea.txt)",
    "gbc": "Pándy, Agostinelli, Uijlings, Ferrari, Mensink, Transferability estimation using "
    "Bhattacharyya class separability, CVPR 2022 (papers/004_34b98c63f9abb3eb.txt)",
    "ped": "Li, Hu, Ge, Shan, Duan, Exploring model transferability through the lens of "
    "potential energy, ICCV 2023 (papers/001_515676c2d8a5ac30.txt)",
    "itm": "Generalizable transferability estimation of foundation vision models via implicit "
    "learning, under review, later arXiv 2510.23145 (papers/000_3f37fbfaa057a52e.txt)",
}


@dataclass(frozen=True)
class PrintedTable:
    """One table as printed in a paper.

    Attributes
    ----------
    name: registry key, e.g. ``"ped_table1"``.
    paper: key into :data:`PAPERS`.
    table: the table's number in the paper, e.g. ``"Table 1"`` (``"Table 1 (top)"`` where the
        paper prints two quantities in one table).
    caption: a short paraphrase of the caption.
    quantity: what a cell holds (the value column of the tidy table): ``"tau_w"``,
        ``"tau"``, ``"rho"``, ``"accuracy"`` (percent), ``"seconds"``, ``"top1"``.
    index: name(s) of the row key(s); a table printed in blocks (GBC Table 2) has two.
    columns_name: name of the column key.
    frame: the table in its printed shape (rows x columns), float64; an ``"average"``
        column where the paper prints one.
    labels: tecore name -> label as printed.
    notes: extraction damage and how it was read, oddities worth knowing.
    """

    name: str
    paper: str
    table: str
    caption: str
    quantity: str
    index: tuple[str, ...]
    columns_name: str
    frame: pd.DataFrame = field(repr=False)
    labels: Mapping[str, str] = field(default_factory=dict, repr=False)
    notes: str = ""

    @property
    def citation(self) -> str:
        return f"{PAPERS[self.paper]}, {self.table}"

    @property
    def has_average(self) -> bool:
        return "average" in self.frame.columns


def _parse(text: str, index: Sequence[str]) -> pd.DataFrame:
    """Whitespace-separated table: header line of column names, then ``row v1 v2 ...``.

    A row key ``a/b`` is split into a two-level index. ``nan`` marks a cell not printed.
    """
    lines = [ln.split() for ln in text.strip().splitlines() if ln.strip()]
    header, body = lines[0], lines[1:]
    rows, values = [], []
    for ln in body:
        if len(ln) != len(header) + 1:
            raise AssertionError(f"row {ln[0]!r}: {len(ln) - 1} values for {len(header)} columns")
        key = tuple(ln[0].split("/")) if len(index) > 1 else ln[0]
        rows.append(key)
        values.append([float(v) for v in ln[1:]])
    idx = (
        pd.MultiIndex.from_tuples(rows, names=list(index))
        if len(index) > 1
        else pd.Index(rows, name=index[0])
    )
    frame = pd.DataFrame(np.array(values, dtype=np.float64), index=idx, columns=header)
    if frame.index.duplicated().any():
        raise AssertionError("duplicate row keys")
    return frame


_TABLES: list[PrintedTable] = []


def _add(name, paper, table, caption, quantity, index, columns_name, text, labels=None, notes=""):
    index = (index,) if isinstance(index, str) else tuple(index)
    frame = _parse(text, index)
    frame.columns.name = columns_name
    _TABLES.append(
        PrintedTable(name, paper, table, caption, quantity, index, columns_name, frame,
                     dict(labels or {}), notes)
    )


# ---------------------------------------------------------------------------------------
# GBC — Pándy et al., CVPR 2022 (papers/004_34b98c63f9abb3eb.txt)
# ---------------------------------------------------------------------------------------
_GBC_DATASET_LABELS = {
    "oxford_iiit_pet": "Pets", "imagenette": "Imagenette", "cifar10": "CIFAR-10",
    "caltech_birds2011": "CUB'11", "stanford_dogs": "Dogs", "oxford_flowers102": "Flowers102",
    "sun397": "SUN", "cifar100": "CIFAR-100", "fashion_mnist": "F-MNIST",
    "imagenet": "ImageNet", "average": "Average",
}
_GBC_METHOD_LABELS = {"logme": "LogMe", "hscore": "H-score", "leep": "LEEP", "gbc": "GBC",
                      "ids": "IDS"}

# Pándy et al., CVPR 2022, Table 1: source (architecture) selection, tau_w between the
# fine-tuned accuracy of 9 Keras ImageNet architectures and each metric's score, 8 targets.
_add(
    "gbc_table1", "gbc", "Table 1",
    "Architecture selection for image classification: weighted Kendall tau_w between the "
    "accuracy of the fine-tuned model and the transferability score, 9 ImageNet "
    "architectures (ResNet-50/101/152, ResNetV2-50, DenseNet-121/169/201, MobileNet, "
    "MobileNetV2; Keras), 8 targets.",
    "tau_w", "method", "dataset",
    """
    oxford_iiit_pet imagenette cifar10 caltech_birds2011 stanford_dogs oxford_flowers102 sun397 cifar100 average
    logme  -0.06 0.58 0.25 0.2  0.08  0.00 -0.19 0.34 0.15
    hscore  0.06 0.59 0.45 0.16 -0.01 0.09  0.09 0.34 0.22
    leep    0.63 0.65 0.52 0.25 0.59 -0.46  0.40 0.55 0.39
    gbc     0.55 0.63 0.46 0.43 0.80  0.23  0.32 0.35 0.47
    """,
    labels={**_GBC_DATASET_LABELS, **_GBC_METHOD_LABELS},
    notes="The text (Sec. 4.1) names the architectures 'DenseNet-101, -169, -201'; there is "
    "no DenseNet-101 in Keras, so DenseNet-121 is meant. Fine-tuning: 100 epochs, SGD with "
    "momentum, batch 64, lr 1e-4. GBC: PCA to 64 dims, spherical covariance.",
)

# Pándy et al., CVPR 2022, Table 2: target selection. Blocks = main target dataset (100
# random class subsets each), rows = source model (ResNet-50 trained on that source).
_add(
    "gbc_table2", "gbc", "Table 2",
    "Target selection: for a fixed ResNet-50 source model, tau_w over 100 random class "
    "subsets of a main target dataset (following LEEP). Rows: main target / source.",
    "tau_w", ("target", "source"), "method",
    """
    leep logme hscore gbc
    cifar10/caltech_birds2011   0.68 0.71 0.69 0.72
    cifar10/cifar100            0.75 0.75 0.73 0.69
    cifar10/fashion_mnist       0.68 0.70 0.72 0.68
    cifar10/sun397              0.73 0.75 0.72 0.67
    cifar10/imagenet            0.68 0.68 0.69 0.71
    cifar100/caltech_birds2011  0.90 0.29 0.59 0.90
    cifar100/cifar10            0.92 0.29 0.88 0.92
    cifar100/fashion_mnist      0.88 0.24 0.26 0.88
    cifar100/sun397             0.90 0.30 0.88 0.90
    cifar100/imagenet           0.91 0.25 0.88 0.92
    fashion_mnist/caltech_birds2011 0.72 0.71 0.71 0.71
    fashion_mnist/cifar10       0.72 0.73 0.69 0.69
    fashion_mnist/cifar100      0.71 0.71 0.70 0.69
    fashion_mnist/sun397        0.71 0.71 0.69 0.71
    fashion_mnist/imagenet      0.72 0.71 0.69 0.70
    caltech_birds2011/cifar10   0.87 -0.59 0.83 0.86
    caltech_birds2011/cifar100  0.87 -0.58 0.80 0.87
    caltech_birds2011/fashion_mnist 0.70 -0.50 0.51 0.69
    caltech_birds2011/sun397    0.88 -0.60 0.80 0.88
    caltech_birds2011/imagenet  0.89 -0.59 0.73 0.88
    sun397/caltech_birds2011    0.95 0.87 0.54 0.95
    sun397/cifar10              0.95 0.87 0.12 0.95
    sun397/cifar100             0.95 0.88 0.51 0.95
    sun397/fashion_mnist        0.95 0.86 0.54 0.95
    sun397/imagenet             0.96 0.87 0.55 0.96
    all/average                 0.82 0.40 0.66 0.82
    """,
    labels={**_GBC_DATASET_LABELS, **_GBC_METHOD_LABELS},
    notes="The printed 'Average' row is stored as the row ('all', 'average'); load() drops it "
    "unless with_average=True. Fine-tuning: 100 epochs, SGD with momentum, batch 10, lr 1e-3.",
)

# Pándy et al., CVPR 2022, Table 3: semantic segmentation (HRNetV2-W48, 17 datasets).
_add(
    "gbc_table3", "gbc", "Table 3",
    "Semantic segmentation (17 datasets, HRNetV2-W48): top-1 selection accuracy and tau_w "
    "for a fixed target (rank sources) and a fixed source (rank targets).",
    "value", ("scenario", "measure"), "method",
    """
    ids leep logme gbc
    fixed_target/top1   0.41 0.47 0.59 0.65
    fixed_target/tau_w  0.45 0.53 0.63 0.59
    fixed_source/top1   0.41 0.24 0.00 0.76
    fixed_source/tau_w  0.36 0.62 0.08 0.69
    """,
    labels={**_GBC_METHOD_LABELS, "fixed_target": "fixed target", "fixed_source": "fixed source",
            "top1": "top-1", "tau_w": "τw"},
    notes="GBC with diagonal (not spherical) covariance here; 1000 class-balanced pixels per image.",
)

#: The stable_transfer architectures (Agostinelli et al., ECCV 2022, Keras names) closest to
#: the 9 of GBC Table 1. stable_transfer has no ResNet-152 v1: ``resnet152v2`` stands in.
GBC_ARCHITECTURES: tuple[str, ...] = (
    "resnet50", "resnet101", "resnet152v2", "resnet50v2", "densenet121", "densenet169",
    "densenet201", "mobilenet", "mobilenetv2",
)

# ---------------------------------------------------------------------------------------
# PED — Li et al., ICCV 2023 (papers/001_515676c2d8a5ac30.txt)
# ---------------------------------------------------------------------------------------
_PED_DATASET_LABELS = {
    "aircraft": "Aircraft", "caltech101": "Caltech101", "cars": "Cars", "cifar10": "Cifar10",
    "cifar100": "Cifar100", "flowers": "Flowers", "voc2007": "VOC", "pets": "Pets",
    "food": "Food", "dtd": "DTD",
}
_PED_METHOD_LABELS = {
    "nleep": "NLEEP", "parc": "PARC", "logme": "LogME", "ped+logme": "LogME+Ours",
    "sfda": "SFDA", "ped+sfda": "SFDA+Ours", "gbc": "GBC", "ped+gbc": "GBC+Ours",
}
_PED_MODEL_LABELS = {
    "byol": "BYOL", "deepcluster-v2": "Deepclusterv2", "infomin": "Infomin", "insdis": "InsDis",
    "moco-v1": "MoCov1", "moco-v2": "MoCov2", "pcl-v1": "PCLv1", "pcl-v2": "PCLv2",
    "sela-v2": "Sela-v2", "simclr-v1": "SimCLRv1", "simclr-v2": "SimCLRv2", "swav": "Swav",
}
_PED_BASELINES = """
    nleep  -0.029 0.525 0.486 -0.044  0.276 0.534 -0.101 0.792 0.574 0.641
    parc   -0.03  0.196 0.424  0.147 -0.136 0.622  0.618 0.496 0.359 0.447
    logme   0.223 0.051 0.375  0.295 -0.008 0.604  0.158 0.684 0.570 0.627
    sfda    0.254 0.523 0.515  0.619  0.548 0.773  0.568 0.586 0.685 0.749
    gbc     0.048 -0.18 0.424  0.008 -0.249 0.532 -0.041 0.655 0.268 0.05
"""
_PED_HEADER = "aircraft caltech101 cars cifar10 cifar100 flowers voc2007 pets food dtd"

# Li et al., ICCV 2023, Table 1: tau_w on 12 self-supervised ResNet-50s x 10 datasets.
_add(
    "ped_table1", "ped", "Table 1",
    "Weighted Kendall tau_w of transferability metrics, with and without PED ('+Ours'), on "
    "12 self-supervised ResNet-50 models, 10 datasets (lambda chosen from {0.3, 0.6}, k = 1).",
    "tau_w", "method", "dataset",
    _PED_HEADER + _PED_BASELINES + """
    ped+logme 0.509 0.505 0.516 0.511 0.667 0.715  0.620 0.795 0.650 0.780
    ped+sfda  0.464 0.614 0.647 0.673 0.568 0.777  0.583 0.462 0.581 0.907
    ped+gbc   0.462 0.285 0.547 0.017 0.359 0.768 -0.035 0.684 0.402 0.576
    """,
    labels={**_PED_DATASET_LABELS, **_PED_METHOD_LABELS},
    notes="NLEEP on Food is extracted as '0574'; read as 0.574 (Table 3 prints the same row). "
    "The text's gains (+0.675 LogME and +0.608 GBC on Cifar100, +0.210 and +0.158 SFDA on "
    "Aircraft and DTD) agree with these cells.",
)

# Li et al., ICCV 2023, supplementary Table 3: the same with a grid search over k.
_add(
    "ped_table3", "ped", "Table 3 (supplementary)",
    "As Table 1, with a grid search over the elasticity k in {0.6, 0.8, 1.0, 1.2, 1.5, 2.0}.",
    "tau_w", "method", "dataset",
    _PED_HEADER + _PED_BASELINES + """
    ped+logme 0.509 0.611 0.624 0.633 0.668 0.728 0.781 0.795 0.737 0.837
    ped+sfda  0.505 0.661 0.666 0.741 0.744 0.798 0.613 0.592 0.689 0.907
    ped+gbc   0.549 0.340 0.629 0.149 0.431 0.779 0.552 0.758 0.672 0.611
    """,
    labels={**_PED_DATASET_LABELS, **_PED_METHOD_LABELS},
    notes="The baseline rows (NLEEP, PARC, LogME, SFDA, GBC) repeat Table 1 exactly, "
    "including '0574' for NLEEP on Food (read as 0.574).",
)

# Li et al., ICCV 2023, supplementary Table 4: ground-truth fine-tuned accuracies (%).
_add(
    "ped_table4", "ped", "Table 4 (supplementary)",
    "Ground truth: fine-tuned test accuracy (%) of the 12 self-supervised ResNet-50s on 10 "
    "datasets (grid over lr {1e-1..1e-4} x wd {1e-6..1e-3}, 5 seeds).",
    "accuracy", "model", "dataset",
    _PED_HEADER + """
    byol           82.1  91.9  89.83 96.98 83.86 96.8  85.13 91.48 85.44 76.37
    deepcluster-v2 82.43 91.16 90.16 97.17 84.84 97.05 85.38 90.89 87.24 77.31
    infomin        83.78 80.86 86.9  96.72 70.89 95.81 81.41 90.92 78.82 73.74
    insdis         79.7  77.21 80.21 93.08 69.08 93.63 76.33 84.58 76.47 66.4
    moco-v1        81.85 79.68 82.19 84.15 71.23 94.32 77.94 85.26 77.21 67.36
    moco-v2        83.7  82.76 85.55 96.48 71.27 95.12 78.32 89.06 77.15 72.56
    pcl-v1         82.16 88.6  87.15 86.42 79.44 95.62 91.91 88.93 77.7  73.28
    pcl-v2         83.0  87.52 85.56 96.55 79.84 95.87 81.85 88.72 80.29 69.3
    sela-v2        85.42 90.53 89.85 96.85 84.36 96.22 85.52 89.61 86.37 76.03
    simclr-v1      80.54 90.94 89.98 97.09 84.49 95.33 83.29 88.53 82.2  73.97
    simclr-v2      81.5  88.58 88.82 96.22 78.91 95.39 83.08 89.18 82.23 94.71
    swav           83.04 89.49 89.81 96.81 83.78 97.11 85.06 90.59 87.22 76.68
    """,
    labels={**_PED_DATASET_LABELS, **_PED_MODEL_LABELS},
    notes="Typed in as printed. Against the ground truth in the authors' code "
    "(lixiaotong97/PED tw.py == TencentARC/SFDA tw_group2.py) 5 of the 120 cells differ, "
    "apparently typos in the paper: DTD Infomin 73.74 (code 73.47), DTD SimCLRv2 94.71 "
    "(74.71), Cifar10 MoCov1 84.15 (94.15), Cifar10 PCLv1 86.42 (96.42), VOC PCLv1 91.91 "
    "(81.91).",
)

# Li et al., ICCV 2023, Table 2: running time on Flowers.
_add(
    "ped_table2", "ped", "Table 2",
    "Running time (s) on Flowers, after feature extraction.",
    "seconds", "what", "method",
    """
    parc logme nleep sfda gbc ped
    running_time 27 8 392 82 11 2
    """,
    labels={"parc": "PARC", "logme": "LogME", "nleep": "NLEEP", "sfda": "SFDA", "gbc": "GBC",
            "ped": "Ours", "running_time": "Running Time"},
)

# ---------------------------------------------------------------------------------------
# ITM — under review, later arXiv 2510.23145 (papers/000_3f37fbfaa057a52e.txt)
# ---------------------------------------------------------------------------------------
_ITM_HEADER = "caltech101 cars cifar100 cifar10 dtd aircraft flowers food pets sun397"
_ITM_DATASET_LABELS = {
    "caltech101": "Cal101", "cars": "Cars", "cifar100": "CIFAR100", "cifar10": "CIFAR10",
    "dtd": "DTD", "aircraft": "Aircraft", "flowers": "Flowers", "food": "Food", "pets": "Pets",
    "sun397": "SUN", "average": "Avg.",
}
_ITM_METHOD_LABELS = {
    "ped": "PED", "logme": "LogME", "nleep": "NLeep", "parc": "PARC", "sfda": "SFDA",
    "etran": "ETran", "itm": "ITM (Ours)",
}
_ITM_MODEL_LABELS = {
    "densenet121": "DenseNet-121", "efficientnet_b0": "EfficientNet-B0",
    "mobilenet_v2": "MobileNetv2", "resnet18": "ResNet-18", "dino_vitb16": "DINO-B16",
    "dino_vits8": "DINO-S8", "mocov3_vitb16": "MoCov3-B16", "mae_vitb16": "MAE-B16",
    "mae_vitl16": "MAE-L16", "simmim_vitb16": "SimMIM-B16",
}
_ITM_CAPTION = ("PED, LogME, NLEEP, PARC, SFDA, ETran (reproduced by the authors) and ITM on "
                "10 pre-trained models x 10 datasets")

# ITM, Table 1 (top): weighted Kendall tau_w.
_add(
    "itm_table1_tau", "itm", "Table 1 (top)",
    f"Weighted Kendall tau_w (ITM eq. 1 is stated; see notes) of {_ITM_CAPTION}.",
    "tau_w", "method", "dataset",
    _ITM_HEADER + " average" + """
    ped    0.32 -0.01  0.51 0.77 0.06 -0.20  0.16 0.60 -0.20  0.07 0.21
    logme  0.71  0.36  0.56 0.61 0.61  0.22  0.77 0.15  0.14  0.38 0.45
    nleep  0.47  0.04  0.32 0.48 0.57  0.13  0.62 0.24  0.30  0.01 0.32
    parc   0.08  0.00 -0.07 0.25 0.42  0.12  0.62 0.19  0.10  0.01 0.17
    sfda   0.59  0.07  0.48 0.79 0.13  0.18 -0.39 0.33  0.28  0.09 0.25
    etran  0.13 -0.06 -0.14 0.21 0.36  0.27  0.08 0.23  0.38 -0.06 0.14
    itm    0.56  0.61  0.59 0.69 0.77  0.43  0.65 0.44  0.73  0.62 0.61
    """,
    labels={**_ITM_DATASET_LABELS, **_ITM_METHOD_LABELS},
    notes="The text's per-method minima (-0.2, 0.14, 0.01, -0.07, -0.39, -0.14) and the "
    "'16%' gain of ITM over LogME (0.61 vs 0.45) agree with these cells.",
)

# ITM, Table 1 (bottom): CPU wall-clock time in seconds.
_add(
    "itm_table1_time", "itm", "Table 1 (bottom)",
    f"CPU wall-clock time (s) of {_ITM_CAPTION}, after feature extraction.",
    "seconds", "method", "dataset",
    _ITM_HEADER + " average" + """
    ped     6.99  8.31  34.32  46.80 2.33  5.95 2.80   41.72 3.94  8.29  16.14
    logme   0.85  1.32   4.50   2.62 0.50  0.86 0.54    6.29 0.53  1.31   1.93
    nleep  25.52 44.91 862.49 268.25 4.60 17.65 3.42 1387.65 4.31 47.33 266.61
    parc   14.42 19.82 116.65 118.19 0.74 13.14 0.25  106.19 3.53 19.80  41.27
    sfda    4.02  5.43  20.11  18.56 1.70  3.92 1.91   28.86 2.20  5.43   9.21
    etran   1.71  2.30   7.58   6.88 0.77  1.64 0.98   10.63 0.96  2.31   3.58
    itm     7.50  8.50   9.40   7.90 7.00  7.50 7.20   10.50 7.20 11.50   8.42
    """,
    labels={**_ITM_DATASET_LABELS, **_ITM_METHOD_LABELS},
)

# ITM, Table 2: ablation of standardisation and adaptive eta (average tau_w).
_add(
    "itm_table2", "itm", "Table 2",
    "Ablation: average tau_w over the 10 datasets after 100/200/500/1000 iterations, with "
    "and without embedding standardisation and adaptive eta.",
    "tau_w", ("standardization", "adaptive_eta"), "iterations",
    """
    100 200 500 1000
    no/no    0.443 0.482 0.519 0.541
    no/yes   0.471 0.496 0.508 0.532
    yes/no   0.557 0.534 0.576 0.569
    yes/yes  0.523 0.545 0.605 0.608
    """,
    notes="The full method at its default 500 iterations (yes/yes, 0.605) matches Table 1's "
    "ITM average (0.61) after rounding.",
)

# ITM, Table 3: ground-truth accuracies (%).
_add(
    "itm_table3", "itm", "Table 3",
    "Ground truth: highest test accuracy (%) of 10 pre-trained models fine-tuned on 10 "
    "datasets (AdamW; lr {1e-5, 2e-5, 5e-5} x wd {1e-2, 1e-4}; best test accuracy over "
    "epochs and runs).",
    "accuracy", "model", "dataset",
    _ITM_HEADER + """
    densenet121     97.24 88.38 85.67 97.38 69.47 83.86 90.40 84.99 91.77 72.49
    efficientnet_b0 97.87 87.25 87.01 97.88 68.88 81.61 89.71 85.82 90.68 73.87
    mobilenet_v2    96.03 85.65 82.15 96.48 67.34 76.36 90.03 83.70 89.02 71.16
    resnet18        95.74 83.58 82.69 96.57 65.59 77.56 88.52 79.92 88.50 68.71
    dino_vitb16     98.16 88.42 90.53 98.70 74.31 78.40 93.19 87.88 92.97 77.02
    dino_vits8      97.47 89.33 90.24 98.65 71.97 80.02 90.84 90.84 93.10 77.53
    mocov3_vitb16   97.70 88.53 90.74 98.68 72.07 75.70 93.61 87.15 89.75 75.92
    mae_vitb16      97.52 88.16 87.55 98.42 69.04 72.16 85.80 87.30 89.81 75.29
    mae_vitl16      97.98 91.21 91.28 98.55 74.26 85.30 90.73 90.82 94.69 79.18
    simmim_vitb16   96.20 86.02 88.80 98.63 66.17 68.32 83.87 87.88 87.16 74.55
    """,
    labels={**_ITM_DATASET_LABELS, **_ITM_MODEL_LABELS},
    notes="DINO-S8 has 90.84 on both Flowers and Food; DINO-B16 and SimMIM-B16 tie at 87.88 "
    "on Food (a tie in the ground truth).",
)

# ITM, Table 4: Spearman rho and Kendall tau.
_add(
    "itm_table4_rho", "itm", "Table 4 (top)",
    f"Spearman's rho of {_ITM_CAPTION}.",
    "rho", "method", "dataset",
    _ITM_HEADER + " average" + """
    ped    0.61  0.05  0.81 0.92 0.19 -0.37 -0.07 0.84 -0.18  0.25 0.31
    logme  0.81  0.61  0.62 0.61 0.77  0.45  0.90 0.20  0.37  0.52 0.59
    nleep  0.37  0.24  0.25 0.42 0.53  0.44  0.79 0.09  0.41  0.01 0.35
    parc  -0.01  0.10 -0.19 0.05 0.49  0.43  0.79 0.03  0.26 -0.05 0.19
    sfda   0.71  0.16  0.68 0.70 0.09  0.38 -0.58 0.43  0.52  0.13 0.32
    etran -0.01 -0.08 -0.28 0.01 0.09  0.54  0.13 0.05  0.39 -0.13 0.07
    itm    0.75  0.84  0.71 0.70 0.87  0.54  0.78 0.45  0.84  0.75 0.72
    """,
    labels={**_ITM_DATASET_LABELS, **_ITM_METHOD_LABELS},
)
_add(
    "itm_table4_tau", "itm", "Table 4 (bottom)",
    f"Kendall's tau (the caption says tau_w; the values are the unweighted tau) of {_ITM_CAPTION}.",
    "tau", "method", "dataset",
    _ITM_HEADER + " average" + """
    ped    0.556  0.067  0.644  0.778 0.111 -0.333 -0.061 0.689 -0.156  0.111 0.241
    logme  0.600  0.422  0.422  0.467 0.600  0.333  0.778 0.111  0.244  0.378 0.436
    nleep  0.289  0.156  0.244  0.289 0.422  0.289  0.600 0.156  0.333  0.067 0.284
    parc   0.022  0.111 -0.156  0.022 0.378  0.289  0.600 0.067  0.200  0.067 0.160
    sfda   0.511  0.156  0.467  0.600 0.067  0.244 -0.479 0.244  0.422  0.111 0.234
    etran -0.022 -0.022 -0.156 -0.022 0.111  0.422  0.111 0.156  0.378 -0.067 0.089
    itm    0.629  0.644  0.556  0.600 0.719  0.422  0.600 0.378  0.719  0.600 0.587
    """,
    labels={**_ITM_DATASET_LABELS, **_ITM_METHOD_LABELS},
    notes="With 10 models and no ties, Kendall's tau is (C - D)/45 with C - D odd; 65 of the "
    "70 cells lie on that grid (see kendall_grid), the other 5 imply ties.",
)

#: Dataset names used in the printed tables -> names in :func:`tecore.data.list_datasets`,
#: where they differ (the tables keep the names of the ground truth they line up with).
DATASET_ALIASES: dict[str, str] = {
    "flowers": "flowers102", "food": "food101", "oxford_flowers102": "flowers102",
    "oxford_iiit_pet": "pets", "fashion_mnist": "fashion-mnist",
}

#: name -> :class:`PrintedTable`
# ---------------------------------------------------------------------------------------
# Medical — Juodelyte et al., arXiv 2412.20172 (papers/002_d8c33938ac5150ea.txt)
# ---------------------------------------------------------------------------------------
# Columns are tecore metric names; "lp_fu" is the paper's "Ours". Targets are MedMNIST
# flags. A SFDA cell printed "-" (undefined tau_w: SFDA gives every source 1.0) is nan.
_MED_LABELS = {"logme": "LogME", "parc": "PARC", "sfda": "SFDA", "ncti": "NCTI", "leep": "LEEP",
               "nleep": "NLEEP (printed 'MLEEP')", "lp_fu": "Ours",
               **{f"{t}mnist": t.capitalize() for t in ("blood", "breast", "derma", "organa", "organc",
                                                        "organs", "path", "pneumonia", "retina", "tissue")},
               "octmnist": "OCT"}
_MED_HEADER = "logme parc sfda ncti leep nleep lp_fu\n"

# Juodelyte et al., Table 2: dataset transferability (ResNet-18 from 14 sources), tau_w.
_add(
    "medical_table2", "medical", "Table 2",
    "Weighted Kendall tau_w between transferability scores and fine-tuned test AUC of a "
    "ResNet-18 pre-trained on 14 source datasets, per MedMNIST target.",
    "tau_w", "target", "method",
    _MED_HEADER + """
    bloodmnist      0.11  0.30  0.30   0.07  0.48 0.75 0.78
    breastmnist     0.22  0.20  nan   -0.15  0.26 0.21 0.44
    dermamnist      0.52  0.34 -0.27   0.19  0.23 0.44 0.70
    octmnist        0.26  0.34  0.19   0.27  0.52 0.23 0.45
    organamnist     0.26  0.27 -0.00  -0.26  0.18 0.32 0.57
    organcmnist     0.47  0.50  0.43   0.46  0.40 0.47 0.11
    organsmnist     0.12  0.17  0.66   0.31  0.24 0.10 0.22
    pathmnist       0.51  0.54  0.38   0.40  0.56 0.57 0.62
    pneumoniamnist  0.31  0.12  nan   -0.37  0.22 0.31 0.61
    retinamnist     0.33  0.50  0.27   0.47  0.34 0.55 0.60
    tissuemnist     0.58 -0.01  0.46   0.62  0.42 0.58 0.65
    """,
    labels=_MED_LABELS,
    notes="Printed to two decimals. SFDA is '-' on Breast and Pneumonia (ranked last by the "
    "authors). The header says 'MLEEP' for NLEEP. Average ranks printed: 4.00 4.00 5.82 4.91 "
    "3.91 3.45 1.91 (medical_table2_ranks). The printed average ranks of LogME (4.00) and "
    "NLEEP (3.45) are not the means of the printed per-target ranks (4.09 and 3.36): a "
    "Pneumonia tie (LogME and NLEEP both 0.31) seems ranked differently in the average.",
)
_add(
    "medical_table2_ranks", "medical", "Table 2 (ranks)",
    "Rank of each method per target in Table 2 (1 = best), and the printed average rank.",
    "rank", "target", "method",
    _MED_HEADER + """
    bloodmnist     6 4 5 7 3 2 1
    breastmnist    3 5 7 6 2 4 1
    dermamnist     2 4 7 6 5 3 1
    octmnist       5 3 7 4 1 6 2
    organamnist    4 3 6 7 5 2 1
    organcmnist    2 1 5 4 6 3 7
    organsmnist    6 5 1 2 3 7 4
    pathmnist      5 4 7 6 3 2 1
    pneumoniamnist 3 5 7 6 4 2 1
    retinamnist    6 3 7 4 5 2 1
    tissuemnist    3 7 5 2 6 4 1
    average        4.00 4.00 5.82 4.91 3.91 3.45 1.91
    """,
    labels=_MED_LABELS,
)
# Juodelyte et al., Table 3: model transferability (9 ImageNet CNNs), tau_w of LogME, SFDA and
# of 1 - score for PARC, NCTI, LEEP, NLEEP and Ours (the paper's cross-domain transform, eq. 8).
_add(
    "medical_table3", "medical", "Table 3",
    "Weighted Kendall tau_w between transferability scores and fine-tuned test AUC of 9 "
    "ImageNet architectures, per MedMNIST target; PARC, NCTI, LEEP, NLEEP and Ours as 1 - score.",
    "tau_w", "target", "method",
    _MED_HEADER + """
    bloodmnist     -0.20 -0.01  0.28  0.32  0.48  0.35 -0.00
    breastmnist    -0.23 -0.18  0.40  0.69  0.22  0.17  0.22
    dermamnist     -0.15  0.46  0.23 -0.01  0.45  0.38  0.19
    octmnist        0.26  0.51  0.16  0.38  0.44  0.66  0.11
    organamnist     0.36  0.60  0.33 -0.00  0.53  0.52  0.70
    organcmnist     0.29  0.09  0.12  0.01  0.10  0.04  0.19
    organsmnist     0.39  0.21  0.04 -0.14  0.35 -0.06  0.42
    pathmnist      -0.50 -0.75  0.09 -0.39  0.14 -0.51 -0.30
    pneumoniamnist -0.08  0.28  0.16  0.29  0.25  0.12  0.32
    retinamnist     0.29 -0.18  0.40  0.09 -0.09 -0.12  0.70
    tissuemnist    -0.03  0.21 -0.15 -0.15  0.19 -0.01  0.32
    """,
    labels=_MED_LABELS,
    notes="Printed to two decimals; column headers '1-PARC', '1-NCTI', '1-LEEP', '1-MLEEP', "
    "'1-Ours'. Average ranks printed: 4.91 4.09 3.91 4.64 2.91 4.73 2.82 (medical_table3_ranks). "
    "The printed averages of SFDA (3.91) and NLEEP (4.73) are not the means of the printed "
    "per-target ranks (4.18 and 4.45).",
)
_add(
    "medical_table3_ranks", "medical", "Table 3 (ranks)",
    "Rank of each method per target in Table 3 (1 = best), and the printed average rank.",
    "rank", "target", "method",
    _MED_HEADER + """
    bloodmnist     7 6 4 3 1 2 5
    breastmnist    7 6 2 1 3 5 4
    dermamnist     7 1 4 6 2 3 5
    octmnist       5 2 6 4 3 1 7
    organamnist    5 2 6 7 3 4 1
    organcmnist    1 5 3 7 4 6 2
    organsmnist    2 4 5 7 3 6 1
    pathmnist      5 7 2 4 1 6 3
    pneumoniamnist 7 3 5 2 4 6 1
    retinamnist    3 7 2 4 5 6 1
    tissuemnist    5 2 7 6 3 4 1
    average        4.91 4.09 3.91 4.64 2.91 4.73 2.82
    """,
    labels=_MED_LABELS,
)


TABLES: dict[str, PrintedTable] = {t.name: t for t in _TABLES}
