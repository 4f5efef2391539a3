"""Hostile inputs to the metrics (issue 8, parts 5 and 6): each gives a correct finite value
or a ValueError that says what is wrong — never a silent NaN/inf or a wrong number.

Every test holds the reproducer of the failure it guards against (the value main returned
before is in the comment)."""
from __future__ import annotations

import inspect
import math
import re

import numpy as np
import pandas as pd
import pytest

from tecore import metrics
from tecore.metrics import etran, hscore, logme, ncti, nleep, sfda, transrate
from tecore.metrics._checks import encode_labels

NAN, INF = float("nan"), float("inf")


def _blobs(n=30, d=5, c=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % c
    return rng.normal(size=(n, d)) + 2.0 * np.eye(c, d)[y], y


# ---------------------------------------------------------------- part 5: numerics
SINGULAR_SCATTER = {
    "one sample per class": (np.random.default_rng(1).normal(size=(3, 5)), [0, 1, 2]),
    "identical rows": (np.ones((30, 5)), np.arange(30) % 3),
    "dead features": (np.zeros((30, 5)), np.arange(30) % 3),
    "N = 2": (np.random.default_rng(2).normal(size=(2, 5)), [0, 1]),
}


@pytest.mark.parametrize("case", sorted(SINGULAR_SCATTER))
@pytest.mark.parametrize("fn", [sfda.sfda, lambda X, y: etran.etran_terms(X, y)["lda"]], ids=["sfda", "etran"])
def test_singular_within_class_scatter_is_an_error_not_nan(fn, case):
    X, y = SINGULAR_SCATTER[case]
    # main: nan for every case
    with pytest.raises(ValueError, match="within-class scatter is zero"):
        fn(X, y)


def test_sfda_with_some_dead_features_is_finite_and_ignores_them():
    X, y = _blobs()
    dead = np.c_[X, np.zeros((30, 3))]
    v = sfda.sfda(dead, y)
    assert 0 < v <= 1
    assert v == pytest.approx(sfda.sfda(X, y), abs=0.05)


@pytest.mark.parametrize("scale", [0.0])
def test_logme_all_zero_features_is_an_error(scale):
    X, y = _blobs()
    with pytest.raises(ValueError, match="all zero"):  # main: -inf
        logme.logme(scale * X, y)
    with pytest.raises(ValueError, match="all zero"):  # N <= D, main: nan
        logme.logme(np.zeros((10, 20)), np.arange(10) % 2)


def test_logme_tiny_features_are_finite_and_scale_free():
    X, y = _blobs()
    assert math.isfinite(logme.logme(1e-12 * X, y))  # main: -inf (all s below the cut 1e-10)
    # with every direction kept, the evidence maximised over alpha does not depend on the
    # scale of the features (alpha absorbs it; the official 11 iterations from alpha = beta = 1
    # are not quite converged at 1e-12, so compare converged values)
    conv = dict(max_iter=1000, tol=1e-12)
    assert logme.logme(1e-12 * X, y, **conv) == pytest.approx(logme.logme(X, y, **conv), abs=1e-8)


def test_logme_large_offset_is_smooth_in_the_offset():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 64)), rng.integers(0, 3, 200)
    # main: -0.7196, -0.5585, +0.3560 for offsets 1e5, 1e7, 1e9 (the Gram matrix lost the small
    # singular values). The offset adds one huge direction: the value moves by the same amount
    # for every factor 100 of the offset (the D/2 log(alpha) term of that direction).
    v = [logme.logme(X + off, y) for off in (1e5, 1e7, 1e9)]
    assert all(map(math.isfinite, v))
    assert v[1] - v[0] == pytest.approx(v[2] - v[1], abs=1e-4)
    assert abs(v[1] - v[0]) < 0.1


def test_logme_rank_deficient_features_do_not_depend_on_row_order():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(200, 8)) @ rng.normal(size=(8, 64))  # rank 8 in 64 dimensions
    y = rng.integers(0, 4, 200)
    vals = []
    for s in range(3):
        p = np.random.default_rng(s).permutation(200)
        vals.append(logme.logme(Z[p], y[p]))  # main: 0.228, 0.170, 0.113
    assert max(vals) - min(vals) < 1e-8, vals
    # and it equals LogME on the 8 independent directions (plus the D/2 log(alpha) term)
    assert math.isfinite(vals[0])


