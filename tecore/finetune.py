"""Ground-truth transfer performance: full fine-tuning grids and linear probes.

A transferability metric is judged against the accuracy (or AUC) each model reaches when it
is actually fine-tuned on the target. The papers differ in how they produce that number, so
each protocol is *data* — a :class:`Protocol` — not a code path:

========== ========= ============================================== ======================
protocol   optimiser grid                                           model selection
========== ========= ============================================== ======================
``itm``    AdamW     lr {1e-5, 2e-5, 5e-5} x wd {1e-2, 1e-4}        best test accuracy over
                                                                    epochs and runs
``ped``    SGD       lr {1e-1, 1e-2, 1e-3, 1e-4} x                  best mean validation
                     wd {1e-6, 1e-5, 1e-4, 1e-3}, 5 seeds           accuracy -> its test acc.
``medical`` SGD      lr {1, 1e-1, ..., 1e-5} x wd {1e-3, ..., 0} x  lowest validation loss
                     momentum {0.9, 0} x batch size (per target),   -> its test AUC; early
                     up to 400 epochs                               stop on val AUC (50)
========== ========= ============================================== ======================

Sources: ITM paper Sec. 4 "Ground truth model rank" (``../shared/papers/000_*.txt``); PED
paper Sec. 4 (``001_*.txt``, following SFDA/LogME); Juodelyte et al. Sec. 3 and Table 1
(``002_*.txt``). :func:`Protocol.replace` makes a reduced grid (fewer epochs, smaller
images) for a CPU, and every result row records what was run.

The grid runner is checkpoint-free: it evaluates validation and test sets after every
epoch and keeps the test score *at* the selected epoch, which equals reloading the selected
checkpoint without writing one. It is resumable: each finished run is appended atomically
to the results CSV and skipped when the grid is started again.

:func:`linear_probe` is the cheap "retrain the head" ground truth of the LEEP and GBC
papers: a multinomial logistic regression on frozen features.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from tecore.metrics._checks import plain as _plain

__all__ = [
    "Protocol",
    "PROTOCOLS",
    "get_protocol",
    "run_grid",
    "ground_truth",
    "find_results",
    "linear_probe",
    "train_once",
]

_SELECTIONS = ("max_test", "best_val", "min_val_loss")
_METRICS = ("accuracy", "auc")
_OPTIMISERS = ("sgd", "adamw")


@dataclass(frozen=True)
class Protocol:
    """A fine-tuning protocol: optimiser, hyper-parameter grid, budget and selection rule.

    Parameters
    ----------
    name: identifier written into every result row.
    optimizer: ``"sgd"`` or ``"adamw"``.
    grid: hyper-parameter name -> tuple of values; the runs are the Cartesian product.
        Keys among ``lr``, ``weight_decay``, ``momentum`` (SGD), ``batch_size``.
    epochs: maximum number of epochs per run.
    metric: ``"accuracy"`` or ``"auc"`` (macro one-vs-rest for more than two classes).
    selection: ``"max_test"`` (best test score over epochs and runs: ITM), ``"best_val"``
        (configuration with the best mean validation score over seeds, its mean test score at
        the best-validation epoch: PED/SFDA), ``"min_val_loss"`` (run and epoch with the lowest
        validation loss, its test score: medical).
    early_stopping: stop a run when the validation metric has not improved for this many
        epochs (``None``: never).
    seeds: one run per seed and grid point.
    batch_size: default batch size where the grid has none.
    image_size: resize images to this side before the model (``None``: the model's own).
    reference: where the protocol comes from.
    """

    name: str
    optimizer: str
    grid: Mapping[str, tuple]
    epochs: int
    metric: str = "accuracy"
    selection: str = "best_val"
    early_stopping: int | None = None
    seeds: tuple[int, ...] = (0,)
    batch_size: int = 64
    image_size: int | None = None
    reference: str = ""

    def __post_init__(self):
        if self.optimizer not in _OPTIMISERS:
            raise ValueError(f"optimizer must be one of {_OPTIMISERS}, got {self.optimizer!r}")
        if self.metric not in _METRICS:
            raise ValueError(f"metric must be one of {_METRICS}, got {self.metric!r}")
        if self.selection not in _SELECTIONS:
            raise ValueError(f"selection must be one of {_SELECTIONS}, got {self.selection!r}")
        if int(self.epochs) < 1:
            raise ValueError(f"epochs must be >= 1, got {_plain(self.epochs)!r}")
        unknown = set(self.grid) - {"lr", "weight_decay", "momentum", "batch_size"}
        if unknown:
            raise ValueError(
                f"unknown grid keys {sorted(unknown)}; use lr, weight_decay, momentum, batch_size"
            )
        if "lr" not in self.grid:
            raise ValueError("the grid needs learning rates: grid={'lr': (...), ...}")
        for k, v in self.grid.items():
            if not isinstance(v, (tuple, list)) or len(v) == 0:
                raise ValueError(f"grid[{k!r}] must be a non-empty tuple of values, got {v!r}")

    def configs(self) -> list[dict]:
        """Every run of the grid: one dict of hyper-parameters per (grid point, seed)."""
        keys = sorted(self.grid)
        out = []
        for values in itertools.product(*(self.grid[k] for k in keys)):
            cfg = dict(zip(keys, values))
            cfg.setdefault("weight_decay", 0.0)
            cfg.setdefault("batch_size", self.batch_size)
            if self.optimizer == "sgd":
                cfg.setdefault("momentum", 0.0)
            for seed in self.seeds:
                out.append({**cfg, "seed": int(seed)})
        return out

    def replace(self, **changes) -> "Protocol":
        """A copy with some fields changed, e.g. a reduced grid for a CPU:
        ``PROTOCOLS["medical"].replace(epochs=3, grid={"lr": (1e-2,)})``."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["grid"] = {k: list(v) for k, v in self.grid.items()}
        d["seeds"] = list(self.seeds)
        return d


PROTOCOLS: dict[str, Protocol] = {
    "itm": Protocol(
        "itm", "adamw", {"lr": (1e-5, 2e-5, 5e-5), "weight_decay": (1e-2, 1e-4)},
        epochs=30, metric="accuracy", selection="max_test", batch_size=64,
        reference="ITM paper, Sec. 4 'Ground truth model rank': AdamW, lr {1e-5,2e-5,5e-5}, "
        "wd {1e-2,1e-4}, test accuracy after every epoch, highest recorded (epochs not stated: "
        "30 chosen here)",
    ),
    "ped": Protocol(
        "ped", "sgd",
        {"lr": (1e-1, 1e-2, 1e-3, 1e-4), "weight_decay": (1e-6, 1e-5, 1e-4, 1e-3), "momentum": (0.9,)},
        epochs=30, metric="accuracy", selection="best_val", seeds=(0, 1, 2, 3, 4), batch_size=64,
        reference="PED paper (Li et al. ICCV 2023), Sec. 4 'Ground Truth Model Rank': lr "
        "{1e-1..1e-4}, wd {1e-6..1e-3}, averaged over 5 seeds (following SFDA/LogME); momentum "
        "and epochs not stated: 0.9 and 30 chosen here",
    ),
    "medical": Protocol(
        "medical", "sgd",
        {"lr": (1.0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5), "weight_decay": (1e-3, 1e-4, 1e-5, 1e-6, 0.0),
         "momentum": (0.9, 0.0)},
        epochs=400, metric="auc", selection="min_val_loss", early_stopping=50, batch_size=64,
        reference="Juodelyte et al. arXiv 2412.20172 Sec. 3.3 and Table 1: SGD, lr {1..1e-5}, "
        "wd {1e-3..0}, momentum {0.9,0}, batch size per target (Table 1, add it to the grid), "
        "up to 400 epochs, early stopping on val AUC (patience 50), lowest-val-loss model's "
        "test AUC",
    ),
}


def get_protocol(name_or_protocol: str | Protocol | Mapping) -> Protocol:
    """A registered protocol by name, a :class:`Protocol`, or one built from a mapping
    (e.g. read from a TOML/YAML file)."""
    if isinstance(name_or_protocol, Protocol):
        return name_or_protocol
    if isinstance(name_or_protocol, Mapping):
        d = dict(name_or_protocol)
        d["grid"] = {k: tuple(v) for k, v in d.get("grid", {}).items()}
        if "seeds" in d:
            d["seeds"] = tuple(d["seeds"])
        return Protocol(**d)
    if name_or_protocol in PROTOCOLS:
        return PROTOCOLS[name_or_protocol]
    raise ValueError(
        f"unknown fine-tuning protocol {name_or_protocol!r}; valid protocols: "
        f"{', '.join(sorted(PROTOCOLS))} (or pass a Protocol / mapping)"
    )


# --------------------------------------------------------------------------------------
# scoring
# --------------------------------------------------------------------------------------
def _score(metric: str, labels: np.ndarray, logits: np.ndarray, n_classes: int) -> float:
    if metric == "accuracy":
        return float(np.mean(np.argmax(logits, axis=1) == labels))
    from scipy.special import softmax
    from sklearn.metrics import roc_auc_score

    probs = softmax(logits.astype(np.float64), axis=1)
    present = np.unique(labels)
    if present.size < 2:
        return float("nan")
    if n_classes == 2:
        return float(roc_auc_score(labels, probs[:, 1]))
    # macro one-vs-rest over the classes present (as MedMNIST's evaluator does)
    return float(roc_auc_score(labels, probs[:, present] / probs[:, present].sum(1, keepdims=True),
                               multi_class="ovr", labels=present))


# --------------------------------------------------------------------------------------
# linear probe
# --------------------------------------------------------------------------------------
def linear_probe(
    train_features,
    train_labels,
    test_features,
    test_labels,
    *,
    Cs: Sequence[float] = (1e-3, 1e-2, 1e-1, 1.0, 10.0),
    val_fraction: float = 0.2,
    metric: str = "accuracy",
    max_iter: int = 2000,
    seed: int = 0,
) -> dict:
    """Retrain-the-head ground truth: multinomial logistic regression on frozen features.

    Features are standardised with the training statistics; the inverse regularisation
    ``C`` is chosen on a stratified ``val_fraction`` hold-out of the training set, then the
    probe is refitted on the whole training set and scored on the test set. This is the
    "retrain the head" setting of the LEEP (Nguyen et al. 2020) and GBC (Pandy et al. 2022)
    papers, with a validation choice of ``C`` that the papers leave open.

    Returns ``{"score", "C", "val_score", "metric"}``. Inputs are not modified. Runs on one
    BLAS thread (faster at these sizes, and the same value on every machine).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from tecore.metrics._checks import check_features_labels

    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {_METRICS}, got {metric!r}")
    tr = check_features_labels(train_features, train_labels, min_per_class=2, method="linear_probe")
    Xte = np.array(test_features, dtype=np.float64, copy=True)
    if Xte.ndim != 2 or Xte.shape[1] != tr.X.shape[1]:
        raise ValueError(
            f"test features must be (n, {tr.X.shape[1]}) like the training features, got {Xte.shape}"
        )
    yte_raw = np.asarray(test_labels).reshape(-1)
    if yte_raw.shape[0] != Xte.shape[0]:
        raise ValueError("test features and test labels have different lengths")
    lookup = {c: i for i, c in enumerate(tr.classes.tolist())}
    try:
        yte = np.array([lookup[c] for c in yte_raw.tolist()])
    except KeyError as exc:
        raise ValueError(f"test label {exc.args[0]!r} does not occur in the training labels") from None
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {_plain(val_fraction)!r}")

    def fit(X, y, C):
        scaler = StandardScaler().fit(X)
        clf = LogisticRegression(C=C, max_iter=max_iter)
        clf.fit(scaler.transform(X), y)
        return scaler, clf

    def evaluate(model, X, y):
        scaler, clf = model
        P = np.full((len(X), tr.n_classes), 1e-12)
        P[:, clf.classes_] = clf.predict_proba(scaler.transform(X))
        return _score(metric, y, np.log(np.maximum(P, 1e-300)), tr.n_classes)

    from threadpoolctl import threadpool_limits

    Xa, Xv, ya, yv = train_test_split(tr.X, tr.y, test_size=val_fraction, stratify=tr.y, random_state=seed)
    # One BLAS thread: L-BFGS on a few thousand samples is many small products, which two
    # OpenBLAS threads slow down (12 probes of the offline benchmark: 57 s on 2 threads, 14 s
    # on one, the same scores); and the value does not depend on the machine's thread count.
    with threadpool_limits(limits=1, user_api="blas"):
        val_scores = [evaluate(fit(Xa, ya, C), Xv, yv) for C in Cs]
        best = int(np.nanargmax(val_scores))
        model = fit(tr.X, tr.y, Cs[best])
    return {"score": evaluate(model, Xte, yte), "C": float(Cs[best]),
            "val_score": float(val_scores[best]), "metric": metric}


# --------------------------------------------------------------------------------------
# full fine-tuning
# --------------------------------------------------------------------------------------
def _as_xy(split, name: str):
    if isinstance(split, tuple) and len(split) == 2:
        images, labels = split
    elif hasattr(split, "images") and hasattr(split, "labels"):
        images, labels = split.images, split.labels
    else:
        raise ValueError(
            f"{name} must be an (images, labels) tuple or a dataset with .images and .labels "
            "(e.g. tecore.data.load(...))"
        )
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    if len(images) != len(labels):
        raise ValueError(f"{name}: {len(images)} images but {len(labels)} labels")
    return images, labels


def _to_tensor(images, preprocess, image_size):
    """Preprocess every image once (no augmentation) into one float tensor."""
    import torch

    xs = []
    for img in images:
        t = preprocess(img)
        if image_size is not None:
            t = torch.nn.functional.interpolate(t[None], size=(image_size, image_size),
                                                mode="bilinear", align_corners=False)[0]
        xs.append(t)
    return torch.stack(xs)


def train_once(
    model_factory: Callable[[], tuple],
    data: Mapping[str, tuple],
    config: Mapping[str, Any],
    protocol: Protocol,
    *,
    device: str = "cpu",
    n_classes: int | None = None,
) -> dict:
    """Fine-tune one model once with one configuration; return per-epoch history and the
    selected scores. ``model_factory()`` returns ``(model, preprocess)`` with
    ``model(x) -> (features, logits_or_None)``; a fresh linear head is put on the features.
    ``data`` has pre-processed tensors ``{"train": (X, y), "val": (X, y), "test": (X, y)}``.
    """
    import torch

    torch.manual_seed(int(config["seed"]))
    gen = torch.Generator().manual_seed(int(config["seed"]))
    backbone, _ = model_factory()
    Xtr, ytr = data["train"]
    if n_classes is None:
        n_classes = int(max(int(ytr.max()), int(data["val"][1].max()), int(data["test"][1].max())) + 1)
    backbone = backbone.to(device)
    with torch.no_grad():
        dim = backbone(Xtr[:2].to(device))[0].shape[1]
    head = torch.nn.Linear(dim, n_classes).to(device)
    params = list(backbone.parameters()) + list(head.parameters())
    for p in params:
        p.requires_grad_(True)
    lr, wd = float(config["lr"]), float(config.get("weight_decay", 0.0))
    if protocol.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=lr, weight_decay=wd, momentum=float(config.get("momentum", 0.0)))
    else:
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    loss_fn = torch.nn.CrossEntropyLoss()
    bs = int(config.get("batch_size", protocol.batch_size))

    def predict(X):
        backbone.eval()
        out = []
        with torch.no_grad():
            for i in range(0, len(X), 256):
                out.append(head(backbone(X[i:i + 256].to(device))[0]).float().cpu())
        return torch.cat(out)

    history = []
    best_val, stale = -np.inf, 0
    for epoch in range(1, protocol.epochs + 1):
        backbone.train()
        perm = torch.randperm(len(Xtr), generator=gen)
        total, seen = 0.0, 0
        for i in range(0, len(perm), bs):
            idx = perm[i:i + bs]
            if len(idx) < 2:  # batch-norm needs two samples
                continue
            xb, yb = Xtr[idx].to(device), ytr[idx].to(device)
            loss = loss_fn(head(backbone(xb)[0]), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            seen += len(idx)
        row = {"epoch": epoch, "train_loss": total / max(seen, 1)}
        for split in ("val", "test"):
            X, y = data[split]
            logits = predict(X)
            row[f"{split}_loss"] = float(loss_fn(logits, y))
            row[f"{split}_score"] = _score(protocol.metric, y.numpy(), logits.numpy(), n_classes)
        if not np.isfinite(row["train_loss"]) or not np.isfinite(row["val_loss"]):
            row["diverged"] = True
            history.append(row)
            break
        history.append(row)
        if protocol.early_stopping is not None:
            if row["val_score"] > best_val:
                best_val, stale = row["val_score"], 0
            else:
                stale += 1
                if stale >= protocol.early_stopping:
                    break
    h = pd.DataFrame(history)
    finite = h[np.isfinite(h["val_loss"])] if len(h) else h
    if len(finite) == 0:
        sel = {"best_val_loss": np.nan, "test_at_min_val_loss": np.nan, "best_val_score": np.nan,
               "test_at_best_val": np.nan, "max_test": np.nan}
    else:
        i_loss = finite["val_loss"].idxmin()
        i_val = finite["val_score"].idxmax()
        sel = {
            "best_val_loss": float(finite.loc[i_loss, "val_loss"]),
            "test_at_min_val_loss": float(finite.loc[i_loss, "test_score"]),
            "best_val_score": float(finite.loc[i_val, "val_score"]),
            "test_at_best_val": float(finite.loc[i_val, "test_score"]),
            "max_test": float(finite["test_score"].max()),
        }
    return {"history": history, "epochs_run": len(history), **sel}


def _run_key(model: str, dataset: str, protocol: Protocol, cfg: Mapping) -> str:
    blob = json.dumps({"model": model, "dataset": dataset, "protocol": protocol.to_dict(),
                       "config": dict(sorted(cfg.items()))}, sort_keys=True, default=float)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _versions() -> dict:
    import torch

    import tecore

    return {"tecore": tecore.__version__, "torch": torch.__version__, "numpy": np.__version__,
            "python": platform.python_version()}


def _append_atomic(path: Path, row: dict) -> None:
    """Append one row by rewriting the CSV to a temporary file and renaming it, so a killed
    run leaves either the old or the new file, never a torn one."""
    old = pd.read_csv(path) if path.exists() else pd.DataFrame()
    new = pd.concat([old, pd.DataFrame([row])], ignore_index=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    new.to_csv(tmp, index=False)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _result_row(name: str, dataset: str, proto: Protocol, cfg: Mapping, res: Mapping, seconds: float,
                device: str, versions: Mapping) -> dict:
    """The results-CSV row of one finished run."""
    return {
        "run_key": _run_key(name, dataset, proto, cfg), "model": name, "dataset": dataset,
        "protocol": proto.name, **{f"cfg_{k}": v for k, v in cfg.items()},
        "epochs_max": proto.epochs, "epochs_run": res["epochs_run"],
        "image_size": proto.image_size, "metric": proto.metric,
        **{k: res[k] for k in ("best_val_loss", "test_at_min_val_loss", "best_val_score",
                               "test_at_best_val", "max_test")},
        "seconds": round(seconds, 3), "device": device,
        "protocol_json": json.dumps(proto.to_dict(), sort_keys=True),
        **{f"version_{k}": v for k, v in versions.items()},
    }


def run_grid(
    models: Mapping[str, Callable[[], tuple]] | Iterable[str],
    train,
    val,
    test,
    protocol: str | Protocol | Mapping = "itm",
    *,
    dataset: str = "target",
    out: str | os.PathLike,
    device: str | None = None,
    progress: bool = True,
    engine: str | None = None,
    workers: int | None = None,
    address=None,
    retries: int = 2,
) -> pd.DataFrame:
    """Run a fine-tuning grid for every model; resumable; returns all result rows.

    Parameters
    ----------
    models: zoo names (built with :func:`tecore.zoo.create`) or a mapping name ->
        ``factory()`` returning ``(model, preprocess)`` with ``model(x) -> (features, logits)``.
    train, val, test: ``(images, labels)`` tuples or datasets from :func:`tecore.data.load`.
    protocol: a name in :data:`PROTOCOLS`, a :class:`Protocol` or a mapping.
    dataset: the target's name, recorded in the rows.
    out: CSV path; one row per finished run with the configuration, selected scores,
        epochs, seconds, device and library versions. Runs already in it are skipped.
    engine, workers, address, retries: run the configurations in parallel worker
        processes (:mod:`tecore.dispatch`): ``engine="local"`` (the default once ``workers``
        is given) is a process pool on this machine, ``engine="dask"`` a Dask cluster
        (``address`` of its scheduler; none: a local Dask cluster). Only this process writes
        ``out``; a run whose worker died is run again (up to ``retries`` times). Without
        ``engine`` and ``workers`` the runs happen here, one after the other.
    """
    if engine is not None or workers is not None:
        from tecore.finetune_dispatch import run_grid_parallel

        return run_grid_parallel(models, train, val, test, protocol, dataset=dataset, out=out, device=device,
                                 progress=progress, engine=engine or "local", workers=workers,
                                 address=address, retries=retries)

    import torch
    from tecore._progress import progress_bar

    proto = get_protocol(protocol)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from tecore._device import resolve_device

    device = str(resolve_device(device))
    if not isinstance(models, Mapping):
        from tecore import zoo

        names = list(models)
        models = {n: (lambda n=n: zoo.create(n, device="cpu")[:2]) for n in names}
    splits = {"train": _as_xy(train, "train"), "val": _as_xy(val, "val"), "test": _as_xy(test, "test")}
    n_classes = int(max(int(s[1].max()) for s in splits.values()) + 1)
    done = set(pd.read_csv(out)["run_key"]) if out.exists() else set()
    configs = proto.configs()
    versions = _versions()
    bar = progress_bar(total=len(models) * len(configs), disable=not progress, desc=f"fine-tune {dataset}")
    for name, factory in models.items():
        todo = [c for c in configs if _run_key(name, dataset, proto, c) not in done]
        bar.update(len(configs) - len(todo))
        if not todo:
            continue
        _, preprocess = factory()
        data = {k: (_to_tensor(imgs, preprocess, proto.image_size), torch.as_tensor(y))
                for k, (imgs, y) in splits.items()}
        for cfg in todo:
            t0 = time.perf_counter()
            res = train_once(factory, data, cfg, proto, device=device, n_classes=n_classes)
            row = _result_row(name, dataset, proto, cfg, res, time.perf_counter() - t0, device, versions)
            _append_atomic(out, row)
            bar.update(1)
    bar.close()
    return pd.read_csv(out)


def find_results(path: str | os.PathLike) -> Path:
    """Locate a stored results CSV: ``path`` as given (absolute or relative to the working
    directory), else relative to the root of the tecore checkout (the folder holding the
    ``tecore`` package, where ``groundtruth/`` lives) — so a chapter finds
    ``groundtruth/offline_bench`` whether it runs from ``notebooks/``, from
    ``tests/nbval/`` or from the repository root.

    Raises ``FileNotFoundError`` naming both places when neither has the file.
    """
    p = Path(path).expanduser()
    if p.is_file():
        return p
    root = Path(__file__).resolve().parents[1]
    if not p.is_absolute() and (root / p).is_file():
        return root / p
    raise FileNotFoundError(
        f"no results file {str(path)!r} in the working directory ({Path.cwd()}) or in the tecore "
        f"checkout ({root}); pass the CSV written by tecore.finetune.run_grid, or None to skip it."
    )


def ground_truth(results: pd.DataFrame | str | os.PathLike, protocol: str | Protocol | Mapping | None = None,
                 *, with_config: bool = False) -> pd.DataFrame:
    """Reduce grid results to one ground-truth score per (target, model) by the protocol's
    selection rule (see :class:`Protocol`). Returns tecore's ground-truth table ``target,
    model, truth`` (sorted; ``target`` is the grid's ``dataset``; ``df.attrs["metric"]`` names
    the protocol's metric); ``with_config=True`` adds the selected configuration's ``cfg_*``
    columns (the seed excluded), e.g. to see which learning rate the rule picked."""
    df = pd.read_csv(results) if not isinstance(results, pd.DataFrame) else results
    if df.empty:
        raise ValueError("no fine-tuning results to reduce; run tecore.finetune.run_grid first")
    if protocol is None:
        names = df["protocol"].unique()
        if len(names) != 1:
            raise ValueError(f"results mix protocols {list(names)}; pass protocol=")
        proto = get_protocol(json.loads(df["protocol_json"].iloc[0]))
    else:
        proto = get_protocol(protocol)
    cfg_cols = [c for c in df.columns if c.startswith("cfg_") and c != "cfg_seed"]
    pairs = ["dataset", "model"]
    if proto.selection == "best_val":  # mean over seeds per configuration (sorted as a groupby sorts)
        g = df.groupby(pairs + cfg_cols, dropna=False, sort=True)[["best_val_score", "test_at_best_val"]].mean()
        g = g.reset_index()
        key, value = "best_val_score", "test_at_best_val"
    else:
        key, value = ("max_test", "max_test") if proto.selection == "max_test" else ("best_val_loss",
                                                                                "test_at_min_val_loss")
        g = df
    finite = g[np.isfinite(g[key].to_numpy(dtype=float))]
    by = finite.groupby(pairs, sort=True)[key]
    at = by.idxmin() if key == "best_val_loss" else by.idxmax()  # the first of equal scores, as before
    picked = finite.loc[at.to_numpy(), pairs + cfg_cols + [value]].rename(columns={value: "truth"})
    # every (target, model) of the grid, NaN where no configuration has a finite score
    every = df[pairs].drop_duplicates().sort_values(pairs)
    out = every.merge(picked, on=pairs, how="left").rename(columns={"dataset": "target"})
    out["truth"] = out["truth"].astype(float)
    df = out[["target", "model", "truth"] + (cfg_cols if with_config else [])].reset_index(drop=True)
    df.attrs["metric"] = proto.metric
    return df
