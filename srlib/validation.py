"""Argument checks shared by layers, models, losses, data and training recipes.

Each returns the value it checked (as a Python ``int`` or ``float``), so that a
constructor can write ``self.filters = positive_int(filters, "filters")``, and raises
a ValueError that names the argument and what it received. NumPy integers and floats
pass; ``bool`` does not: it is an ``int`` subclass, and ``True`` would silently mean 1.
"""

import math
import numbers


def _is_integer(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_finite_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def integer_at_least(value, name, minimum):
    """``value`` as an int if it is an integer >= ``minimum``."""
    if not _is_integer(value) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}. Received: {name}={value!r}")
    return int(value)


def positive_int(value, name):
    """``value`` as an int if it is an integer >= 1."""
    if not _is_integer(value) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def scale_factor(value, name="scale"):
    """``value`` as an int if it is an integer upscaling factor >= 2."""
    if not _is_integer(value) or value < 2:
        raise ValueError(f"`{name}` must be an integer >= 2 (the upscaling factor). Received: {name}={value!r}")
    return int(value)


def positive_number(value, name):
    """``value`` as a float if it is a finite number > 0."""
    if not _is_finite_number(value) or value <= 0:
        raise ValueError(f"`{name}` must be a finite number > 0. Received: {name}={value!r}")
    return float(value)


def non_negative_number(value, name):
    """``value`` as a float if it is a finite number >= 0 (a loss weight, a rate that may be off)."""
    if not _is_finite_number(value) or value < 0:
        raise ValueError(f"`{name}` must be a finite number >= 0. Received: {name}={value!r}")
    return float(value)
