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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nce_one_pass_check_matches_plain_checks(dtype):
    """NCE's check reads the probabilities once (argmax of the unsigned-integer view and the
    row sums, in blocks of rows): same argmax as numpy's, same errors as the plain checks,
    over several blocks, with ties, zeros, -0.0 and bad entries in any block."""
    from tecore.metrics._checks import _ROWS, check_probs

    n = 2 * _ROWS + 37
    P, y = _probs(5, n, 9, 4)
    P = P.astype(dtype)
    P[3] = 0.0
    P[3, [2, 5]] = 0.5  # a tie: the first one wins, as np.argmax
    P[_ROWS + 1, :] = 1.0 / 9  # all equal
    c = check_probs(P, y, argmax=True)
    np.testing.assert_array_equal(c.argmax, P.argmax(axis=1))
    np.testing.assert_allclose(c.sums, P.astype(np.float64).sum(axis=1), rtol=1e-6)
    keep = P.copy()
    Z = P.copy()
    Z[n - 2] = P[3]
    v = nce(Z, y)
    Z[n - 2, 0] = -0.0  # valid (not negative): the float argmax is recomputed
    assert np.signbit(Z[n - 2, 0]) and nce(Z, y) == v
    np.testing.assert_array_equal(check_probs(Z, y, argmax=True).argmax, Z.argmax(axis=1))
    for row in (0, _ROWS, n - 1):  # first, middle and last (short) block
        for bad, match in ((-1e-30, "negative"), (np.nan, "NaN or inf"), (np.inf, "NaN or inf"),
                           (-np.inf, "NaN or inf")):
            Q = P.copy()
            Q[row, 7] = bad
            with pytest.raises(ValueError, match=match):
                nce(Q, y)
        Q = P.copy()
        Q[row] *= 1.5
        with pytest.raises(ValueError, match="sum to 1"):
            nce(Q, y)
    np.testing.assert_array_equal(P, keep)


def test_encode_labels_fast_path_equals_unique():
    """Small non-negative integer labels are encoded by a bincount lookup: the same codes and
    classes (values and dtype) as np.unique, which still handles the other labels."""
    from tecore.metrics._checks import encode_labels

    rng = np.random.default_rng(0)
    for dt in (np.int64, np.int32, np.uint8, np.uint64):
        for y in (rng.integers(0, 6, 80).astype(dt), (rng.integers(0, 6, 80) * 3 + 7).astype(dt),
                  np.array([4], dtype=dt), np.array([0, 10 ** 6], dtype=dt) if dt not in (np.uint8,) else np.array([0, 255], dt)):
            codes, classes = encode_labels(y)
            ref_classes, ref_codes = np.unique(y, return_inverse=True)
            np.testing.assert_array_equal(codes, ref_codes)
            np.testing.assert_array_equal(classes, ref_classes)
            assert codes.dtype == np.int64 and classes.dtype == ref_classes.dtype
    codes, classes = encode_labels(np.array([-3, 5, -3]))
    np.testing.assert_array_equal(codes, [0, 1, 0])
    np.testing.assert_array_equal(classes, [-3, 5])
