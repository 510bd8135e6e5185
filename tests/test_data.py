"""srlib.data: shapes of every mode, MATLAB-bicubic LR, determinism and resume, augmentations, validation."""

import dataclasses
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from srlib import data, datasets
from srlib.color import rgb_to_y
from srlib.resize import degrade, imresize

ALL_AUGMENTATIONS = data.EXAMPLE_AUGMENTATIONS


@pytest.fixture(scope="module")
def photos():
    """The embedded photos (four RGB, one greyscale), no files needed."""
    return datasets.load_images("embedded")


def _batches(dataset, count):
    return [(lr.numpy(), hr.numpy()) for lr, hr in dataset.take(count)]


def _to_uint8(values):
    return np.floor(values * 255 + 0.5).astype(np.uint8)


@pytest.mark.parametrize("channels", ["y", "rgb"])
@pytest.mark.parametrize("upsampled_input", [False, True])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_shapes_and_dtypes(photos, channels, upsampled_input, scale):
    size, depth = 12 * scale, 1 if channels == "y" else 3
    dataset = data.training_dataset(photos, scale, size, batch_size=3, channels=channels,
                                     upsampled_input=upsampled_input)
    lr_side = size if upsampled_input else size // scale
    assert dataset.element_spec[0].shape == (3, lr_side, lr_side, depth)
    assert dataset.element_spec[1].shape == (3, size, size, depth)
    lr, hr = next(iter(dataset))
    assert lr.dtype == hr.dtype == tf.float32
    assert lr.shape == (3, lr_side, lr_side, depth) and hr.shape == (3, size, size, depth)
    for values in (lr, hr):
        assert 0 <= float(tf.reduce_min(values)) and float(tf.reduce_max(values)) <= 1
    if channels == "y":  # studio-swing luma
        assert float(tf.reduce_min(hr)) >= 16 / 255 - 1e-6 and float(tf.reduce_max(hr)) <= 235 / 255 + 1e-6


def test_multi_scale_draws_one_scale_per_batch(photos):
    dataset = data.training_dataset(photos, [2, 3, 4], 24, batch_size=2, seed=3)
    assert dataset.element_spec[0].shape.as_list() == [2, None, None, 1]
    sides = {lr.shape[1] for lr, hr in _batches(dataset, 12)}
    assert sides == {12, 8, 6}  # all three scales appear, each batch has one LR shape
    upsampled = data.training_dataset(photos, [2, 3], 24, batch_size=2, upsampled_input=True)
    assert upsampled.element_spec[0].shape == (2, 24, 24, 1)


def test_lr_is_matlab_bicubic_of_hr_rounded_to_8_bits(photos):
    lr, hr = next(iter(data.training_dataset(photos, 3, 48, batch_size=4, channels="rgb", seed=5)))
    expected = imresize(hr, scale=1 / 3)  # the same batch through srlib's MATLAB imresize
    np.testing.assert_array_equal(lr.numpy(), np.floor(np.clip(expected, 0, 1) * 255 + 0.5) / 255)
    # One example against the uint8 call the evaluation protocol makes.
    np.testing.assert_array_equal(_to_uint8(lr[1].numpy()), imresize(_to_uint8(hr[1].numpy()), scale=1 / 3))
    # HR patches are exact 8-bit crops of the photos, not resampled.
    np.testing.assert_array_equal(hr.numpy(), _to_uint8(hr.numpy()).astype(np.float32) / 255)


def test_other_downscale_method_and_float_lr(photos):
    kwargs = dict(images=photos, scale=2, hr_patch_size=32, batch_size=2, channels="rgb", seed=1)
    lr, hr = next(iter(data.training_dataset(**kwargs, downscale_method="lanczos3", quantize=False)))
    expected = np.clip(imresize(hr, scale=1 / 2, method="lanczos3"), 0, 1)
    np.testing.assert_allclose(lr.numpy(), expected, atol=1e-6)
    assert not np.array_equal(lr.numpy(), np.round(lr.numpy() * 255) / 255)  # kept float


def test_upsampled_input_is_bicubic_of_quantised_lr(photos):
    kwargs = dict(images=photos, scale=3, hr_patch_size=36, batch_size=2, seed=2)
    small, _ = next(iter(data.training_dataset(**kwargs)))
    upsampled, _ = next(iter(data.training_dataset(**kwargs, upsampled_input=True)))
    np.testing.assert_allclose(upsampled.numpy(), np.clip(imresize(small, scale=3), 0, 1), atol=1e-6)


