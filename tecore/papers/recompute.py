"""Recompute mode of the paper chapters: each paper's protocol from features.

One driver, :func:`score_targets` (zoo x targets -> features, cached -> metric scores in the
table vocabulary ``target, model, metric, score``), and one function per paper that sets the
paper's zoo, targets, metric set and hyper-parameters and its ground truth:

* :func:`medical` — Juodelyte et al. (arXiv 2412.20172), model-level experiment: the
  ``medical9`` torchvision ImageNet CNNs on the MedMNIST targets, official fold-1 subsample,
  LogME, PARC, SFDA, NCTI, LEEP, N-LEEP and LP x FU; truth: the published AUCs.
* :func:`ped` — Li et al. (ICCV 2023), Table 1: ``ped12`` on the 10 datasets, each metric with
  and without PED; the features standardised with ImageNet feature statistics
  (:func:`imagenet_statistics`, from an ImageNet-val folder, cached per model) and
  lambda in {0.3, 0.6} picked per dataset as the paper does (the better average over the
  ``ped+`` metrics). Without ImageNet images the target's own statistics are used and that
  fallback is announced (``notes`` and a ``standardisation`` column), never silent.
* :func:`gbc` — Pandy et al. (CVPR 2022), Table 1: GBC (PCA-64, spherical), LEEP, LogME and
  H-score on the ImageNet architectures closest to GBC's nine, truth: the fine-tuned test
  accuracies of Agostinelli et al. (stable_transfer) for the same architecture names.
* :func:`itm` — the ITM paper's Table 1 rows from the ``itm10`` zoo.

Ground truth: the published one by default; ``finetune=True`` runs the paper's fine-tuning
protocol with :func:`tecore.finetune.run_grid` (tiny settings in tests; hours on a GPU for
real). Every function returns a :class:`Recomputed`; :func:`filled` counts its empty cells.
"""
from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["Recomputed", "score_targets", "imagenet_statistics", "finetuned_truth", "medical", "ped",
           "gbc", "itm", "filled", "report", "PED_LAMBDAS", "GBC_ZOO"]

#: PED's lambda grid (Li et al. ICCV 2023, Sec. 4.1: "lambda in {0.3, 0.6}").
PED_LAMBDAS = (0.3, 0.6)


@dataclass
class Recomputed:
    """scores: ``target, model, metric, score`` (+ ``note``); truth: ``target, model, truth``;
    table: metric x target of the rank correlation; notes: what the reader must know
    (fallbacks, missing pieces), also printed by the chapters."""

    scores: pd.DataFrame
    truth: pd.DataFrame
    table: pd.DataFrame
    notes: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)


def filled(result: "Recomputed") -> dict:
    """Cell census of ``result.table``: ``filled`` (a number), ``constant`` (undefined
    because the metric gave every model the same score or every score is NaN — a tie, not a
    gap), ``missing`` (neither: a hole in the pipeline) and ``total``."""
    t = result.table.drop(index=[i for i in ("lambda",) if i in result.table.index])
    sc = result.scores
    out = {"filled": 0, "constant": 0, "missing": 0, "total": int(t.size)}
    for metric in t.index:
        for target in t.columns:
            if np.isfinite(float(t.loc[metric, target])):
                out["filled"] += 1
                continue
            base = str(metric).split("@")[0]
            v = sc[(sc["target"] == target) & (sc["metric"].astype(str).str.split("@").str[0] == base)]["score"]
            from tecore.evaluate import snap_ties

            v = snap_ties(v[np.isfinite(v.astype(float))], 10)  # ties as rank_table sees them
            out["constant" if pd.Series(v).nunique() <= 1 else "missing"] += 1
    return out


def report(result: "Recomputed", printed_table: pd.DataFrame | None = None, *, tol: float = 0.01):
    """Print what a chapter shows after a recompute: the notes (fallbacks are announced
    here), the cell census (:func:`filled`) and, with ``printed_table``, the count of cells
    within ``tol`` of the printed ones. Returns the cell-by-cell comparison (or ``None``)."""
    from tecore.papers import printed

    for n in result.notes:
        print("note:", n)
    c = filled(result)
    print(f"recomputed cells: {c['filled']} of {c['total']} filled, {c['constant']} undefined (every model "
          f"scored the same), {c['missing']} missing")
    if printed_table is None:
        return None
    cells, n_match, n_total = printed.compare(printed_table, result.table, tol=tol)
    print(f"{n_match} of {n_total} cells within {tol} of the printed table")
    return cells


