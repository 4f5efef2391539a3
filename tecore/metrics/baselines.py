"""The baselines every recent benchmark reports next to the transferability metrics.

* :func:`knn` — leave-one-out k-nearest-neighbour accuracy on the target features, the
  task-aware "kNN" proxy of Renggli et al., *Which model to transfer? Finding the needle in
  the growing haystack*, CVPR 2022 (arXiv 2010.06402), found hard to beat by Sorkhei et al.,
  *k-NN as a simple and effective estimator of transferability* (arXiv 2503.18528, 2025).
* :func:`imagenet_top1` — the task-agnostic baseline: the model's published ImageNet-1k
  top-1 accuracy (the same number for every target), from the zoo's metadata
  (:func:`tecore.zoo.imagenet_top1`: ``ModelSpec.imagenet_top1``, else the table
  ``tecore/zoo_top1.csv`` with each value's source — torchvision's weights metadata or timm's
  ``results-imagenet.csv``).
"""
from __future__ import annotations

import math
from numbers import Integral

import numpy as np

from tecore.metrics._checks import Interval, MetricUnavailable, check_features_labels, validate_params
from tecore.metrics._neighbours import loo_neighbours

__all__ = ["knn", "imagenet_top1"]

_EUCLIDEAN = ("euclidean", "l2", "sqeuclidean")
# tecore's screened search from this size on (measured crossover, D = 768: N ~ 6000; at
# D = 64 scikit-learn stays faster at N = 12 000)
_EXACT_MIN_N, _EXACT_MIN_D = 8192, 256


@validate_params({"n_neighbors": [Interval(Integral, 1, None)], "metric": [str, callable]}, method="knn")
def knn(features, labels, *, n_neighbors: int = 1, metric: str = "euclidean") -> float:
    """Leave-one-out k-NN accuracy of the target labels on the features (higher = better).

    Every sample is classified by a majority vote of its ``n_neighbors`` nearest *other*
    samples (scikit-learn ``NearestNeighbors``; ties between classes go to the smallest
    label, as ``KNeighborsClassifier``); the score is the fraction classified correctly.

    Defaults: k = 1 and the Euclidean distance, the kNN proxy of Renggli et al. (CVPR 2022).
    Leave-one-out on the scoring set replaces their train/validation split so that the
    metric, like the others, needs only one set of features and labels. Same value as
    ``cross_val_score(KNeighborsClassifier(k, metric=metric), X, y, cv=LeaveOneOut())``
    (tested) at the cost of one neighbour search. O(N² D) with brute force.

    Large Euclidean cases (``"euclidean"``, ``"l2"``, ``"sqeuclidean"``: the same
    neighbours; N >= 8192 and D >= 256) run tecore's exact search
    (:mod:`tecore.metrics._neighbours`): each pair once, screened by float32 products, every
    row's candidates then measured in float64 and certified against the float32 rounding
    bound (rows that cannot be certified are redone exactly). The neighbours are those of
    the float64 distance, ties to the smaller index, as scikit-learn's brute force (which
    computes the same distances by the Gram trick: the two can differ only where two
    distances agree to ~1e-13); a quarter of the floating-point operations at twice the
    rate: 43 s -> 19 s at N = 50 000, D = 768 (``benchmarks/results/metrics_speed.md``).
    Smaller cases, where its per-pair bookkeeping costs more than it saves, and other
    metrics go through scikit-learn ``NearestNeighbors``.
    """
    from sklearn.neighbors import NearestNeighbors

    c = check_features_labels(features, labels, method="knn")
    k = int(n_neighbors)
    n = c.X.shape[0]
    if k >= n:
        raise ValueError(f"n_neighbors must be smaller than the number of samples ({n}), got {k}.")
    if isinstance(metric, str) and metric in _EUCLIDEAN and n >= _EXACT_MIN_N and c.X.shape[1] >= _EXACT_MIN_D:
        idx = loo_neighbours(c.X, k)
    else:
        try:
            nn = NearestNeighbors(n_neighbors=k, metric=metric).fit(c.X)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"knn: invalid metric {metric!r}: {exc}") from None
        idx = nn.kneighbors(return_distance=False)  # without the query point itself
    votes = np.zeros((n, c.n_classes))
    np.add.at(votes, (np.repeat(np.arange(n), k), c.y[idx].ravel()), 1.0)
    return float(np.mean(votes.argmax(axis=1) == c.y))


def imagenet_top1(model: str) -> float:
    """The published ImageNet-1k top-1 accuracy (%) of ``model``: the task-agnostic baseline
    ("pick the best ImageNet model", Renggli et al. 2022; the ``imagenet`` row of the
    benchmarks). ``model`` is a zoo name (``"sfda/resnet50"``) or a weights id
    (``"torchvision:ResNet50_Weights.IMAGENET1K_V1"``, ``"timm:resnet18.tv_in1k"``).

    The value comes from :func:`tecore.zoo.imagenet_top1` (the model's
    ``ModelSpec.imagenet_top1``, else ``tecore/zoo_top1.csv``). :func:`tecore.pool.score_pool`
    passes each model's name (``meta["model"]`` of extracted features, else the pool key).
    Where no top-1 is published (self-supervised checkpoints without an ImageNet head,
    unknown models) this raises :class:`MetricUnavailable`, which ``score_pool`` records as
    NaN with the reason in ``note``.
    """
    if not isinstance(model, str):
        raise ValueError(f"model must be a zoo model name (a string), got {model!r}.")
    from tecore import zoo

    found = zoo.imagenet_top1(model)
    if math.isnan(found["imagenet_top1"]):
        raise MetricUnavailable(f"ImageNet top-1 unknown for {model!r}: {found['note']}")
    return found["imagenet_top1"]
