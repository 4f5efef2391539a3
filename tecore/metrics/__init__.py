"""The metric registry: one entry per transferability metric.

Every metric is a pure function in one module per method family (``tecore.metrics.<family>``).
The registry maps a name to a :class:`MetricSpec` saying where the function lives, which
inputs it needs, its sign convention, its defaults and its reference. Modules are imported
lazily, so ``import tecore`` stays fast and torch is only imported by the metrics that need it.

Two kinds of entry:

* per-model metrics: ``fn(**inputs, **hyper) -> float``;
* pool-level metrics (NCTI, ETran, the medical LP x FU score): ``fn`` returns a ``dict`` of
  per-model *terms*, and ``combine(terms: DataFrame[model x term]) -> Series`` turns the
  terms of a whole pool of models into one score per model (e.g. min-max normalisation over
  the pool, then a weighted sum). :func:`tecore.pool.score_pool` does both steps.

Feature transforms compose with any feature metric by name: ``"ped+logme"`` applies
:func:`tecore.metrics.ped.ped` to the features, then LogME.

>>> from tecore import metrics
>>> spec = metrics.get("logme")
>>> spec.inputs
('features', 'labels')
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

__all__ = ["MetricSpec", "get", "names", "score", "REGISTRY", "TRANSFORMS", "resolve", "MetricUnavailable"]

from tecore.metrics._checks import MetricUnavailable  # noqa: E402  (numpy only)


def resolve(target: str) -> Callable:
    """Import ``"package.module:function"`` and return the function."""
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


@dataclass(frozen=True)
class MetricSpec:
    """A registered metric.

    Attributes
    ----------
    name: registry name.
    fn: ``"module:function"`` of the per-model function.
    inputs: names of the arrays the function takes, in order: ``features`` (N, D),
        ``probs`` (N, K source-class probabilities), ``labels`` (N,), ``grad_ratio`` (float,
        from :func:`tecore.extract.gradient_ratio`), ``model`` (the model's name, for
        ``imagenet_top1``).
    higher_is_better: the published sign convention. All tecore metrics return "higher means
        transfers better"; an entry with ``False`` documents a method whose raw published
        score is inverted (none at present).
    family: the module / method family.
    reference: the paper and the official implementation the defaults follow.
    defaults: the hyper-parameters and their default values (paper / official code).
    combine: ``"module:function"`` of the pool-level combination, or ``None``.
    needs_torch: whether computing it imports torch.
    targets: ``"classes"`` (class labels, the default) or ``"continuous"`` (regression or
        multi-label targets, e.g. ``logme_regression``); ``experiment.run(metrics="all")``
        uses the ``"classes"`` metrics.
    """

    name: str
    fn: str
    inputs: tuple[str, ...]
    family: str
    reference: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    higher_is_better: bool = True
    combine: str | None = None
    needs_torch: bool = False
    transform: str | None = None  # set for composed entries such as "ped+logme"
    targets: str = "classes"

    @property
    def pool_level(self) -> bool:
        return self.combine is not None

    @property
    def function(self) -> Callable:
        """The per-model function (imported on first use)."""
        base = resolve(self.fn)
        if self.transform is None:
            return base
        tf = resolve(TRANSFORMS[self.transform])

        def composed(features, labels, *args, transform_kwargs: Mapping | None = None, **hyper):
            tk = dict(transform_kwargs or {})
            if "device" in hyper:  # one device for the transform and the metric
                tk.setdefault("device", hyper["device"])
            refined = tf(features, labels, **tk)
            return base(refined, labels, *args, **hyper)

        composed.__name__ = self.name.replace("+", "_")
        composed.__doc__ = (
            f"{self.transform} feature transform followed by {self.fn}. "
            "Hyper-parameters of the transform go in ``transform_kwargs``; ``device=`` goes to both."
        )
        return composed

    @property
    def combiner(self) -> Callable | None:
        return None if self.combine is None else resolve(self.combine)

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)


_F = ("features", "labels")
_P = ("probs", "labels")

_SPECS = [
    MetricSpec(
        "leep", "tecore.metrics.leep:leep", _P, "leep",
        "Nguyen et al., LEEP, ICML 2020; thuml/Transfer-Learning-Library tllib/ranking/leep.py",
    ),
    MetricSpec(
        "nce", "tecore.metrics.leep:nce", _P, "leep",
        "Tran et al., Transferability and hardness of supervised classification tasks, ICCV 2019 "
        "(NCE on source argmax pseudo-labels, as in LEEP's comparison); tllib/ranking/nce.py",
    ),
    MetricSpec(
        "nleep", "tecore.metrics.nleep:nleep", _F, "nleep",
        "Li et al., Ranking neural checkpoints, CVPR 2021; google-research stable_transfer, tllib",
        {"pca_variance": 0.8, "components_per_class": 5, "random_state": 0},
    ),
    MetricSpec(
        "logme", "tecore.metrics.logme:logme", _F, "logme",
        "You et al., LogME, ICML 2021; thuml/LogME LogME.py",
        {"max_iter": 11, "tol": 1e-3},
    ),
    MetricSpec(
        "hscore", "tecore.metrics.hscore:hscore", _F, "hscore",
        "Bao et al., An information-theoretic approach to transferability, ICIP 2019; tllib/ranking/hscore.py",
    ),
    MetricSpec(
        "shrinkage_hscore", "tecore.metrics.hscore:shrinkage_hscore", _F, "hscore",
        "Ibrahim et al., Newer is not always better: rethinking transferability metrics, 2022 "
        "(Ledoit-Wolf shrinkage H-score); tllib/ranking/hscore.py regularized_h_score",
    ),
    MetricSpec(
        "transrate", "tecore.metrics.transrate:transrate", _F, "transrate",
        "Huang et al., Frustratingly easy transferability estimation, ICML 2022; tllib/ranking/transrate.py",
        {"eps": 1e-4},
    ),
    MetricSpec(
        "gbc", "tecore.metrics.gbc:gbc", _F, "gbc",
        "Pandy et al., Transferability estimation using Bhattacharyya class separability, CVPR 2022; "
        "google-research stable_transfer/transferability/gbc.py",
        {"n_components": 64, "gaussian_type": "spherical", "official": False},
    ),
    MetricSpec(
        "parc", "tecore.metrics.parc:parc", _F, "parc",
        "Bolya et al., Scalable diverse model selection for accessible transfer learning, NeurIPS 2021; dbolya/parc "
        "methods.py (PCA settings); 15000-sample cap from the SFDA/NCTI/ETran PARC_Score wrappers",
        {"n_components": 32, "svd_solver": "randomized", "iterated_power": 1, "random_state": 1919,
         "max_samples": 15000},
    ),
    MetricSpec(
        "sfda", "tecore.metrics.sfda:sfda", _F, "sfda",
        "Shao et al., Not all models are equal (SFDA), ECCV 2022; TencentARC/SFDA metrics.py",
    ),
    MetricSpec(
        "ncti", "tecore.metrics.ncti:ncti_terms", _F, "ncti",
        "Wang et al., How far pre-trained models are from neural collapse on the target dataset "
        "informs their transferability (NCTI), ICCV 2023; BUserName/NCTI metrics.py NCTI_Score, "
        "evaluate_metric_group1_cpu.py (combination)",
        {"n_components": 64, "n_shrinkage_components": 32},
        combine="tecore.metrics.ncti:combine",
    ),
    MetricSpec(
        "etran", "tecore.metrics.etran:etran_terms", _F, "etran",
        "Gholami et al., ETran: energy-based transferability estimation, ICCV 2023; mgholamikn/ETran "
        "metrics.py (LDA_Score, Energy_Score), tw.py (0.85/0.15 combination)",
        {"energy_percent": 0.5, "official": False},
        combine="tecore.metrics.etran:combine",
    ),
    MetricSpec(
        "itm", "tecore.metrics.itm:itm", _F, "itm",
        "Generalizable transferability estimation of foundation vision models via implicit learning "
        "(arXiv 2510.23145); no public code, implemented from the paper",
        {"n_iter": 500, "batch_size": 256, "lr": 5e-3, "val_fraction": 0.2, "eval_every": 100,
         "n_steps": 1, "pc_weight": 0.0, "standardize": True, "adaptive": True, "centers": "onehot",
         "eta_base": 0.3, "dis_base": 0.85, "score": "log_likelihood", "select": "last", "random_state": 0},
        needs_torch=True,
    ),
    MetricSpec(
        "lp", "tecore.metrics.nca:lp", _F, "nca",
        "Juodelyte et al., On dataset transferability in medical image classification (arXiv 2412.20172), "
        "S_LP eq. 2; DovileDo/transferability-in-medical-imaging src/metrics.py",
        {"n_components": 50, "n_neighbors": 5, "random_state": 42, "leave_one_out": False},
    ),
    MetricSpec(
        "lp_fu", "tecore.metrics.nca:lp_fu_terms", ("features", "labels", "grad_ratio"), "nca",
        "Juodelyte et al. (arXiv 2412.20172), eqs. 5-6: min-max normalised S_LP x S_FU over the pool",
        {"n_components": 50, "n_neighbors": 5, "random_state": 42, "leave_one_out": False},
        combine="tecore.metrics.nca:combine_lp_fu",
    ),
    MetricSpec(
        "logme_regression", "tecore.metrics.logme:logme_regression", _F, "logme",
        "You et al., LogME, ICML 2021; thuml/LogME LogME.py LogME(regression=True): continuous "
        "targets (N,) or (N, K), or a 0/1 multi-label indicator matrix (thuml/LogME issue #9)",
        {"max_iter": 11, "tol": 1e-3}, targets="continuous",
    ),
    MetricSpec(
        "logme_multilabel", "tecore.metrics.logme:logme_multilabel", _F, "logme",
        "You et al., LogME, ICML 2021; multi-label as label regression, thuml/LogME issue #9 / PR #10",
        {"max_iter": 11, "tol": 1e-3}, targets="continuous",
    ),
    MetricSpec(
        "knn", "tecore.metrics.baselines:knn", _F, "baselines",
        "Renggli et al., Which model to transfer? Finding the needle in the growing haystack, CVPR 2022 "
        "(kNN proxy, k = 1, Euclidean); leave-one-out on the scoring set; scikit-learn NearestNeighbors",
        {"n_neighbors": 1, "metric": "euclidean"},
    ),
    MetricSpec(
        "imagenet_top1", "tecore.metrics.baselines:imagenet_top1", ("model",), "baselines",
        "Task-agnostic baseline (Renggli et al. CVPR 2022): published ImageNet-1k top-1 of each zoo "
        "model, tecore/zoo_top1.csv (torchvision weights metadata, timm results-imagenet.csv)",
    ),
    MetricSpec(
        "pactran_dirichlet", "tecore.metrics.pactran:pactran_dirichlet", _P, "pactran",
        "Ding et al., PACTran, ECCV 2022; google-research/pactran_metrics compute_metrics.py "
        "calculate_pac_dir (negated: higher = better)",
        {"alpha": 1.0},
    ),
    MetricSpec(
        "pactran_gamma", "tecore.metrics.pactran:pactran_gamma", _P, "pactran",
        "Ding et al., PACTran, ECCV 2022; google-research/pactran_metrics calculate_pac_gamma (negated)",
        {"alpha": 1.0},
    ),
    MetricSpec(
        "pactran_gaussian", "tecore.metrics.pactran:pactran_gaussian", _F, "pactran",
        "Ding et al., PACTran, ECCV 2022; google-research/pactran_metrics calculate_pac_gauss (negated; "
        "lda_factor 1 with s2 100 of the official grid)",
        {"lda_factor": 1.0, "s2_factor": 100.0, "max_iter": 100, "tol": 1e-6, "random_state": 0},
    ),
    MetricSpec(
        "pactran_dirichlet_gmm", "tecore.metrics.pactran:pactran_dirichlet_gmm", _F, "pactran",
        "Ding et al., PACTran, ECCV 2022; pactran_metrics pac_ndir: calculate_pac_dir on gmm_estimator "
        "posteriors (negated)",
        {"alpha": 1.0, "pca_variance": 0.8, "random_state": 0},
    ),
    MetricSpec(
        "pactran_gamma_gmm", "tecore.metrics.pactran:pactran_gamma_gmm", _F, "pactran",
        "Ding et al., PACTran, ECCV 2022; pactran_metrics pac_ngam: calculate_pac_gamma on gmm_estimator "
        "posteriors (negated)",
        {"alpha": 1.0, "pca_variance": 0.8, "random_state": 0},
    ),
]

REGISTRY: dict[str, MetricSpec] = {s.name: s for s in _SPECS}

#: Feature transforms that compose with feature metrics as ``"<transform>+<metric>"``.
TRANSFORMS: dict[str, str] = {"ped": "tecore.metrics.ped:ped"}


def names(*, include_composed: bool = False) -> list[str]:
    """Registered metric names (sorted). With ``include_composed``, also every
    ``"<transform>+<feature metric>"`` combination."""
    out = sorted(REGISTRY)
    if include_composed:
        out += sorted(
            f"{t}+{n}" for t in TRANSFORMS for n, s in REGISTRY.items() if s.inputs[:2] == _F
        )
    return out


def get(name: str) -> MetricSpec:
    """Look a metric up by name (case-insensitive); ``"ped+logme"`` composes PED with LogME.

    Raises ValueError naming the valid choices for an unknown name.
    """
    if not isinstance(name, str):
        raise ValueError(f"metric name must be a string, got {name!r}")
    key = name.strip().lower()
    if key in REGISTRY:
        return REGISTRY[key]
    if "+" in key:
        transform, _, base = key.partition("+")
        if transform not in TRANSFORMS:
            raise ValueError(
                f"unknown feature transform {transform!r} in {name!r}; valid transforms: "
                f"{', '.join(sorted(TRANSFORMS))}"
            )
        spec = get(base)
        if spec.inputs[:2] != _F:
            raise ValueError(
                f"{transform!r} transforms features, but {base!r} takes {spec.inputs}; "
                "compose it with a feature-based metric (e.g. 'ped+logme')."
            )
        return replace(spec, name=key, transform=transform)
    raise ValueError(f"unknown metric {name!r}; valid metrics: {', '.join(names())} "
                     f"(and '<transform>+<metric>' with transforms {', '.join(sorted(TRANSFORMS))})")


def score(name: str, *args, **kwargs):
    """Compute metric ``name`` on one model: ``score("logme", features, labels)``.

    For pool-level metrics this returns the per-model terms (a dict); combine a pool's terms
    with :func:`tecore.pool.score_pool`.
    """
    return get(name)(*args, **kwargs)
