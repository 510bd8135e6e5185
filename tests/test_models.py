"""Tests of srlib.models: shapes, parameter counts, serialization, TFLite and the protocol helpers."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import tflite_ops_and_ranks
from srlib import models
from srlib.models.fir import FIRUpsample
from srlib.resize import imresize

POST_UPSAMPLING = ["fsrcnn", "fsrcnn_s", "espcn", "sp_vdsr", "sp_vdsr_nearest", "sp_vdsr_second_input"]
# Small configurations where the defaults would only make the tests slower.
SMALL_KWARGS = {"vdsr": {"depth": 5, "filters": 16}, "srresnet": {"num_blocks": 2, "filters": 16},
                "srgan": {"num_blocks": 2, "filters": 16}}


def _images(shape, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, size=shape).astype("float32")


def _inputs_for(model, height, width, scale, seed=0):
    """One random batch per model input; later inputs (SP-VDSR's interpolated image) at HR size."""
    channels = model.inputs[0].shape[-1]
    batch = [_images((2, height, width, channels), seed)]
    for index, _ in enumerate(model.inputs[1:]):
        batch.append(_images((2, height * scale, width * scale, channels), seed + 1 + index))
    return batch if len(batch) > 1 else batch[0]


def _numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


# --- Shapes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("name", POST_UPSAMPLING)
def test_post_upsampling_models_are_fully_convolutional(name, scale):
    model = models.build(name, scale)
    assert model.inputs[0].shape == (None, None, None, 1)
    for height, width in [(7, 9), (5, 6)]:  # odd sizes, and a second size for the same model
        outputs = model(_inputs_for(model, height, width, scale), training=False)
        assert tuple(outputs.shape) == (2, height * scale, width * scale, 1)


@pytest.mark.parametrize("name", ["srcnn", "vdsr"])
def test_pre_upsampling_models_keep_the_size(name):
    model = models.build(name, **SMALL_KWARGS.get(name, {}))
    for height, width in [(11, 9), (6, 13)]:
        assert tuple(model(_images((2, height, width, 1))).shape) == (2, height, width, 1)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_srresnet_shapes(scale):
    model = models.srresnet(scale, **SMALL_KWARGS["srresnet"])
    assert tuple(model(_images((1, 5, 7, 3))).shape) == (1, 5 * scale, 7 * scale, 3)


def test_discriminator_outputs_one_logit_per_image():
    model = models.discriminator((32, 48, 3))
    assert tuple(model(_images((2, 32, 48, 3))).shape) == (2, 1)


# --- Parameter and MAC counts, by hand from the papers' layer lists --------------------------


PARAMETER_COUNTS = [
    # SRCNN 9-1-5: 9*9*1*64+64 + 1*1*64*32+32 + 5*5*32*1+1 = 5248 + 2080 + 801 (paper: 8032 weights).
    ("srcnn_915", lambda: models.srcnn(kernel_sizes=(9, 1, 5)), 8129),
    # SRCNN 9-5-5: 5248 + 5*5*64*32+32 + 801 = 5248 + 51232 + 801 (paper: 57184 weights).
    ("srcnn_955", lambda: models.srcnn(), 57281),
    # FSRCNN(56, 12, 4) x3, weights + biases + PReLU slopes:
    # 5*5*56+56+56 + 56*12+12+12 + 4*(9*12*12+12+12) + 12*56+56+56 + 9*9*56*1+1
    # = 1512 + 696 + 5280 + 784 + 4537. Weights alone: 12464, the paper's count.
    ("fsrcnn", lambda: models.fsrcnn(3), 12809),
    # FSRCNN-s(32, 5, 1): 25*32+64 + 32*5+10 + 9*25+10 + 5*32+64 + 81*32+1 (paper: 3937 weights).
    ("fsrcnn_s", lambda: models.fsrcnn_s(3), 4086),
    # ESPCN x3: 5*5*64+64 + 3*3*64*32+32 + 3*3*32*9+9 = 1664 + 18464 + 2601.
    ("espcn", lambda: models.espcn(3), 22729),
    # VDSR: 3*3*64+64 + 18*(3*3*64*64+64) + 3*3*64+1 = 640 + 664704 + 577.
    ("vdsr", lambda: models.vdsr(), 665921),
    # SP-VDSR x2: 3*3*8+8 + 3*(3*3*8*8+8) + 3*3*8*4+4 = 80 + 1752 + 292; the FIR has no weights.
    ("sp_vdsr", lambda: models.sp_vdsr(), 2124),
    # SRResNet x4: 9*9*3*64+64 + 64 (PReLU) + 16*(2*3*3*64*64 + 2*4*64 + 64) + 3*3*64*64 + 4*64
    #   + 2*(3*3*64*256+256 + 64) + 9*9*64*3+3 = 15680 + 1188864 + 37120 + 295552 + 15555.
    ("srresnet", lambda: models.srresnet(), 1552771),
]


@pytest.mark.parametrize("case_id, factory, expected", PARAMETER_COUNTS, ids=[case[0] for case in PARAMETER_COUNTS])
def test_parameter_counts_match_hand_computed(case_id, factory, expected):
    assert factory().count_params() == expected


def test_discriminator_parameter_count():
    # 3*3*3*64+64 + conv weights 9*(64*64 + 64*128 + 128*128 + 128*256 + 256*256 + 256*512 + 512*512)
    # + 7 BN layers * 4 * filters + Dense 6*6*512*1024+1024 + 1024+1 = 23,567,361.
    convs = 1792 + 9 * (64 * 64 + 64 * 128 + 128 * 128 + 128 * 256 + 256 * 256 + 256 * 512 + 512 * 512)
    norms = 4 * (64 + 128 + 128 + 256 + 256 + 512 + 512)
    dense = 6 * 6 * 512 * 1024 + 1024 + 1024 + 1
    assert models.discriminator().count_params() == convs + norms + dense == 23_567_361


@pytest.mark.parametrize("factory, input_size, expected", [
    (lambda: models.srcnn(), (12, 10), 9 * 9 * 64 + 5 * 5 * 64 * 32 + 5 * 5 * 32),  # 57184 per pixel
    (lambda: models.vdsr(depth=4, filters=8), (12, 10), 9 * 8 + 2 * 9 * 8 * 8 + 9 * 8),
    # FSRCNN x3 per LR pixel: body 25*56 + 56*12 + 4*9*144 + 12*56 = 7928, deconvolution 81*56 = 4536.
    (lambda: models.fsrcnn(3), (12, 10), (7928 + 4536) / 9),
    # ESPCN x3 per LR pixel: 25*64 + 9*64*32 + 9*32*9 = 22624.
    (lambda: models.espcn(3), (12, 10), 22624 / 9),
    # SP-VDSR x2: 2088 per LR pixel learned, + Lanczos-3 FIR 7*1*2 + 7*2*4 = 70 per LR pixel.
    (lambda: models.sp_vdsr(), (12, 10), (2088 + 70) / 4),
    (lambda: models.sp_vdsr(interpolation_input="second_input"), [(12, 10), (24, 20)], 2088 / 4),
])
def test_macs_per_output_pixel(factory, input_size, expected):
    cost = models.model_cost(factory(), input_size)
    assert cost.macs_per_output_pixel == pytest.approx(expected)
    assert cost.macs == pytest.approx(expected * cost.output_size[0] * cost.output_size[1])


def test_model_cost_reports_parameters_and_rejects_wrong_sizes():
    model = models.sp_vdsr(interpolation_input="second_input")
    cost = models.model_cost(model, [(8, 8), (16, 16)])
    assert cost.parameters == cost.trainable_parameters == 2124 and cost.output_size == (16, 16)
    with pytest.raises(ValueError, match="input_size"):
        models.model_cost(model, (8, 8))


# --- Serialization ------------------------------------------------------------------------------


ROUND_TRIP_CASES = [(name, 3) for name in ["srcnn", "fsrcnn", "fsrcnn_s", "espcn", "vdsr", "sp_vdsr_nearest"]]
ROUND_TRIP_CASES += [("sp_vdsr", 2), ("sp_vdsr_second_input", 2), ("srresnet", 2)]


@pytest.mark.parametrize("name, scale", ROUND_TRIP_CASES, ids=[case[0] for case in ROUND_TRIP_CASES])
def test_keras_file_round_trip(name, scale, tmp_path):
    keras.utils.set_random_seed(0)
    model = models.build(name, scale, **SMALL_KWARGS.get(name, {}))
    path = tmp_path / f"{name}.keras"
    model.save(path)
    restored = keras.saving.load_model(path)  # safe_mode: a Lambda layer would be rejected

    batch = _inputs_for(model, 7, 6, scale if models.MODELS[name].takes_scale else 1)
    np.testing.assert_array_equal(_numpy(restored(batch, training=False)), _numpy(model(batch, training=False)))


def test_srresnet_with_interpolation_skip_starts_at_the_interpolation_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    model = models.build("srresnet", 4, num_blocks=1, filters=8, interpolation_skip="bicubic")
    lr = _images((2, 9, 7, 3))
    expected = imresize(lr, scale=4, method="bicubic")
    np.testing.assert_allclose(_numpy(model(lr, training=False)), expected, atol=1e-5)
    tail = model.get_layer("tail")
    tail.kernel.assign(np.full(tail.kernel.shape, 1e-3, "float32"))  # a residual on top of the interpolation
    model.save(tmp_path / "srresnet.keras")
    restored = keras.saving.load_model(tmp_path / "srresnet.keras")
    assert restored.get_layer("interpolation").method == "bicubic"
    np.testing.assert_array_equal(_numpy(restored(lr, training=False)), _numpy(model(lr, training=False)))
    assert np.abs(_numpy(model(lr, training=False)) - expected).max() > 1e-3
    with pytest.raises(ValueError, match="method"):
        models.build("srresnet", 4, num_blocks=1, filters=8, interpolation_skip="cubicle")


def test_discriminator_keras_file_round_trip(tmp_path):
    model = models.discriminator((32, 32, 3))
    model.save(tmp_path / "discriminator.keras")
    restored = keras.saving.load_model(tmp_path / "discriminator.keras")
    batch = _images((2, 32, 32, 3))
    np.testing.assert_array_equal(_numpy(restored(batch, training=False)), _numpy(model(batch, training=False)))


# --- FSRCNN transfer ----------------------------------------------------------------------------


def test_fsrcnn_for_new_scale_shares_and_freezes_the_body(tmp_path):
    model = models.fsrcnn(3)
    transferred = models.fsrcnn_for_new_scale(model, 2)

    assert transferred.name == "fsrcnn_x2"
    assert tuple(transferred(_images((1, 5, 7, 1))).shape) == (1, 10, 14, 1)
    assert transferred.get_layer("mapping_1") is model.get_layer("mapping_1")
    assert transferred.layers[-1] is not model.layers[-1] and transferred.layers[-1].strides == (2, 2)
    # Only the new deconvolution trains.
    assert [weight.path for weight in transferred.trainable_weights] == [
        f"{transferred.layers[-1].name}/kernel", f"{transferred.layers[-1].name}/bias"]
    assert transferred.count_params() == model.count_params()  # same kernel size: 9x9x56x1 + 1

    transferred.save(tmp_path / "x2.keras")
    restored = keras.saving.load_model(tmp_path / "x2.keras")
    batch = _images((1, 5, 7, 1))
    np.testing.assert_array_equal(_numpy(restored(batch)), _numpy(transferred(batch)))


def test_fsrcnn_for_new_scale_without_freezing_trains_a_body_an_earlier_transfer_froze():
    model = models.fsrcnn(3)
    models.fsrcnn_for_new_scale(model, 2)  # freezes the shared body
    unfrozen = models.fsrcnn_for_new_scale(model, 4, freeze_body=False)
    assert unfrozen.count_params() == sum(int(np.prod(weight.shape)) for weight in unfrozen.trainable_weights)


def test_fsrcnn_for_new_scale_rejects_other_models():
    with pytest.raises(ValueError, match="Conv2DTranspose"):
        models.fsrcnn_for_new_scale(models.espcn(2), 3)
    with pytest.raises(ValueError, match="new_scale"):
        models.fsrcnn_for_new_scale(models.fsrcnn(3), 1)


# --- Interpolation inside SP-VDSR --------------------------------------------------------------------


@pytest.mark.parametrize("method", ["bicubic", "lanczos3", "bilinear"])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_fir_upsample_equals_imresize_on_every_pixel(method, scale):
    # Sizes down to the kernel radius: most pixels are border pixels.
    for shape in [(2, 9, 6, 1), (1, 3, 5, 3)]:
        images = _images(shape, seed=scale)
        expected = imresize(images, scale=scale, method=method)
        np.testing.assert_allclose(_numpy(FIRUpsample(scale, method)(images)), expected, atol=1e-5, rtol=0)


def test_a_model_with_a_custom_bc_interpolation_round_trips_its_keras_file(tmp_path):
    # The ("bc", B, C) tuple comes back from JSON as a list; the layer must rebuild its bank from it.
    keras.utils.set_random_seed(0)
    model = models.sp_vdsr(2, interpolation=("bc", 0.0, 0.5))
    model.save(tmp_path / "bc.keras")
    restored = keras.saving.load_model(tmp_path / "bc.keras")
    batch = _images((1, 7, 6, 1), seed=0)
    np.testing.assert_array_equal(_numpy(restored(batch)), _numpy(model(batch)))


def test_fir_upsample_rejects_too_small_inputs():
    with pytest.raises(ValueError, match="at least 3 pixels"):
        FIRUpsample(2, "lanczos3")(np.zeros((1, 2, 8, 1), "float32"))


def _same_weights(source, *targets):
    for target in targets:
        target.set_weights(source.get_weights())


def test_sp_vdsr_variants_agree():
    keras.utils.set_random_seed(0)
    graph = models.sp_vdsr(3, interpolation="lanczos3")
    second_input = models.sp_vdsr(3, interpolation_input="second_input")
    nearest = models.sp_vdsr(3, interpolation_input="nearest")
    _same_weights(graph, second_input, nearest)
    lr = _images((2, 8, 7, 1))

    lanczos = imresize(lr, scale=3, method="lanczos3")
    np.testing.assert_allclose(_numpy(graph(lr)), _numpy(second_input([lr, lanczos])), atol=1e-5, rtol=0)
    repeated = lr.repeat(3, axis=1).repeat(3, axis=2)
    np.testing.assert_allclose(_numpy(nearest(lr)), _numpy(second_input([lr, repeated])), atol=1e-6, rtol=0)

    # With a zero residual, the output is the clipped interpolation itself.
    second_input.get_layer("conv_5_sub_pixel").set_weights(
        [np.zeros_like(w) for w in second_input.get_layer("conv_5_sub_pixel").get_weights()])
    np.testing.assert_allclose(_numpy(second_input([lr, lanczos])), np.clip(lanczos, 0, 1), atol=1e-7, rtol=0)


@pytest.mark.parametrize("kwargs, argument", [
    ({"interpolation_input": "bilinear"}, "interpolation_input"),
    ({"interpolation": "sinc"}, "method"),
    ({"depth": 1}, "depth"),
    ({"scale": 1}, "scale"),
])
def test_sp_vdsr_rejects_invalid_arguments(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        models.sp_vdsr(**kwargs)


# --- VDSR, receptive fields ------------------------------------------------------------------------


def test_vdsr_with_zero_last_convolution_returns_its_input():
    model = models.vdsr(depth=6, filters=8)
    last = model.get_layer("conv_6")
    last.set_weights([np.zeros_like(weight) for weight in last.get_weights()])
    images = _images((2, 9, 11, 1))
    np.testing.assert_array_equal(_numpy(model(images)), images)


@pytest.mark.parametrize("factory, radius", [
    (lambda: models.srcnn(), 8),  # 9 + 5 + 5 - 2 = 17 pixels
    (lambda: models.srcnn(kernel_sizes=(9, 1, 5)), 6),  # 13 pixels
    (lambda: models.vdsr(depth=7, filters=4), 7),  # one pixel per 3x3 conv
    (lambda: models.espcn(3), 4),  # 5x5 + 3x3 + 3x3 at LR
    (lambda: models.sp_vdsr(interpolation_input="second_input"), 5),
])
def test_receptive_field(factory, radius):
    assert models.receptive_field(factory()) == radius


@pytest.mark.parametrize("name, scale", [("fsrcnn", 3), ("sp_vdsr", 2)])
def test_tiles_overlapping_by_the_radius_match_whole_image_inference(name, scale):
    model = models.build(name, scale)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 0.3, w.shape).astype("float32") for w in model.get_weights()])
    radius = models.receptive_field(model)
    image = _images((1, 24, 24, 1))
    begin, end = 9, 15  # the tile, in LR pixels
    whole = _numpy(model(image))[0, begin * scale:end * scale, begin * scale:end * scale]

    def tile_output(overlap):
        tile = image[:, begin - overlap:end + overlap, begin - overlap:end + overlap]
        inner = slice(overlap * scale, (overlap + end - begin) * scale)
        return _numpy(model(tile))[0, inner, inner]

    # A few float32 roundings of the largest output: summation order differs between the
    # convolution kernels of different CPUs (with and without oneDNN) and input sizes.
    tolerance = 1e-6 * np.abs(whole).max()
    np.testing.assert_allclose(tile_output(radius), whole, atol=tolerance, rtol=0)
    assert np.abs(tile_output(radius - 1) - whole).max() > 100 * tolerance  # the radius is tight


