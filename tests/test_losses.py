"""Tests of srlib.losses against hand-computed values and reference implementations."""

import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from skimage.metrics import structural_similarity

from srlib import losses

LOG2 = math.log(2.0)


def _images(shape=(2, 24, 24, 3), seed=0):
    return np.random.default_rng(seed).uniform(0.0, 1.0, size=shape).astype("float32")


def _noisy_pair(shape, seed=0, noise=0.1):
    """A ground truth with smooth structure and a noisy estimate of it, both in [0, 1]."""
    rng = np.random.default_rng(seed)
    truth = tf.image.resize(rng.uniform(0, 1, (shape[0], shape[1] // 4, shape[2] // 4, shape[3])), shape[1:3]).numpy()
    estimate = np.clip(truth + rng.normal(0, noise, shape), 0, 1)
    return truth.astype("float32"), estimate.astype("float32")


def _value(loss, y_true, y_pred, **kwargs):
    return float(keras.ops.convert_to_numpy(loss(y_true, y_pred, **kwargs)))


# --- Pixel losses ---------------------------------------------------------------------------

EPSILON = 1e-3


@pytest.mark.parametrize(
    "loss, identical, offset_by_0_1",
    [
        (losses.L1Loss(), 0.0, 0.1),
        (losses.MSELoss(), 0.0, 0.01),
        (losses.MSELoss(value_range=2.0), 0.0, 0.04),  # SRGAN's MSE on [-1, 1]: 0.1 on [0, 1] is 0.2 there
        (losses.CharbonnierLoss(epsilon=EPSILON), EPSILON, math.sqrt(0.01 + EPSILON**2)),
    ],
    ids=["l1", "mse", "mse_on_minus1_1", "charbonnier"],
)
def test_pixel_losses_on_known_cases(loss, identical, offset_by_0_1):
    images = _images() * 0.8
    assert _value(loss, images, images) == pytest.approx(identical, abs=1e-7)
    assert _value(loss, images, images + 0.1) == pytest.approx(offset_by_0_1, rel=1e-5)


def test_sample_weight_weights_images():
    y_true = np.zeros((2, 4, 4, 1), "float32")
    y_pred = np.stack([np.full((4, 4, 1), 0.1), np.full((4, 4, 1), 0.3)]).astype("float32")
    # One value per image; "sum_over_batch_size" divides the weighted sum by N = 2.
    assert _value(losses.L1Loss(), y_true, y_pred, sample_weight=np.array([1.0, 0.0])) == pytest.approx(0.05)
    np.testing.assert_allclose(losses.L1Loss(reduction=None)(y_true, y_pred), [0.1, 0.3], rtol=1e-6)


def test_charbonnier_rejects_non_positive_epsilon():
    with pytest.raises(ValueError, match="epsilon"):
        losses.CharbonnierLoss(epsilon=0.0)


@pytest.mark.parametrize(
    "loss", [losses.L1Loss(), losses.MSELoss(), losses.CharbonnierLoss()], ids=["l1", "mse", "charbonnier"]
)
def test_pixel_losses_reject_mismatched_shapes(loss):
    # RGB against one channel would otherwise broadcast to a plausible-looking value.
    with pytest.raises(ValueError, match=f"{type(loss).__name__} expects y_true and y_pred of the same shape"):
        loss(_images((2, 16, 16, 3)), _images((2, 16, 16, 1)))


@pytest.mark.parametrize(
    "loss_class, kwargs",
    [
        (losses.SSIMLoss, {"max_val": 0.0}),
        (losses.SSIMLoss, {"max_val": -1.0}),
        (losses.SSIMLoss, {"filter_sigma": 0.0}),  # was a NaN loss
        (losses.SSIMLoss, {"filter_sigma": float("nan")}),
        (losses.SSIMLoss, {"k1": -0.01}),
        (losses.SSIMLoss, {"k2": -0.03}),
        (losses.MSSSIMLoss, {"filter_sigma": 0.0}),
        (losses.MixL1MSSSIMLoss, {"max_val": "1"}),
        (losses.CharbonnierLoss, {"epsilon": "0.1"}),  # was a bare TypeError
        (losses.CharbonnierLoss, {"epsilon": None}),
        (losses.TotalVariationLoss, {"epsilon": None}),
        (losses.TotalVariationLoss, {"epsilon": 0.0}),
        (losses.GradientSensitiveLoss, {"edge_weight": -1.0}),
        (losses.GradientSensitiveLoss, {"flat_weight": float("inf")}),
        (losses.GradientSensitiveLoss, {"flat_weight": "1"}),
    ],
)
def test_loss_constructors_reject_bad_numbers(loss_class, kwargs):
    (argument,) = kwargs
    with pytest.raises(ValueError, match=f"`{argument}` must be a finite number"):
        loss_class(**kwargs)


def test_loss_constructors_accept_zero_weights():
    loss = losses.GradientSensitiveLoss(edge_weight=0, flat_weight=0.0)
    assert _value(loss, *_noisy_pair((1, 16, 16, 3))) == 0.0


# --- SSIM, MS-SSIM --------------------------------------------------------------------------------


def test_ssim_loss_matches_skimage():
    y_true, y_pred = _noisy_pair((2, 32, 40, 3))
    expected = [
        structural_similarity(
            truth.astype("float64"),
            estimate.astype("float64"),
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=1.0,
            channel_axis=-1,
        )
        for truth, estimate in zip(y_true, y_pred)
    ]
    assert 0.3 < min(expected) < 0.95  # a meaningful, non-trivial comparison
    per_image = losses.SSIMLoss(reduction=None)(y_true, y_pred)
    np.testing.assert_allclose(1.0 - keras.ops.convert_to_numpy(per_image), expected, atol=1e-5)


def test_ssim_matches_tf_image_ssim():
    y_true, y_pred = _noisy_pair((2, 24, 24, 3), seed=1)
    np.testing.assert_allclose(losses.ssim(y_true, y_pred), tf.image.ssim(y_true, y_pred, max_val=1.0), atol=1e-5)


@pytest.mark.parametrize("num_scales, size", [(5, 176), (4, 96)])
def test_ms_ssim_matches_tf_image_ssim_multiscale(num_scales, size):
    # With fewer scales neither function renormalises the factors (as the docstring says).
    y_true, y_pred = _noisy_pair((2, size, size, 3), seed=2)
    power_factors = losses.MS_SSIM_WEIGHTS[:num_scales]
    expected = tf.image.ssim_multiscale(y_true, y_pred, max_val=1.0, power_factors=power_factors)
    np.testing.assert_allclose(losses.ms_ssim(y_true, y_pred, power_factors=power_factors), expected, atol=1e-5)


def test_ms_ssim_fewer_scales_fit_small_patches():
    y_true, y_pred = _noisy_pair((2, 48, 48, 3), seed=3)
    loss = losses.MSSSIMLoss(power_factors=losses.MS_SSIM_WEIGHTS[:3])  # needs 11 * 2**2 = 44 pixels
    assert 0.0 < _value(loss, y_true, y_pred) < 1.0
    assert _value(loss, y_true, y_true) == pytest.approx(0.0, abs=1e-5)
    with pytest.raises(ValueError, match="at least 176x176"):
        losses.MSSSIMLoss()(y_true, y_pred)


@pytest.mark.parametrize("kwargs", [{"power_factors": ()}, {"power_factors": 0.5}, {"filter_size": 0}])
def test_ms_ssim_loss_rejects_invalid_arguments(kwargs):
    with pytest.raises(ValueError, match=f"`{next(iter(kwargs))}` must be"):
        losses.MSSSIMLoss(**kwargs)


@pytest.mark.parametrize("power_factors", [(-1.0,), (0.5, float("nan")), (0.5, float("inf")), ("x",)])
def test_ms_ssim_loss_rejects_invalid_power_factors(power_factors):
    with pytest.raises(ValueError, match=r"`power_factors\[\d\]` must be a finite number >= 0"):
        losses.MSSSIMLoss(power_factors=power_factors)


def test_shape_checks_accept_unknown_sizes_and_reject_mismatches():
    loss = losses.SSIMLoss()
    traced = tf.function(loss).get_concrete_function(
        tf.TensorSpec((None, 16, 16, 3)), tf.TensorSpec((None, None, None, 3))
    )
    assert traced.structured_outputs.shape == ()
    with pytest.raises(ValueError, match="same shape"):
        loss(_images((1, 16, 16, 3)), _images((1, 16, 16, 1)))


def test_ssim_rejects_images_smaller_than_window():
    with pytest.raises(ValueError, match="at least 11x11"):
        losses.SSIMLoss()(_images((1, 8, 8, 1)), _images((1, 8, 8, 1)))


def test_mix_l1_ms_ssim_combines_its_terms():
    y_true, y_pred = _noisy_pair((2, 48, 48, 3), seed=4)
    factors = losses.MS_SSIM_WEIGHTS[:3]
    mixed = _value(losses.MixL1MSSSIMLoss(alpha=0.84, power_factors=factors), y_true, y_pred)
    ms_ssim_term = _value(losses.MSSSIMLoss(power_factors=factors), y_true, y_pred)
    l1_term = _value(losses.L1Loss(), y_true, y_pred)
    assert mixed == pytest.approx(0.84 * ms_ssim_term + 0.16 * l1_term, rel=1e-5)
    for alpha in (1.5, float("nan"), "a"):
        with pytest.raises(ValueError, match=r"`alpha` must be a number in \[0, 1\]"):
            losses.MixL1MSSSIMLoss(alpha=alpha)


# --- Total variation and gradient-sensitive losses --------------------------------------------------


def test_total_variation_of_ramps():
    columns = np.arange(6, dtype="float32")
    rows = np.arange(5, dtype="float32")[:, None]
    horizontal_ramp = np.broadcast_to(0.1 * columns, (5, 6))[None, :, :, None]
    diagonal_ramp = (0.1 * columns + 0.2 * rows)[None, :, :, None]
    unused_truth = np.ones_like(horizontal_ramp)

    anisotropic = losses.TotalVariationLoss()
    isotropic = losses.TotalVariationLoss(isotropic=True, epsilon=1e-8)
    assert _value(anisotropic, unused_truth, horizontal_ramp) == pytest.approx(0.1, rel=1e-5)
    assert _value(anisotropic, unused_truth, diagonal_ramp) == pytest.approx(0.3, rel=1e-5)
    assert _value(isotropic, unused_truth, horizontal_ramp) == pytest.approx(0.1, rel=1e-4)
    assert _value(isotropic, unused_truth, diagonal_ramp) == pytest.approx(math.sqrt(0.05), rel=1e-4)
    # y_true is ignored.
    ignored_truth = np.zeros_like(diagonal_ramp)
    assert _value(anisotropic, ignored_truth, diagonal_ramp) == _value(anisotropic, unused_truth, diagonal_ramp)


def _step_edge(height=4, width=6):
    """Columns 0-2 black, 3-5 white: Sobel responds (equally) at columns 2 and 3 only."""
    image = np.zeros((1, height, width, 3), "float32")
    image[:, :, width // 2 :, :] = 1.0
    return image


def test_sobel_edge_mask_of_step_edge():
    expected = np.zeros((1, 4, 6, 1), "float32")
    expected[:, :, 2:4, :] = 1.0
    np.testing.assert_allclose(losses.sobel_edge_mask(_step_edge()), expected, atol=1e-6)
    np.testing.assert_array_equal(losses.sobel_edge_mask(np.full((1, 4, 6, 3), 0.5, "float32")), 0.0)


def test_gradient_sensitive_loss_on_step_edge():
    y_true = _step_edge()
    y_pred = y_true + 0.1
    loss = losses.GradientSensitiveLoss(edge_weight=2.0, flat_weight=0.5)
    # The mask is 1 on 2 of 6 columns and 0 elsewhere; the squared error is 0.01 everywhere.
    expected = 2.0 * 0.01 * (2 / 6) + 0.5 * 0.01 * (4 / 6)
    assert _value(loss, y_true, y_pred) == pytest.approx(expected, rel=1e-5)
    # On a flat ground truth the mask is empty: only the flat term remains.
    flat = np.full((1, 4, 6, 3), 0.5, "float32")
    assert _value(loss, flat, flat + 0.1) == pytest.approx(0.5 * 0.01, rel=1e-5)


def test_gradient_sensitive_mask_is_constant():
    images = tf.constant(_images((1, 8, 8, 3)))
    with tf.GradientTape() as tape:
        tape.watch(images)
        mask_sum = tf.reduce_sum(losses.sobel_edge_mask(images))
    assert tape.gradient(mask_sum, images) is None


# --- VGG19 feature losses ---------------------------------------------------------------------


def test_missing_imagenet_weights_fail_fast_with_instructions(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(losses.PretrainedWeightsNotFoundError) as error:
        losses.PerceptualLoss()
    message = str(error.value)
    assert losses.VGG19_WEIGHTS_FILE in message
    assert losses.VGG19_WEIGHTS_URL in message
    assert str(tmp_path / "models") in message
    assert isinstance(error.value, FileNotFoundError)


def test_missing_weights_path_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        losses.TextureLoss(weights=tmp_path / "missing.h5")


@pytest.mark.parametrize("kwargs, message", [({"layer": "block6_conv1"}, "Unknown VGG19 layer 'block6_conv1'"),
                                             ({"distance": "cosine"}, "`distance` must be one of"),
                                             ({"weights": 3}, "`weights` must be 'imagenet', a path")])
def test_perceptual_loss_rejects_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        losses.PerceptualLoss(**{"weights": None, **kwargs})


@pytest.mark.parametrize("make_loss, layer, minimum", [
    (lambda: losses.PerceptualLoss(weights=None), "block5_conv4", 16),
    (lambda: losses.PerceptualLoss(layer="block5_pool", weights=None), "block5_pool", 32),
    (lambda: losses.TextureLoss(layers=("block3_conv1", "block1_conv1"), weights=None), "block3_conv1", 4),
])
def test_vgg_losses_refuse_images_too_small_for_their_deepest_layer(make_loss, layer, minimum):
    loss = make_loss()
    message = f"at least {minimum}x{minimum} pixels for VGG19 layer '{layer}'"
    too_small = _images((1, minimum - 1, minimum - 1, 3))
    with pytest.raises(ValueError, match=message):  # instead of a NaN loss on empty features
        loss(too_small, too_small)
    with pytest.raises(ValueError, match=message):  # y_true's size suffices when the model's is unknown
        tf.function(loss).get_concrete_function(
            tf.TensorSpec((None, minimum - 1, minimum - 1, 3)), tf.TensorSpec((None, None, None, 3))
        )
    assert np.isfinite(_value(loss, _images((1, minimum, minimum, 3)), _images((1, minimum, minimum, 3), seed=1)))


def _reference_features(vgg, layer, images):
    truncated = keras.Model(vgg.input, vgg.get_layer(layer).output)
    return keras.ops.convert_to_numpy(truncated(keras.applications.vgg19.preprocess_input(images * 255.0)))


def test_vgg19_weights_load_from_path_and_from_keras_cache(tmp_path, monkeypatch):
    keras.utils.set_random_seed(0)
    vgg = keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
    images = _images((1, 32, 32, 3))
    expected = _reference_features(vgg, "block2_conv2", images)

    weights_path = tmp_path / "vgg19.weights.h5"
    vgg.save_weights(weights_path)
    from_path = losses.vgg19_feature_extractor(["vgg22"], weights=weights_path)
    np.testing.assert_allclose(from_path(images)["block2_conv2"], expected, rtol=1e-5, atol=1e-4)

    # "imagenet" loads the legacy-format file that keras.utils.get_file caches.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    (tmp_path / "keras_home" / "models").mkdir(parents=True)
    vgg.save(tmp_path / "keras_home" / "models" / losses.VGG19_WEIGHTS_FILE)
    from_cache = losses.PerceptualLoss(layer="vgg22", weights="imagenet")
    np.testing.assert_allclose(from_cache.extractor(images)["block2_conv2"], expected, rtol=1e-5, atol=1e-4)
    assert not from_cache.extractor.trainable_weights


def test_vgg19_preprocess_matches_keras_applications():
    images = _images((1, 4, 4, 3))
    expected = keras.applications.vgg19.preprocess_input(images * 255.0)
    np.testing.assert_allclose(losses.vgg19_preprocess(images), expected, atol=1e-4)


def test_perceptual_loss_values():
    keras.utils.set_random_seed(0)
    loss = losses.PerceptualLoss(layer="vgg22", weights=None, feature_scale=0.5)
    assert loss.layer == "block2_conv2"
    y_true, y_pred = _images((2, 32, 32, 3), seed=1), _images((2, 32, 32, 3), seed=2)
    assert _value(loss, y_true, y_true) == 0.0

    true_features = keras.ops.convert_to_numpy(loss.extractor(y_true)["block2_conv2"])
    pred_features = keras.ops.convert_to_numpy(loss.extractor(y_pred)["block2_conv2"])
    expected = np.mean(np.square(0.5 * (pred_features - true_features)))
    assert _value(loss, y_true, y_pred) == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="3 channels"):
        loss(y_true[..., :1], y_pred[..., :1])


@pytest.fixture
def mixed_bfloat16_policy():
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous_policy)


def test_vgg_losses_compute_in_float32_under_mixed_precision(mixed_bfloat16_policy):
    keras.utils.set_random_seed(0)
    with_mixed_policy = losses.PerceptualLoss(layer="vgg22", weights=None)
    assert keras.config.dtype_policy().name == "mixed_bfloat16"  # restored after building the extractor
    texture = losses.TextureLoss(layers=("block1_conv1",), weights=None)
    keras.config.set_dtype_policy("float32")
    reference = losses.PerceptualLoss(layer="vgg22", weights=None)
    keras.config.set_dtype_policy("mixed_bfloat16")
    reference.extractor.set_weights(with_mixed_policy.extractor.get_weights())

    y_true, y_pred = _images((2, 32, 32, 3), seed=1), _images((2, 32, 32, 3), seed=2)
    assert with_mixed_policy.extractor(y_true)["block2_conv2"].dtype == "float32"
    assert texture.extractor(y_true)["block1_conv1"].dtype == "float32"
    assert _value(with_mixed_policy, y_true, y_pred) == pytest.approx(_value(reference, y_true, y_pred), rel=1e-6)


def test_vgg_extractor_restores_the_dtype_policy_on_error(mixed_bfloat16_policy, tmp_path):
    not_weights = tmp_path / "not_weights.h5"
    not_weights.write_text("not an HDF5 file")
    with pytest.raises(OSError):
        losses.vgg19_feature_extractor(["vgg22"], weights=not_weights)
    assert keras.config.dtype_policy().name == "mixed_bfloat16"


def test_gram_matrix_by_hand():
    # 1 image, 2x1 pixels, 2 channels: F = [[1, 2], [3, 4]] (pixels x channels).
    features = np.array([[[[1.0, 2.0]], [[3.0, 4.0]]]], "float32")
    expected = np.array([[[10.0, 14.0], [14.0, 20.0]]]) / (2 * 2 * 1)
    np.testing.assert_allclose(losses.gram_matrix(features), expected, rtol=1e-6)


def test_texture_loss_values():
    keras.utils.set_random_seed(0)
    loss = losses.TextureLoss(layers=("block1_conv1", "block2_conv1"), weights=None)
    y_true, y_pred = _images((2, 16, 16, 3), seed=1), _images((2, 16, 16, 3), seed=2)
    assert _value(loss, y_true, y_true) == 0.0

    true_features, pred_features = loss.extractor(y_true), loss.extractor(y_pred)
    expected = np.mean(
        [
            np.mean(np.square(losses.gram_matrix(pred_features[name]) - losses.gram_matrix(true_features[name])))
            for name in loss.layers
        ]
    )
    assert _value(loss, y_true, y_pred) == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="sequence of layer names"):
        losses.TextureLoss(layers="block1_conv1", weights=None)


# --- Adversarial losses ---------------------------------------------------------------------------


def _softplus(x):
    return np.log1p(np.exp(x))


@pytest.mark.parametrize(
    "kind, generator, discriminator",
    [("bce", LOG2, 2 * LOG2), ("lsgan", 1.0, 1.0), ("relativistic", LOG2, LOG2)],
)
def test_adversarial_losses_at_zero_logits(kind, generator, discriminator):
    zeros = np.zeros((4, 1), "float32")
    assert float(losses.generator_adversarial_loss(zeros, zeros, kind)) == pytest.approx(generator, rel=1e-6)
    assert float(losses.discriminator_adversarial_loss(zeros, zeros, kind)) == pytest.approx(discriminator, rel=1e-6)


def test_adversarial_losses_on_known_logits():
    real = np.array([2.0, 0.0], "float32")
    fake = np.array([1.0, -1.0], "float32")
    # bce: -log(sigmoid(z)) = softplus(-z)
    generator_bce = float(losses.generator_adversarial_loss(None, fake, "bce"))
    assert generator_bce == pytest.approx(np.mean(_softplus(-fake)), rel=1e-6)
    assert float(losses.discriminator_adversarial_loss(real, fake, "bce")) == pytest.approx(
        np.mean(_softplus(-real)) + np.mean(_softplus(fake)), rel=1e-6
    )
    assert float(losses.generator_adversarial_loss(None, fake, "lsgan")) == pytest.approx(np.mean((fake - 1) ** 2))
    assert float(losses.discriminator_adversarial_loss(real, fake, "lsgan")) == pytest.approx(1.0 + 1.0)
    # relativistic: mean(fake) = 0, mean(real) = 1
    real_vs_fake, fake_vs_real = real - 0.0, fake - 1.0
    assert float(losses.generator_adversarial_loss(real, fake, "relativistic")) == pytest.approx(
        0.5 * (np.mean(_softplus(real_vs_fake)) + np.mean(_softplus(-fake_vs_real))), rel=1e-6
    )
    assert float(losses.discriminator_adversarial_loss(real, fake, "relativistic")) == pytest.approx(
        0.5 * (np.mean(_softplus(-real_vs_fake)) + np.mean(_softplus(fake_vs_real))), rel=1e-6
    )


@pytest.mark.parametrize("kind", losses.ADVERSARIAL_KINDS)
def test_adversarial_losses_compute_in_float32_on_half_precision_logits(kind):
    # Logits of a mixed precision discriminator; bfloat16 sums over 256 of them would round.
    rng = np.random.default_rng(0)
    real, fake = (tf.cast(rng.normal(0.0, 3.0, (256, 1)), "bfloat16") for _ in range(2))
    for function in (losses.generator_adversarial_loss, losses.discriminator_adversarial_loss):
        value = function(real, fake, kind)
        assert value.dtype == "float32"
        expected = function(tf.cast(real, "float32"), tf.cast(fake, "float32"), kind)
        assert float(value) == pytest.approx(float(expected), rel=1e-6)


def test_adversarial_kind_is_validated():
    for function in (losses.generator_adversarial_loss, losses.discriminator_adversarial_loss):
        with pytest.raises(ValueError, match="'bce', 'lsgan', 'relativistic'"):
            function(np.zeros(2), np.zeros(2), "wgan")


@pytest.mark.parametrize("function", [losses.generator_adversarial_loss, losses.discriminator_adversarial_loss])
def test_relativistic_losses_require_real_logits(function):
    with pytest.raises(ValueError, match="`real_logits` is required for kind='relativistic'"):
        function(None, np.zeros(2, "float32"), "relativistic")


# --- WeightedSum ----------------------------------------------------------------------------------


def test_weighted_sum_total_and_components():
    loss = losses.WeightedSum({"l1": (1.0, losses.L1Loss()), "mse": (0.5, losses.MSELoss())})
    y_true = _images((2, 8, 8, 3)) * 0.8
    y_pred = y_true + 0.1
    assert _value(loss, y_true, y_pred) == pytest.approx(0.1 + 0.5 * 0.01, rel=1e-5)

    total, components = loss.compute_components(y_true, y_pred)
    assert list(components) == ["l1", "mse"]
    assert float(components["l1"]) == pytest.approx(0.1, rel=1e-5)
    assert float(components["mse"]) == pytest.approx(0.01, rel=1e-4)
    assert float(total) == pytest.approx(0.105, rel=1e-5)

    y_pred = y_true + np.array([0.1, 0.3], "float32").reshape(2, 1, 1, 1)
    sample_weight = np.array([1.0, 3.0], "float32")
    total, _ = loss.compute_components(y_true, y_pred, sample_weight)
    assert float(total) == pytest.approx(_value(loss, y_true, y_pred, sample_weight=sample_weight), rel=1e-5)


@pytest.mark.parametrize("components", [{}, {"l1": losses.L1Loss()}, {"l1": (1.0, "mae")}, [(1.0, losses.L1Loss())]])
def test_weighted_sum_rejects_invalid_components(components):
    with pytest.raises(ValueError, match="components"):
        losses.WeightedSum(components)


@pytest.mark.parametrize("weight", [float("inf"), float("nan"), -1.0, "x"])
def test_weighted_sum_rejects_invalid_weights(weight):
    with pytest.raises(ValueError, match=r"`components\['l1'\]\[0\]` must be a finite number >= 0"):
        losses.WeightedSum({"mse": (1.0, losses.MSELoss()), "l1": (weight, losses.L1Loss())})


# --- Serialization and gradients of every loss -----------------------------------------------------


def _serializable_losses():
    return {
        "l1": losses.L1Loss(name="pixel_l1"),
        "mse": losses.MSELoss(value_range=2.0, reduction="sum"),
        "charbonnier": losses.CharbonnierLoss(epsilon=1e-4),
        "ssim": losses.SSIMLoss(filter_size=7, filter_sigma=1.0),
        "ms_ssim": losses.MSSSIMLoss(power_factors=(0.3, 0.7)),
        "mix": losses.MixL1MSSSIMLoss(alpha=0.5, power_factors=(0.4, 0.6)),
        "tv": losses.TotalVariationLoss(isotropic=True),
        "gradient_sensitive": losses.GradientSensitiveLoss(edge_weight=3.0, flat_weight=0.25),
        "weighted_sum": losses.WeightedSum(
            {"charbonnier": (1.0, losses.CharbonnierLoss()), "ssim": (0.2, losses.SSIMLoss())}
        ),
    }


@pytest.mark.parametrize("key", list(_serializable_losses()))
def test_serialization_round_trip(key):
    loss = _serializable_losses()[key]
    config = json.loads(json.dumps(keras.losses.serialize(loss)))
    restored = keras.losses.deserialize(config)
    assert type(restored) is type(loss)
    assert restored.get_config() == loss.get_config()
    y_true, y_pred = _noisy_pair((2, 24, 24, 3))
    assert _value(restored, y_true, y_pred) == pytest.approx(_value(loss, y_true, y_pred), rel=1e-6)


def test_vgg_losses_serialize_their_spec(tmp_path):
    for loss in (
        losses.PerceptualLoss(layer="vgg54", weights=None, feature_scale=0.1, distance="l1"),
        losses.TextureLoss(layers=("block1_conv1",), weights=None),
    ):
        config = json.loads(json.dumps(keras.losses.serialize(loss)))
        assert keras.losses.deserialize(config).get_config() == loss.get_config()
    assert losses.PerceptualLoss(layer="vgg54", weights=None).get_config()["layer"] == "block5_conv4"


def test_compiled_model_with_weighted_sum_round_trips_keras_file(tmp_path):
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(3, 3, padding="same")(inputs))
    model.compile(optimizer="adam", loss=_serializable_losses()["weighted_sum"])
    model.optimizer.build(model.trainable_variables)  # else loading warns about unbuilt optimizer slots
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    assert restored.loss.get_config() == model.loss.get_config()


@pytest.mark.parametrize("key", list(_serializable_losses()) + ["perceptual", "texture"])
@pytest.mark.parametrize("identical", [True, False], ids=["identical", "different"])
def test_gradients_are_finite(key, identical):
    if key == "perceptual":
        loss = losses.PerceptualLoss(layer="block2_conv2", weights=None)
    elif key == "texture":
        loss = losses.TextureLoss(layers=("block1_conv1",), weights=None)
    else:
        loss = _serializable_losses()[key]
    y_true, y_pred = _noisy_pair((2, 24, 24, 3))
    y_pred = tf.Variable(y_true if identical else y_pred)
    with tf.GradientTape() as tape:
        value = loss(y_true, y_pred)
    gradient = tape.gradient(value, y_pred)
    assert gradient is not None
    assert np.all(np.isfinite(gradient.numpy())) and np.isfinite(float(value))


def test_losses_train_a_fully_convolutional_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(3, 3, padding="same", activation="sigmoid")(inputs))
    loss = losses.WeightedSum(
        {
            "charbonnier": (1.0, losses.CharbonnierLoss()),
            "ssim": (0.5, losses.SSIMLoss()),
            "perceptual": (0.01, losses.PerceptualLoss(layer="vgg22", weights=None)),
        }
    )
    model.compile(optimizer="adam", loss=loss)
    images = _images((4, 32, 32, 3))
    history = model.fit(images, images, batch_size=2, epochs=5, verbose=0).history["loss"]
    assert np.all(np.isfinite(history)) and history[-1] < history[0]  # it learns, not only runs


@pytest.mark.parametrize("feature_scale", [-1.0, 0.0, float("nan"), "x"])
def test_perceptual_loss_refuses_a_bad_feature_scale(feature_scale):
    with pytest.raises(ValueError, match="feature_scale"):
        losses.PerceptualLoss(weights=None, feature_scale=feature_scale)