@functools.lru_cache(maxsize=None)
def _created(name, image_size, device):
    """The built model (once per process: a paper's protocol scores a zoo several times)."""
    from tecore import zoo

    return zoo.create(name, device=device, image_size=image_size)


def _load(target, split, *, per_class, fold, seed, data_dir, size=None):
    from tecore import data

    name = target if data.is_path(target) else data.get_spec(target).name
    kw = {"fold": fold} if fold is not None else {"per_class": per_class, "seed": seed}
    return data.load(name, split, root=data_dir, size=size, **kw)


def score_targets(models: Sequence[str], targets: Sequence[str], metrics: Sequence[str], *,
                  split: str | None = None, per_class: int | None = None, fold: int | None = None,
                  seed: int = 0, image_size: int | None = None, data_dir=None, cache_dir=None,
                  device: str = "cpu", hyper: Mapping | None = None, hyper_per_model=None,
                  grad_probe: bool = False, size: int | None = None, progress: bool = False) -> pd.DataFrame:
    """Extract (cached) and score every model on every target.

    ``hyper``: per-metric hyper-parameters (:func:`tecore.pool.score_pool`);
    ``hyper_per_model(model, target) -> hyper`` overrides them per model (PED's ImageNet
    statistics differ per model). Returns ``target, model, metric, score, note``.
    """
    from tecore import extract, pool

    created = {m: _created(m, image_size, device) for m in models}
    parts = []
    for target in targets:
        ds = _load(target, split, per_class=per_class, fold=fold, seed=seed, data_dir=data_dir, size=size)
        feats = {m: extract.extract(created[m], ds, device=device, cache_dir=cache_dir, progress=progress,
                                    grad_probe=grad_probe) for m in models}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            if hyper_per_model is None:
                sc = pool.score_pool(feats, list(metrics), hyper=dict(hyper or {}), errors="nan", progress=False)
            else:
                sc = pd.concat([pool.score_pool({m: feats[m]}, list(metrics), errors="nan", progress=False,
                                                hyper={**dict(hyper or {}), **hyper_per_model(m, target)})
                                for m in models], ignore_index=True)
        sc.attrs = {}
        sc.insert(0, "target", target)
        parts.append(sc)
    out = pd.concat(parts, ignore_index=True)
    return out[["target", "model", "metric", "score", "note"]]


