"""Shared test configuration.

Points tecore's local mirrors at the repository's sibling ``../shared`` folder (the CI
layout) unless the environment already names them, so tests read real files offline.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TECORE_SHARED", ROOT.parent / "shared"))

os.environ.setdefault("TECORE_DATA_MIRROR", str(SHARED / "data"))
os.environ.setdefault("TECORE_PUBLISHED_MIRROR", str(SHARED / "published"))
os.environ.setdefault("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def zoo_registry():
    """Models and zoo groups a test registers are removed afterwards (restored in place: other
    modules hold references to the registry dicts)."""
    from tecore.zoo import registry

    models, groups = dict(registry._REGISTRY), dict(registry._GROUPS)
    yield registry
    registry._REGISTRY.clear()
    registry._REGISTRY.update(models)
    registry._GROUPS.clear()
    registry._GROUPS.update(groups)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def make_blobs(n_per_class=30, n_classes=3, dim=8, sep=3.0, seed=0):
    """Small Gaussian class blobs: features (N, D) float64 and int labels."""
    r = np.random.default_rng(seed)
    centers = r.normal(scale=sep, size=(n_classes, dim))
    X = np.concatenate([c + r.normal(size=(n_per_class, dim)) for c in centers])
    y = np.repeat(np.arange(n_classes), n_per_class)
    return X, y


@pytest.fixture
def blobs():
    return make_blobs()
