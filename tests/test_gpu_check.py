"""Tests of srlib.gpu_check: known-bad graphs are rejected, every srlib export passes."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from srlib import export, gpu_check, models
from conftest import tflite_ops_and_ranks

# Small configurations: the rules do not depend on depth or width.
EXPORT_CASES = [("espcn", 3, {}), ("fsrcnn", 3, {"d": 16, "m": 2}), ("sp_vdsr", 2, {}),
                ("sp_vdsr_nearest", 2, {}), ("sp_vdsr_second_input", 2, {}), ("srcnn", 2, {"filters": (16, 8)}),
                ("vdsr", 2, {"depth": 4, "filters": 8})]


def _convert_keras(model, supported_ops=(tf.lite.OpsSet.TFLITE_BUILTINS,)):
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.target_spec.supported_ops = list(supported_ops)
    return converter.convert()


def _convert_function(function, input_shape):
    concrete = tf.function(function, input_signature=[tf.TensorSpec(input_shape, tf.float32)]).get_concrete_function()
    return tf.lite.TFLiteConverter.from_concrete_functions([concrete]).convert()


def _write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _reasons(violations, op_name=None):
    return " | ".join(v.reason for v in violations if op_name is None or v.op_name == op_name)


@pytest.mark.parametrize("mode", ["float32", "float16"])
@pytest.mark.parametrize("name, scale, kwargs", EXPORT_CASES, ids=[case[0] for case in EXPORT_CASES])
def test_every_exported_srlib_model_passes(tmp_path, name, scale, kwargs, mode, capsys):
    keras.utils.set_random_seed(0)
    model = models.build(name, scale, **kwargs)
    path = tmp_path / f"{name}.tflite"
    # export.convert is export_tflite without the card (no latency timing): the same bytes.
    path.write_bytes(export.convert(model, (16, 16), mode, scale=scale))
    assert gpu_check.check_gpu_compatibility(path) == []
    assert gpu_check.run_check_gpu(path) == 0
    assert "all supported" in capsys.readouterr().out


def test_rank_six_pixel_shuffle_is_rejected(tmp_path):
    class ReshapePixelShuffle(keras.layers.Layer):  # the PyTorch-style shuffle through a rank-6 tensor
        def call(self, x):
            x = ops.reshape(x, (1, 8, 8, 2, 2, 1))
            x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
            return ops.reshape(x, (1, 16, 16, 1))

    inputs = keras.Input((8, 8, 1), batch_size=1)
    outputs = ReshapePixelShuffle()(keras.layers.Conv2D(4, 3, padding="same")(inputs))
    path = _write(tmp_path, "shuffle.tflite", _convert_keras(keras.Model(inputs, outputs)))
    violations = gpu_check.check_gpu_compatibility(path)
    assert any("rank 6" in v.reason for v in violations), violations
    assert {v.op_name for v in violations} & {"RESHAPE", "TRANSPOSE"}


def test_keras_deconvolution_activation_stays_a_separate_op(tmp_path):
    # Documented converter behaviour in TF 2.21: Keras 3's Conv2DTranspose(activation="relu") is NOT fused
    # (TRANSPOSE_CONV v1 + RELU), which the delegate accepts. The fused case is built below with tf.nn.
    inputs = keras.Input((8, 8, 4), batch_size=1)
    outputs = keras.layers.Conv2DTranspose(1, 9, strides=3, padding="same", activation="relu")(inputs)
    path = _write(tmp_path, "deconv_keras.tflite", _convert_keras(keras.Model(inputs, outputs)))
    names = [name for name, _ in gpu_check.op_list(gpu_check.read_tflite(path))]
    assert names == ["TRANSPOSE_CONV", "RELU"]
    assert gpu_check.check_gpu_compatibility(path) == []


def test_deconvolution_with_fused_relu_is_rejected(tmp_path):
    kernel = tf.constant(np.random.default_rng(0).normal(size=(9, 9, 1, 4)).astype("float32"))

    def deconvolution_relu(x):
        y = tf.nn.conv2d_transpose(x, kernel, (1, 24, 24, 1), strides=3, padding="SAME")
        return tf.nn.relu(tf.nn.bias_add(y, tf.constant([0.1])))

    path = _write(tmp_path, "deconv_relu.tflite", _convert_function(deconvolution_relu, (1, 8, 8, 4)))
    assert gpu_check.op_list(gpu_check.read_tflite(path)) == [("TRANSPOSE_CONV", 4)]  # the converter fused it
    violations = gpu_check.check_gpu_compatibility(path)
    assert [v.op_name for v in violations] == ["TRANSPOSE_CONV"]
    assert "fused activation RELU" in violations[0].reason


class _Bicubic(keras.layers.Layer):
    def call(self, x):
        return tf.image.resize(x, (16, 16), method="bicubic")


def test_bicubic_resize_has_no_builtin_and_its_flex_op_is_rejected(tmp_path):
    inputs = keras.Input((8, 8, 1), batch_size=1)
    model = keras.Model(inputs, _Bicubic()(inputs))
    with pytest.raises(Exception, match="ResizeBicubic"):  # builtins only: the converter refuses
        _convert_keras(model)
    # Only to create the bad file: SELECT_TF_OPS turns it into a Flex op.
    flex = _convert_keras(model, (tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS))
    violations = gpu_check.check_gpu_compatibility(_write(tmp_path, "bicubic.tflite", flex))
    assert [v.op_name for v in violations] == ["FlexResizeBicubic"]
    assert "Flex" in violations[0].reason


def test_dynamic_batch_is_rejected(tmp_path, capsys):
    inputs = keras.Input((8, 8, 1))  # batch None: shape_signature [-1, 8, 8, 1]
    model = keras.Model(inputs, keras.layers.Conv2D(4, 3, padding="same")(inputs))
    path = _write(tmp_path, "dynamic.tflite", _convert_keras(model))
    violations = gpu_check.check_gpu_compatibility(path)
    assert violations and all("dynamic shape" in v.reason for v in violations)
    assert gpu_check.run_check_gpu(path) == 1
    output = capsys.readouterr().out
    assert "op 0 CONV_2D" in output and "violations" in output


def test_rules_on_hand_built_ops(tmp_path):
    def graph(x):
        batch_two = tf.concat([x, x], axis=0)  # batch 2 somewhere in the graph
        padded = tf.pad(batch_two, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="SYMMETRIC")
        resized = tf.compat.v1.image.resize_bilinear(padded, (20, 20), align_corners=True)
        return tf.nn.space_to_depth(resized, 2)

    path = _write(tmp_path, "mixed.tflite", _convert_function(graph, (1, 8, 8, 1)))
    reasons = _reasons(gpu_check.check_gpu_compatibility(path))
    assert "MIRROR_PAD mode SYMMETRIC" in reasons
    assert "batch 2" in reasons


def test_int8_export_is_reported_unless_quantized_ok(tmp_path):
    keras.utils.set_random_seed(0)
    model = models.build("espcn", 3, filters=(8, 8))
    rng = np.random.default_rng(0)
    calibration = [rng.integers(0, 256, (32, 32, 3), dtype=np.uint8) for _ in range(2)]
    path = _write(tmp_path, "espcn_int8.tflite", export.convert(model, (16, 16), "int8", calibration))
    violations = gpu_check.check_gpu_compatibility(path)
    assert {"QUANTIZE", "DEQUANTIZE"} <= {v.op_name for v in violations}
    assert "INT8" in _reasons(violations)
    assert gpu_check.check_gpu_compatibility(path, quantized_ok=True) == []


def test_clear_errors_for_missing_and_non_tflite_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.tflite"):
        gpu_check.run_check_gpu(tmp_path / "missing.tflite")
    not_a_model = tmp_path / "notes.tflite"
    not_a_model.write_text("not a flatbuffer at all")
    with pytest.raises(ValueError, match="notes.tflite.*not a TFLite model"):
        gpu_check.check_gpu_compatibility(not_a_model)



def test_reverse_slices_are_rejected_and_forward_ones_pass(tmp_path):
    # The delegate refuses negative strides while parsing the graph, which fails the whole delegate.
    reversed_model = _convert_function(lambda x: x[:, ::-1, :, :] * 2.0, (1, 8, 8, 1))
    forward_model = _convert_function(lambda x: x[:, 1:7:2, :, :] * 2.0, (1, 8, 8, 1))
    for content in (reversed_model, forward_model):
        assert "STRIDED_SLICE" in tflite_ops_and_ranks(content)[0]
    reasons = _reasons(gpu_check.check_gpu_compatibility(_write(tmp_path, "reversed.tflite", reversed_model)))
    assert "refuses reverse (negative) and zero strides" in reasons
    assert gpu_check.check_gpu_compatibility(_write(tmp_path, "forward.tflite", forward_model)) == []


def test_tensor_type_names_tell_int8_weights_from_float_ones(tmp_path):
    keras.utils.set_random_seed(0)
    model = models.build("espcn", 3)
    names = {}
    for mode in ("float32", "dynamic_int8"):
        path = _write(tmp_path, f"{mode}.tflite", export.convert(model, (16, 16), mode))
        names[mode] = {gpu_check.tensor_type_name(tensor) for tensor in gpu_check.read_tflite(path).subgraphs[0].tensors}
    assert "INT8" not in names["float32"] and "FLOAT32" in names["float32"]
    assert "INT8" in names["dynamic_int8"]  # the 64x32x3x3 kernel has more than 1,024 weights


def _mutated(tmp_path, name, function, input_shape, mutate):
    """``function`` converted at a fixed shape, with ``mutate(model)`` applied to its flatbuffer
    objects: the cases the converter does not produce itself."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(_convert_function(function, input_shape)))
    mutate(model)
    return _write(tmp_path, name, bytes(flatbuffer_utils.convert_object_to_bytearray(model)))


