"""The state of every random number generator a training run draws from, saved and restored.

A resumed run draws the same random numbers as an uninterrupted one only if every generator
it uses continues where it stopped: Python's ``random``, NumPy's global generator,
TensorFlow's global ``tf.random.Generator``, Keras' global ``SeedGenerator`` (what
``keras.random.*`` draws from with ``seed=None``) and the generators a caller names.
:mod:`srlib.checkpoint` stores what :func:`capture` returns and hands it back to
:func:`restore`. ``SeedGenerator`` s owned by layers (``Dropout``) are model variables and
travel with the weights instead.
"""

import random

import keras
import numpy as np
import tensorflow as tf
# Keras has no public handle on its global SeedGenerator (what `keras.random.*` draws
# from when `seed=None`); these are the functions `keras.utils.set_random_seed` uses.
from keras.src.backend.common import global_state
from keras.src.random import seed_generator as keras_seed_generator

# What a caller may name besides the global generators.
GENERATOR_TYPES = (keras.random.SeedGenerator, tf.random.Generator, np.random.Generator)


def capture(generators):
    """The state of the global generators and of ``generators``, split for storage.

    Args:
        generators: dict of names to instances of :data:`GENERATOR_TYPES`; names must be
            usable in an .npz key.

    Returns:
        ``(arrays, record)``: a dict of NumPy arrays keyed ``"rng/python"``, ``"rng/numpy"``,
        ``"rng/tensorflow"``, ``"rng/keras"`` (the last two where those generators exist) and
        ``"rng/generators/<name>"``; and a JSON-serialisable dict of the scalar rest (and of
        the whole state of each ``np.random.Generator``, arrays as NumPy arrays).
    """
    version, internal_state, gauss_next = random.getstate()
    _, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    arrays = {"rng/python": np.asarray(internal_state, np.int64), "rng/numpy": keys}
    record = {"python": {"version": version, "gauss_next": gauss_next},
              "numpy": {"position": int(position), "has_gauss": int(has_gauss),
                        "cached_gaussian": float(cached_gaussian)},
              "generators": {}}
    tf_global = _tf_global_generator()
    if tf_global is not None:
        arrays["rng/tensorflow"] = tf_global.state.numpy()
        record["tensorflow"] = {"algorithm": int(tf_global.algorithm)}
    # Read without creating: creating Keras' global SeedGenerator draws from Python's random.
    keras_global = global_state.get_global_attribute(keras_seed_generator.GLOBAL_SEED_GENERATOR)
    if keras_global is not None:
        arrays["rng/keras"] = keras_global.state.numpy()
    for name, generator in generators.items():
        if isinstance(generator, np.random.Generator):
            record["generators"][name] = generator.bit_generator.state
        else:
            record["generators"][name] = {"npz_key": f"rng/generators/{name}"}
            arrays[f"rng/generators/{name}"] = generator.state.numpy()
    return arrays, record


def restore(record, arrays, generators):
    """Sets every generator to the state :func:`capture` returned as ``(arrays, record)``.

    Args:
        record: the JSON part, as read back.
        arrays: the array part, by key.
        generators: the same names as at capture, bound to this process's generators
            (set in place, so that ``tf.function`` s that captured them see the new state).
    """
    if "rng/keras" in arrays:
        keras_seed_generator.global_seed_generator().state.assign(arrays["rng/keras"])
    else:  # the saving run had none yet: let it be created lazily, as it was there
        global_state.set_global_attribute(keras_seed_generator.GLOBAL_SEED_GENERATOR, None)
    if "rng/tensorflow" in arrays:
        tf_global = _tf_global_generator()
        if tf_global is None:
            tf.random.set_global_generator(tf.random.Generator.from_state(
                arrays["rng/tensorflow"], record["tensorflow"]["algorithm"]))
        else:  # in place, so that tf.functions that captured it see the new state
            tf_global.reset(arrays["rng/tensorflow"])
    for name, generator in generators.items():
        if isinstance(generator, np.random.Generator):
            generator.bit_generator.state = record["generators"][name]
        else:
            generator.state.assign(arrays[f"rng/generators/{name}"])
    numpy_state = record["numpy"]
    np.random.set_state(("MT19937", arrays["rng/numpy"], numpy_state["position"], numpy_state["has_gauss"],
                         numpy_state["cached_gaussian"]))
    # Last: creating Keras' global SeedGenerator above drew from Python's random.
    python_state = record["python"]
    random.setstate((python_state["version"], tuple(int(word) for word in arrays["rng/python"]),
                     python_state["gauss_next"]))


def _tf_global_generator():
    """TensorFlow's global generator, or None where op determinism forbids creating it (so none was used)."""
    try:
        return tf.random.get_global_generator()
    except RuntimeError:
        return None
