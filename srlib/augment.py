"""Augmentations and degradations for the training pipeline, and the stateless random streams they draw from.

Every function works on a whole batch ``(B, P, P, 3)`` of float RGB in [0, 1] and takes
a ``key`` (a stateless seed, see :mod:`srlib.data`): each random decision draws from its
own named stream, :func:`random_stream`, so that enabling one augmentation leaves every
other draw unchanged and a batch stays a pure function of ``(seed, epoch, batch)``.

Where each applies (the orchestration lives in :mod:`srlib.data`):

* on the HR target before degradation, :func:`augment_hr`: brightness, contrast,
  gamma, hue (a rotation about the grey axis), cutout holes, text overlay;
* on the way to LR: :func:`gaussian_blur` before the downscale (optics), sensor
  noise after it, :func:`jpeg_compress` on the 8-bit LR (codec).

Flips, 90-degree rotations and the perspective warp are folded into the crop in
:mod:`srlib.data` (they move pixels, so they belong to the gather).
"""

import dataclasses
import functools
import math
import zlib

import numpy as np
import tensorflow as tf

from srlib.validation import is_finite_number, is_integer


# field: (smallest, largest, smallest excluded, whether a (low, high) range)
_LIMITS = {"perspective": (0, 0.45, True, False), "brightness": (0, 1, True, False),
           "hue": (0, 0.5, True, False), "cutout": (0, 1, True, False), "text_overlay": (0, 1, True, False),
           "contrast": (0, math.inf, False, True), "gamma": (0, math.inf, True, True),
           "blur_sigma": (0, 10, False, True), "gaussian_noise_sigma": (0, 1, False, True),
           "poisson_peak": (0, math.inf, True, True), "jpeg_quality": (0, 100, False, True)}


@dataclasses.dataclass(frozen=True)
class Augmentations:
    """Which augmentations and degradations to apply, and how strongly; all off by default.

    ``flip`` and ``rotate90`` pick uniformly among their symmetries. Every other enabled
    field applies to a fraction ``probability`` of the examples (a coin per example and
    field), with its parameter drawn uniformly from the range given. Ranges are
    ``(low, high)`` pairs.

    Args:
        flip (bool): mirror left-right half of the time. Default: False.
        rotate90 (bool): rotate by 0, 90, 180 or 270 degrees. Default: False.
        perspective (float | None): max corner shift of a projective warp, as a fraction
            of the patch side, in (0, 0.45]; e.g. 0.1. Clamped at the image edges.
        brightness (float | None): max offset added to HR, in (0, 1].
        contrast (range | None): factor scaling HR about its mean, >= 0.
        gamma (range | None): exponent applied to HR, > 0.
        hue (float | None): max rotation of colours about the grey axis, in turns, (0, 0.5].
        cutout (float | None): max side of one hole of random colour, fraction of the side, (0, 1].
        text_overlay (float | None): glyph height, fraction of the side, (0, 1]: up to four
            glyphs in a random colour.
        blur_sigma (range | None): Gaussian sigma in HR pixels, within [0, 10].
        poisson_peak (range | None): photon count of a white LR pixel, > 0; lower is noisier.
        gaussian_noise_sigma (range | None): std of noise on LR values in [0, 1], within [0, 1].
        jpeg_quality (range | None): JPEG quality of the 8-bit LR, integers within [0, 100].
        probability (float): chance an enabled augmentation (other than the symmetries)
            applies to an example, in [0, 1]. Default: 1.0.
    """

    # In the order the pipeline applies them, which enabled() reports.
    flip: bool = False
    rotate90: bool = False
    perspective: float | None = None
    brightness: float | None = None
    contrast: tuple | None = None
    gamma: tuple | None = None
    hue: float | None = None
    cutout: float | None = None
    text_overlay: float | None = None
    blur_sigma: tuple | None = None
    poisson_peak: tuple | None = None
    gaussian_noise_sigma: tuple | None = None
    jpeg_quality: tuple | None = None
    probability: float = 1.0

    def __post_init__(self):
        for name in ("flip", "rotate90"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"`{name}` must be True or False. Received: {name}={getattr(self, name)!r}")
        for name, (smallest, largest, strict, is_range) in _LIMITS.items():
            value = getattr(self, name)
            if value is None:
                continue
            values = tuple(value) if is_range and isinstance(value, (tuple, list)) else (value,)
            # Qualities go to the codec as integers; an infinite bound makes NaN (poisson_peak)
            # or wrecks HR (contrast, gamma) instead of failing.
            is_valid, numbers_kind = ((is_integer, "integers") if name == "jpeg_quality"
                                      else (is_finite_number, "finite numbers"))
            valid = (len(values) == 1 + is_range and all(is_valid(v) for v in values)
                     and (values[0] > smallest if strict else values[0] >= smallest)
                     and values[0] <= values[-1] <= largest)
            if not valid:
                kind = (f"a (low, high) pair of {numbers_kind}, low <= high, within" if is_range
                        else "a finite number in")
                interval = f"{'(' if strict else '['}{smallest}, {largest}{')' if math.isinf(largest) else ']'}"
                raise ValueError(f"`{name}` must be None or {kind} {interval}. Received: {name}={value!r}")
            if is_range:
                object.__setattr__(self, name, values)
        if not (is_finite_number(self.probability) and 0 <= self.probability <= 1):
            raise ValueError(f"`probability` must be in [0, 1]. Received: probability={self.probability!r}")

    def enabled(self):
        """Names of the enabled augmentations, in the order they are applied."""
        return [field.name for field in dataclasses.fields(self)
                if field.name != "probability" and getattr(self, field.name) not in (None, False)]