def _operators(model, op_name):
    from tensorflow.lite.tools import flatbuffer_utils

    return [operator for operator in model.subgraphs[0].operators
            if flatbuffer_utils.opcode_to_name(model, operator.opcodeIndex) == op_name]


def _conv(x):
    return tf.nn.relu(tf.nn.conv2d(x, tf.ones((3, 3, 1, 4)), 1, "SAME"))


def _set_conv_option(name, value):
    def mutate(model):
        setattr(_operators(model, "CONV_2D")[0].builtinOptions, name, value)
    return mutate


def _set_conv_version(model):
    code = model.operatorCodes[_operators(model, "CONV_2D")[0].opcodeIndex]
    code.version = 7


def _make_custom(model):
    code = model.operatorCodes[_operators(model, "CONV_2D")[0].opcodeIndex]
    code.builtinCode = code.deprecatedBuiltinCode = 32  # CUSTOM
    code.customCode = "MyConv"


def _block_size_one(model):
    _operators(model, "DEPTH_TO_SPACE")[0].builtinOptions.blockSize = 1


def _both_pixel_conventions(model):
    _operators(model, "RESIZE_BILINEAR")[0].builtinOptions.halfPixelCenters = True


@pytest.mark.parametrize("function, input_shape, mutate, op_name, reason", [
    (lambda x: tf.reverse(x, [1]), (1, 8, 8, 1), None, "REVERSE_V2", "REVERSE_V2 is not supported by the GPU delegate"),
    (_conv, (1, 8, 8, 1), _set_conv_version, "CONV_2D", "op version 7; the delegate accepts up to version 6"),
    (_conv, (1, 8, 8, 1), _set_conv_option("fusedActivationFunction", 5), "CONV_2D", "fused activation SIGN_BIT"),
    (_conv, (1, 8, 8, 1), _make_custom, "MyConv", "custom op 'MyConv' has no GPU implementation"),
    (lambda x: tf.nn.depth_to_space(x, 2), (1, 4, 4, 4), _block_size_one, "DEPTH_TO_SPACE", "block size 1"),
    (lambda x: tf.compat.v1.image.resize_bilinear(x, (16, 16), align_corners=True), (1, 8, 8, 1),
     _both_pixel_conventions, "RESIZE_BILINEAR", "align_corners and half_pixel_centers both set"),
    (lambda x: x[:, 0] * 2.0, (1, 8, 8, 2), None, "STRIDED_SLICE", "STRIDED_SLICE with a shrinkAxisMask"),
    (lambda x: x[:, :, :1, :] * x[:, :1, :, :], (1, 8, 8, 2), None, "MUL",
     "one input must be at least as large as the other in every dimension"),
    (lambda x: tf.nn.depthwise_conv2d(x, tf.ones((3, 3, 3, 2)), [1, 1, 1, 1], "SAME"), (1, 8, 8, 3), None,
     "DEPTHWISE_CONV_2D", "depth multiplier 2 with 3 input channels"),
])
def test_each_delegate_rule_names_its_op_and_reason(tmp_path, function, input_shape, mutate, op_name, reason):
    if mutate is None:
        path = _write(tmp_path, "case.tflite", _convert_function(function, input_shape))
    else:
        path = _mutated(tmp_path, "case.tflite", function, input_shape, mutate)
    violations = gpu_check.check_gpu_compatibility(path)
    assert reason in _reasons(violations, op_name), [str(violation) for violation in violations]