def test_logme_well_conditioned_values_unchanged_by_the_relative_cut():
    # on well-conditioned features the relative cut keeps every direction, like the official
    # absolute cut: this is the value of the official formula, computed independently here
    X, y = _blobs(60, 5, 3)
    u, s, _ = np.linalg.svd(X, full_matrices=False)
    assert s[-1] / s[0] > 1e-3
    Y = np.eye(3)[y]
    N, D = X.shape
    ev = []
    for c in range(3):
        x2 = (u.T @ Y[:, c]) ** 2
        res_x2 = Y[:, c] @ Y[:, c] - x2.sum()
        sig = s ** 2
        a, b = 1.0, 1.0
        for _ in range(11):
            t = a / b
            gamma = np.sum(sig / (sig + t))
            m2 = np.sum(sig * x2 / (t + sig) ** 2)
            r2 = np.sum(x2 / (1 + sig / t) ** 2) + res_x2
            a, b = gamma / (m2 + 1e-5), (N - gamma) / (r2 + 1e-5)
            if abs(a / b - t) / t <= 1e-3:
                break
        ev.append((D / 2 * np.log(a) + N / 2 * np.log(b) - 0.5 * np.sum(np.log(a + b * sig))
                   - b / 2 * r2 - a / 2 * m2 - N / 2 * np.log(2 * np.pi)) / N)
    assert logme.logme(X, y) == pytest.approx(np.mean(ev), rel=1e-10)


def test_transrate_huge_features_finite_and_row_order_free():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(100, 20)), rng.integers(0, 3, 100)
    ref = transrate.transrate(X * 1e100, y)  # representable: tllib's formula works
    for s in range(3):
        p = np.random.default_rng(s).permutation(100)
        v = transrate.transrate(X[p] * 1e200, y[p])  # main: nan (Gram matrix overflows)
        # every class has more samples than dimensions: the log(scale) terms cancel and the
        # value is the same at any large scale
        assert v == pytest.approx(ref, rel=1e-9)


def test_transrate_tiny_features_finite():
    X, y = _blobs(60, 8)
    v = transrate.transrate(1e-200 * X, y)
    assert v == pytest.approx(0.0, abs=1e-12)


# ---------------------------------------------------------------- part 6: parameters
BAD_HYPER = [
    # (metric, parameter, bad value); the comment is what main did
    ("hscore", "rcond", NAN),  # returned 0.0
    ("hscore", "rcond", -1.0),
    ("shrinkage_hscore", "rcond", NAN),  # ignored
    ("transrate", "eps", INF),  # returned 0.0
    ("transrate", "eps", 0.0),
    ("logme", "tol", NAN),  # ran
    ("logme", "max_iter", 2.5),
    ("logme", "max_iter", True),
    ("sfda", "shrinkage", NAN),
    ("sfda", "official_dtype", "yes"),
    ("nleep", "pca_variance", NAN),
    ("nleep", "components_per_class", 0),
    ("nleep", "random_state", -1),
    ("nleep", "covariance_type", "ful"),
    ("gbc", "var_floor", INF),
    ("gbc", "n_components", 0),
    ("gbc", "gaussian_type", "sphere"),
    ("parc", "n_components", -3),
    ("parc", "svd_solver", "fast"),
    ("ncti", "n_components", NAN),
    ("etran", "energy_percent", NAN),
    ("lp", "n_neighbors", 0),
    ("lp", "random_state", "seed"),
]


@pytest.mark.parametrize("name,param,value", BAD_HYPER, ids=[f"{m}-{p}-{v}" for m, p, v in BAD_HYPER])
def test_bad_hyper_parameter_names_the_parameter(name, param, value):
    X, y = _blobs(60, 6, 3)
    with pytest.raises(ValueError, match=rf"parameter {param} must be .*got {re.escape(repr(value))}"):
        metrics.get(name)(X, y, **{param: value})


def test_ped_hyper_parameters_validated():
    from tecore.metrics.ped import ped

    X, y = _blobs()
    for p, v in [("nsigma", NAN), ("time_step", -1.0), ("max_steps", 0), ("exit_ratio", 2.0)]:
        with pytest.raises(ValueError, match=f"parameter {p} must be"):
            ped(X, y, **{p: v})


