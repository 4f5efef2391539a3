"""tecore.metrics._neighbours: exact leave-one-out Euclidean neighbours (float32 screening,
float64 re-ranking, certified), against a brute-force float64 search."""
import numpy as np
import pytest

from tecore.metrics import _neighbours
from tecore.metrics._neighbours import loo_neighbours
from tecore.metrics.baselines import knn


def brute(X, k):
    """k nearest other rows by float64 sum((x_i - x_j)^2), ties to the smaller index."""
    n = len(X)
    out = np.empty((n, k), dtype=np.int64)
    idx = np.arange(n)
    for i in range(n):
        d = ((X - X[i]) ** 2).sum(axis=1)
        d[i] = np.inf
        out[i] = np.lexsort((idx, d))[:k]
    return out


def _cases():
    rng = np.random.default_rng(0)
    lattice = np.stack(np.meshgrid(np.arange(7), np.arange(7), np.arange(7)), -1).reshape(-1, 3).astype(float)
    return {
        "gaussian": rng.normal(size=(400, 30)),
        "integers (exact ties)": rng.integers(0, 3, size=(300, 5)).astype(float),
        "duplicated rows": np.repeat(rng.normal(size=(60, 8)), 5, axis=0),
        "large offset": rng.normal(size=(300, 20)) * 1e-3 + 1e4,
        "tiny": rng.normal(size=(200, 10)) * 1e-300,
        "huge (squares overflow)": rng.normal(size=(200, 10)) * 1e200,
        "lattice": lattice,
        "one outlier": np.vstack([rng.normal(size=(299, 6)), np.full((1, 6), 1e6)]),
        "constant": np.ones((30, 4)),
    }


@pytest.mark.parametrize("name", list(_cases()))
@pytest.mark.parametrize("k", [1, 4, 11])
def test_loo_neighbours_is_exact(name, k, monkeypatch):
    X = _cases()[name]
    monkeypatch.setattr(_neighbours, "_block_rows", lambda n, d, K: max(64, K + 1))  # many blocks, both merges
    got = loo_neighbours(X, k)
    if name == "tiny":  # the reference, scaled by powers of two (exact) out of underflow/overflow
        want = brute(X * 2.0 ** 1000, k)
    elif name.startswith("huge"):
        want = brute(X * 2.0 ** -700, k)
    else:
        want = brute(X, k)
    np.testing.assert_array_equal(got, want)
    assert not np.shares_memory(got, X)


def test_uncertified_rows_are_redone(monkeypatch):
    """20 points at the same float32 distance of a query (they differ at 1e-12): the K = 10
    float32 candidates of k = 1 cannot be trusted, the certificate fails, the row is redone
    and gets the true nearest (the one a brute-force float64 search finds)."""
    rng = np.random.default_rng(3)
    d = 16
    u = rng.normal(size=(20, d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    radii = 1.0 + 1e-12 * rng.permutation(20)
    far = rng.normal(size=(200, d)) * 0.01 + 50.0
    X = np.vstack([np.zeros((1, d)), u * radii[:, None], far])
    calls = []
    redo = _neighbours._redo

    def spy(*a, **kw):
        calls.append(a[5].copy())
        return redo(*a, **kw)

    monkeypatch.setattr(_neighbours, "_redo", spy)
    got = loo_neighbours(X, 1)
    np.testing.assert_array_equal(got, brute(X, 1))
    assert got[0, 0] == 1 + int(np.argmin(radii))
    assert calls and 0 in np.concatenate(calls)
    # float32 alone ranks the 20 at random: the nearest is usually not its first choice
    X32 = X.astype(np.float32)
    d32 = ((X32[1:21] - X32[0]) ** 2).sum(axis=1)
    assert np.sum(d32 == d32.min()) > 1 or int(np.argmin(d32)) != int(np.argmin(radii))


def test_knn_uses_the_exact_search_and_matches_sklearn_brute(monkeypatch):
    from sklearn.neighbors import NearestNeighbors

    from tecore.metrics import baselines

    calls = []
    monkeypatch.setattr(baselines, "loo_neighbours", lambda X, k: calls.append(k) or loo_neighbours(X, k))
    # below the size where the screened search pays off, scikit-learn's; at it, tecore's
    X0, y0 = np.random.default_rng(0).normal(size=(60, 5)), np.arange(60) % 3
    knn(X0, y0)
    assert calls == []
    monkeypatch.setattr(baselines, "_EXACT_MIN_N", 0)
    monkeypatch.setattr(baselines, "_EXACT_MIN_D", 0)

    rng = np.random.default_rng(1)
    X = (rng.normal(size=(900, 40)) + 3.0).astype(np.float32)
    y = rng.integers(0, 4, size=900)
    X[:, :10] += y[:, None]
    for k in (1, 5):
        idx = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(X.astype(np.float64)).kneighbors(
            return_distance=False)
        np.testing.assert_array_equal(loo_neighbours(X, k), idx)
        votes = np.zeros((900, 4))
        np.add.at(votes, (np.repeat(np.arange(900), k), y[idx].ravel()), 1.0)
        want = float(np.mean(votes.argmax(axis=1) == y))
        assert knn(X, y, n_neighbors=k) == pytest.approx(want, abs=0)
        assert knn(X, y, n_neighbors=k, metric="sqeuclidean") == knn(X, y, n_neighbors=k)
    assert calls == [1, 1, 1, 5, 5, 5]
    assert knn(X, y, n_neighbors=3, metric="cosine") == baselines.knn(X, y, n_neighbors=3, metric="cosine")
    assert calls == [1, 1, 1, 5, 5, 5]  # other metrics: scikit-learn
    before = X.copy()
    knn(X, y)
    np.testing.assert_array_equal(X, before)