def test_prelu_needs_one_slope_per_channel_or_a_full_alpha(tmp_path):
    def converted(shared_axes):
        inputs = keras.Input((8, 8, 4), batch_size=1)
        return _write(tmp_path, f"prelu{shared_axes}.tflite",
                      _convert_keras(keras.Model(inputs, keras.layers.PReLU(shared_axes=shared_axes)(inputs))))

    assert "alpha of shape [1, 8, 4]" in _reasons(gpu_check.check_gpu_compatibility(converted([1])), "PRELU")
    assert gpu_check.check_gpu_compatibility(converted([1, 2])) == []  # one slope per channel
    assert gpu_check.check_gpu_compatibility(converted(None)) == []  # a full H x W x C alpha


def test_float16_weight_dequantize_passes_whatever_its_version(tmp_path):
    # The delegate folds a DEQUANTIZE of a float16 constant before its support check (op version
    # included); other DEQUANTIZE ops keep the version cap of 3.
    from tensorflow.lite.tools import flatbuffer_utils

    keras.utils.set_random_seed(0)
    model = models.build("espcn", 3, filters=(8, 8))

    def bumped(mode, calibration=None):
        flatbuffer = flatbuffer_utils.convert_bytearray_to_object(
            bytearray(export.convert(model, (16, 16), mode, calibration)))
        dequantizes = _operators(flatbuffer, "DEQUANTIZE")
        assert dequantizes
        for operator in dequantizes:
            flatbuffer.operatorCodes[operator.opcodeIndex].version = 4
        return _write(tmp_path, f"{mode}.tflite", bytes(flatbuffer_utils.convert_object_to_bytearray(flatbuffer)))

    assert gpu_check.check_gpu_compatibility(bumped("float16")) == []
    calibration = [np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)]
    reasons = _reasons(gpu_check.check_gpu_compatibility(bumped("int8", calibration), quantized_ok=True), "DEQUANTIZE")
    assert "op version 4; the delegate accepts up to version 3" in reasons