def test_same_seed_same_batches_and_different_seed_differs(photos):
    kwargs = dict(images=photos, scale=2, hr_patch_size=16, batch_size=2, steps_per_epoch=2,
                  augmentations=dataclasses.replace(ALL_AUGMENTATIONS, probability=0.5))
    first = _batches(data.training_dataset(**kwargs, seed=7), 3)
    again = _batches(data.training_dataset(**kwargs, seed=7), 3)
    for (lr, hr), (lr_again, hr_again) in zip(first, again):
        np.testing.assert_array_equal(lr, lr_again)
        np.testing.assert_array_equal(hr, hr_again)
    multi_scale = dict(images=photos, scale=[2, 3, 4], hr_patch_size=24, batch_size=2)
    assert ([lr.shape for lr, _ in _batches(data.training_dataset(**multi_scale, seed=7), 6)]
            == [lr.shape for lr, _ in _batches(data.training_dataset(**multi_scale, seed=7), 6)])
    other = _batches(data.training_dataset(**multi_scale, seed=8), 2)
    assert not np.array_equal(_batches(data.training_dataset(**multi_scale, seed=7), 1)[0][1], other[0][1])


def test_fresh_dataset_at_epoch_equals_continuous_run(photos):
    kwargs = dict(images=photos, scale=2, hr_patch_size=24, batch_size=2, steps_per_epoch=3, seed=11,
                  augmentations=data.Augmentations(flip=True, rotate90=True, gaussian_noise_sigma=(0, 0.05)))
    continuous = _batches(data.training_dataset(**kwargs), 9)
    resumed = _batches(data.training_dataset(**kwargs, epoch=1, epochs=1), 10)
    assert len(resumed) == 3  # exactly one epoch
    for (lr, hr), (lr_resumed, hr_resumed) in zip(continuous[3:6], resumed):
        np.testing.assert_array_equal(lr, lr_resumed)
        np.testing.assert_array_equal(hr, hr_resumed)
    assert not np.array_equal(continuous[0][1], continuous[3][1])  # epochs differ


def test_every_image_once_per_pass():
    """Flat images of distinct grey levels: each batch of len(images) holds each once."""
    levels = [10, 60, 110, 160, 210]
    flat = [np.full((20 + 3 * i, 30, 3), level, np.uint8) for i, level in enumerate(levels)]
    dataset = data.training_dataset(flat, 2, 8, batch_size=5, steps_per_epoch=2, channels="rgb")
    orders = [tuple(np.round(hr[:, 0, 0, 0] * 255).astype(int)) for _, hr in _batches(dataset, 4)]
    assert all(sorted(order) == levels for order in orders)
    assert len(set(orders)) > 1  # reshuffled


def test_fit_runs_epochs_on_the_dataset(photos):
    dataset = data.training_dataset(photos, 2, 16, batch_size=2, steps_per_epoch=2, upsampled_input=True)
    model = keras.Sequential([keras.Input((None, None, 1)), keras.layers.Conv2D(1, 3, padding="same")])
    model.compile("adam", "mse")
    history = model.fit(dataset, epochs=2, steps_per_epoch=2, initial_epoch=0, shuffle=False, verbose=0)
    assert len(history.history["loss"]) == 2


def test_flip_and_rotation_are_symmetries_of_the_same_crop(photos):
    kwargs = dict(images=photos, scale=2, hr_patch_size=20, batch_size=8, channels="rgb", seed=4)
    _, plain = next(iter(data.training_dataset(**kwargs)))
    _, turned = next(iter(data.training_dataset(**kwargs, augmentations=data.Augmentations(flip=True,
                                                                                            rotate90=True))))
    used = set()
    for original, result in zip(plain.numpy(), turned.numpy()):
        candidates = [np.rot90(image, turns) for image in (original, original[:, ::-1]) for turns in range(4)]
        matches = [index for index, candidate in enumerate(candidates) if np.array_equal(candidate, result)]
        assert matches
        used.add(matches[0])
    assert len(used) > 1


def test_every_augmentation_changes_something_and_keeps_range():
    image = datasets.load_images("embedded", limit=1)[0][1]
    examples = data.augmentation_examples(image, scale=2, hr_patch_size=48)
    assert set(examples) == {"none", *ALL_AUGMENTATIONS.enabled()}
    none_lr, none_hr = examples["none"]
    hr_only = {"blur_sigma", "gaussian_noise_sigma", "poisson_peak", "jpeg_quality"}  # degrade LR, keep HR
    for name, (lr, hr) in examples.items():
        assert lr.shape == (24, 24, 3) and hr.shape == (48, 48, 3), name
        assert lr.min() >= 0 and lr.max() <= 1 and hr.min() >= 0 and hr.max() <= 1, name
        if name != "none":
            assert not np.array_equal(lr, none_lr), name
            assert np.array_equal(hr, none_hr) == (name in hr_only), name