# --- Upscaler and registry ------------------------------------------------------------------------------


def test_upscaler_of_identity_model_is_bicubic():
    model = models.vdsr(depth=3, filters=4)
    last = model.get_layer("conv_3")
    last.set_weights([np.zeros_like(weight) for weight in last.get_weights()])
    upscale = models.upscaler(model)
    rng = np.random.default_rng(0)
    for lr in [rng.integers(0, 256, (9, 7, 3), dtype=np.uint8), rng.integers(0, 256, (9, 7), dtype=np.uint8)]:
        sr = upscale(lr, 3)
        expected = imresize(lr, scale=3, method="bicubic")
        assert sr.dtype == np.uint8 and sr.shape == expected.shape
        assert np.abs(sr.astype(int) - expected.astype(int)).max() <= 1


@pytest.mark.parametrize("name, channels", [("espcn", 1), ("sp_vdsr_second_input", 1), ("srresnet", 3)])
def test_upscaler_shapes_and_dtype(name, channels):
    spec = models.MODELS[name]
    model = models.build(name, 2, **SMALL_KWARGS.get(name, {}))
    upscale = models.upscaler(model, scale=2 if spec.input == "lr_and_upsampled" else None)
    lr = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    for image in [lr, lr[..., 0], lr[..., :1]]:
        sr = upscale(image, 2)
        assert sr.dtype == np.uint8 and sr.shape == (10, 14, *image.shape[2:])
    with pytest.raises(ValueError, match="scale"):
        upscale(lr, 3)


