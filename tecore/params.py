"""Checks of the chapters' parameters, run in each chapter's first code cell.

A chapter passes every parameter of its ``parameters`` cell to :func:`check`; a bad value
fails there, before any data or model is loaded, with a one-line ``ValueError`` naming the
parameter, what is allowed and what was given. The rules go by parameter name:

================================  ================================================
name                              allowed
================================  ================================================
``per_class``, ``blas_threads``   ``None`` (the whole split; the process's threads) or an integer >= 1
``train_per_class``,              integer >= 1
``test_per_class``, ``n_tasks``,
``n_levels``, ``n_boot``,
``n_jobs``, ``n_components``
``seeds``, ``centre_seeds``       a non-empty list of integers >= 0
``min_classes``/``max_classes``   integers with 2 <= min_classes <= max_classes
``seed``                          integer >= 0
``fold``                          integer >= 1
``finetune``                      ``True`` or ``False``
``image_size``,                   ``None`` (the model's own) or an integer > 0
``offline_image_size``
``alpha``                         number in (0, 1)
``tol``                           finite number >= 0
``claims_margin``                 number in [0, 2) (a difference of weighted tau)
``device``                        ``None`` (CUDA if available, else CPU) or a device
                                  that exists here (``"cpu"``, ``"cuda:0"``, ``"mps"``)
``hyper``, ``offline_hyper``      ``{metric name: {parameter: value}}``: registered
                                  metrics, their parameters, values allowed by the
                                  metric's constraints
``zoo``, ``models``,              a zoo name (a typo lists the zoos), a model name, or
``offline_zoo``                   a list of model names (``models``: ``None`` too)
``probe_Cs``                      positive finite numbers
``targets``, ``datasets``,        ``None``, names (checked by the chapter), or paths
``dataset``                       to an image folder or ``.npz`` that exist
``data_dir``, ``published_dir``,  ``None`` or an existing folder
``imagenet_dir``
``cache_dir``, ``finetune_out``   ``None`` or a folder (created when missing)
``finetune_csv``                  ``None`` or a path (resolved by the chapter)
================================  ================================================

Names without a rule are accepted (the chapter checks them with its own choices, e.g.
:func:`tecore.printed.check_choices`).

>>> from tecore import params
>>> params.check(seed=0, per_class=30, device="cpu")
>>> params.check(seed=-1)
Traceback (most recent call last):
...
ValueError: parameter seed must be an integer >= 0, got -1.
"""
from __future__ import annotations

import inspect
import os
from numbers import Integral, Real
from pathlib import Path

__all__ = ["check", "check_device", "check_hyper", "check_zoo", "check_targets"]


def _rules() -> dict[str, list]:
    from tecore.metrics._checks import Interval, Options

    pos = Interval(Integral, 1, None)
    return {
        "per_class": [None, pos],
        "train_per_class": [pos],
        "test_per_class": [pos],
        "n_tasks": [pos],
        "n_levels": [pos],
        "n_boot": [pos],
        "n_jobs": [pos],
        "n_components": [pos],
        "blas_threads": [None, pos],
        "claims_margin": [Interval(Real, 0, 2, "left")],
        "min_classes": [Interval(Integral, 2, None)],
        "max_classes": [Interval(Integral, 2, None)],
        "seed": [Interval(Integral, 0, None)],
        "fold": [pos],
        "finetune": [Options((True, False))],
        "image_size": [None, pos],
        "offline_image_size": [None, pos],
        "alpha": [Interval(Real, 0, 1, "neither")],
        "tol": [Interval(Real, 0, None)],
    }


def _no_such_path(name: str, value) -> ValueError:
    return ValueError(f"parameter {name}: no such file or folder: {str(value)!r}")


def check_device(device) -> None:
    """``None``, ``"cpu"``, or a torch device that exists on this machine (the rule of
    :func:`tecore._device.resolve_device`, plus MPS availability)."""
    if device is None or str(device) == "cpu":
        return
    from tecore._device import resolve_device

    try:
        dev = resolve_device(device)
    except ValueError as exc:
        raise ValueError(f"parameter device: {exc}") from None
    if dev.type == "mps":
        import torch

        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise ValueError(f"parameter device: {str(device)!r} but MPS is not available here; use 'cpu' or None")
    elif dev.type not in ("cpu", "cuda"):
        raise ValueError(f"parameter device: unsupported device type {dev.type!r}; use 'cpu', 'cuda[:N]', "
                         "'mps' or None")


