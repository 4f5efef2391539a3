"""Work shared between metrics of one pool: computed once per model, reused by every metric.

Some metrics contain others: the medical score's per-model terms contain S_LP (``lp``), and
PACTran's two Gaussian-mixture variants start from the same mixture posteriors. When
:func:`tecore.pool.score_pool` scores a pool with several of them, each would recompute the
same NCA fit or mixture on the same features. Inside :func:`sharing` (``score_pool`` enters
it), a function decorated with :func:`shared` computes once per (inputs, hyper-parameters)
and returns the remembered result afterwards; outside it the decorator does nothing.

Inputs are recognised by identity (``is``), not by value: the same array objects, as a pool
passes them to every metric. The remembered inputs are held by the scope, so an identity can
not be reused by another array while it lasts, and the scope ends with the pool. Results are
returned as copies when they are arrays, so no caller can change what another sees.
Hyper-parameters are compared after binding to the signature with its defaults
(``lp(X, y)`` and ``lp(X, y, n_neighbors=5)`` are the same call); a call given a random
generator object is never reused (its state moves on with every call).
"""
from __future__ import annotations

import contextvars
import functools
import inspect
from contextlib import contextmanager

import numpy as np

__all__ = ["sharing", "shared"]

_SCOPE: contextvars.ContextVar = contextvars.ContextVar("tecore_shared_work", default=None)


@contextmanager
def sharing():
    """Remember the results of :func:`shared` functions until the block ends (nested: the
    outer scope is kept)."""
    if _SCOPE.get() is not None:
        yield
        return
    token = _SCOPE.set({})
    try:
        yield
    finally:
        _SCOPE.reset(token)


def _key_part(value):
    """Hashable stand-in of one argument: identity for arrays and other objects, the value
    for numbers, strings, None and tuples of those."""
    if value is None or isinstance(value, (bool, int, float, str, np.generic)):
        return ("v", type(value).__name__, value)
    if isinstance(value, tuple):
        return ("t",) + tuple(_key_part(v) for v in value)
    return ("id", id(value))


def shared(fn):
    """Decorator: inside :func:`sharing`, compute ``fn`` once per inputs and hyper-parameters."""
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        memo = _SCOPE.get()
        if memo is None:
            return fn(*args, **kwargs)
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError:
            return fn(*args, **kwargs)  # the function raises its own error
        bound.apply_defaults()
        values = tuple(bound.arguments.items())
        if any(isinstance(v, (np.random.RandomState, np.random.Generator)) for _, v in values):
            return fn(*args, **kwargs)  # a generator's state moves on every call: never reuse
        key = (fn.__module__, fn.__qualname__) + tuple((k, _key_part(v)) for k, v in values)
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = (values, fn(*args, **kwargs))  # values keep the inputs alive
        out = hit[1]
        return out.copy() if isinstance(out, np.ndarray) else out

    return wrapper
