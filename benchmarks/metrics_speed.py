"""Wall-clock time of every registered metric, and of the official code on identical inputs.

Inputs are synthetic and deterministic (``--seed``): ``C`` Gaussian class blobs in a
64-dimensional latent space mapped linearly to ``D`` dimensions plus isotropic noise, ``N``
samples (classes balanced), float32 like extracted features; source-class
probabilities ``softmax(features @ W / sqrt(D))`` over ``K = 1000`` source classes (float64);
a gradient ratio of 0.7 for ``lp_fu``. Sizes (``--sizes``, names or ``N,D,C``):

* ``L``: N=50000, D=768,  C=100  (CIFAR-100-sized target, ViT-B features)
* ``M``: N=3000,  D=2048, C=102  (Caltech-101/Flowers-sized target, ResNet-50 features)
* ``S``: N=1100,  D=512,  C=11   (a MedMNIST-sized target, ResNet-18 features)

Every timed call runs in a forked child process (so a slow or memory-hungry method cannot
take the benchmark down): imports happen before the clock starts, a fresh copy of the inputs
is made for every call (the official SFDA code modifies its input in place), the time
reported is the minimum over ``--repeats`` calls (after one untimed warm-up call on a
few samples per class, which triggers lazy imports and numba compilation), a call that exceeds ``--timeout`` seconds
is killed and reported as such, and ``--mem-gb`` caps the child's address space.

Official implementations (``--official DIR``)
    ``DIR/<repo>`` holds a checkout of each official repository (e.g. ``git --git-dir=<mirror>
    archive HEAD | tar -x -C DIR/<repo>``): ``LogME`` (thuml/LogME), ``Transfer-Learning-Library``
    (thuml), ``SFDA`` (TencentARC), ``NCTI`` (BUserName), ``ETran`` (mgholamikn), ``PED``
    (lixiaotong97), ``transferability-in-medical-imaging`` (DovileDo). The official modules
    are imported from there at run time only; nothing of them is in this repository.
    ``DIR/_site`` (if present) is put on ``sys.path`` of the official children, for
    dependencies the project does not need (numba for LogME: ``pip install --target
    DIR/_site --no-deps numba llvmlite``). The medical repo's ``metrics.py`` imports
    ``pytorch_metric_learning`` for its fine-tuning score only; an empty stand-in module is
    registered so that ``LP_Score`` can be imported.

    For each metric the table gives both times, the speed-up (official / tecore) and the
    relative value difference ``|tecore - official| / |official|`` (pool-level metrics: the
    largest over their terms). Where tecore corrects an official quirk by default, the
    difference is also given for tecore's documented official-behaviour option
    (``official=True``, ``official_dtype=True``) — that one should be ~1e-6 or better.

Usage::

    nice -n 10 python benchmarks/metrics_speed.py --sizes S M --official /tmp/official \\
        --out benchmarks/results/metrics_speed.md
    python benchmarks/metrics_speed.py --sizes 500,64,5 --metrics logme sfda --repeats 3
"""
from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import importlib.util
import json
import math
import multiprocessing as mp
import os
import platform
import resource
import subprocess
import sys
import time
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

SIZES = {"L": (50000, 768, 100), "M": (3000, 2048, 102), "S": (1100, 512, 11)}
K_SOURCE = 1000
GRAD_RATIO = 0.7
EXTRA_METRICS = ("ped+logme",)
POOL_BUDGET = 300.0  # seconds per metric for the whole pool (issue 12: "all metrics on a 10-model pool in 5 minutes")