def test_upscaler_refuses_a_scale_the_model_does_not_have():
    with pytest.raises(ValueError, match=r"upscales x3\. Received: scale=2"):
        models.upscaler(models.build("espcn", 3), scale=2)
    assert models.upscaler(models.build("espcn", 3), scale=3)  # its own scale is fine


def test_registry_metadata_matches_the_models():
    for name, spec in models.MODELS.items():
        model = models.build(name, 2, **SMALL_KWARGS.get(name, {}))
        assert model.inputs[0].shape[-1] == spec.channels
        assert len(model.inputs) == (2 if spec.input == "lr_and_upsampled" else 1)
        assert spec.takes_scale == (spec.input != "upsampled")
    with pytest.raises(ValueError, match="name"):
        models.build("edsr", 2)
    with pytest.raises(ValueError, match="scale"):
        models.build("espcn")
    with pytest.raises(ValueError, match="takes no argument blocks"):
        models.build("srresnet", 4, blocks=8)
    with pytest.raises(ValueError, match="takes no argument interpolation_input"):  # fixed by the registered name
        models.build("sp_vdsr_nearest", 2, interpolation_input="graph")
    with pytest.raises(ValueError, match="supports scales"):
        models.build("srresnet", 5)


# --- TFLite ----------------------------------------------------------------------------------------------