# Moderate settings for every augmentation: what augmentation_examples() shows by default.
EXAMPLE_AUGMENTATIONS = Augmentations(
    flip=True, rotate90=True, perspective=0.12, brightness=0.2, contrast=(0.5, 0.7), gamma=(1.6, 2.0),
    hue=0.25, cutout=0.4, text_overlay=0.3, blur_sigma=(1.5, 2.0), gaussian_noise_sigma=(0.02, 0.03),
    poisson_peak=(60.0, 100.0), jpeg_quality=(10, 20))


def random_stream(key, name):
    """The seed of the random stream ``name`` under ``key``: one stream per decision."""
    return tf.random.experimental.stateless_fold_in(key, tf.constant(zlib.crc32(name.encode()), tf.int64))


def random_uniform(key, name, shape, low=0.0, high=1.0):
    return tf.random.stateless_uniform(shape, random_stream(key, name), minval=low, maxval=high)


def apply_to_fraction(key, name, probability, original, augmented):
    """``augmented`` for a random fraction ``probability`` of the examples, else ``original``."""
    if probability >= 1:
        return augmented
    chosen = random_uniform(key, name + "/apply", original.shape[:1]) < probability
    return tf.where(chosen[:, None, None, None], augmented, original)


def _rotate_hue(images, turns):
    """Rotates colours about the grey axis by ``turns`` (per image): a linear hue shift
    that keeps greys, much cheaper than a round trip through HSV."""
    angle = 2 * math.pi * turns[:, None, None]
    cosine, sine = tf.cos(angle), tf.sin(angle)
    # Rodrigues' rotation about the unit vector (1, 1, 1) / sqrt(3).
    third, root = 1 / 3, math.sqrt(1 / 3)
    cross = tf.constant([[0, -root, root], [root, 0, -root], [-root, root, 0]], tf.float32)
    rotation = cosine * tf.eye(3) + sine * cross + (1 - cosine) * tf.fill([3, 3], third)
    return tf.einsum("bhwc,bdc->bhwd", images, rotation)


def _rectangle_mask(size, top, left, height, width):
    """(B, P, P, 1) booleans, True inside each example's rectangle (float bounds)."""
    positions = tf.range(size, dtype=tf.float32)
    inside_rows = (positions >= top[:, None]) & (positions < (top + height)[:, None])
    inside_columns = (positions >= left[:, None]) & (positions < (left + width)[:, None])
    return (inside_rows[:, :, None] & inside_columns[:, None, :])[..., None]


def _cutout(images, key, max_fraction):
    batch_size, size = images.shape[0], images.shape[1]
    draws = random_uniform(key, "cutout", [batch_size, 7])
    height = tf.math.ceil(draws[:, 0] * max_fraction * size)
    width = tf.math.ceil(draws[:, 1] * max_fraction * size)
    top, left = tf.floor(draws[:, 2] * (size - height + 1)), tf.floor(draws[:, 3] * (size - width + 1))
    hole = _rectangle_mask(size, top, left, height, width)
    return tf.where(hole, draws[:, None, None, 4:], images)


_GLYPHS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789#&@"