# ------------------------------------------------------------------------------------ truth
def finetuned_truth(models, targets, protocol, *, out, per_class=None, seed=0, data_dir=None,
                    image_size=None, device="cpu", size=None, protocol_changes: Mapping | None = None):
    """Ground truth by the paper's fine-tuning protocol (:func:`tecore.finetune.run_grid`):
    the target's train split (``per_class`` images per class) is divided per class into
    train / val (4:1), the test split is the test set. ``protocol_changes`` shrink the
    protocol (tests: one epoch, one learning rate). Returns ``target, model, truth``."""
    from tecore import data, finetune
    from tecore.experiment import split_per_class

    proto = finetune.get_protocol(protocol)
    if protocol_changes:
        proto = proto.replace(**dict(protocol_changes))
    # fresh models (fine-tuning changes them; the cached ones stay the pre-trained extractors)
    factories = {m: (lambda m=m: _created.__wrapped__(m, image_size, device)[:2]) for m in models}
    rows = []
    for target in targets:
        spec = data.get_spec(target)
        train = _load(target, spec.splits[0], per_class=per_class, fold=None, seed=seed, data_dir=data_dir,
                      size=size)
        test_split = "test" if "test" in spec.splits else spec.splits[-1]
        test = _load(target, test_split, per_class=per_class, fold=None, seed=seed, data_dir=data_dir, size=size)
        n_val = max(1, (per_class or 5) // 5)
        vi, ti = split_per_class(train.labels, n_val)
        res = finetune.run_grid(factories, train.subset(ti), train.subset(vi), test, proto, dataset=target,
                                out=Path(out) / f"{target}.csv", device=device, progress=False)
        rows.append(finetune.ground_truth(res))
    truth = pd.concat(rows, ignore_index=True)
    return truth[["target", "model", "truth"]]


def _rank(scores, truth, stat, notes):
    from tecore import evaluate

    missing = sorted(set(map(tuple, scores[["target", "model"]].drop_duplicates().values))
                     - set(map(tuple, truth[["target", "model"]].values)))
    if missing:
        notes.append(f"{len(missing)} (target, model) pairs have no ground truth and are left out: "
                     f"{missing[:4]}{' ...' if len(missing) > 4 else ''}")
    return (evaluate.rank_table(scores, truth, by=["metric", "target"], stats=stat)
            .pivot(index="metric", columns="target", values=stat))


def _settings(**kw):
    return {k: v for k, v in kw.items()}


# ------------------------------------------------------------------------------------ medical
def medical(targets=None, *, models="medical9", methods=None, fold: int = 1, image_size: int | None = None,
            size: int = 28, convention: str = "paper", finetune: bool = False, finetune_out=None,
            protocol_changes=None, tau: str = "weighted_tau", data_dir=None, cache_dir=None,
            device="cpu") -> Recomputed:
    """Juodelyte et al.'s model-level experiment (Table 3): ``medical9`` on the MedMNIST
    targets, the official fold (``fold``: 100 x n_classes training images), the paper's
    methods with the paper's convention (:func:`tecore.papers.medical.method_scores`: 1 - score
    where the authors flip it, LP x FU by eq. 8). Truth: the published AUCs
    (:func:`tecore.papers.medical.auc`), or ``finetune=True``: the ``"medical"`` protocol.

    The dataset-level experiment (Table 2) needs the authors' MedMNIST-pretrained ResNet-18s,
    which are not published: load your own source checkpoints as a zoo file
    (:func:`tecore.zoo.load_registry_file`) and pass ``models=[...]``."""
    from tecore import experiment
    from tecore.papers import medical as med

    targets = list(targets or med.TARGETS)
    model_names = experiment.resolve_models(models)
    methods = list(methods or med.METHODS)
    metrics = [m for m in ("logme", "parc", "sfda", "ncti", "leep", "nleep", "lp_fu") if m in methods]
    notes = []
    if convention not in ("paper", "raw"):
        raise ValueError(f"convention must be 'paper' or 'raw', got {convention!r}")
    paper = convention == "paper"
    scores = score_targets(model_names, targets, metrics, split="train", fold=fold, image_size=image_size,
                           size=size, data_dir=data_dir, cache_dir=cache_dir, device=device,
                           grad_probe="lp_fu" in metrics,
                           hyper={"lp_fu": {"combine_kwargs": {"cross_domain": paper}}} if "lp_fu" in metrics else None)
    if paper:
        scores = _medical_convention(scores, notes)
        notes.append("LP x FU combined with the cross-domain normalisation of eq. 8 (the paper's model experiment)")
    if finetune:
        truth = finetuned_truth(model_names, targets, "medical", out=finetune_out, per_class=20,
                                image_size=image_size, device=device, size=size, data_dir=data_dir,
                                protocol_changes=protocol_changes)
    else:
        truth = med.auc("model")
        short = {m: m.split("/")[-1].split("_")[0] for m in model_names}
        alias = {"densenet121": "densenet", "efficientnet": "efficientnet", "mobilenet": "mobilenet",
                 "mnasnet1": "mnasnet", "vgg11": "vgg", "convnext": "convnext", "shufflenet": "shufflenet",
                 "resnet18": "resnet", "googlenet": "googlenet"}
        back = {alias.get(s, s): m for m, s in short.items()}
        truth = truth[truth["model"].isin(back)].assign(model=lambda d: d["model"].map(back))
        notes.append("ground truth: the authors' published test AUCs of the model experiment")
    table = _rank(scores, truth, tau, notes)
    return Recomputed(scores, truth, table, notes, _settings(targets=targets, models=model_names, fold=fold))


def _medical_convention(scores, notes):
    """The paper's sign convention: 1 - score for PARC, NCTI, LEEP, N-LEEP as the authors'
    code ranks them (see :data:`tecore.papers.medical.ONE_MINUS`)."""
    from tecore.papers import medical as med

    s = scores.copy()
    flip = s["metric"].isin(med.ONE_MINUS)
    s.loc[flip, "score"] = 1.0 - s.loc[flip, "score"]
    notes.append(f"paper convention: 1 - score for {', '.join(med.ONE_MINUS)} (as the authors' code)")
    return s


# ------------------------------------------------------------------------------------ PED
def imagenet_statistics(model: str, imagenet_dir, *, per_class: int | None = None, image_size=None,
                        device="cpu", cache_dir=None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (ddof 0) of ``model``'s features over an ImageNet
    validation folder (``imagenet_dir``: one sub-folder per class, e.g. ``val/n01440764/*.JPEG``),
    as PED standardises with them. The features are cached like any extraction (the cache
    key holds the folder, the model's weights and the preprocessing)."""
    from tecore import data, extract

    ds = data.load(str(imagenet_dir), per_class=per_class)
    f = extract.extract(_created(model, image_size, device), ds, device=device, cache_dir=cache_dir,
                        progress=False)
    x = np.asarray(f.features, dtype=np.float64)
    return x.mean(axis=0), x.std(axis=0)


def ped(datasets=None, *, models="ped12", metrics=("logme", "sfda", "gbc"), lambdas=PED_LAMBDAS,
        imagenet_dir=None, imagenet_per_class: int | None = None, per_class: int | None = None,
        image_size: int | None = None, tau: str = "weighted_tau", finetune: bool = False, finetune_out=None,
        protocol_changes=None, data_dir=None, cache_dir=None, device="cpu", seed: int = 0) -> Recomputed:
    """PED Table 1: every metric with and without PED on ``ped12``. ``lambdas``: PED's grid;
    per dataset the lambda with the higher mean tau over the ``ped+`` metrics is kept (the
    paper reports one lambda in {0.3, 0.6} per dataset); ``scores`` keeps both
    (``metric`` = ``ped+logme@0.3`` ...). Truth: the published selfsup12 ground truth."""
    from tecore import experiment
    from tecore.papers import printed, published

    from tecore import data

    datasets = list(datasets or printed.get("ped_table1").frame.columns)
    model_names = experiment.resolve_models(models)
    notes = []
    no_loader = [t for t in datasets if data.registry._norm(printed.DATASET_ALIASES.get(t, t))
                 not in data.registry._ALIASES]
    if no_loader:
        notes.append(f"left out, no tecore loader: {', '.join(no_loader)} (PASCAL VOC 2007 classification "
                     "is not registered)")
        datasets = [t for t in datasets if t not in no_loader]
    stats = {}
    if imagenet_dir is not None and Path(imagenet_dir).is_dir():
        for m in model_names:
            stats[m] = imagenet_statistics(m, imagenet_dir, per_class=imagenet_per_class, image_size=image_size,
                                           device=device, cache_dir=cache_dir)
        standardisation = "imagenet"
        notes.append(f"PED standardises with ImageNet feature statistics from {imagenet_dir} (as the paper)")
    else:
        standardisation = "target (fallback)"
        notes.append("FALLBACK: no ImageNet validation folder (imagenet_dir) - PED standardises with the "
                     "target's own feature statistics, not the paper's ImageNet statistics; the ped+ cells "
                     "are not the paper's protocol")
    base = [m for m in metrics]
    composed = [f"ped+{m}" for m in base]
    if finetune:
        truth = finetuned_truth(model_names, [printed.DATASET_ALIASES.get(t, t) for t in datasets], "ped",
                                out=finetune_out, per_class=per_class or 10,
                                image_size=image_size, device=device, data_dir=data_dir,
                                protocol_changes=protocol_changes)
    else:
        truth = published.sfda_ground_truth("selfsup12")
        truth = truth.assign(model="ped/" + truth["model"])
    names = {t: printed.DATASET_ALIASES.get(t, t) for t in datasets}
    if finetune:
        truth["target"] = truth["target"].map({v: k for k, v in names.items()})
    plain = score_targets(model_names, [names[t] for t in datasets], base, split=None, per_class=per_class,
                          seed=seed, image_size=image_size, data_dir=data_dir, cache_dir=cache_dir, device=device)
    parts = [plain]
    for lam in lambdas:
        def hyper(m, t, lam=lam):
            kw = {"nsigma": lam}
            if m in stats:
                kw.update(mean=stats[m][0], std=stats[m][1])
            return {c: {"transform_kwargs": kw} for c in composed}
        sc = score_targets(model_names, [names[t] for t in datasets], composed, split=None, per_class=per_class,
                           seed=seed, image_size=image_size, data_dir=data_dir, cache_dir=cache_dir, device=device,
                           hyper_per_model=hyper)
        sc["metric"] = sc["metric"] + f"@{lam}"
        parts.append(sc)
    scores = pd.concat(parts, ignore_index=True)
    back = {v: k for k, v in names.items()}
    scores["target"] = scores["target"].map(back)
    full = _rank(scores, truth, tau, notes)
    picked = {}
    for t in full.columns:
        best = max(lambdas, key=lambda lam: np.nanmean([full.loc[f"{c}@{lam}", t] for c in composed]))
        picked[t] = best
    table = full.loc[base].copy()
    for c in composed:
        table.loc[c] = [full.loc[f"{c}@{picked[t]}", t] for t in full.columns]
    table.loc["lambda"] = [picked[t] for t in full.columns]
    notes.append("lambda per dataset (picked from {0.3, 0.6} by the better mean tau of the ped+ metrics): "
                 + ", ".join(f"{t} {v}" for t, v in picked.items()))
    scores["standardisation"] = np.where(scores["metric"].str.startswith("ped+"), standardisation, "")
    return Recomputed(scores, truth, table, notes,
                      _settings(datasets=datasets, models=model_names, lambdas=picked,
                                standardisation=standardisation))


# ------------------------------------------------------------------------------------ GBC
#: GBC Table 1's architectures -> the Keras names of Agostinelli et al.'s published results
#: (:data:`tecore.papers.printed.GBC_ARCHITECTURES`) -> the tecore zoo entry used here.
GBC_ZOO = {
    "resnet50": "sfda/resnet50", "resnet101": "sfda/resnet101", "resnet152v2": "sfda/resnet152",
    "densenet121": "sfda/densenet121", "densenet169": "sfda/densenet169", "densenet201": "sfda/densenet201",
    "mobilenetv2": "sfda/mobilenet_v2",
}
#: GBC Table 1's targets (TFDS names) -> tecore datasets; ``None``: not registered in tecore.
GBC_TARGETS = {"oxford_iiit_pet": "pets", "imagenette": None, "cifar10": "cifar10", "caltech_birds2011": None,
               "stanford_dogs": None, "oxford_flowers102": "flowers102", "sun397": "sun397", "cifar100": "cifar100"}


def gbc(targets=None, *, models=None, metrics=("gbc", "leep", "logme", "hscore"), per_class: int | None = None,
        image_size: int | None = None, tau: str = "weighted_tau", finetune: bool = False, finetune_out=None,
        protocol_changes=None, data_dir=None, cache_dir=None, device="cpu", seed: int = 0) -> Recomputed:
    """GBC Table 1's protocol: the target's training images through each ImageNet
    architecture, GBC (PCA to 64 dimensions, spherical covariance), LEEP, LogME and H-score,
    one tau_w per target against the fine-tuned test accuracies. Truth: the fine-tuned
    accuracies of Agostinelli et al. (ECCV 2022, stable_transfer) for the same architecture
    names (GBC's own are not public); ``finetune=True`` runs a fine-tuning grid instead."""
    from tecore.papers import gbc as gbc_paper, published

    notes = []
    targets = list(targets or [t for t, v in GBC_TARGETS.items() if v])
    unknown = [t for t in (targets or []) if t in GBC_TARGETS and GBC_TARGETS[t] is None]
    if unknown:
        raise ValueError(f"GBC targets {unknown} are not registered tecore datasets; valid: "
                         f"{', '.join(t for t, v in GBC_TARGETS.items() if v)}")
    missing_t = [t for t, v in GBC_TARGETS.items() if v is None]
    notes.append(f"GBC targets without a tecore loader, left out: {', '.join(missing_t)}")
    inv = {v: k for k, v in GBC_ZOO.items()}
    zoo_map = dict(GBC_ZOO) if models is None else {inv.get(m, m): m for m in models}
    if models is None:
        notes.append("architectures without a registered ImageNet checkpoint here, left out: mobilenet (v1), "
                     "resnet50v2; resnet152v2 is stood in for by torchvision's ResNet-152")
    names = {t: GBC_TARGETS.get(t, t) for t in targets}
    scores = score_targets(list(zoo_map.values()), [names[t] for t in targets], list(metrics), per_class=per_class,
                           seed=seed, image_size=image_size, data_dir=data_dir, cache_dir=cache_dir, device=device,
                           hyper={"gbc": {"n_components": 64, "gaussian_type": "spherical"}} if "gbc" in metrics
                           else None)
    scores["target"] = scores["target"].map({v: k for k, v in names.items()})
    if finetune:
        truth = finetuned_truth(list(zoo_map.values()), [names[t] for t in targets], "itm", out=finetune_out,
                                per_class=per_class or 10, image_size=image_size, device=device,
                                data_dir=data_dir, protocol_changes=protocol_changes)
        truth["target"] = truth["target"].map({v: k for k, v in names.items()})
    else:
        st = gbc_paper.tidy_stable_transfer(published.stable_transfer_table())
        st = st[st["backbone"] == "finetuned"][["target", "model", "truth"]].drop_duplicates(["target", "model"])
        st = st[st["model"].isin(zoo_map)].assign(model=lambda d: d["model"].map(zoo_map))
        truth = st
        notes.append("ground truth: fine-tuned test accuracies of Agostinelli et al. (stable_transfer)")
    table = _rank(scores, truth, tau, notes)
    return Recomputed(scores, truth, table, notes, _settings(targets=targets, models=list(zoo_map.values())))


# ------------------------------------------------------------------------------------ ITM
def itm(datasets=None, *, models="itm10", methods=None, per_class: int | None = None,
        image_size: int | None = None, tau: str = "weighted_tau_itm", finetune: bool = False,
        finetune_out=None, protocol_changes=None, data_dir=None, cache_dir=None, device="cpu",
        seed: int = 0) -> Recomputed:
    """ITM Table 1: the paper's rows (``methods``: printed row -> tecore metric) on ``itm10``,
    tau by ITM's eq. 1. Truth: the printed Table 3 accuracies (the paper publishes no file),
    or ``finetune=True``: the ``"itm"`` protocol."""
    from tecore import experiment
    from tecore.papers import printed

    methods = dict(methods or {"ped": "ped+logme", "logme": "logme", "nleep": "nleep", "parc": "parc",
                               "sfda": "sfda", "etran": "etran", "itm": "itm"})
    datasets = list(datasets or printed.get("itm_table3").frame.columns)
    model_names = experiment.resolve_models(models)
    notes = []
    names = {t: printed.DATASET_ALIASES.get(t, t) for t in datasets}
    scores = score_targets(model_names, [names[t] for t in datasets], sorted(set(methods.values())),
                           per_class=per_class, seed=seed, image_size=image_size, data_dir=data_dir,
                           cache_dir=cache_dir, device=device)
    scores["target"] = scores["target"].map({v: k for k, v in names.items()})
    inv = {v: k for k, v in methods.items()}
    scores["metric"] = scores["metric"].map(inv)
    if finetune:
        truth = finetuned_truth(model_names, [names[t] for t in datasets], "itm", out=finetune_out,
                                per_class=per_class or 10, image_size=image_size, device=device,
                                data_dir=data_dir, protocol_changes=protocol_changes)
        truth["target"] = truth["target"].map({v: k for k, v in names.items()})
    else:
        gt = printed.load("itm_table3", tidy=False)
        truth = gt.rename_axis("m").reset_index().melt(id_vars="m", var_name="target", value_name="truth")
        truth["model"] = truth["m"].map(lambda r: next((m for m in model_names if m.split("/")[-1] == r), r))
        truth = truth[["target", "model", "truth"]]
        notes.append("ground truth: ITM Table 3 as printed")
    table = _rank(scores, truth, tau, notes)
    return Recomputed(scores, truth, table, notes, _settings(datasets=datasets, models=model_names))