@pytest.mark.parametrize("scale, hr_patch_size, message", [
    (2, 64, r"hr_patch_size.*scale=2.*48x48 image.*hr_patch_size=64"),  # larger than the image
    (3, 40, r"hr_patch_size.*multiple of scale=3.*hr_patch_size=40"),
    (2.5, 40, r"scale.*Received: scale=2\.5"),
])
def test_augmentation_examples_check_the_patch_size_and_scale(scale, hr_patch_size, message):
    image = np.zeros((48, 48, 3), np.uint8)
    with pytest.raises(ValueError, match=message):
        data.augmentation_examples(image, scale=scale, hr_patch_size=hr_patch_size)


def test_all_augmentations_together_in_every_mode(photos):
    for channels, upsampled_input in [("rgb", False), ("y", True)]:
        dataset = data.training_dataset(photos, 3, 36, batch_size=4, channels=channels,
                                        upsampled_input=upsampled_input, augmentations=ALL_AUGMENTATIONS)
        lr, hr = next(iter(dataset))
        assert lr.shape[1] == (36 if upsampled_input else 12)
        for values in (lr, hr):
            assert np.isfinite(values.numpy()).all()
            assert 0 <= float(tf.reduce_min(values)) and float(tf.reduce_max(values)) <= 1


def test_probability_zero_changes_nothing(photos):
    kwargs = dict(images=photos, scale=2, hr_patch_size=24, batch_size=3, seed=9)
    plain = next(iter(data.training_dataset(**kwargs)))
    off = dataclasses.replace(ALL_AUGMENTATIONS, flip=False, rotate90=False, probability=0.0)
    unchanged = next(iter(data.training_dataset(**kwargs, augmentations=off)))
    np.testing.assert_array_equal(plain[0], unchanged[0])
    np.testing.assert_array_equal(plain[1], unchanged[1])


def test_greyscale_repeat_or_drop(photos):
    grey = [image for _, image in photos if image.shape[-1] == 1]
    lr, hr = next(iter(data.training_dataset(grey, 2, 16, batch_size=1, channels="rgb")))
    np.testing.assert_array_equal(hr[..., 0], hr[..., 2])
    with pytest.raises(ValueError, match="images"):
        data.training_dataset(grey, 2, 16, greyscale="drop")


def test_validation_images_follow_the_protocol(photos):
    pairs = data.validation_images("embedded", 3, channels="rgb", dtype="uint8", limit=2)
    for (lr, hr), (_, image) in zip(pairs, photos):
        expected_hr, expected_lr = degrade(image, 3)
        np.testing.assert_array_equal(hr, expected_hr)
        np.testing.assert_array_equal(lr, expected_lr)
    pairs = data.validation_images("embedded", 2, channels="y", upsampled_input=True)
    assert len(pairs) == 5
    for (lr, hr), (_, image) in zip(pairs, photos):
        assert lr.dtype == np.float32 and lr.shape == hr.shape and hr.shape[-1] == 1
        expected_hr, _ = degrade(image, 2)
        np.testing.assert_allclose(hr, rgb_to_y(expected_hr.astype(np.float32) / 255), atol=1e-6)
        assert 0 <= lr.min() and lr.max() <= 1
    dataset = data.validation_dataset("embedded", 4, channels="rgb", limit=2)
    assert dataset.element_spec[0].shape.as_list() == [None, None, None, 3]
    shapes = [(lr.shape, hr.shape) for lr, hr in dataset]
    assert [lr[1] * 4 for lr, _ in shapes] == [hr[1] for _, hr in shapes]


