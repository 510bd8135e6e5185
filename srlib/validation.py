"""Argument checks shared by layers, models, losses, data and training recipes.

Each returns the value it checked (as a Python ``int`` or ``float``), so that a
constructor can write ``self.filters = positive_int(filters, "filters")``, and raises
a ValueError that names the argument and what it received. NumPy integers and floats
pass; ``bool`` does not: it is an ``int`` subclass, and ``True`` would silently mean 1.
"""

import math
import numbers


def is_integer(value):
    """True for Python and NumPy integers, False for ``bool`` and everything else."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_finite_number(value):
    """True for finite Python and NumPy reals (integers included), False for ``bool``, NaN, infinities
    and integers too large for a float."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond float's range: no float argument can hold it
        return False


def _integer(value, name, minimum, requirement):
    if not is_integer(value) or value < minimum:
        raise ValueError(f"`{name}` must be {requirement}. Received: {name}={value!r}")
    return int(value)


def integer_at_least(value, name, minimum, meaning=None):
    """``value`` as an int if it is an integer >= ``minimum``; ``meaning`` joins the message."""
    return _integer(value, name, minimum, f"an integer >= {minimum}" + (f" ({meaning})" if meaning else ""))


def positive_int(value, name):
    """``value`` as an int if it is an integer >= 1."""
    return _integer(value, name, 1, "a positive integer")


def scale_factor(value, name="scale"):
    """``value`` as an int if it is an integer upscaling factor >= 2."""
    return integer_at_least(value, name, 2, "the upscaling factor")


def _finite_number(value, name, zero_allowed):
    if not is_finite_number(value) or value < 0 or (value == 0 and not zero_allowed):
        raise ValueError(f"`{name}` must be a finite number {'>= 0' if zero_allowed else '> 0'}. "
                         f"Received: {name}={value!r}")
    return float(value)


def positive_number(value, name):
    """``value`` as a float if it is a finite number > 0."""
    return _finite_number(value, name, zero_allowed=False)


def non_negative_number(value, name):
    """``value`` as a float if it is a finite number >= 0 (a loss weight, a rate that may be off)."""
    return _finite_number(value, name, zero_allowed=True)
