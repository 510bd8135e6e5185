"""Tests of srlib.layers: shapes, values, serialization and TFLite lowering."""

import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import tflite_ops_and_ranks
from srlib import layers, models

# (id, factory, input shape without batch); small shapes keep the file fast.
LAYER_CASES = [
    ("depth_to_space", lambda: layers.DepthToSpace(2), (4, 5, 12)),
    ("sub_pixel_icnr", lambda: layers.SubPixelConv2D(3, channels=2), (4, 5, 6)),
    ("sub_pixel_plain", lambda: layers.SubPixelConv2D(2, channels=3, kernel_size=1, use_icnr=False), (4, 5, 6)),
    ("residual_edsr", lambda: layers.ResidualBlock(8, residual_scaling=0.1), (6, 5, 8)),
    ("residual_srresnet", lambda: layers.ResidualBlock(8, style="srresnet"), (6, 5, 8)),
    ("prelu", lambda: layers.prelu(), (4, 5, 3)),
    ("clip_to_unit", lambda: layers.ClipToUnit(), (4, 5, 3)),
]
EXPECTED_OUTPUT_SHAPES = {
    "depth_to_space": (2, 8, 10, 3),
    "sub_pixel_icnr": (2, 12, 15, 2),
    "sub_pixel_plain": (2, 8, 10, 3),
    "residual_edsr": (2, 6, 5, 8),
    "residual_srresnet": (2, 6, 5, 8),
    "prelu": (2, 4, 5, 3),
    "clip_to_unit": (2, 4, 5, 3),
}
CASE_IDS = [case[0] for case in LAYER_CASES]


def _random_input(shape, seed=0):
    # Values outside [0, 1] so that clipping and PReLU's negative part are exercised.
    return np.random.default_rng(seed).uniform(-0.5, 1.5, size=(2, *shape)).astype("float32")


def _randomize_weights(layer, seed=1):
    # Fresh layers have zero biases, unit BN statistics, ...: randomizing them
    # makes the equality checks below sensitive to every weight.
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(w.dtype) for w in layer.get_weights()])


@pytest.mark.parametrize("case_id, factory, input_shape", LAYER_CASES, ids=CASE_IDS)
def test_output_shape_matches_compute_output_shape(case_id, factory, input_shape):
    layer = factory()
    outputs = layer(_random_input(input_shape))
    assert tuple(outputs.shape) == EXPECTED_OUTPUT_SHAPES[case_id]
    assert tuple(layer.compute_output_shape((2, *input_shape))) == EXPECTED_OUTPUT_SHAPES[case_id]


@pytest.mark.parametrize("case_id, factory, input_shape", LAYER_CASES, ids=CASE_IDS)
def test_from_config_rebuilds_identical_layer(case_id, factory, input_shape):
    inputs = _random_input(input_shape)
    layer = factory()
    layer(inputs)
    _randomize_weights(layer)

    clone = layer.__class__.from_config(layer.get_config())
    clone(inputs)
    clone.set_weights(layer.get_weights())

    assert clone.get_config() == layer.get_config()
    np.testing.assert_array_equal(clone(inputs, training=False), layer(inputs, training=False))


# Every constructor argument set away from its default, so that a get_config that drops one
# (from_config would then silently use the default) cannot pass.
NON_DEFAULT_ARGUMENTS = {
    layers.SubPixelConv2D: dict(scale=3, channels=2, kernel_size=5, use_icnr=False, kernel_initializer="glorot_uniform",
                                bias_initializer="ones", kernel_regularizer=keras.regularizers.L2(1e-3)),
    layers.ResidualBlock: dict(filters=8, kernel_size=5, style="srresnet", residual_scaling=0.5,
                               kernel_initializer="glorot_uniform", kernel_regularizer=keras.regularizers.L2(1e-3),
                               norm_momentum=0.9, norm_epsilon=1e-4),
    layers.DepthToSpace: dict(scale=3),
    models.FIRUpsample: dict(scale=3, method="lanczos3"),
}


@pytest.mark.parametrize("layer_class", list(NON_DEFAULT_ARGUMENTS), ids=lambda cls: cls.__name__)
def test_get_config_keeps_every_constructor_argument(layer_class):
    arguments = NON_DEFAULT_ARGUMENTS[layer_class]
    parameters = set(inspect.signature(layer_class.__init__).parameters) - {"self", "kwargs"}
    assert set(arguments) == parameters, "the table above must set every constructor argument"
    config = layer_class(**arguments).get_config()
    clone_config = layer_class.from_config(config).get_config()
    for name, value in arguments.items():
        if name.endswith("_initializer"):  # configs hold initializers and regularizers serialized
            value = keras.initializers.get(value)
        if name.endswith(("_initializer", "_regularizer")):
            value = keras.saving.serialize_keras_object(value)
        assert config[name] == value, name
        assert clone_config[name] == config[name], name


