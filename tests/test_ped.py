"""PED: potential-energy descent as a feature transform."""
import numpy as np
import pytest

import tecore
from tecore.metrics.ped import _class_stats, _step, ped


def _data(seed, n, d, c):
    r = np.random.default_rng(seed)
    y = np.arange(n) % c
    X = r.normal(size=(n, d)) + 0.7 * r.normal(size=(c, d))[y]
    G = r.normal(size=(200, d)) * 1.5 + 0.3  # stand-in "general" (ImageNet) features
    return X, y, G


# Golden values: lixiaotong97/PED metrics.py (One_Step_PED and the loop of PED_Score with
# general_X=G, nsigma=0.6, time_step=0.1, exit_ratio=0.5), run in a scratch directory and
# stopped before the final scoring so that it returns the refined features; we record
# their sum and sum of squares (the arrays agree to 4e-15 elementwise).
@pytest.mark.parametrize("seed,n,d,c,total,squares", [
    (0, 60, 8, 3, -49.39724671358258, 772.6258434378994),
    (1, 120, 16, 5, 168.26989225134702, 2705.224006329425)])
def test_matches_official_refined_features(seed, n, d, c, total, squares):
    X, y, G = _data(seed, n, d, c)
    Xt = ped(X, y, mean=G.mean(0), std=G.std(0), max_steps=6)  # official loop: up to 6 moves
    assert Xt.sum() == pytest.approx(total, rel=1e-9)
    assert (Xt ** 2).sum() == pytest.approx(squares, rel=1e-9)


def test_two_overlapping_classes_repel_symmetrically():
    # two 1-D classes with centres -0.5 and 0.5, variance 1 each -> radii 1, lambda = 1:
    # overlap = 2 - 1 = 1, move = min(0.5 * 0.1^2 * 1 * 1, 1) = 0.005 in standardised units
    Xs = np.array([[-1.5], [0.5], [-0.5], [1.5]])
    y = np.array([0, 0, 1, 1])  # class 0: {-1.5, 0.5} mean -0.5 var 1; class 1: {-0.5, 1.5} mean 0.5 var 1
    disp = _step(*_class_stats(Xs, y, 2), time_step=0.1, nsigma=1.0, constant=1.0)
    np.testing.assert_allclose(disp[:, 0], [-0.005, 0.005])
    out = ped(Xs, y, mean=[0.0], std=[1.0], nsigma=1.0, max_steps=1)
    np.testing.assert_allclose(out[:, 0], Xs[:, 0] + np.array([-0.005, -0.005, 0.005, 0.005]))


def test_stop_rule_and_no_overlap():
    X, y, _ = _data(0, 60, 8, 3)
    one = ped(X, y, max_steps=1)
    many = ped(X, y, max_steps=50)
    assert not np.allclose(one, X)
    # as classes separate, each step moves less; a step smaller than exit_ratio x the first
    # is not applied and ends the motion
    assert np.array_equal(ped(X, y, exit_ratio=0.99999, max_steps=50), one)
    assert not np.array_equal(many, one)
    far = np.r_[np.zeros((5, 2)), np.full((5, 2), 100.0)] + np.random.default_rng(0).normal(size=(10, 2))
    yy = np.repeat([0, 1], 5)
    np.testing.assert_array_equal(ped(far, yy, mean=[0, 0], std=[1, 1]), far)  # no overlap: no motion


def test_equivariance_invariance_and_inputs():
    X, y, G = _data(2, 90, 6, 3)
    Xc = X.copy()
    out = ped(X, y)
    np.testing.assert_array_equal(X, Xc)
    perm = np.random.default_rng(0).permutation(len(y))
    np.testing.assert_allclose(ped(X[perm], y[perm]), out[perm], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ped(X, np.array(["b", "c", "a"])[y]), out, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="length 6"):
        ped(X, y, mean=np.zeros(5))
    with pytest.raises(ValueError, match="time_step"):
        ped(X, y, time_step=0)
    with pytest.raises(ValueError, match="different lengths"):
        ped(X, y[:-1])


def test_composes_with_feature_metrics_by_name():
    X, y, G = _data(3, 90, 10, 3)
    spec = tecore.get_metric("ped+logme")
    refined = ped(X, y, mean=G.mean(0), std=G.std(0))
    assert spec(X, y, transform_kwargs={"mean": G.mean(0), "std": G.std(0)}) == pytest.approx(tecore.logme(refined, y))
    # separating overlapping classes raises LogME
    assert spec(X, y) > tecore.logme(X, y)
