"""TransRate."""
import numpy as np
import pytest

from tecore.metrics.transrate import transrate
from tests._metric_props import blobs, check_common


# Golden values: thuml/Transfer-Learning-Library tllib/ranking/transrate.py, run unchanged.
@pytest.mark.parametrize("seed,n,d,c,ref", [
    (0, 60, 8, 3, 0.93402976980002), (1, 200, 32, 5, 9.323617711580994), (2, 50, 100, 4, 166.14603550116374)])
def test_golden_values(seed, n, d, c, ref):
    r = np.random.default_rng(seed)
    y = np.arange(n) % c
    X = r.normal(size=(n, d)) + 0.5 * r.normal(size=(c, d))[y]
    assert transrate(X, y) == pytest.approx(ref, rel=1e-5)


def test_hand_case_and_properties():
    # one feature, eps = 1: R = 1/2 log(1 + sum z^2 / n)
    X = np.array([[-1.0], [1.0], [-3.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    r_all = 0.5 * np.log(1 + 20 / 4)
    r_c = [0.5 * np.log(1 + 2 / 2), 0.5 * np.log(1 + 18 / 2)]
    assert transrate(X, y, eps=1.0) == pytest.approx(r_all - np.mean(r_c))
    Xb, yb = blobs(5, 90, 10, 3, spread=2.0)
    base = check_common(transrate, Xb, yb)
    assert base > transrate(Xb, np.random.default_rng(1).permutation(yb))
    with pytest.raises(ValueError, match="eps"):
        transrate(Xb, yb, eps=0)


def test_float32_features_use_float32_gram_matrices_to_1e_5():
    # float32 features: float32 Gram matrices (centred and factorised in float64); the value
    # agrees with the float64 computation on the same (float32-valued) features
    r = np.random.default_rng(3)
    y = np.arange(3000) % 20
    X = (r.normal(size=(3000, 64)) @ r.normal(size=(64, 300)) + 0.3 * r.normal(size=(3000, 300))
         + r.normal(size=(20, 300))[y] + 5.0).astype(np.float32)
    ref = transrate(X.astype(np.float64), y)
    assert transrate(X, y) == pytest.approx(ref, rel=1e-5)
    assert transrate(X, y) != ref  # a different (float32) computation, not the same path


def test_centring_in_class_order_equals_a_float64_copy():
    """Features are read in place (read-only, strided, float32 or float64) and centred into
    class order in blocks: the same value as the float64 copy path (float64 to 1e-13;
    float32 input: its Gram matrices in float32), the caller's array untouched; the torch
    path gets a writable array."""
    import warnings

    from tecore.metrics.transrate import _ROWS

    r = np.random.default_rng(7)
    n, c = 3 * _ROWS + 11, 5
    y = r.permutation(np.arange(n) % c)
    X = r.normal(size=(n, 24)) + y[:, None] * 0.5 + 3.0
    Xc = X - X.mean(axis=0)
    order = np.argsort(y, kind="stable")

    def rate(Z):
        k, d = Z.shape
        return 0.5 * np.linalg.slogdet(np.eye(d) + Z.T @ Z / (k * 1e-4))[1]

    ref = rate(Xc) - np.mean([rate(Xc[order][y[order] == k]) for k in range(c)])
    F = np.asfortranarray(X)
    F.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert transrate(F, y) == pytest.approx(ref, rel=1e-12)
        assert transrate(F, y, device="cpu") == pytest.approx(ref, rel=1e-10)
    X32 = X.astype(np.float32)
    keep = X32.copy()
    assert transrate(X32, y) == pytest.approx(ref, rel=1e-5)
    np.testing.assert_array_equal(X32, keep)
    np.testing.assert_array_equal(F, X)
