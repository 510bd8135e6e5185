import math
from fractions import Fraction

import numpy as np
import pytest
import tensorflow as tf

from srlib import color


def test_matlab_reference_values():
    # MATLAB: rgb2ycbcr(uint8([255 255 255; 0 0 0; 255 0 0])) on a 3x1x3 image
    pixels = np.array([[[255, 255, 255]], [[0, 0, 0]], [[255, 0, 0]]], np.uint8)
    ycbcr = color.rgb_to_ycbcr(pixels)
    np.testing.assert_array_equal(ycbcr[:, 0], [[235, 128, 128], [16, 128, 128], [81, 90, 240]])


def test_uint8_round_trip_within_rounding(rng):
    # 8-bit studio-swing YCbCr has 219/224 levels per channel, and B = Y + 2.03 * (Cb - 128)
    # amplifies the half-level rounding of Cb: two levels at most, as with MATLAB.
    image = rng.integers(0, 256, (32, 40, 3), dtype=np.uint8)
    error = np.abs(color.ycbcr_to_rgb(color.rgb_to_ycbcr(image)).astype(int) - image)
    assert error.max() <= 2
    assert error.mean() < 0.5


def test_float_round_trip_is_exact(rng):
    image = rng.random((16, 16, 3))
    np.testing.assert_allclose(color.ycbcr_to_rgb(color.rgb_to_ycbcr(image)), image, atol=1e-12)


def test_float_range_matches_uint8_range(rng):
    image = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    y_uint8 = color.rgb_to_y(image)[..., 0].astype(np.float64)
    y_float = color.rgb_to_y(image / 255.0)[..., 0] * 255.0
    assert np.abs(y_uint8 - y_float).max() <= 0.5 + 1e-9
    assert 16 <= y_uint8.min() and y_uint8.max() <= 235


def test_tensor_matches_numpy(rng):
    image = rng.integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    from_tensor = color.rgb_to_ycbcr(tf.constant(image))
    assert tf.is_tensor(from_tensor) and from_tensor.dtype == tf.uint8
    np.testing.assert_array_equal(from_tensor.numpy(), color.rgb_to_ycbcr(image))
    float_tensor = color.rgb_to_y(tf.constant(image / 255.0, tf.float32))
    assert float_tensor.dtype == tf.float32
    np.testing.assert_allclose(float_tensor.numpy(), color.rgb_to_y(image / 255.0), atol=1e-6)
    double_tensor = color.rgb_to_y(tf.constant(image / 255.0, tf.float64))
    assert double_tensor.dtype == tf.float64
    np.testing.assert_allclose(double_tensor.numpy(), color.rgb_to_y(image / 255.0), rtol=1e-15, atol=0)


def _exact_ycbcr(triplet):
    """MATLAB's rgb2ycbcr of one uint8 triplet in exact rational arithmetic, rounded half up."""
    matrix = [["65.481", "128.553", "24.966"], ["-37.797", "-74.203", "112"], ["112", "-93.786", "-18.214"]]
    values = [offset + sum(Fraction(c) * int(x) for c, x in zip(row, triplet)) / 255
              for offset, row in zip((16, 128, 128), matrix)]
    return [math.floor(value + Fraction(1, 2)) for value in values]


def test_uint8_exact_halves_round_up_on_both_paths():
    # Every RGB triplet, in float64, to find the outputs within 1e-9 of a half; exact rational
    # arithmetic then decides them. Float sums put some of these exact halves just below .5
    # (the NumPy and TensorFlow paths once disagreed on 18 triplets of them).
    green_blue = np.stack(np.meshgrid(np.arange(256), np.arange(256), indexing="ij"), axis=-1).reshape(-1, 2)
    triplets = []
    for red in range(256):  # a plane of red at a time: all 2^24 at once would take 2 GB
        plane = np.concatenate([np.full((len(green_blue), 1), red), green_blue], axis=-1).astype(np.uint8)
        float_values = plane @ color._RGB_TO_YCBCR.T + np.array([16, 128, 128])
        triplets.extend(plane[(np.abs(float_values % 1 - 0.5) < 1e-9).any(axis=-1)])
    triplets = np.array(triplets)
    assert 100 < len(triplets) < 1000  # 206 outputs are exact halves: Y of 194 triplets, Cr of 12
    expected = np.array([_exact_ycbcr(triplet) for triplet in triplets])
    np.testing.assert_array_equal(color.rgb_to_ycbcr(triplets), expected)
    np.testing.assert_array_equal(color.rgb_to_ycbcr(tf.constant(triplets)).numpy(), expected)
    np.testing.assert_array_equal(color.rgb_to_y(tf.constant(triplets)).numpy(), expected[:, :1])
    away_from_halves = np.stack(np.meshgrid(*[np.arange(0, 256, 7, dtype=np.uint8)] * 3, indexing="ij"),
                                axis=-1).reshape(-1, 3)
    np.testing.assert_array_equal(color.rgb_to_ycbcr(away_from_halves),
                                  np.clip(np.floor(away_from_halves @ color._RGB_TO_YCBCR.T
                                                   + np.array([16.5, 128.5, 128.5])), 0, 255))


def test_unknown_channels_in_a_graph_are_named():
    @tf.function(input_signature=[tf.TensorSpec([None, None, None], tf.uint8)])
    def luma(image):
        return color.rgb_to_y(image)
    with pytest.raises(ValueError, match="known channel count"):
        luma.get_concrete_function()
    decoded = tf.function(color.rgb_to_y, input_signature=[tf.TensorSpec(None, tf.uint8)])  # tf.io.decode_image
    with pytest.raises(ValueError, match="known channel count"):
        decoded.get_concrete_function()


def test_integer_tensors_other_than_uint8_are_refused():
    with pytest.raises(ValueError, match="got dtype int32"):
        color.rgb_to_y(tf.zeros((4, 4, 3), tf.int32))


def test_greyscale_y_is_the_image_itself(rng):
    grey = rng.integers(0, 256, (5, 5, 1), dtype=np.uint8)
    np.testing.assert_array_equal(color.rgb_to_y(grey), grey)


def test_wrong_channel_count_is_rejected():
    with pytest.raises(ValueError, match="3 channels"):
        color.rgb_to_ycbcr(np.zeros((4, 4, 4), np.uint8))
    with pytest.raises(ValueError, match="dtype"):
        color.rgb_to_ycbcr(np.zeros((4, 4, 3), np.int32))
