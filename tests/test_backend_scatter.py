"""device= of sfda, etran, parc and ncti: torch on the CPU equals the numpy path (1e-6
relative); bad devices are ValueErrors naming ``device``."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tecore.metrics.etran import etran_terms  # noqa: E402
from tecore.metrics.sfda import sfda  # noqa: E402

SHAPES = [(200, 8, 3), (60, 100, 2), (300, 40, 7)]  # incl. N < D and C = 2


def _data(n, d, c, seed=0):
    r = np.random.default_rng(seed)
    y = np.arange(n) % c
    X = (0.4 * r.normal(size=(c, d))[y] + r.normal(size=(n, d))).astype(np.float32)
    return X, y


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kw", [{}, {"official_dtype": True, "official_nth_call": 2}, {"shrinkage": 0.3}])
def test_sfda_torch_equals_numpy(shape, kw):
    X, y = _data(*shape)
    keep = X.copy()
    v = sfda(X, y, **kw)
    assert 0 < v < 1 or v == 1.0
    assert sfda(X, y, device="cpu", **kw) == pytest.approx(v, rel=1e-6)
    np.testing.assert_array_equal(X, keep)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("official", [False, True])
def test_etran_torch_equals_numpy(shape, official):
    X, y = _data(*shape, seed=1)
    a = etran_terms(X, y, official=official)
    b = etran_terms(X, y, official=official, device=torch.device("cpu"))
    assert b["lda"] == pytest.approx(a["lda"], rel=1e-6) and b["energy"] == a["energy"]


@pytest.mark.parametrize("fn", [sfda, etran_terms])
@pytest.mark.parametrize("bad", [3, "gpu", "cuda:x"])
def test_bad_device(fn, bad):
    X, y = _data(60, 5, 3)
    with pytest.raises(ValueError, match="device"):
        fn(X, y, device=bad)


@pytest.mark.skipif(torch.cuda.is_available(), reason="the machine has CUDA")
@pytest.mark.parametrize("fn", [sfda, etran_terms])
def test_cuda_without_cuda(fn):
    X, y = _data(60, 5, 3)
    with pytest.raises(ValueError, match="device"):
        fn(X, y, device="cuda")


# N < D with fewer components than the rank N - 1 (the last component of centred N < D
# features is a null direction whose numerical noise the LDA would see, on either path)
@pytest.mark.parametrize("shape,k", [((200, 8, 3), 64), ((60, 100, 2), 16), ((300, 100, 5), 64),
                                     ((300, 40, 7), 64)])
def test_ncti_torch_equals_numpy(shape, k):
    from tecore.metrics.ncti import ncti_terms

    X, y = _data(*shape, seed=2)
    a = ncti_terms(X, y, n_components=k)
    b = ncti_terms(X, y, n_components=k, device="cpu")
    for k in a:
        assert b[k] == pytest.approx(a[k], rel=1e-6), k


@pytest.mark.parametrize("bad", [3, "gpu"])
def test_ncti_bad_device(bad):
    from tecore.metrics.ncti import ncti_terms

    X, y = _data(60, 5, 3)
    with pytest.raises(ValueError, match="device"):
        ncti_terms(X, y, device=bad)


@pytest.mark.parametrize("shape,dup", [((200, 8, 3), False), ((60, 100, 2), True), ((300, 40, 7), True)])
@pytest.mark.parametrize("dense_max_pairs", [None, 0])
def test_parc_torch_equals_numpy(shape, dup, dense_max_pairs):
    from tecore.metrics import parc as P

    X, y = _data(*shape, seed=3)
    if dup:  # duplicated samples: ties among the correlations
        h = shape[0] // 2
        X[h:2 * h], y[h:2 * h] = X[:h], y[:h]
    A = P._standardise_rows(X.astype(np.float64))
    kw = {} if dense_max_pairs is None else {"dense_max_pairs": dense_max_pairs, "block": 37}
    a = P._spearman_vs_same_class(A, y, **kw)
    b = P._spearman_vs_same_class(A, y, device="cpu", **kw)
    assert b == pytest.approx(a, rel=1e-6)
    assert P.parc(X, y, device="cpu") == pytest.approx(P.parc(X, y), rel=1e-6)


@pytest.mark.parametrize("bad", [3, "gpu"])
def test_parc_bad_device(bad):
    from tecore.metrics.parc import parc

    X, y = _data(60, 5, 3)
    with pytest.raises(ValueError, match="device"):
        parc(X, y, device=bad)
