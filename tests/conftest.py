"""Shared fixtures: deterministic RNG, and access to the benchmark sets.

The benchmark sets are not in the repository. Tests that need them use
``require_dataset``: skipped on a developer machine without the data, but a
failure under CI (``CI=true``), where ``../shared/datasets`` is always present.
"""

import os

import numpy as np
import pytest

from srlib import datasets


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def require_dataset(name):
    try:
        return datasets.resolve(name, download=False)
    except datasets.DatasetNotFoundError as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"{name} not available locally: {error}")
