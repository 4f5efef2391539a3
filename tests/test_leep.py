"""LEEP and NCE from source-class probabilities."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import softmax

from tecore.metrics.leep import leep, nce


def _probs(seed, n, k, c):
    r = np.random.default_rng(seed)
    y = np.arange(n) % c
    P = softmax(r.normal(size=(n, k)) * 2 + np.eye(k)[y % k] * 1.5, axis=1)
    return P, y


def test_hand_computed_case():
    # two samples, two source classes, two target classes
    P = np.array([[0.8, 0.2], [0.3, 0.7]])
    y = np.array([0, 1])
    # joint P(y,z) = [[.4,.1],[.15,.35]]; P(z) = [.55,.45]; P(y|z) = [[.4/.55,.1/.45],[.15/.55,.35/.45]]
    e0 = 0.8 * 0.4 / 0.55 + 0.2 * 0.1 / 0.45
    e1 = 0.3 * 0.15 / 0.55 + 0.7 * 0.35 / 0.45
    assert leep(P, y) == pytest.approx(np.mean(np.log([e0, e1])), rel=1e-12)
    # NCE with z = argmax = [0, 1] -> each z determines y: H(Y|Z) = 0
    assert nce(P, y) == 0.0


# Golden values: thuml/Transfer-Learning-Library tllib/ranking/leep.py
# (log_expected_empirical_prediction) and nce.py (negative_conditional_entropy, on the argmax
# source labels), run unchanged in a scratch directory on these inputs.
@pytest.mark.parametrize("seed,n,c,leep_ref,nce_ref", [
    (0, 60, 3, -0.8706144512515656, -0.7826625868221018),
    (1, 200, 5, -1.4383054977022776, -1.36435469662089),
    (2, 50, 4, -1.115581119077799, -0.8769854076695189)])
def test_golden_values(seed, n, c, leep_ref, nce_ref):
    r = np.random.default_rng(seed)
    y = np.arange(n) % c
    r.normal(size=(n, {0: 8, 1: 32, 2: 100}[seed]))  # the features drawn before (same stream)
    r.normal(size=(c, {0: 8, 1: 32, 2: 100}[seed]))
    P = softmax(r.normal(size=(n, 10)) * 2 + np.eye(10)[y % 10] * 1.5, axis=1)
    assert leep(P, y) == pytest.approx(leep_ref, rel=1e-6)
    assert nce(P, y) == pytest.approx(nce_ref, rel=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 6), st.integers(2, 8))
def test_leep_is_at_least_nce_and_invariant(seed, c, k):
    """LEEP supplement, Theorem 1: LEEP >= NCE(Y|Z) + mean_i log theta(x_i)_{z_i} with Z the
    dummy (argmax) labels; both invariant to sample order and class names."""
    P, y = _probs(seed, 40, k, c)
    v = leep(P, y)
    bound = nce(P, y) + np.mean(np.log(P.max(axis=1)))
    assert v >= bound - 1e-12 and v <= 0
    perm = np.random.default_rng(seed).permutation(40)
    assert leep(P[perm], y[perm]) == pytest.approx(v, rel=1e-10)
    assert leep(P, np.array(list("abcdef"))[y]) == pytest.approx(v, rel=1e-10)


def test_bad_inputs_and_no_mutation():
    P, y = _probs(0, 30, 5, 3)
    Pc = P.copy()
    leep(P, y)
    np.testing.assert_array_equal(P, Pc)
    with pytest.raises(ValueError, match="logits"):
        leep(np.log(P), y)
    with pytest.raises(ValueError, match="sum to 1"):
        leep(P * 2, y)
    with pytest.raises(ValueError, match="different lengths"):
        nce(P, y[:-1])
    with pytest.raises(ValueError, match="at least 2 classes"):
        leep(P, np.zeros(30, int))


def test_float32_probs_read_in_place_same_value():
    """The cheap path never copies float32 probabilities to float64 and never writes them;
    the float32 arithmetic agrees with float64 to 1e-6 relative."""
    from tecore.metrics._checks import check_probs

    P, y = _probs(3, 400, 50, 7)
    P32 = P.astype(np.float32)
    c = check_probs(P32, y, argmax=True)
    assert c.P.dtype == np.float32 and np.shares_memory(c.P, P32) and not c.P.flags.writeable
    assert P32.flags.writeable  # the caller's array keeps its flags
    np.testing.assert_array_equal(c.argmax, P32.argmax(axis=1))
    keep = P32.copy()
    assert leep(P32, y) == pytest.approx(leep(P32.astype(np.float64), y), rel=1e-6)
    assert nce(P32, y) == pytest.approx(nce(P32.astype(np.float64), y), rel=1e-12)
    np.testing.assert_array_equal(P32, keep)


@pytest.mark.parametrize("bad,match", [(np.nan, "NaN or inf"), (np.inf, "NaN or inf"), (-np.inf, "NaN or inf")])
def test_nonfinite_probs_named(bad, match):
    P, y = _probs(0, 30, 5, 3)
    P = P.astype(np.float32)
    P[4, 1] = bad
    for f in (leep, nce):
        with pytest.raises(ValueError, match=match):
            f(P, y)