@pytest.mark.parametrize("case_id, factory, input_shape", LAYER_CASES, ids=CASE_IDS)
def test_functional_model_round_trips_keras_file(case_id, factory, input_shape, tmp_path):
    inputs = keras.Input(input_shape)
    model = keras.Model(inputs, factory()(inputs))
    _randomize_weights(model)
    path = tmp_path / f"{case_id}.keras"
    model.save(path)

    restored = keras.saving.load_model(path)  # safe_mode=True: would reject a Lambda layer

    batch = _random_input(input_shape)
    np.testing.assert_array_equal(restored(batch, training=False), model(batch, training=False))


# --- DepthToSpace ----------------------------------------------------------------------


def test_depth_to_space_follows_tensorflow_channel_order():
    scale, channels = 2, 3
    inputs = np.arange(1 * 2 * 2 * channels * scale**2, dtype="float32").reshape(1, 2, 2, channels * scale**2)
    outputs = keras.ops.convert_to_numpy(layers.DepthToSpace(scale)(inputs))
    # output(h*s + i, w*s + j, c) = input(h, w, (i*s + j)*C + c)
    for h, w, i, j, c in np.ndindex(2, 2, scale, scale, channels):
        assert outputs[0, h * scale + i, w * scale + j, c] == inputs[0, h, w, (i * scale + j) * channels + c]


@pytest.mark.parametrize("scale", [1, 0, -2, 2.0, "2", True, None])
def test_invalid_scale_raises(scale):
    for constructor in (layers.DepthToSpace, lambda s: layers.SubPixelConv2D(s, 3), layers.ICNR):
        with pytest.raises(ValueError, match="scale"):
            constructor(scale)


def test_depth_to_space_rejects_indivisible_channels():
    with pytest.raises(ValueError, match="divisible by scale"):
        layers.DepthToSpace(2)(np.zeros((1, 4, 4, 6), "float32"))


# --- SubPixelConv2D and ICNR --------------------------------------------------------------


