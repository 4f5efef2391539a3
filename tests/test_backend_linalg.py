"""device= of the linear-algebra metrics: torch on the CPU equals the numpy path (1e-6
relative) on several shapes (N > D, N < D, C = 2); bad devices are ValueErrors."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tecore import metrics  # noqa: E402
from tecore.metrics import gbc, hscore, logme, ped, transrate  # noqa: E402

SHAPES = [(120, 16, 4), (40, 64, 3), (90, 12, 2)]  # N > D, N < D, C = 2


def _data(n, d, c, seed=0):
    r = np.random.default_rng(seed)
    y = np.arange(n) % c
    X = r.normal(size=(n, d)) + 0.8 * r.normal(size=(c, d))[y] + 0.3
    return X.astype(np.float32), y


CASES = {
    "logme": lambda X, y, **k: logme.logme(X, y, **k),
    "logme_regression": lambda X, y, **k: logme.logme_regression(X, np.stack([y, y ** 2], 1) * 0.1, **k),
    "logme_multilabel": lambda X, y, **k: logme.logme_multilabel(X, np.eye(3)[y % 3], **k),
    "hscore": lambda X, y, **k: hscore.hscore(X, y, **k),
    "shrinkage_hscore": lambda X, y, **k: hscore.shrinkage_hscore(X, y, **k),
    "transrate": lambda X, y, **k: transrate.transrate(X, y, **k),
    "gbc": lambda X, y, **k: gbc.gbc(X, y, n_components=8, **k),
    "gbc_diagonal": lambda X, y, **k: gbc.gbc(X, y, n_components=8, gaussian_type="diagonal", **k),
    "gbc_full": lambda X, y, **k: gbc.gbc(X, y, n_components=4, gaussian_type="full", **k),
    "ped": lambda X, y, **k: ped.ped(X, y, **k),
}


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", list(CASES))
def test_torch_cpu_equals_numpy(name, shape):
    X, y = _data(*shape)
    ref = CASES[name](X, y)
    got = CASES[name](X, y, device="cpu")
    if isinstance(ref, np.ndarray):  # PED returns the refined features
        assert isinstance(got, np.ndarray) and got.shape == ref.shape
        np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-9)
        assert not np.allclose(ref, X)  # the transform did move the classes
    else:
        assert isinstance(got, float)
        assert got == pytest.approx(ref, rel=1e-6)


def test_ped_composition_passes_device():
    X, y = _data(80, 10, 4)
    spec = metrics.get("ped+logme")
    assert spec(X, y, device="cpu") == pytest.approx(spec(X, y), rel=1e-6)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("bad", ["gpu0", 3, "cuda:99"])
def test_bad_device_is_a_value_error(name, bad):
    X, y = _data(40, 6, 2)
    with pytest.raises(ValueError, match="device"):
        CASES[name](X, y, device=bad)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("name", list(CASES))
def test_cuda_without_cuda_is_a_value_error(name):
    X, y = _data(40, 6, 2)
    with pytest.raises(ValueError, match="device"):
        CASES[name](X, y, device="cuda")
