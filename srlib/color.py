"""RGB <-> YCbCr (ITU-R BT.601) in the convention of MATLAB's ``rgb2ycbcr``.

Super-resolution papers report PSNR and SSIM on the luma channel Y computed with
MATLAB's ``rgb2ycbcr``: "studio swing" BT.601, where 8-bit Y spans [16, 235] and
Cb/Cr span [16, 240]. Using full-range (JPEG) YCbCr, or the Y of the wrong value
range, moves PSNR by tenths of a dB; this module is the single place that fixes it.

Every function accepts NumPy arrays or TensorFlow tensors with channels last
(``(..., 3)`` for colour, ``(..., 1)`` for luma) and returns the same kind of object:

* ``uint8`` input: values in [0, 255]; the result is rounded (half away from zero,
  as MATLAB does) and clipped to ``uint8``. RGB to YCbCr is computed exactly, in integers:
  the values that MATLAB's matrix puts exactly on a half (Y for 194 of the 2^24 RGB
  triplets, Cr for 12) round up on every path, where float64 sums, MATLAB's included,
  land on either side of the half depending on the order of the terms.
* floating input: values in [0, 1]; the result is float in the same scale
  (Y in [16/255, 235/255]) and is neither rounded nor clipped.
"""

import numpy as np
import tensorflow as tf

# MATLAB's matrix maps R, G, B in [0, 1] to Y, Cb, Cr in [0, 255]; everything below works
# on [0, 1] for both sides, so the matrix and offsets are divided by 255 once here.
_RGB_TO_YCBCR = np.array(
    [[65.481, 128.553, 24.966],
     [-37.797, -74.203, 112.0],
     [112.0, -93.786, -18.214]], dtype=np.float64) / 255.0
_YCBCR_OFFSET = np.array([16.0, 128.0, 128.0], dtype=np.float64) / 255.0
_YCBCR_TO_RGB = np.linalg.inv(_RGB_TO_YCBCR)
_ZERO_OFFSET = np.zeros(3)
# The same map on uint8 in integers: 1000 x MATLAB's matrix, and the offsets in units of 1/255000.
_RGB_TO_YCBCR_MILLI = np.array(
    [[65481, 128553, 24966],
     [-37797, -74203, 112000],
     [112000, -93786, -18214]], dtype=np.int64)
_YCBCR_OFFSET_MILLI = np.array([16, 128, 128], dtype=np.int64) * 255000


def _check_channels(image, expected, name):
    channels = image.shape[-1]
    if channels is not None and channels != expected:
        raise ValueError(f"{name} expects {expected} channels in the last axis, got shape {tuple(image.shape)}")


