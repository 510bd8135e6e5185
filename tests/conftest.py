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


def tflite_ops_and_ranks(tflite_bytes):
    """Builtin op names and tensor ranks of a converted model (TFLite-lowering tests)."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(tflite_bytes))
    op_names = {flatbuffer_utils.opcode_to_name(model, operator.opcodeIndex)
                for subgraph in model.subgraphs for operator in subgraph.operators}
    ranks = {len(tensor.shape) for subgraph in model.subgraphs for tensor in subgraph.tensors}
    return op_names, ranks