def test_numpy_scalars_print_as_plain_numbers():
    X, y = _blobs(60, 6, 3)
    with pytest.raises(ValueError) as e:
        logme.logme(X, y, max_iter=np.int64(0))
    assert "np.int64" not in str(e.value) and "got 0." in str(e.value)
    with pytest.raises(ValueError) as e:  # too few samples per class names the class plainly
        from tecore.metrics._checks import check_features_labels

        check_features_labels(X[:4], np.array([1, 1, 1, 2]), min_per_class=2)
    assert "np." not in str(e.value) and "2: 1" in str(e.value)


def test_every_metric_declares_its_hyper_parameter_constraints():
    missing = {}
    for name in metrics.names():
        fn = metrics.get(name).function
        table = getattr(fn, "parameter_constraints", {})
        kw = [p for p, v in inspect.signature(fn).parameters.items() if v.kind is v.KEYWORD_ONLY]
        if set(kw) - set(table):
            missing[name] = sorted(set(kw) - set(table))
    assert not missing, f"keyword parameters without constraints: {missing}"


def test_nan_etran_combine_weight_is_an_error():
    T = pd.DataFrame({"lda": [0.1, 0.5, 0.3], "energy": [1.0, 2.0, 3.0]}, index=list("abc"))
    with pytest.raises(ValueError, match=r"weights\['lda'\]"):  # main: every score NaN
        etran.combine(T, weights={"lda": NAN, "energy": 0.15})


def test_ncti_constant_features_explained_not_linalgerror():
    y = np.arange(30) % 3
    with pytest.raises(ValueError, match="constant"):  # main: LinAlgError "leading minor ..."
        ncti.ncti_terms(np.ones((30, 5)), y)


def test_nleep_collapsed_mixture_does_not_mention_reg_covar():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    X[:30] = X[0]  # half the samples duplicated
    with pytest.raises(ValueError) as e:  # main: sklearn's "... increase reg_covar ..."
        nleep.nleep(X * 1e6, np.repeat([0, 1], 30))
    msg = str(e.value)
    assert "reg_covar" not in msg and "nleep" in msg and "components_per_class" in msg


@pytest.mark.parametrize("labels", [[1, "1", 2, "2"], np.array([1, "1", 2, "2"], dtype=object),
                                    pd.Series([1, "1", 2, "2"])])
def test_mixed_string_and_number_labels_are_not_merged(labels):
    # main: encoded as two classes {"1", "2"}
    with pytest.raises(ValueError, match="mix strings and numbers"):
        encode_labels(labels)
    with pytest.raises(ValueError, match="mix strings and numbers"):
        sfda.sfda(np.random.default_rng(0).normal(size=(4, 3)), labels)


def test_uniform_labels_still_fine():
    assert encode_labels(["b", "a", "b"])[0].tolist() == [1, 0, 1]
    assert encode_labels([3, 1, 3])[0].tolist() == [1, 0, 1]
    assert encode_labels(np.array(["x", "y"], dtype=object))[1].tolist() == ["x", "y"]


def test_evaluate_messages_print_plain_numbers():
    from tecore import evaluate

    with pytest.raises(ValueError) as e:  # main: "got np.int64(0)"
        evaluate.top_k_hit([0.1, 0.2, 0.3], [1.0, 2.0, 3.0], k=np.int64(0))
    assert "np.int64" not in str(e.value) and "got 0." in str(e.value)


def test_shrinkage_hscore_uses_rcond():
    X, y = _blobs(60, 6, 3)
    # main: the Cholesky path ignored rcond, both values equal
    assert hscore.shrinkage_hscore(X, y, rcond=0.5) != pytest.approx(hscore.shrinkage_hscore(X, y), rel=1e-6)
    # tiny rcond: the pseudo-inverse drops nothing, the Cholesky value is tllib's pinv value
    Xc = X - X.mean(axis=0)
    cov, alpha = hscore.ledoit_wolf_centered(Xc)
    means = np.stack([Xc[y == c].mean(axis=0) for c in range(3)])
    d = (means - Xc.mean(axis=0)) * np.sqrt(np.bincount(y))[:, None]
    ref = (1 - alpha) * np.trace(np.linalg.pinv(cov, rcond=1e-15) @ (d.T @ d)) / (len(X) - 1)
    assert hscore.shrinkage_hscore(X, y) == pytest.approx(ref, rel=1e-9)