@functools.lru_cache(maxsize=8)
def _glyph_masks(height):
    """(glyphs, cell height, cell width) float32 coverage masks, rendered once with PIL."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=height)
    boxes = [font.getbbox(glyph) for glyph in _GLYPHS]
    top, bottom = min(box[1] for box in boxes), max(box[3] for box in boxes)
    cell_width = max(box[2] - box[0] for box in boxes) + 1
    masks = []
    for glyph, box in zip(_GLYPHS, boxes):
        canvas = Image.new("L", (cell_width, bottom - top))
        ImageDraw.Draw(canvas).text(((cell_width - box[2] - box[0]) / 2, -top), glyph, fill=255, font=font)
        masks.append(np.asarray(canvas, np.float32) / 255.0)
    return np.stack(masks)


def _text_overlay(images, key, fraction):
    """Draws up to four random glyphs (PIL-rendered masks, pasted with tensor ops)."""
    batch_size, size = images.shape[0], images.shape[1]
    masks = _glyph_masks(max(6, round(fraction * size)))[:, :size, :size]
    _, cell_height, cell_width = masks.shape
    count = max(1, min(4, size // cell_width))
    glyphs = tf.cast(random_uniform(key, "text/glyphs", [batch_size, count]) * len(_GLYPHS), tf.int32)
    draws = random_uniform(key, "text", [batch_size, 5])
    top = tf.floor(draws[:, 0] * (size - cell_height + 1))
    left = tf.floor(draws[:, 1] * (size - count * cell_width + 1))
    # Each canvas pixel reads its glyph cell; pixels outside the string read zero coverage.
    row = tf.range(size, dtype=tf.float32)[None, :, None] - top[:, None, None]
    column = tf.range(size, dtype=tf.float32)[None, None, :] - left[:, None, None]
    inside = (row >= 0) & (row < cell_height) & (column >= 0) & (column < count * cell_width)
    row, column = tf.cast(tf.where(inside, row, 0), tf.int32), tf.cast(tf.where(inside, column, 0), tf.int32)
    glyph = tf.gather(glyphs, column // cell_width, batch_dims=1)
    coverage = tf.gather(masks.ravel(), (glyph * cell_height + row) * cell_width + column % cell_width)
    coverage = tf.where(inside, coverage, 0.0)[..., None]
    return images * (1 - coverage) + draws[:, None, None, 2:] * coverage


def augment_hr(images, key, augmentations):
    """Geometric, photometric and content changes of the target, each with its coin."""
    config, batch = augmentations, images.shape[:1]

    def apply(name, function):
        return tf.clip_by_value(apply_to_fraction(key, name, config.probability, images, function()), 0.0, 1.0)

    if config.brightness:
        offset = random_uniform(key, "brightness", batch, -config.brightness, config.brightness)
        images = apply("brightness", lambda: images + offset[:, None, None, None])
    if config.contrast:
        factor = random_uniform(key, "contrast", batch, *config.contrast)[:, None, None, None]
        mean = tf.reduce_mean(images, axis=[1, 2], keepdims=True)
        images = apply("contrast", lambda: (images - mean) * factor + mean)
    if config.gamma:
        exponent = random_uniform(key, "gamma", batch, *config.gamma)[:, None, None, None]
        # exp(g log x): several times faster than tf.pow on CPU.
        images = apply("gamma", lambda: tf.where(images > 0, tf.exp(exponent * tf.math.log(images)), 0.0))
    if config.hue:
        images = apply("hue", lambda: _rotate_hue(images, random_uniform(key, "hue", batch, -config.hue, config.hue)))
    if config.cutout:
        images = apply("cutout", lambda: _cutout(images, key, config.cutout))
    if config.text_overlay:
        images = apply("text_overlay", lambda: _text_overlay(images, key, config.text_overlay))
    return images


def gaussian_blur(images, sigma, max_sigma):
    """Separable Gaussian blur, one sigma per image, symmetric borders (as imresize)."""
    batch_size, size, _, depth = images.shape
    radius = min(max(1, math.ceil(3 * max_sigma)), size - 1)
    offsets = tf.range(-radius, radius + 1, dtype=tf.float32)
    weights = tf.exp(-0.5 * tf.square(offsets[:, None] / tf.maximum(sigma, 1e-3)))  # (taps, B)
    weights = tf.repeat(weights / tf.reduce_sum(weights, axis=0), depth, axis=1)  # (taps, B * C)
    # Images become the channels of one image, so that one depthwise conv per axis
    # applies every image's own kernel.
    stacked = tf.reshape(tf.transpose(images, [1, 2, 0, 3]), [1, size, size, batch_size * depth])
    stacked = tf.pad(stacked, [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="SYMMETRIC")
    stacked = tf.nn.depthwise_conv2d(stacked, weights[:, None, :, None], [1, 1, 1, 1], "VALID")
    stacked = tf.nn.depthwise_conv2d(stacked, weights[None, :, :, None], [1, 1, 1, 1], "VALID")
    return tf.transpose(tf.reshape(stacked, [size, size, batch_size, depth]), [2, 0, 1, 3])


def jpeg_compress(images, quality):
    compressed = tf.map_fn(lambda pair: tf.image.adjust_jpeg_quality(pair[0], pair[1]), (images, quality),
                           fn_output_signature=tf.float32)
    return tf.ensure_shape(compressed, images.shape)  # the codec forgets the static shape imresize needs