@pytest.mark.parametrize("kwargs,argument", [
    (dict(hr_patch_size=25), "hr_patch_size"),
    (dict(scale=[2, 3], hr_patch_size=32), "hr_patch_size"),
    (dict(channels="ycbcr"), "channels"),
    (dict(scale=0), "scale"),
    (dict(batch_size=0), "batch_size"),
    (dict(steps_per_epoch=0), "steps_per_epoch"),
    (dict(seed=-1), "seed"),
    (dict(downscale_method="cubicle"), "downscale_method"),
    (dict(upsample_method="cubicle"), "upsample_method"),
    (dict(greyscale="keep"), "greyscale"),
    (dict(augmentations={"flip": True}), "augmentations"),
])
def test_bad_arguments_name_the_argument(photos, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        data.training_dataset(**{"images": photos, "scale": 2, "hr_patch_size": 24, **kwargs})


def test_images_smaller_than_the_patch_are_left_out(photos):
    small = [np.zeros((10, 40, 3), np.uint8), np.zeros((40, 40, 3), np.uint8)]
    with pytest.warns(UserWarning, match="left out 1"):
        data.training_dataset(small, 2, 20)
    with pytest.raises(ValueError, match="hr_patch_size"), pytest.warns(UserWarning, match="left out 5"):
        data.training_dataset(photos, 2, 4096)


@pytest.mark.parametrize("kwargs,argument", [
    (dict(brightness=1.5), "brightness"),
    (dict(contrast=(1.2, 0.8)), "contrast"),
    (dict(gamma=(0.0, 1.0)), "gamma"),
    (dict(hue=0.7), "hue"),
    (dict(blur_sigma=(0.5, 20)), "blur_sigma"),
    (dict(gaussian_noise_sigma=0.1), "gaussian_noise_sigma"),
    (dict(poisson_peak=(0, 10)), "poisson_peak"),
    (dict(jpeg_quality=(50, 101)), "jpeg_quality"),
    (dict(jpeg_quality=(10.5, 20)), r"jpeg_quality.*integers"),
    (dict(jpeg_quality=(10, 20.0)), r"jpeg_quality.*integers"),
    (dict(poisson_peak=(10, math.inf)), r"poisson_peak.*finite"),
    (dict(gamma=(0.5, math.inf)), r"gamma.*finite"),
    (dict(contrast=(math.inf, math.inf)), r"contrast.*finite"),
    (dict(blur_sigma=(math.nan, 1)), r"blur_sigma.*finite"),
    (dict(perspective=0.9), "perspective"),
    (dict(cutout=0), "cutout"),
    (dict(text_overlay=-0.1), "text_overlay"),
    (dict(probability=1.5), "probability"),
    (dict(probability=True), "probability"),
    (dict(probability=math.nan), "probability"),
    (dict(flip="yes"), "flip"),
])
def test_bad_augmentation_values_name_the_field(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        data.Augmentations(**kwargs)


def _photometric(augmentations, images, seed=(3, 4)):
    from srlib import augment

    key = tf.constant(seed, tf.int64)
    return augment.augment_hr(tf.constant(images), key, augmentations).numpy(), key


def test_photometric_augmentations_follow_their_formulas(rng):
    from srlib import augment

    images = rng.uniform(0.3, 0.7, (4, 16, 16, 3)).astype(np.float32)  # no clipping at these settings
    brightened, key = _photometric(data.Augmentations(brightness=0.2), images)
    offsets = augment.random_uniform(key, "brightness", (4,), -0.2, 0.2).numpy()
    np.testing.assert_allclose(brightened, images + offsets[:, None, None, None], atol=1e-6)
    assert len(set(np.round(offsets, 6))) == 4  # one offset per image
    contrasted, _ = _photometric(data.Augmentations(contrast=(0.5, 0.5)), images)
    mean = images.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(contrasted, (images - mean) * 0.5 + mean, atol=1e-6)
    darkened, _ = _photometric(data.Augmentations(gamma=(2.0, 2.0)), images)
    np.testing.assert_allclose(darkened, images ** 2, rtol=1e-5)
    grey = np.repeat(images[..., :1], 3, axis=-1)  # on the grey axis, a hue rotation changes nothing
    np.testing.assert_allclose(_photometric(data.Augmentations(hue=0.3), grey)[0], grey, atol=1e-5)
    assert np.abs(_photometric(data.Augmentations(hue=0.3), images)[0] - images).max() > 0.01


def test_augmentations_apply_to_about_the_probability_asked(rng):
    images = rng.uniform(0.3, 0.7, (200, 4, 4, 3)).astype(np.float32)
    augmented, _ = _photometric(data.Augmentations(gamma=(2.0, 2.0), probability=0.5), images)
    changed = np.abs(augmented - images).max(axis=(1, 2, 3)) > 1e-6
    assert 70 <= changed.sum() <= 130  # binomial(200, 0.5): 100 +- 30 is over four standard deviations
    np.testing.assert_allclose(augmented[changed], images[changed] ** 2, rtol=1e-5)
    np.testing.assert_array_equal(augmented[~changed], images[~changed])


def test_gaussian_blur_matches_scipy_with_symmetric_borders(rng):
    from scipy import ndimage

    from srlib import augment

    images = rng.random((2, 24, 24, 3)).astype(np.float32)
    sigmas = np.array([0.8, 1.7], np.float32)
    blurred = augment.gaussian_blur(tf.constant(images), tf.constant(sigmas), max_sigma=2.0).numpy()
    radius = 6  # ceil(3 * max_sigma): both images use the same taps, each its own sigma
    for image, sigma, result in zip(images, sigmas, blurred):
        expected = ndimage.gaussian_filter(image, sigma=(sigma, sigma, 0), mode="reflect",
                                           truncate=radius / sigma)
        np.testing.assert_allclose(result, expected, atol=1e-5)
