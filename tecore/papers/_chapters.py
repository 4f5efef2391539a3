"""Small helpers the chapters share (bookkeeping, no TE algorithm)."""
from __future__ import annotations

__all__ = ["check_choices"]


def check_choices(values, valid, what: str) -> list:
    """Validate user choices against a list of valid ones (a notebook's parameters).

    ``values`` may be one value or a list; ``None`` means "all of ``valid``". Returns the
    list of chosen values. An unknown value raises a one-line ``ValueError`` naming the
    valid choices.
    """
    valid = list(valid)
    if values is None:
        return valid
    if isinstance(values, (str, int, float)):
        values = [values]
    values = list(values)
    bad = [v for v in values if v not in valid]
    if bad:
        raise ValueError(f"unknown {what} {', '.join(map(repr, bad))}; valid: {', '.join(map(str, valid))}")
    if not values:
        raise ValueError(f"choose at least one {what}; valid: {', '.join(map(str, valid))}")
    return values
