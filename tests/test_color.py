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


def test_uint8_tensors_round_like_the_numpy_path(rng):
    # Computed in float32, 17 of these 3,000,000 values rounded the other way than the NumPy
    # (float64, as MATLAB) path. In float64 only exact halves are left, which the two
    # summation orders put on either side of .5 (2 here).
    image = rng.integers(0, 256, (1000, 1000, 3), dtype=np.uint8)
    difference = color.rgb_to_ycbcr(tf.constant(image)).numpy().astype(int) - color.rgb_to_ycbcr(image)
    assert np.abs(difference).max() <= 1 and np.count_nonzero(difference) <= 4


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