TFLITE_CASES = [("fsrcnn", 3), ("espcn", 3), ("sp_vdsr", 2), ("sp_vdsr_nearest", 2), ("sp_vdsr_second_input", 2)]
BUILTIN_OPS = {"CONV_2D", "TRANSPOSE_CONV", "PRELU", "TANH", "DEPTH_TO_SPACE", "LEAKY_RELU", "ADD",
               "MINIMUM", "MAXIMUM", "RELU", "RELU_0_TO_1", "CONCATENATION", "STRIDED_SLICE"}


@pytest.mark.parametrize("name, scale", TFLITE_CASES, ids=[case[0] for case in TFLITE_CASES])
def test_tflite_conversion_uses_builtin_ops_only(name, scale):
    keras.utils.set_random_seed(0)
    model = models.build(name, scale)
    inputs = [keras.Input((32, 32, 1), batch_size=1)]
    if len(model.inputs) == 2:
        inputs.append(keras.Input((32 * scale, 32 * scale, 1), batch_size=1))
    inputs = inputs if len(inputs) > 1 else inputs[0]
    fixed = keras.Model(inputs, model(inputs))
    tflite_bytes = tf.lite.TFLiteConverter.from_keras_model(fixed).convert()

    op_names, ranks = tflite_ops_and_ranks(tflite_bytes)
    assert op_names <= BUILTIN_OPS, op_names - BUILTIN_OPS
    assert max(ranks) <= 4

    interpreter_module = pytest.importorskip("ai_edge_litert.interpreter")
    interpreter = interpreter_module.Interpreter(model_content=tflite_bytes)
    interpreter.allocate_tensors()
    batch = [_images((1, *tensor.shape[1:]), seed) for seed, tensor in enumerate(fixed.inputs)]
    for detail in interpreter.get_input_details():  # match inputs by shape: the converter may reorder them
        interpreter.set_tensor(detail["index"], next(b for b in batch if b.shape == tuple(detail["shape"])))
    interpreter.invoke()
    tflite_outputs = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    expected = _numpy(fixed(batch if len(batch) > 1 else batch[0]))
    np.testing.assert_allclose(tflite_outputs, expected, atol=1e-5)


