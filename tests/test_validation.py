"""The shared argument checks: what passes, what is refused, and what the message names."""

import numpy as np
import pytest

from srlib import validation


@pytest.mark.parametrize("check, value, expected", [
    (validation.positive_int, np.int64(3), 3),
    (validation.scale_factor, np.int32(4), 4),
    (validation.positive_number, np.float32(0.5), 0.5),
    (validation.non_negative_number, 0, 0.0),
])
def test_accepts_numpy_scalars_and_returns_python_numbers(check, value, expected):
    result = check(value, "argument")
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("check, value", [
    (validation.positive_int, True), (validation.positive_int, 0), (validation.positive_int, 2.0),
    (validation.scale_factor, 1), (validation.scale_factor, False),
    (validation.positive_number, 0.0), (validation.positive_number, float("nan")),
    (validation.positive_number, float("inf")), (validation.positive_number, True), (validation.positive_number, "1"),
    (validation.non_negative_number, -1e-9), (validation.non_negative_number, None),
    (validation.positive_number, 10**400),
])
def test_refuses_with_a_message_naming_the_argument(check, value):
    with pytest.raises(ValueError, match=rf"`argument` must be .* Received: argument={value!r}"):
        check(value, "argument")


def test_integer_at_least_names_its_minimum():
    assert validation.integer_at_least(0, "seed", 0) == 0
    with pytest.raises(ValueError, match="`seed` must be an integer >= 0. Received: seed=-1"):
        validation.integer_at_least(-1, "seed", 0)


def test_integer_at_least_adds_what_the_number_means():
    with pytest.raises(ValueError, match=r"`depth` must be an integer >= 2 \(convolutions\). Received: depth=1"):
        validation.integer_at_least(1, "depth", 2, "convolutions")