# --------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------
def make_inputs(n: int, d: int, c: int, seed: int = 0, *, label_seed: int | None = None,
                noise: float = 0.3) -> dict[str, Any]:
    """Synthetic target of one model (see the module docstring). ``label_seed`` (default
    ``seed``) draws the label order: models of one pool share it (the same target) and differ
    in ``seed`` (latent map, class geometry, source head) and ``noise``."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % c
    if label_seed is None:
        rng.shuffle(y)
    else:
        np.random.default_rng(label_seed).shuffle(y)
    # class blobs in a 64-dimensional latent space, mapped linearly to D dimensions, plus a
    # little isotropic noise: features of real backbones are far from full rank, and
    # full-rank blobs make every discriminant score saturate at 1
    r = min(64, d)
    centers = rng.normal(scale=0.5, size=(c, r))
    B = rng.normal(size=(r, d)) / math.sqrt(r)
    X = ((centers[y] + rng.normal(size=(n, r))) @ B + noise * rng.normal(size=(n, d))).astype(np.float32)
    X += np.float32(0.1)  # features are rarely centred
    W = rng.normal(size=(d, K_SOURCE)).astype(np.float32)
    z = (X @ W).astype(np.float64) * (2.0 / math.sqrt(d))
    z -= z.max(axis=1, keepdims=True)
    P = np.exp(z)
    P /= P.sum(axis=1, keepdims=True)
    return {"features": X, "labels": y.astype(np.int64), "probs": P, "grad_ratio": GRAD_RATIO,
            "model": "sfda/resnet50"}  # imagenet_top1 looks the model up by name


def warmup_subset(inputs: dict, min_total: int = 100) -> dict:
    """A few samples of every class (at least 4 each, ~``min_total`` in all): one untimed call
    on it triggers lazy imports and JIT compilation before the clock starts."""
    y = inputs["labels"]
    per_class = max(4, -(-min_total // (int(y.max()) + 1)))
    order = np.argsort(y, kind="stable")
    first = np.searchsorted(y[order], np.arange(y.max() + 1))
    idx = np.concatenate([order[f:f + per_class] for f in first])
    return {k: (v[idx] if isinstance(v, np.ndarray) else v) for k, v in inputs.items()}


def _fresh(inputs: dict, keys) -> list:
    return [np.array(inputs[k], copy=True) if isinstance(inputs[k], np.ndarray) else inputs[k] for k in keys]


# --------------------------------------------------------------------------------------
# official implementations: how to import and call each one
# --------------------------------------------------------------------------------------
def _load_official(root: Path, repo: str, relfile: str):
    base = root / repo
    path = base / relfile
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found (check out {repo} under {root})")
    site = root / "_site"
    for p in (str(path.parent), str(base)) + ((str(site),) if site.is_dir() else ()):
        if p not in sys.path:
            sys.path.insert(0, p)
    for m in ("utils", "metrics", "models"):  # the repos share these top-level names
        sys.modules.pop(m, None)
    if "pytorch_metric_learning" not in sys.modules:
        try:
            importlib.import_module("pytorch_metric_learning")
        except ImportError:  # only the medical repo's FU score uses it
            stub = types.ModuleType("pytorch_metric_learning")
            stub.losses = types.ModuleType("pytorch_metric_learning.losses")
            sys.modules["pytorch_metric_learning"] = stub
            sys.modules["pytorch_metric_learning.losses"] = stub.losses
    name = f"_official_{repo.replace('-', '_')}_{Path(relfile).stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@dataclass
class Official:
    repo: str
    file: str
    where: str  # "repo file function" as cited in the table
    call: Callable[[Any, dict], Any]  # (module, inputs) -> value or dict of terms
    max_n: int | None = None
    skip_note: str = ""
    compare_kwargs: dict = field(default_factory=dict)  # tecore option reproducing the official behaviour


def _ncti_call(m, a):
    seli, ncc, vc = m.NCTI_Score(a["features"], a["labels"])
    return {"seli": float(seli), "ncc": float(ncc), "vc": float(vc)}


def _parc_call(m, a):
    y = a["labels"]
    m.constants.num_classes["_bench"] = int(y.max()) + 1  # the official code looks C up by dataset name
    return m.PARC(n_dims=32)(a["features"], None, y, "_src", "_bench", "_arch", None)


def _etran_call(m, a):
    return {"lda": float(m.LDA_Score(a["features"], a["labels"])),
            "energy": float(m.Energy_Score(a["features"], 0.5, "bot"))}


OFFICIAL: dict[str, Official] = {
    "logme": Official("LogME", "LogME.py", "thuml/LogME LogME.py LogME(regression=False).fit",
                      lambda m, a: m.LogME(regression=False).fit(a["features"], a["labels"])),
    "logme_regression": Official("LogME", "LogME.py", "thuml/LogME LogME.py LogME(regression=True).fit",
                                 lambda m, a: m.LogME(regression=True).fit(a["features"], a["labels"])),
    "leep": Official("LogME", "LEEP.py", "thuml/LogME LEEP.py LEEP",
                     lambda m, a: m.LEEP(a["probs"], a["labels"])),
    "nce": Official("LogME", "NCE.py", "thuml/LogME NCE.py NCE (source argmax)",
                    lambda m, a: m.NCE(np.argmax(a["probs"], axis=1), a["labels"])),
    "hscore": Official("Transfer-Learning-Library", "tllib/ranking/hscore.py", "tllib ranking/hscore.py h_score",
                       lambda m, a: m.h_score(a["features"], a["labels"])),
    "shrinkage_hscore": Official("Transfer-Learning-Library", "tllib/ranking/hscore.py",
                                 "tllib ranking/hscore.py regularized_h_score",
                                 lambda m, a: m.regularized_h_score(a["features"], a["labels"])),
    "transrate": Official("Transfer-Learning-Library", "tllib/ranking/transrate.py",
                          "tllib ranking/transrate.py transrate(eps=1e-4)",
                          lambda m, a: m.transrate(a["features"], a["labels"], eps=1e-4)),
    "nleep": Official("SFDA", "metrics.py", "TencentARC/SFDA metrics.py NLEEP (unseeded GMM)",
                      lambda m, a: m.NLEEP(a["features"], a["labels"]),
                      compare_kwargs={"log": False}),
    "sfda": Official("SFDA", "metrics.py", "TencentARC/SFDA metrics.py SFDA_Score",
                     lambda m, a: m.SFDA_Score(a["features"], a["labels"]),
                     compare_kwargs={"official_dtype": True}),
    "parc": Official("parc", "methods.py", "dbolya/parc methods.py PARC(n_dims=32)",
                     _parc_call, max_n=15000,
                     skip_note="the official PARC has no sample cap and builds two N x N RDMs "
                               "(2 x 20 GB at N=50000); tecore subsamples to 15000 (stratified, as "
                               "the SFDA/NCTI/ETran wrappers intend), so the values are not comparable",
                     compare_kwargs={"official": True}),
    "ncti": Official("NCTI", "metrics.py", "BUserName/NCTI metrics.py NCTI_Score", _ncti_call),
    "etran": Official("ETran", "metrics.py", "mgholamikn/ETran metrics.py LDA_Score + Energy_Score(0.5, 'bot')",
                      _etran_call, compare_kwargs={"official": True}),
    "ped+logme": Official("PED", "metrics.py",
                          "lixiaotong97/PED metrics.py PED_Score(type='LOGME', step 0.1, nsigma 0.6, er 0.5, "
                          "general_X = the target features)",
                          lambda m, a: m.PED_Score(a["features"], a["labels"], general_X=a["features"],
                                                   exit_ratio=0.5, time_step=0.1, type="LOGME", nsigma=0.6,
                                                   constant=1.0),
                          compare_kwargs={"transform_kwargs": {"max_steps": 6}}),
    "lp": Official("transferability-in-medical-imaging", "src/metrics.py",
                   "DovileDo/transferability-in-medical-imaging src/metrics.py LP_Score",
                   lambda m, a: m.LP_Score(a["features"], a["labels"])),
}
NO_OFFICIAL = {
    "gbc": "official code is TensorFlow (google-research stable_transfer); not installed",
    "itm": "no public code",
    "lp_fu": "the official FU score needs the model and a data loader (gradient probe), not features",
    "logme_multilabel": "needs a 0/1 indicator target (the class labels here are not); same code as logme_regression",
    "knn": "a baseline (scikit-learn NearestNeighbors); no official code",
    "imagenet_top1": "a table lookup; no official code",
    "pactran_dirichlet": "official compute_metrics.py (google-research/pactran_metrics) imports TensorFlow; not installed",
    "pactran_gamma": "official compute_metrics.py imports TensorFlow; not installed",
    "pactran_gaussian": "official compute_metrics.py imports TensorFlow; not installed",
    "pactran_dirichlet_gmm": "official compute_metrics.py imports TensorFlow; not installed",
    "pactran_gamma_gmm": "official compute_metrics.py imports TensorFlow; not installed",
}


# --------------------------------------------------------------------------------------
# timed calls in a child process
# --------------------------------------------------------------------------------------
def _child(conn, prepare, make_args, warm_args, repeats, mem_gb, quiet):
    try:
        if mem_gb:
            lim = int(mem_gb * 2 ** 30)
            resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
        if quiet:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
        import warnings

        warnings.simplefilter("ignore")
        fn = prepare()
        if warm_args is not None:  # imports done lazily inside the function, numba compilation
            try:
                fn(*warm_args())
            except Exception:  # noqa: BLE001 - a warm-up failure shows again in the timed call
                pass
        times, value = [], None
        for _ in range(repeats):
            args = make_args()
            t0 = time.perf_counter()
            value = fn(*args)
            times.append(time.perf_counter() - t0)
        if isinstance(value, dict):
            value = {k: float(v) for k, v in value.items()}
        else:
            value = float(value)
        conn.send(("ok", value, times))
    except BaseException as exc:  # noqa: BLE001 - reported in the table
        msg = f"{type(exc).__name__}: {exc}".splitlines()[0][:160]
        conn.send(("error", msg, None))
    finally:
        conn.close()


def run_timed(prepare, make_args, *, repeats, timeout, mem_gb, warm_args=None, quiet=True) -> dict:
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(child, prepare, make_args, warm_args, repeats, mem_gb, quiet))
    t0 = time.perf_counter()
    p.start()
    child.close()
    if parent.poll(timeout):
        try:
            status, value, times = parent.recv()
        except EOFError:
            status, value, times = "error", "child died (killed for memory?)", None
    else:
        status, value, times = "timeout", f"> {timeout:.0f} s", None
        p.kill()
    p.join()
    if status == "ok":
        return {"status": "ok", "value": value, "seconds": min(times), "all_seconds": times}
    if p.exitcode not in (0, None) and status == "error" and value.startswith("child died"):
        value = f"child died (exit code {p.exitcode}; memory?)"
    return {"status": status, "error": value, "wall": time.perf_counter() - t0}


def _takes_device(name) -> bool:
    import inspect

    from tecore import metrics

    fn = metrics.get(name).function
    return "device" in inspect.signature(getattr(fn, "__wrapped__", fn)).parameters


def _tecore_prepare(name, kwargs=None, device=None):
    def prepare():
        from tecore import metrics

        spec = metrics.get(name)
        fn = spec.function
        kw = dict(kwargs or {})
        if device is not None and _takes_device(name):
            kw["device"] = device
        sync = _sync(device)

        def call(*a):
            v = fn(*a, **kw)
            sync()
            return v

        return call

    return prepare


def _official_prepare(root: Path, off: Official, keys):
    def prepare():
        mod = _load_official(root, off.repo, off.file)
        return lambda *a: off.call(mod, dict(zip(keys, a)))

    return prepare


def rel_diff(a, b) -> float:
    if isinstance(a, dict) and isinstance(b, dict):
        common = [k for k in b if k in a]
        return max((rel_diff(a[k], b[k]) for k in common), default=float("nan"))
    if isinstance(a, dict) or isinstance(b, dict):
        return float("nan")
    if not (np.isfinite(a) and np.isfinite(b)):
        return float("nan")
    return abs(a - b) / max(abs(b), 1e-300)



# --------------------------------------------------------------------------------------
# bounds: the dominant LAPACK/BLAS call of each heavy metric on the same input
# --------------------------------------------------------------------------------------
PARC_CAP, PARC_DIMS = 15000, 32  # tecore.parc's default max_samples and PCA dimension


def _gram(xp, X):
    """X^T X (N >= D) or X X^T (N < D): the Gram matrix of the smaller side."""
    return X.T @ X if X.shape[0] >= X.shape[1] else X @ X.T


def _bound_gram_eigh(xp, X, y=None):
    return xp.linalg.eigh(_gram(xp, X))


def _bound_gram_eigvalsh(xp, X, y=None):
    return xp.linalg.eigvalsh(_gram(xp, X))


def _bound_transrate(xp, X, y):
    """TransRate's coding rates: the full Gram matrix and its eigenvalues (the dominant
    call) and, for the C class terms the method needs (its value is R(Z) minus their mean),
    each class's Gram matrix (the smaller side) and one factorisation of it (Cholesky; the
    eigenvalues of I + G cost more)."""
    w = _bound_gram_eigvalsh(xp, X)
    C = int(y.max()) + 1
    order = np.argsort(y, kind="stable")
    bounds = np.searchsorted(y[order], np.arange(C + 1))
    torch_ = not isinstance(X, np.ndarray)
    B = X[xp.as_tensor(order, device=X.device)] if torch_ else X[order]
    out = []
    for c in range(C):  # loop over classes
        G = _gram(xp, B[bounds[c]:bounds[c + 1]])
        I = xp.eye(G.shape[0], dtype=G.dtype, device=G.device) if torch_ else np.eye(G.shape[0])
        out.append(xp.linalg.cholesky(G + I))
    return w, out


def _bound_gram_cholesky(xp, X, y=None):
    G = X.T @ X
    return xp.linalg.cholesky(G + 1e-6 * xp.eye(G.shape[0], dtype=G.dtype, device=getattr(G, "device", None)))


def _bound_parc_rdm(xp, X, y=None):
    A = X[:min(X.shape[0], PARC_CAP), :PARC_DIMS]
    return A @ A.T


def _bound_pca64(xp, X, y=None):
    """Exact PCA to 64 components: the centring, the Gram matrix, its leading 64 eigenpairs
    (scipy's partial ``eigh``, as ``tecore.metrics._pca``; torch: the full ``eigh``) and the
    scores, the PCA's output (N >= D: the N x D x 64 product ``Xc V``; N < D:
    ``U sqrt(w)``, free)."""
    Xc = X - X.mean(0)
    G = _gram(xp, Xc)
    if isinstance(G, np.ndarray):
        from scipy import linalg

        m = G.shape[0]
        w, V = linalg.eigh(G, subset_by_index=[max(m - 64, 0), m - 1], driver="evr")
    else:
        w, V = xp.linalg.eigh(G)
        w, V = w[-64:], V[:, -64:]
    return Xc @ V if X.shape[0] >= X.shape[1] else V * xp.sqrt(xp.clip(w, 0.0, None))


def _bound_ncti(xp, X, y):
    """NCTI's exact terms need the PCA (:func:`_bound_pca64`) and, for ``vc``, the singular
    values of each class's n_c x C posterior matrix (the official ``np.linalg.norm(P_c,
    'nuc')``: C SVDs, which no Gram shortcut replaces exactly when posteriors put almost no
    mass on some classes); here the SVDs of same-shaped blocks ``X[y == c, :C]``."""
    Z = _bound_pca64(xp, X)
    C = int(y.max()) + 1
    order = np.argsort(y, kind="stable")
    bounds = np.searchsorted(y[order], np.arange(C + 1))
    if not isinstance(X, np.ndarray):
        B = X[xp.as_tensor(order, device=X.device), :C]
        return Z, [xp.linalg.svdvals(B[bounds[c]:bounds[c + 1]]) for c in range(C)]
    from threadpoolctl import threadpool_limits

    B = X[order, :C]
    with threadpool_limits(limits=1, user_api="blas"):  # faster than 2 threads on these small SVDs
        return Z, [np.linalg.svd(B[bounds[c]:bounds[c + 1]], compute_uv=False) for c in range(C)]


#: metric -> (bound function (xp, float64 features) -> array, what it is). Picked from each
#: metric's code: the one call whose cost sets the floor of the metric at N >= D.
BOUNDS: dict[str, tuple[Callable, str]] = {
    # LogME: one eigendecomposition of FᵀF (official truncated_svd; an SVD of F only when
    # the Gram cannot resolve the spectrum), then O(D C) fixed-point iterations
    "logme": (_bound_gram_eigh, "Gram + eigh"),
    "logme_regression": (_bound_gram_eigh, "Gram + eigh"),
    "logme_multilabel": (_bound_gram_eigh, "Gram + eigh"),
    # PED moves the features (cheap, O(N D) per step) then runs LogME
    "ped+logme": (_bound_gram_eigh, "Gram + eigh"),
    # H-score: covariance XᵀX and one D x D eigh (pseudo-inverse)
    "hscore": (_bound_gram_eigh, "Gram + eigh"),
    # shrinkage H-score: Ledoit-Wolf covariance XᵀX and a Cholesky solve
    "shrinkage_hscore": (_bound_gram_cholesky, "Gram + cholesky"),
    # TransRate: log-det of I + Gram via the eigenvalues of the smaller Gram matrix, and the
    # C class coding rates (a class Gram matrix and a factorisation each)
    "transrate": (_bound_transrate, "Gram + eigvalsh; C class Grams + Cholesky"),
    # SFDA: within-class scatter RᵀR and a Cholesky solve (twice, with the re-weighting)
    "sfda": (_bound_gram_cholesky, "Gram + cholesky"),
    # ETran (shrinkage LDA term): scatter XᵀX and a D x D solve
    "etran": (_bound_gram_cholesky, "Gram + cholesky"),
    # NCTI: exact PCA to 64 dims (Gram + partial eigh + the scores, which any PCA must
    # compute: N x D x 64), then the LDA on the scores and small per-class problems
    "ncti": (_bound_ncti, "PCA to 64: centring + Gram + partial eigh + scores; C class SVDs (n_c x C)"),
    # GBC: exact PCA to 64 dims (Gram + partial eigh + scores); the per-class 64 x 64
    # covariances are small
    "gbc": (_bound_pca64, "PCA to 64: centring + Gram + partial eigh + scores"),
    # PARC: the N x N feature RDM on the capped sample (N <= 15000) of 32 PCA dims
    "parc": (_bound_parc_rdm, f"N x N RDM product (N <= {PARC_CAP}, {PARC_DIMS} dims)"),
}


def _bound_prepare(name, device=None):
    def prepare():
        from tecore.metrics._backend import backend

        b = backend(device)
        fn = BOUNDS[name][0]
        sync = _sync(device)
        return lambda X, y: (fn(b.xp, b.asarray(X), y), sync(), 0.0)[-1]

    return prepare


def _sync(device):
    if device is None or not str(device).startswith("cuda"):
        return lambda: None
    import torch

    return torch.cuda.synchronize

# --------------------------------------------------------------------------------------
# the benchmark
# --------------------------------------------------------------------------------------
def _parse_size(s: str) -> tuple[str, tuple[int, int, int]]:
    if s in SIZES:
        return s, SIZES[s]
    try:
        n, d, c = (int(v) for v in s.split(","))
    except ValueError:
        raise SystemExit(f"--sizes: {s!r} is neither one of {sorted(SIZES)} nor 'N,D,C'") from None
    return s, (n, d, c)


def available_metrics() -> tuple[list[str], dict[str, str]]:
    """Registered metric names (plus the composed ones benchmarked) whose module imports."""
    from tecore import metrics

    names = metrics.names() + list(EXTRA_METRICS)
    ok, missing = [], {}
    for n in names:
        try:
            metrics.get(n).function  # noqa: B018 - imports the module (and the transform)
            ok.append(n)
        except (ImportError, AttributeError) as exc:
            missing[n] = f"not implemented yet ({type(exc).__name__})"
    return ok, missing


def benchmark(args) -> list[dict]:
    from tecore import metrics

    ok, missing = available_metrics()
    wanted = args.metrics or ok + sorted(missing)
    root = Path(args.official) if args.official else None
    rows = []
    for label, (n, d, c) in (_parse_size(s) for s in args.sizes):
        inputs = make_inputs(n, d, c, seed=args.seed)
        warm = warmup_subset(inputs)
        for name in wanted:
            row = {"size": label, "N": n, "D": d, "C": c, "metric": name}
            rows.append(row)
            if name in missing:
                row["tecore"] = {"status": "missing", "error": missing[name]}
                print(f"[{label}] {name}: {missing[name]}", flush=True)
                continue
            spec = metrics.get(name)
            keys = spec.inputs
            make_args = lambda keys=keys: _fresh(inputs, keys)  # noqa: E731
            warm_args = None if args.no_warmup else (lambda keys=keys: _fresh(warm, keys))
            row["tecore"] = run_timed(_tecore_prepare(name, device=args.device), make_args, repeats=args.repeats,
                                      timeout=args.timeout, mem_gb=args.mem_gb, warm_args=warm_args)
            print(f"[{label}] {name}: tecore {_fmt_res(row['tecore'])}", flush=True)
            if name in BOUNDS and not args.no_bound:
                row["bound_what"] = BOUNDS[name][1]
                row["bound"] = run_timed(_bound_prepare(name, args.device),
                                         lambda: [inputs["features"].astype(np.float64), inputs["labels"]],
                                         repeats=args.repeats, timeout=args.timeout, mem_gb=args.mem_gb,
                                         warm_args=lambda: [warm["features"].astype(np.float64), warm["labels"]])
                print(f"[{label}] {name}: bound ({row['bound_what']}) {_fmt_res(row['bound'])}", flush=True)
            off = OFFICIAL.get(name)
            if root is None:
                continue
            if off is None:
                row["official"] = {"status": "none", "error": NO_OFFICIAL.get(name, "no official code wired")}
                continue
            row["official_where"] = off.where
            if off.max_n is not None and n > off.max_n:
                row["official"] = {"status": "skipped", "error": off.skip_note}
                continue
            if not (root / off.repo).is_dir():
                row["official"] = {"status": "missing", "error": f"{root / off.repo} not found"}
                continue
            row["official"] = run_timed(_official_prepare(root, off, keys), make_args,
                                        repeats=args.official_repeats or args.repeats,
                                        timeout=args.timeout, mem_gb=args.mem_gb, warm_args=warm_args)
            print(f"[{label}] {name}: official {_fmt_res(row['official'])}", flush=True)
            if off.compare_kwargs and row["official"]["status"] == "ok":
                row["tecore_official_mode"] = run_timed(_tecore_prepare(name, off.compare_kwargs, args.device), make_args,
                                                        repeats=1, timeout=args.timeout, mem_gb=args.mem_gb)
                row["official_mode_kwargs"] = off.compare_kwargs
    return rows


def benchmark_pool(args) -> list[dict]:
    """Pool mode: every metric on ``args.pool`` models of one target (synthetic feature sets
    with seeds ``seed .. seed + pool - 1``, noise 0.3 to 0.6, the labels of ``seed``); the
    time of a metric is the sum of its per-model calls (each timed like a single call). A
    metric stops being timed once its total exceeds ``args.pool_budget`` seconds."""
    ok, missing = available_metrics()
    wanted = [m for m in (args.metrics or ok) if m in ok]
    label, (n, d, c) = _parse_size(args.pool_size)
    k = args.pool
    rows = {name: {"size": f"pool{k}x{label}", "pool": k, "N": n, "D": d, "C": c, "metric": name,
                   "tecore": {"status": "ok", "seconds": 0.0, "per_model": [], "values": []}}
            for name in wanted}
    for i in range(k):
        inputs = make_inputs(n, d, c, seed=args.seed + i, label_seed=args.seed,
                             noise=0.3 * (1 + i / max(k - 1, 1)))
        warm = warmup_subset(inputs)
        for name in wanted:
            t = rows[name]["tecore"]
            if t["status"] != "ok":
                continue
            keys = __import__("tecore").metrics.get(name).inputs
            r = run_timed(_tecore_prepare(name, device=args.device), lambda keys=keys: _fresh(inputs, keys),
                          repeats=1, timeout=args.timeout, mem_gb=args.mem_gb,
                          warm_args=None if args.no_warmup else (lambda keys=keys: _fresh(warm, keys)))
            if r["status"] != "ok":
                t.update(status=r["status"], error=f"model {i + 1}: {r.get('error')}")
            else:
                t["seconds"] += r["seconds"]
                t["per_model"].append(r["seconds"])
                t["values"].append(r["value"])
                if t["seconds"] > args.pool_budget and i < k - 1:
                    t.update(status="over budget",
                             error=f"over the {args.pool_budget:.0f} s budget after {i + 1} of {k} models "
                                   f"({t['seconds']:.0f} s)")
            print(f"[pool {i + 1}/{k}] {name}: {_fmt_res(r)} (total {t['seconds']:.1f} s)", flush=True)
    return list(rows.values())


def _pool_markdown(rows: list[dict], budget: float) -> list[str]:
    out = []
    for size in dict.fromkeys(r["size"] for r in rows):
        rs = [r for r in rows if r["size"] == size]
        r0 = rs[0]
        out += [f"## Pool: {r0['pool']} models, N={r0['N']}, D={r0['D']}, C={r0['C']} (`{size}`)", "",
                f"Time of each metric for the whole pool (sum of its per-model calls); budget "
                f"{budget:.0f} s per metric.", "",
                "| metric | pool total (s) | per model (s), min–max | within budget | notes |",
                "|---|---:|---:|---|---|"]
        for r in rs:
            t = r["tecore"]
            pm = t.get("per_model") or []
            span = f"{min(pm):.3g}–{max(pm):.3g}" if pm else ""
            total = f"{t['seconds']:.1f}" if pm else ""
            within = "yes" if t["status"] == "ok" and t["seconds"] <= budget else "no"
            out.append(f"| {r['metric']} | {total} | {span} | {within} | "
                       f"{'' if t['status'] == 'ok' else str(t.get('error')).replace('|', '/')} |")
        out.append("")
    return out


def _fmt_res(r: dict) -> str:
    if r.get("status") == "ok":
        v = r["value"]
        vs = ", ".join(f"{k}={x:.6g}" for k, x in v.items()) if isinstance(v, dict) else f"{v:.6g}"
        return f"{r['seconds']:.3f} s  value {vs}"
    return f"{r.get('status')}: {r.get('error')}"


# --------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 2 ** 20:.0f} GiB"
    except OSError:
        pass
    return "unknown"


def machine_info(args) -> dict:
    import numpy
    import scipy
    import sklearn

    info = {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{_cpu_model()}, {os.cpu_count()} logical cores, {_mem_gib()} RAM",
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
    }
    try:
        import torch

        info["torch"] = f"{torch.__version__} ({torch.get_num_threads()} threads)"
    except ImportError:
        pass
    try:
        from threadpoolctl import threadpool_info

        info["BLAS"] = "; ".join(f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} threads)"
                                 for p in threadpool_info() if p.get("user_api") == "blas")
    except Exception:  # noqa: BLE001
        pass
    try:
        info["tecore commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                               text=True, cwd=Path(__file__).parent).stdout.strip()
    except OSError:
        pass
    info["nice"] = str(os.nice(0))
    info["command"] = "python benchmarks/metrics_speed.py " + " ".join(sys.argv[1:])
    return info


def _device_info(device) -> str:
    import torch

    from tecore._device import resolve_device

    dev = resolve_device(device)  # ValueError for a CUDA device torch does not see
    if dev.type == "cuda":
        return f"{dev} ({torch.cuda.get_device_name(dev)}, torch {torch.__version__}, CUDA {torch.version.cuda})"
    return f"{dev} (torch {torch.__version__})"


def _cell_time(r: dict | None) -> str:
    if not r:
        return ""
    if r.get("status") == "ok":
        s = r["seconds"]
        return f"{s:.3f}" if s < 10 else f"{s:.1f}"
    return {"timeout": r.get("error", "timeout")}.get(r.get("status"), "—")


def _cell_value(r: dict | None) -> str:
    if not r or r.get("status") != "ok":
        return ""
    v = r["value"]
    if isinstance(v, dict):
        return ", ".join(f"{k} {x:.6g}" for k, x in v.items())
    return f"{v:.6g}"


def _fmt_diff(x: float) -> str:
    return "" if not np.isfinite(x) else ("0" if x == 0 else f"{x:.1e}")


def to_markdown(rows: list[dict], info: dict) -> str:
    out = ["# Metric speed: tecore vs official implementations", ""]
    out += [f"- **{k}**: {v}" for k, v in info.items()]
    out += ["", "Synthetic class-blob features (float32), balanced labels, source probabilities over "
            f"{K_SOURCE} classes; time = minimum over repeats, imports excluded, each call in a fresh "
            "forked process. Speed-up = official time / tecore time. *rel. diff* = |tecore − official| / "
            "|official| (largest over the terms of a pool-level metric); *rel. diff (official mode)* uses "
            "tecore's documented option that reproduces the official behaviour (shown in brackets). "
            "See `benchmarks/README.md`.", ""]
    notes: list[str] = []
    pool_rows = [r for r in rows if "pool" in r]
    rows = [r for r in rows if "pool" not in r]
    sizes = list(dict.fromkeys((r["size"], r["N"], r["D"], r["C"]) for r in rows))
    if any(r.get("bound") for r in rows):
        out += ["*bound* = the time of the metric's dominant LAPACK/BLAS call on the same input "
                "(float64, named in the notes; `BOUNDS` in the script), measured the same way; "
                "*x of bound* = tecore time / bound time.", ""]
    for size, n, d, c in sizes:
        out += [f"## N={n}, D={d}, C={c} (`{size}`)", "",
                "| metric | tecore (s) | official (s) | speed-up | bound (s) | x of bound | tecore value "
                "| official value | rel. diff | rel. diff (official mode) | notes |",
                "|---|---:|---:|---:|---:|---:|---|---|---:|---:|---|"]
        for r in (r for r in rows if r["size"] == size):
            t, o = r.get("tecore"), r.get("official")
            speed = ""
            if t and o and t.get("status") == "ok" and o.get("status") == "ok":
                speed = f"{o['seconds'] / t['seconds']:.1f}×"
            diff = diff_off = float("nan")
            if t and o and t.get("status") == "ok" and o.get("status") == "ok":
                diff = rel_diff(t["value"], o["value"])
                tm = r.get("tecore_official_mode")
                if tm and tm.get("status") == "ok":
                    diff_off = rel_diff(tm["value"], o["value"])
            note = []
            for who, res in (("tecore", t), ("official", o)):
                if res and res.get("status") not in ("ok", None):
                    note.append(f"{who}: {res.get('error')}")
            if r.get("official_where"):
                notes.append(f"`{r['metric']}`: {r['official_where']}")
            opt = ""
            if r.get("official_mode_kwargs") and np.isfinite(diff_off):
                opt = " [" + ", ".join(f"{k}={v}" for k, v in r["official_mode_kwargs"].items()) + "]"
            bd, xb = r.get("bound"), ""
            if bd and bd.get("status") == "ok" and t and t.get("status") == "ok":
                xb = f"{t['seconds'] / bd['seconds']:.1f}×"
            if r.get("bound_what"):
                note.append(f"bound: {r['bound_what']}")
            out.append(f"| {r['metric']} | {_cell_time(t)} | {_cell_time(o)} | {speed} | {_cell_time(bd)} | {xb} | "
                       f"{_cell_value(t)} | {_cell_value(o)} | {_fmt_diff(diff)} | {_fmt_diff(diff_off)}{opt} | "
                       f"{'; '.join(note).replace('|', '/')} |")
        out.append("")
    if pool_rows:
        out += _pool_markdown(pool_rows, float(info.get("pool budget (s)", POOL_BUDGET)))
    if notes:
        out += ["## Official code called", ""] + [f"- {s}" for s in dict.fromkeys(notes)] + [""]
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="*", default=["S", "M", "L"],
                    help="size names (S, M, L) or N,D,C triples (default: S M L; none with --pool: pool only)")
    ap.add_argument("--device", default=None,
                    help="torch device for the metrics that take device= (and the bounds), e.g. cuda; "
                         "default: their numpy CPU path. Disables --mem-gb on CUDA")
    ap.add_argument("--no-bound", action="store_true", help="skip the bound column (dominant LAPACK call)")
    ap.add_argument("--pool", type=int, default=0,
                    help="also time every metric on a pool of this many models (e.g. 10; 0 = off)")
    ap.add_argument("--pool-size", default="L", help="the pool's target size (name or N,D,C; default L)")
    ap.add_argument("--pool-budget", type=float, default=POOL_BUDGET,
                    help="seconds per metric for the whole pool; a metric over it is not timed further")
    ap.add_argument("--metrics", nargs="+", default=None,
                    help="metric names (default: every registered metric + ped+logme)")
    ap.add_argument("--repeats", type=int, default=1, help="timed calls per metric; the minimum is reported")
    ap.add_argument("--official-repeats", type=int, default=None, help="repeats for official code (default: --repeats)")
    ap.add_argument("--official", default=None, help="directory with the official repositories checked out")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds before a call is killed")
    ap.add_argument("--mem-gb", type=float, default=12.0, help="address-space cap per call (0 = none)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-warmup", action="store_true",
                    help="skip the untimed call on a few samples per class (imports, JIT) before timing")
    ap.add_argument("--out", default=None, help="markdown file to write (a .json with the raw results beside it)")
    ap.add_argument("--update", action="store_true",
                    help="merge into the existing --out table: replace the (size, metric) rows this run redid")
    ap.add_argument("--list", action="store_true", help="list the metrics and official adapters, then exit")
    args = ap.parse_args(argv)
    if args.list:
        ok, missing = available_metrics()
        for n in ok + sorted(missing):
            off = OFFICIAL.get(n)
            print(f"{n:18s} {'available' if n in ok else missing[n]:40s} "
                  f"{off.where if off else NO_OFFICIAL.get(n, '-')}")
        return
    if args.device is not None and str(args.device).startswith("cuda"):
        args.mem_gb = 0  # CUDA reserves a large virtual address space: an RLIMIT_AS cap breaks it
    info = machine_info(args)
    if args.device is not None:
        info["device"] = _device_info(args.device)
    if args.pool:
        info["pool budget (s)"] = f"{args.pool_budget:.0f}"
    rows = benchmark(args)
    if args.pool:
        rows += benchmark_pool(args)
    for r in rows:
        r["run"] = f"{info['date']}, tecore {info.get('tecore commit', '?')}"
    if args.update and args.out and Path(args.out).with_suffix(".json").is_file():
        # keep the rows of earlier runs that this run did not redo (same size and metric)
        old = json.loads(Path(args.out).with_suffix(".json").read_text())
        redone = {(r["size"], r["metric"]) for r in rows}
        kept = [r for r in old["rows"] if (r["size"], r["metric"]) not in redone]
        order = {s: i for i, s in enumerate(dict.fromkeys([r["size"] for r in old["rows"]] + [r["size"] for r in rows]))}
        rows = sorted(kept + rows, key=lambda r: (order[r["size"]], r["metric"]))
        runs = sorted({r.get("run", "?") for r in rows})
        if len(runs) > 1:
            info["runs merged"] = "; ".join(runs) + " (per-row run in the .json)"
    md = to_markdown(rows, info)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(md + "\n")
        out.with_suffix(".json").write_text(json.dumps({"info": info, "rows": rows}, indent=1, default=str) + "\n")
        print(f"wrote {out} and {out.with_suffix('.json')}")
    else:
        print(md)


if __name__ == "__main__":
    main()