def _round_half_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def _rgb_uint8_to_ycbcr_exact(image, rows):
    """Rows ``rows`` of MATLAB's ``rgb2ycbcr`` on uint8 RGB, rounded half up in exact integers.

    Every sum lies in [16, 240] x 255000 (the offsets outweigh the negative coefficients),
    so rounding half up is MATLAB's half away from zero and no clipping is needed.
    """
    matrix, offset, half = _RGB_TO_YCBCR_MILLI[rows], _YCBCR_OFFSET_MILLI[rows], 255000 // 2
    if tf.is_tensor(image):
        x = tf.cast(image, tf.int64)[..., None, :]  # [..., 1, rgb] against [output, rgb]
        total = tf.reduce_sum(x * tf.constant(matrix), axis=-1) + tf.constant(offset + half)
        return tf.cast(total // 255000, tf.uint8)
    total = image.astype(np.int64) @ matrix.T + (offset + half)
    return (total // 255000).astype(np.uint8)


def _apply(image, matrix, offset_before, offset_after):
    """``(x - offset_before) @ matrix.T + offset_after`` on [0, 1] values, uint8 in and out where given."""
    if tf.is_tensor(image):
        is_uint8 = image.dtype == tf.uint8
        if not (is_uint8 or image.dtype.is_floating):
            raise ValueError(f"expected a uint8 image in [0, 255] or a float image in [0, 1], got dtype "
                             f"{image.dtype.name}")
        # uint8 in float64, as the NumPy path: in float32 a few values round the other way than MATLAB's.
        dtype = tf.float64 if image.dtype in (tf.uint8, tf.float64) else tf.float32
        x = tf.cast(image, dtype) / (255.0 if is_uint8 else 1.0)
        x = x - tf.constant(offset_before, dtype)
        out = tf.tensordot(x, tf.constant(matrix.T, dtype), axes=1)
        out = out + tf.constant(offset_after, dtype)
        if is_uint8:
            scaled = out * 255.0
            scaled = tf.sign(scaled) * tf.floor(tf.abs(scaled) + 0.5)
            return tf.cast(tf.clip_by_value(scaled, 0.0, 255.0), tf.uint8)
        return out
    image = np.asarray(image)
    is_uint8 = image.dtype == np.uint8
    if not (is_uint8 or np.issubdtype(image.dtype, np.floating)):
        raise ValueError(f"expected a uint8 image in [0, 255] or a float image in [0, 1], got dtype {image.dtype}")
    x = image.astype(np.float64) / (255.0 if is_uint8 else 1.0)
    out = (x - offset_before) @ matrix.T + offset_after
    if is_uint8:
        return np.clip(_round_half_away(out * 255.0), 0, 255).astype(np.uint8)
    return out.astype(image.dtype if image.dtype != np.float16 else np.float32)


def rgb_to_ycbcr(image):
    """RGB to BT.601 YCbCr (MATLAB ``rgb2ycbcr``).

    Args:
        image: ``(..., 3)`` RGB, uint8 in [0, 255] or float in [0, 1].

    Returns:
        ``(..., 3)`` YCbCr of the same dtype family; Y in [16, 235] (or /255 for floats).
    """
    _check_channels(image, 3, "rgb_to_ycbcr")
    if image.dtype == np.uint8:
        return _rgb_uint8_to_ycbcr_exact(image, slice(0, 3))
    return _apply(image, _RGB_TO_YCBCR, _ZERO_OFFSET, _YCBCR_OFFSET)


def ycbcr_to_rgb(image):
    """BT.601 YCbCr to RGB (MATLAB ``ycbcr2rgb``), the inverse of :func:`rgb_to_ycbcr`.

    Args:
        image: ``(..., 3)`` YCbCr, uint8 or float scaled by 1/255.

    Returns:
        ``(..., 3)`` RGB; uint8 results are rounded and clipped, float results are not clipped.
    """
    _check_channels(image, 3, "ycbcr_to_rgb")
    return _apply(image, _YCBCR_TO_RGB, _YCBCR_OFFSET, _ZERO_OFFSET)


def rgb_to_y(image):
    """Luma Y of an RGB image, keeping a trailing channel axis of size 1.

    Greyscale input (last axis of size 1) is returned unchanged: a grey image
    has R = G = B, and its Y under ``rgb2ycbcr`` would only add the studio-swing
    offset, which the published protocol does not apply to greyscale test images
    (MATLAB scripts skip ``rgb2ycbcr`` when ``size(im, 3) == 1``).

    Args:
        image: ``(..., 3)`` RGB or ``(..., 1)`` grey, uint8 or float in [0, 1].

    Returns:
        ``(..., 1)`` Y in the input's dtype family.
    """
    if tf.is_tensor(image) and (image.shape.rank is None or image.shape[-1] is None):
        # Only in a graph (tf.io.decode_image, say): grey and RGB need different graphs.
        raise ValueError(f"rgb_to_y needs a known channel count (1 or 3), got shape {image.shape}: "
                         "decode with `channels=` or set it with `tf.ensure_shape`")
    if image.shape[-1] == 1:
        return image
    _check_channels(image, 3, "rgb_to_y")
    if image.dtype == np.uint8:
        return _rgb_uint8_to_ycbcr_exact(image, slice(0, 1))
    return _apply(image, _RGB_TO_YCBCR[:1], _ZERO_OFFSET, _YCBCR_OFFSET[:1])