def _block_ranges(images, scale):
    """Max - min over every scale x scale output block, shape (N, H/s, W/s, C)."""
    n, height, width, channels = images.shape
    blocks = images.reshape(n, height // scale, scale, width // scale, scale, channels)
    return blocks.max(axis=(2, 4)) - blocks.min(axis=(2, 4))


@pytest.mark.parametrize("scale", [2, 3])
def test_icnr_initial_output_is_nearest_neighbour_upscale(scale):
    keras.utils.set_random_seed(0)
    inputs = _random_input((5, 6, 4))
    layer = layers.SubPixelConv2D(scale, channels=3)
    outputs = keras.ops.convert_to_numpy(layer(inputs))

    assert np.abs(outputs).max() > 0.1  # not trivially constant
    np.testing.assert_allclose(_block_ranges(outputs, scale), 0.0, atol=1e-6)
    # ...and it equals a 3-filter conv with the base kernel, upscaled by repetition.
    base_kernel = keras.ops.convert_to_numpy(layer.conv.kernel)[..., :3]
    low_res = keras.ops.convert_to_numpy(keras.ops.conv(inputs, base_kernel, padding="same"))
    np.testing.assert_allclose(outputs, low_res.repeat(scale, axis=1).repeat(scale, axis=2), atol=1e-5)


def test_without_icnr_initial_blocks_are_not_constant():
    keras.utils.set_random_seed(0)
    outputs = keras.ops.convert_to_numpy(layers.SubPixelConv2D(2, channels=3, use_icnr=False)(_random_input((5, 6, 4))))
    assert _block_ranges(outputs, 2).mean() > 1e-2


def test_icnr_serializes_with_its_base_initializer():
    initializer = layers.ICNR(3, keras.initializers.HeUniform(seed=7))
    restored = keras.initializers.deserialize(keras.initializers.serialize(initializer))
    assert isinstance(restored, layers.ICNR)
    assert restored.scale == 3 and isinstance(restored.initializer, keras.initializers.HeUniform)
    np.testing.assert_array_equal(restored((3, 3, 2, 18)), initializer((3, 3, 2, 18)))


def test_icnr_rejects_kernel_shapes_it_cannot_tile():
    with pytest.raises(ValueError, match="divisible by scale"):
        layers.ICNR(2)((3, 3, 4, 6))
    with pytest.raises(ValueError, match="Conv2D kernel shape"):
        layers.ICNR(2)((4, 8))


@pytest.mark.parametrize("kwargs", [{"channels": 0}, {"channels": 2.5}, {"channels": 3, "kernel_size": 0}])
def test_sub_pixel_conv_rejects_invalid_sizes(kwargs):
    with pytest.raises(ValueError, match="positive integer"):
        layers.SubPixelConv2D(2, **kwargs)


# --- ResidualBlock, prelu, ClipToUnit --------------------------------------------------------


@pytest.mark.parametrize("style", ["edsr", "srresnet"])
def test_residual_block_is_identity_plus_scaled_branch(style):
    block = layers.ResidualBlock(4, style=style, residual_scaling=0.5)
    inputs = _random_input((5, 5, 4))
    block(inputs)
    unscaled = layers.ResidualBlock(4, style=style)
    unscaled(inputs)
    unscaled.set_weights(block.get_weights())

    branch = keras.ops.convert_to_numpy(unscaled(inputs, training=False)) - inputs
    assert np.abs(branch).max() > 1e-3
    np.testing.assert_allclose(block(inputs, training=False), inputs + 0.5 * branch, atol=1e-5)


def test_residual_block_layer_structure():
    edsr = layers.ResidualBlock(4)
    edsr.build((None, None, None, 4))
    assert edsr.norm1 is None and isinstance(edsr.activation, keras.layers.ReLU)
    assert edsr.conv1.use_bias

    srresnet = layers.ResidualBlock(4, style="srresnet")
    srresnet.build((None, None, None, 4))
    assert isinstance(srresnet.norm1, keras.layers.BatchNormalization)
    assert isinstance(srresnet.activation, keras.layers.PReLU)
    assert not srresnet.conv1.use_bias  # redundant before batch norm
    assert len(srresnet.trainable_weights) == 2 + 4 + 1  # kernels, BN gamma/beta, PReLU alpha


def test_residual_block_rejects_invalid_arguments():
    with pytest.raises(ValueError, match="style"):
        layers.ResidualBlock(4, style="rcan")
    with pytest.raises(ValueError, match="must have 4 channels"):
        layers.ResidualBlock(4)(np.zeros((1, 3, 3, 8), "float32"))
    with pytest.raises(ValueError, match="filters"):
        layers.ResidualBlock(0)


@pytest.mark.parametrize("argument, value", [
    ("residual_scaling", float("nan")), ("residual_scaling", -0.1), ("residual_scaling", "x"),
    ("norm_momentum", 5.0), ("norm_momentum", 1.0), ("norm_momentum", -0.1), ("norm_momentum", "x"),
    ("norm_epsilon", 0.0), ("norm_epsilon", float("inf")),
])
def test_residual_block_rejects_invalid_numbers(argument, value):
    with pytest.raises(ValueError, match=rf"`{argument}` must be .* Received: {argument}="):
        layers.ResidualBlock(4, style="srresnet", **{argument: value})


def test_prelu_shares_slopes_over_space():
    layer = layers.prelu()
    outputs = layer(np.array([[[[-2.0, 4.0]]]], "float32"))
    assert tuple(layer.alpha.shape) == (1, 1, 2)
    np.testing.assert_allclose(outputs, [[[[-0.5, 4.0]]]])
    layer(np.zeros((1, 7, 9, 2), "float32"))  # works at another spatial size


def test_clip_to_unit_values():
    outputs = layers.ClipToUnit()(np.array([-0.5, 0.0, 0.3, 1.0, 2.0], "float32"))
    np.testing.assert_array_equal(outputs, np.array([0.0, 0.0, 0.3, 1.0, 1.0], "float32"))


# --- TFLite lowering ----------------------------------------------------------------------------


def test_tflite_conversion_uses_gpu_friendly_ops(tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 3), batch_size=1)
    features = layers.prelu()(keras.layers.Conv2D(8, 3, padding="same")(inputs))
    features = layers.ResidualBlock(8, style="srresnet")(features)
    outputs = layers.ClipToUnit()(layers.SubPixelConv2D(2, channels=3)(features))
    model = keras.Model(inputs, outputs)

    tflite_bytes = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    op_names, ranks = tflite_ops_and_ranks(tflite_bytes)

    assert {"DEPTH_TO_SPACE", "PRELU", "CONV_2D"} <= op_names
    assert not {"RESHAPE", "TRANSPOSE", "FLEX_DELEGATE", "CUSTOM"} & op_names, op_names
    assert max(ranks) <= 4

    interpreter_module = pytest.importorskip("ai_edge_litert.interpreter")
    interpreter = interpreter_module.Interpreter(model_content=tflite_bytes)
    interpreter.allocate_tensors()
    batch = np.random.default_rng(0).uniform(0, 1, (1, 8, 8, 3)).astype("float32")
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], batch)
    interpreter.invoke()
    tflite_outputs = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(tflite_outputs, model(batch, training=False), atol=1e-5)
