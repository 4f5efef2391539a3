"""PED: potential-energy descent, a feature-dynamics transform before any feature metric.

Li et al., *Exploring model transferability through the lens of potential energy*, ICCV 2023
(``../shared/papers/001_515676c2d8a5ac30.txt``); official code lixiaotong97/PED
(``metrics.py``: ``One_Step_PED``, ``PED_Score``).

Every target class is a ball around its mean whose radius is the root of the summed
per-dimension variance of its features. Overlapping balls repel each other like springs
(Hooke's law, F = k · overlap); the classes move for a few small time steps, which mimics how
fine-tuning pulls classes apart, and a feature metric (LogME, SFDA, GBC, …) then scores the
moved features. In tecore it composes by name: ``tecore.get_metric("ped+logme")``.
"""
from __future__ import annotations

import numpy as np

from numbers import Integral, Real

from tecore.metrics._backend import DEVICE, backend
from tecore.metrics._checks import Interval, check_features_labels, validate_params

_POSITIVE = [Interval(Real, 0, None, closed="neither")]
from tecore.metrics._stats import class_means, class_sums

__all__ = ["ped"]


def _class_stats(Xs, y, n_classes: int, xp=np):
    """Class centres (C x D) and ball radii (C,) in standardised space: the radius is the
    root of the summed per-dimension variance (ddof 0)."""
    mu, counts = class_means(Xs, y, n_classes)
    sq = class_sums(Xs * Xs, y, n_classes)
    var = xp.clip(sq / counts[:, None] - mu * mu, min=0.0)
    return mu, xp.sqrt(xp.sum(var, axis=1))


def _step(mu, radius, *, time_step: float, nsigma: float, constant: float, xp=np):
    """One step of the class motion in standardised space: the displacement (C x D) of each
    class (official ``One_Step_PED``) from the class centres and radii."""
    C = mu.shape[0]
    g = mu @ mu.T
    sqn = xp.linalg.diagonal(g)
    d = xp.sqrt(xp.clip(sqn[:, None] + sqn[None, :] - 2 * g, min=0.0))  # centre distances
    overlap = xp.clip(abs(nsigma) * (radius[:, None] + radius[None, :]) - d, min=0.0)
    eye = xp.eye(C, dtype=xp.bool, device=getattr(mu, "device", None))
    overlap = xp.where(eye, 0.0, overlap)
    # displacement magnitude: the distance travelled in one step under F = k * overlap,
    # 1/2 a dt^2, never more than the overlap itself
    move = xp.minimum(0.5 * time_step ** 2 * constant * overlap, overlap)
    pos = d > 0
    W = xp.where(pos, move / xp.where(pos, d, 1.0), 0.0)  # coincident centres have no direction: no push
    # class a moves away from every b: -sum_b W_ab (mu_b - mu_a)
    return -(W @ mu - xp.sum(W, axis=1)[:, None] * mu)


@validate_params({"time_step": _POSITIVE, "nsigma": _POSITIVE, "constant": _POSITIVE,
                  "max_steps": [Interval(Integral, 1, None)], "exit_ratio": [Interval(Real, 0, 1)],
                  "eps": _POSITIVE, **DEVICE}, method="ped")
def ped(features, labels, *, mean=None, std=None, time_step: float = 0.1, nsigma: float = 0.6,
        constant: float = 1.0, max_steps: int = 5, exit_ratio: float = 0.5, eps: float = 1e-3,
        device=None) -> np.ndarray:
    """Potential-energy descent (Li et al. 2023, Algorithm 1): return the refined features.

    The features are standardised with ``mean`` and ``std`` (clipped below at ``eps``). Per
    step, class c has centre :math:`\\mu_c` and radius :math:`R_c = \\sqrt{\\sum_j \\mathrm{var}_j}`
    (ddof 0); two classes whose balls overlap, :math:`\\lambda(R_a + R_b) > d_{ab}`, repel
    with the Hooke force :math:`F = k\\,(\\lambda(R_a+R_b) - d_{ab})` along the line of
    centres, and each class moves by :math:`\\min(\\tfrac12 F\\Delta t^2, \\text{overlap})`
    summed over the classes it overlaps; every sample moves with its class. The motion stops
    after ``max_steps`` steps or as soon as a step's total displacement falls to
    ``exit_ratio`` of the first step's (the step is then not applied).

    Parameters
    ----------
    features, labels : (N, D) target features and (N,) labels.
    mean, std : (D,) feature statistics for the standardisation. The official code uses the
        statistics of the same model's features on the ImageNet validation set ("general
        features", its Appendix B); pass them when you have them. **Fallback:** with none
        given, tecore uses the target features' own mean and standard deviation — the
        official code has no fallback (it raises), so scores then differ from official ones.
    time_step : Δt (0.1). nsigma : λ, the radius multiplier; the paper picks λ ∈ {0.3, 0.6}
        per dataset, the official script defaults to 0.6. constant : the elasticity k (1).
    max_steps : at most this many moves (the paper: 5; the official loop ``while
        number_step < 6`` allows 6 — pass 6 to reproduce it). exit_ratio : ε = 0.5.

    device : ``None`` (numpy) or a torch device: the same arithmetic in torch float64 on
        that device (:mod:`tecore.metrics._backend`); the result is a numpy array either way.
        ``ped+X`` passes its ``device=`` to both the transform and the metric.

    Returns a new float64 array (the input is not modified). Complexity: O(N D) once plus
    O(C² D) per step: a step translates whole classes, so the class radii never change and
    the centres move by the step's displacement — the class statistics are computed once
    (one sparse product), the samples are moved once at the end (the same motion as the
    official per-step update, up to rounding); the C x C x D force tensor of the official
    code is never formed.
    """
    c = check_features_labels(features, labels, method="ped")
    D = c.X.shape[1]

    def stat(v, name, default):
        if v is None:
            return default
        a = np.asarray(v, dtype=np.float64).reshape(-1)
        if a.shape != (D,) or not np.all(np.isfinite(a)):
            raise ValueError(f"{name} must be a finite vector of length {D} (one value per feature)")
        return a

    m = stat(mean, "mean", c.X.mean(axis=0))
    s = np.maximum(stat(std, "std", c.X.std(axis=0)), eps)
    b = backend(device)
    xp = b.xp
    with b.threads():
        X, m, s, yb = b.asarray(c.X), b.asarray(m), b.asarray(s), b.asarray(c.y)
        # every sample moves with its class, so a step translates each class: its centre
        # moves by the displacement and its variance (the radius) does not change. The class
        # statistics are computed once; the steps are C x C x D work; the samples move once.
        mu, radius = _class_stats((X - m) / s, c.y, c.n_classes, xp)
        total_disp = None
        first = None
        for _ in range(max_steps):
            disp = _step(mu, radius, time_step=time_step, nsigma=nsigma, constant=constant, xp=xp)
            total = float(xp.sum(xp.abs(disp)))
            if first is None:
                first = total
                if first == 0.0:  # no class overlaps: nothing moves
                    break
            elif total / first <= exit_ratio:
                break
            mu = mu + disp
            total_disp = disp if total_disp is None else total_disp + disp
        if total_disp is not None:
            X += (total_disp * s)[yb]  # X is the validated private copy
        return b.to_numpy(X)