def test_srgan_networks_name_bad_arguments():
    with pytest.raises(ValueError, match="input_shape"):
        models.discriminator(96)
    with pytest.raises(ValueError, match="interpolation_skip='cubicx'"):
        models.srresnet(interpolation_skip="cubicx")


@pytest.mark.parametrize("interpolation_skip", [None, "bicubic"])
@pytest.mark.parametrize("scale", [2.0, "2", 5])
def test_srresnet_names_a_bad_scale_whatever_the_interpolation_skip(scale, interpolation_skip):
    # 2.0 == 2 passed the stage lookup and built "srresnet_x2.0".
    with pytest.raises(ValueError, match=r"^`scale` must be .* Received: scale="):
        models.srresnet(scale, num_blocks=0, filters=4, interpolation_skip=interpolation_skip)


@pytest.mark.parametrize("kwargs, message", [
    ({"filters": 64}, r"`filters` must be a pair of ints \(f1, f2\). Received: filters=64"),
    ({"kernel_sizes": 5}, "`kernel_sizes` must be three ints. Received: kernel_sizes=5"),
])
def test_espcn_names_a_bad_filters_or_kernel_sizes(kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.espcn(3, **kwargs)


TRAINED_MODELS = [("srcnn", 3, {}), ("fsrcnn", 3, {}), ("fsrcnn_s", 3, {}), ("espcn", 3, {}),
                  ("vdsr", 2, {"depth": 4, "filters": 16}), ("sp_vdsr", 2, {}), ("sp_vdsr_nearest", 2, {}),
                  ("srresnet", 4, {"num_blocks": 2, "interpolation_skip": "bicubic"})]


@pytest.mark.parametrize("name, scale, arguments", TRAINED_MODELS, ids=[case[0] for case in TRAINED_MODELS])
def test_mixed_bfloat16_copy_keeps_the_weights_and_a_float32_output(name, scale, arguments):
    model = models.build(name, scale, **arguments)
    mixed = models.with_precision(model, "mixed_bfloat16")
    # the checkpoint saver pairs variables by position: the same paths in the same order
    assert [variable.path for variable in mixed.variables] == [variable.path for variable in model.variables]
    assert all(variable.dtype == "float32" for variable in mixed.variables)
    for ours, theirs in zip(mixed.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    output_layer = [layer for layer in mixed.layers if layer.weights][-1]
    assert output_layer.input.dtype == "bfloat16" and output_layer.compute_dtype == "float32"
    batch = _inputs_for(model, 12, 12, scale)
    assert mixed(batch).dtype == "float32"
    # With the output layer zeroed, what is left is the skip branch (identity, Lanczos-3, bicubic...)
    # and the tail after the output layer: all float32, so exactly the float32 model's output.
    for copy in (model, mixed):
        copy.get_layer(output_layer.name).set_weights(
            [np.zeros_like(weight) for weight in copy.get_layer(output_layer.name).get_weights()])
    np.testing.assert_array_equal(_numpy(mixed(batch)), _numpy(model(batch)))


def test_with_precision_names_bad_arguments():
    model = models.build("espcn", 3)
    assert models.with_precision(model, "float32") is model
    with pytest.raises(ValueError, match="`precision` must be one of .*Received: precision='float16'"):
        models.with_precision(model, "float16")
    inputs = keras.Input((None, None, 1))
    with pytest.raises(ValueError, match="has no weights"):
        models.with_precision(keras.Model(inputs, keras.layers.ReLU()(inputs)), "mixed_bfloat16")


def test_cpu_bfloat16_flags_read_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx512f avx512_bf16 amx_bf16 amx_tile\n")
    assert models.cpu_bfloat16_flags(cpuinfo) == ["amx_bf16", "avx512_bf16"]
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse4_2 avx f16c\n")
    assert models.cpu_bfloat16_flags(cpuinfo) == []
    assert models.cpu_bfloat16_flags(tmp_path / "missing") == []


def test_forward_seconds_times_a_forward_pass_after_a_warm_up(monkeypatch):
    model = models.build("espcn", 3)
    calls = []
    original = model.predict_on_batch
    monkeypatch.setattr(model, "predict_on_batch", lambda batch: calls.append(batch.shape) or original(batch))
    seconds = models.forward_seconds(model, np.zeros((1, 12, 12, 1), "float32"), repeats=3)
    assert seconds > 0 and len(calls) == 4  # one warm-up, three timed
    with pytest.raises(ValueError, match="repeats"):
        models.forward_seconds(model, np.zeros((1, 12, 12, 1), "float32"), repeats=0)


def test_median_seconds_times_the_calls_after_the_warm_ups():
    calls = []
    seconds = models.median_seconds(lambda: calls.append(1), 5, warmups=2)
    assert len(calls) == 7 and 0 <= seconds < 0.1
    with pytest.raises(ValueError, match="`warmups` must be an integer >= 0"):
        models.median_seconds(lambda: None, 5, warmups=-1)
