"""The metric registry and the lazy top-level API."""
import subprocess
import sys

import pytest

import tecore
from tecore import metrics


def test_every_registered_metric_resolves_and_is_documented():
    for name in metrics.names():
        spec = metrics.get(name)
        fn = spec.function
        assert callable(fn), name
        assert fn.__doc__ and len(fn.__doc__) > 80, f"{name} needs a docstring"
        assert spec.reference
        if spec.pool_level:
            assert callable(spec.combiner)


def test_unknown_metric_names_valid_choices():
    with pytest.raises(ValueError, match="valid metrics: .*logme"):
        metrics.get("logmee")


def test_composed_name_resolves_and_rejects_prob_metrics():
    spec = metrics.get("PED+LogME")
    assert spec.transform == "ped" and spec.name == "ped+logme"
    with pytest.raises(ValueError, match="feature-based"):
        metrics.get("ped+leep")
    with pytest.raises(ValueError, match="unknown feature transform"):
        metrics.get("foo+logme")
    assert "ped+gbc" in metrics.names(include_composed=True)


def test_top_level_names_resolve():
    for name in tecore.__all__:
        getattr(tecore, name)


def test_import_is_light():
    code = "import sys, tecore; print('torch' in sys.modules, 'sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