def check_hyper(hyper, name: str = "hyper") -> None:
    """``{metric: {parameter: value}}``: every key a registered metric, every inner key a
    parameter of that metric, every value allowed by the metric's constraints."""
    from tecore import metrics
    from tecore.metrics._checks import check_param

    param = name
    if hyper is None:
        return
    if not isinstance(hyper, dict):
        raise ValueError(f"parameter {param} must be a dict {{metric: {{parameter: value}}}}, got "
                         f"{type(hyper).__name__}")
    for name, kw in hyper.items():
        try:
            spec = metrics.get(name)
        except ValueError as exc:
            raise ValueError(f"parameter {param}: key {name!r} is not a metric; {str(exc).split('; ', 1)[-1]}") from None
        if not isinstance(kw, dict):
            raise ValueError(f"parameter {param}[{name!r}] must be a dict of keyword arguments, got {kw!r}")
        fn = spec.function
        sig = inspect.signature(fn)
        takes_any = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
        allowed = [p for p, v in sig.parameters.items() if v.kind is v.KEYWORD_ONLY]
        table = getattr(fn, "parameter_constraints", None) or getattr(resolve_base(spec), "parameter_constraints", {})
        for k, v in kw.items():
            if k not in sig.parameters and not takes_any:
                raise ValueError(f"parameter {param}[{name!r}]: {name} has no parameter {k!r}; its parameters: "
                                 f"{', '.join(allowed) or '(none)'}")
            if k in table:
                check_param(v, f"{param}[{name!r}][{k!r}]", table[k], method=None)


def resolve_base(spec):
    """The un-composed function of a registry entry (``"ped+logme"`` -> logme)."""
    from tecore.metrics import resolve

    return resolve(spec.fn)


def check_zoo(zoo, name: str = "zoo") -> None:
    """A zoo name, a model name (``hf-hub:`` / ``local-dir:`` ids included), or a non-empty
    list of model names; a misspelt zoo lists the zoos (not every model)."""
    from tecore import zoo as registry

    def known(m) -> bool:
        try:
            registry.get_spec(m)
        except ValueError:
            return False
        return True

    if isinstance(zoo, str):
        if zoo in registry.list_zoos() or known(zoo):
            return
        raise ValueError(f"parameter {name}: unknown zoo {zoo!r}; valid zoos: {', '.join(registry.list_zoos())} "
                         "(or a model name, or a list of model names)")
    try:
        names = list(zoo)
    except TypeError:
        raise ValueError(f"parameter {name} must be a zoo name or a list of model names, got {zoo!r}") from None
    if not names:
        raise ValueError(f"parameter {name}: choose at least one model")
    for m in names:
        if not known(m):
            raise ValueError(f"parameter {name}: unknown model {m!r}; valid models: {', '.join(registry.list_models())}")


def check_targets(targets, name: str = "targets") -> None:
    """``None``, a name, or a list of data-set names and paths: an entry that is a path by
    the one rule, :func:`tecore.data.is_path`, must exist — "no such file or folder" rather
    than "unknown dataset". Hugging Face sources and names are left to the loader and the
    chapter (a paper's column names, or :func:`tecore.data.get_spec`)."""
    if targets is None:
        return
    from tecore.data import is_path
    from tecore.data.sources import huggingface

    for t in [targets] if isinstance(targets, (str, os.PathLike)) else list(targets):
        if not is_path(t) or huggingface.claims(t):
            continue
        s = str(t)
        path = s.split(":", 1)[1] if s.lower().startswith(("imagefolder:", "npz:")) else s
        if not os.path.exists(os.path.expanduser(path)):
            raise _no_such_path(name, s)


def check(**params) -> None:
    """Check a chapter's parameters by name (see the module docstring for the rules).

    Raises a one-line ``ValueError`` naming the first bad parameter; returns ``None``.
    """
    from tecore.metrics._checks import Interval, check_param

    rules = _rules()
    for name, value in params.items():
        if name in rules:
            check_param(value, name, rules[name])
    if "min_classes" in params and "max_classes" in params and params["min_classes"] > params["max_classes"]:
        raise ValueError(f"parameters min_classes <= max_classes needed, got {params['min_classes']} > "
                         f"{params['max_classes']}")
    if "device" in params:
        check_device(params["device"])
    for name in ("hyper", "offline_hyper"):
        if name in params:
            check_hyper(params[name], name)
    for name in ("zoo", "offline_zoo"):
        if name in params:
            check_zoo(params[name], name)
    for name in ("seeds", "centre_seeds"):
        if name in params:
            v = params[name]
            if isinstance(v, (str, bytes)) or not hasattr(v, "__len__") or not len(v):
                raise ValueError(f"parameter {name} must be a non-empty list of integers >= 0, got {v!r}")
            for s in v:
                check_param(s, f"{name} (each)", [Interval(Integral, 0, None)])
    if params.get("models") is not None:
        check_zoo(params["models"], name="models")
    for c in params.get("probe_Cs") or ():
        check_param(c, "probe_Cs (each)", [Interval(Real, 0, None, "neither")])
    for name in ("targets", "datasets", "dataset"):
        if name in params:
            check_targets(params[name], name)
    for name in ("data_dir", "published_dir", "imagenet_dir"):
        v = params.get(name)
        if v is not None and not Path(v).expanduser().is_dir():
            raise _no_such_path(name, v)
    for name in ("cache_dir", "finetune_out"):
        v = params.get(name)
        if v is not None and Path(v).expanduser().exists() and not Path(v).expanduser().is_dir():
            raise ValueError(f"parameter {name}: {str(v)!r} is a file, not a folder")

