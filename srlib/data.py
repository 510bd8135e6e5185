"""Training and validation pipelines: random HR patches, MATLAB-bicubic LR, augmentations.

Training pairs are made on the fly from whole HR images held in memory (uint8), so
no patch is seen twice and nothing is written to disk. Per batch (the augmentation and
degradation ops themselves live in :mod:`srlib.augment`):

1. **Crop** square HR patches of ``hr_patch_size`` (a multiple of every scale) at
   random positions. Geometric augmentations are folded into the gather that crops:
   ``flip`` and ``rotate90`` (the 8 symmetries of the square, free) and a
   ``perspective`` warp sampled bilinearly from the whole image, so that a warped
   patch shows real content rather than padding.
2. **Change the target** (LR follows, as it is made from it): photometric
   (``brightness``, ``contrast``, ``gamma``, ``hue``) and content (``cutout`` holes,
   ``text_overlay`` glyphs).
3. **Degrade** the target into the input: ``blur_sigma`` before the downscale (optics
   blur the scene), ``imresize(hr, 1 / scale)`` (:mod:`srlib.resize`, MATLAB bicubic by
   default), sensor noise on LR (``poisson_peak`` shot noise, ``gaussian_noise_sigma``
   read noise), 8-bit rounding as in the evaluation protocol, then ``jpeg_quality``
   (the codec compresses the 8-bit image a camera stores).
4. **Format**: Y of BT.601 (:func:`srlib.color.rgb_to_y`, in [16/255, 235/255]) or RGB,
   LR optionally interpolated back to HR size (SRCNN/VDSR inputs).

Steps 1-3 work in RGB, so LR luma is the Y of an 8-bit RGB LR, as at evaluation
time; greyscale images are repeated to RGB or dropped (``greyscale``).

Speed: one ``map`` call makes a whole batch (gathering ``batch_size`` patches from a
flat buffer of all images), so every op is dispatched once per batch rather than per
example; batches are full by construction and ``prefetch`` overlaps them with training.

Determinism: batch ``b`` of epoch ``e`` is a pure function of ``(seed, e, b)``. Its key
is ``stateless_fold_in([seed, e], b)``, and each random decision (crop, flip, each
augmentation's parameter and coin, the scale) draws with ``tf.random.stateless_*``
from its own named stream under that key, so enabling one augmentation leaves the
others and the crops unchanged. Images follow stateless permutations
(``RandomIndexShuffle``), one per pass over the set, so each is used equally often. A
fresh ``training_dataset(..., seed=s, epoch=e)`` therefore starts exactly where epoch
``e`` of a run from 0 is, which bitwise resume from a checkpoint needs.

Multi-scale training (``scale=[2, 3, 4]``, VDSR) draws one scale per batch, so every
batch has a single LR shape even without ``upsampled_input``.

Validation (:func:`validation_images`) uses whole images under the paper protocol.
"""

import dataclasses
import functools
import math
import warnings

import numpy as np
import tensorflow as tf

from srlib import datasets
from srlib.augment import (EXAMPLE_AUGMENTATIONS, Augmentations, apply_to_fraction, augment_hr, gaussian_blur,
                           jpeg_compress, random_stream, random_uniform)
from srlib.color import rgb_to_y
from srlib.resize import degrade, imresize, resolve_method
from srlib.validation import integer_at_least

CHANNELS = ("y", "rgb")
GREYSCALE_MODES = ("repeat", "drop")


# ----------------------------------------------------------------------------
# Images in memory
# ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _ImageStore:
    """All HR images as one list of RGB pixels, so that a batch of crops is one gather."""

    pixels: tf.Tensor  # (sum of H * W, 3) uint8, images one after the other in row-major order
    offsets: tf.Tensor  # (N,) int64, the row of `pixels` where each image starts
    heights: tf.Tensor  # (N,) int64
    widths: tf.Tensor  # (N,) int64

    @classmethod
    def from_arrays(cls, arrays):
        return cls(pixels=tf.constant(np.concatenate([array.reshape(-1, 3) for array in arrays])),
                   offsets=tf.constant(np.cumsum([0] + [array.size // 3 for array in arrays[:-1]]), tf.int64),
                   heights=tf.constant([array.shape[0] for array in arrays], tf.int64),
                   widths=tf.constant([array.shape[1] for array in arrays], tf.int64))


def _load_rgb_images(images, greyscale, min_size, limit):
    """uint8 RGB arrays of at least ``min_size`` pixels a side from a name, folder or list."""
    if greyscale not in GREYSCALE_MODES:
        raise ValueError(f"`greyscale` must be one of {GREYSCALE_MODES}. Received: greyscale={greyscale!r}")
    if isinstance(images, str) or hasattr(images, "__fspath__"):
        images = datasets.load_images(str(images), limit=limit)
    elif isinstance(images, (list, tuple)) and images and all(isinstance(item, str) for item in images):
        images = [item for name in images for item in datasets.load_images(name, limit=limit)]  # ("T91", "BSD200")
    arrays = [np.asarray(item[1] if isinstance(item, tuple) else item) for item in images]
    rgb = []
    for array in arrays:
        if array.dtype != np.uint8 or array.ndim != 3 or array.shape[-1] not in (1, 3):
            raise ValueError(f"`images` must hold uint8 (H, W, 1|3) arrays. Received: {array.dtype} {array.shape}")
        if array.shape[-1] == 1 and greyscale == "drop":
            continue
        rgb.append(np.repeat(array, 3, axis=-1) if array.shape[-1] == 1 else array)
    large = [array for array in rgb if min(array.shape[:2]) >= min_size]
    if len(large) < len(rgb):
        warnings.warn(f"left out {len(rgb) - len(large)} images smaller than hr_patch_size={min_size}")
    if not large:
        raise ValueError(f"`images` has no {'RGB ' if greyscale == 'drop' else ''}image of at least "
                         f"{min_size}x{min_size} pixels (hr_patch_size)")
    return large


def _epoch_order(epoch_key, examples, num_images):
    """Image index of each example: a stateless permutation of all images per pass."""
    passes, positions = examples // num_images, examples % num_images
    order_key = random_stream(epoch_key, "order")
    seeds = tf.stack([tf.fill(tf.shape(examples), order_key[0]), tf.fill(tf.shape(examples), order_key[1]),
                      passes], axis=1)
    # The raw op: tf.random.experimental.index_shuffle pads [n, 2] seeds along the wrong axis.
    return tf.raw_ops.RandomIndexShuffle(index=positions, seed=seeds, max_index=tf.constant(num_images - 1, tf.int64),
                                         rounds=4)


# ----------------------------------------------------------------------------
# Crop, with symmetries and warp folded in. (B, P, P, 3) float in [0, 1].
# ----------------------------------------------------------------------------


def _symmetry(key, batch_size, size, flip, rotate90):
    """A random symmetry of the square per example, as the source (row, column) in the
    crop of output pixel (r, c): (B, 3) coefficients of ``offset + a * r + b * c`` each."""
    row = tf.tile(tf.constant([[0, 1, 0]], tf.int64), [batch_size, 1])
    column = tf.tile(tf.constant([[0, 0, 1]], tf.int64), [batch_size, 1])
    last = tf.constant([size - 1, 0, 0], tf.int64)  # `last - x` mirrors x
    if flip:
        mirrored = random_uniform(key, "flip", [batch_size, 1]) < 0.5
        column = tf.where(mirrored, last - column, column)
    if rotate90:
        # k quarter turns counter-clockwise (tf.image.rot90): transpose, then flip rows and/or columns.
        turns = tf.floor(random_uniform(key, "rotate90", [batch_size, 1]) * 4)
        transpose, flip_rows, flip_columns = turns % 2 == 1, turns >= 2, (turns == 1) | (turns == 2)
        row, column = tf.where(transpose, column, row), tf.where(transpose, row, column)
        row = tf.where(flip_rows, last - row, row)
        column = tf.where(flip_columns, last - column, column)
    return row, column


def _affine_grid(coefficients, size):
    """(B, P, P) values ``offset + a * r + b * c`` from (B, 3) coefficients."""
    positions = tf.range(size, dtype=coefficients.dtype)
    offset, per_row, per_column = (coefficients[:, index, None, None] for index in range(3))
    return offset + per_row * positions[:, None] + per_column * positions[None, :]


def _crop(store, image_index, key, size, augmentations):
    """Random ``size`` x ``size`` crops of the chosen images, symmetries and warp included."""
    batch_size = image_index.shape[0]
    heights, widths = tf.gather(store.heights, image_index), tf.gather(store.widths, image_index)
    corner = random_uniform(key, "crop", [batch_size, 2])
    top = tf.minimum(tf.cast(corner[:, 0] * tf.cast(heights - size + 1, tf.float32), tf.int64), heights - size)
    left = tf.minimum(tf.cast(corner[:, 1] * tf.cast(widths - size + 1, tf.float32), tf.int64), widths - size)
    row, column = _symmetry(key, batch_size, size, augmentations.flip, augmentations.rotate90)
    first = tf.gather(store.offsets, image_index)
    if not augmentations.perspective:
        # Pixel (top + row, left + column) of the image is affine in (r, c) too: one gather.
        start = (first + top * widths + left)[:, None] * tf.constant([1, 0, 0], tf.int64)
        pixel = start + row * widths[:, None] + column
        return tf.cast(tf.gather(store.pixels, _affine_grid(pixel, size)), tf.float32) / 255.0
    first, widths = first[:, None, None], widths[:, None, None]
    # The warp samples the whole image (real context where a warped patch reaches past
    # the crop), bilinearly; unwarped examples get the identity, i.e. exact pixels.
    transforms = _perspective_transforms(key, batch_size, size, augmentations)
    x, y = tf.cast(_affine_grid(column, size), tf.float32), tf.cast(_affine_grid(row, size), tf.float32)
    a = [transforms[:, index, None, None] for index in range(8)]
    denominator = a[6] * x + a[7] * y + 1
    u = tf.cast(left, tf.float32)[:, None, None] + (a[0] * x + a[1] * y + a[2]) / denominator
    v = tf.cast(top, tf.float32)[:, None, None] + (a[3] * x + a[4] * y + a[5]) / denominator
    u = tf.clip_by_value(u, 0.0, tf.cast(widths - 1, tf.float32))
    v = tf.clip_by_value(v, 0.0, tf.cast(heights[:, None, None] - 1, tf.float32))
    u0, v0 = tf.floor(u), tf.floor(v)
    fraction_u, fraction_v = (u - u0)[..., None], (v - v0)[..., None]
    u0, v0 = tf.cast(u0, tf.int64), tf.cast(v0, tf.int64)
    u1, v1 = tf.minimum(u0 + 1, widths - 1), tf.minimum(v0 + 1, heights[:, None, None] - 1)

    def at(image_row, image_column):
        return tf.cast(tf.gather(store.pixels, first + image_row * widths + image_column), tf.float32) / 255.0

    upper = at(v0, u0) * (1 - fraction_u) + at(v0, u1) * fraction_u
    lower = at(v1, u0) * (1 - fraction_u) + at(v1, u1) * fraction_u
    return upper * (1 - fraction_v) + lower * fraction_v


def _perspective_transforms(key, batch_size, size, augmentations):
    """(B, 8) projective transforms of patch coordinates that move each corner by up to
    ``perspective`` of the side; the identity for examples whose coin says no.

    Output (x, y) samples ((a0 x + a1 y + a2) / k, (a3 x + a4 y + a5) / k), k = a6 x + a7 y + 1,
    the convention of ``tf.raw_ops.ImageProjectiveTransformV3``.
    """
    max_shift = augmentations.perspective
    corners = tf.constant([[0, 0], [size - 1, 0], [size - 1, size - 1], [0, size - 1]], tf.float64)
    shift = random_uniform(key, "perspective", [batch_size, 4, 2], -max_shift, max_shift)
    source = corners + tf.cast(shift, tf.float64) * (size - 1)
    x, y = tf.unstack(tf.broadcast_to(corners, source.shape), axis=-1)
    u, v = tf.unstack(source, axis=-1)
    zeros, ones = tf.zeros_like(x), tf.ones_like(x)
    matrix = tf.concat([tf.stack([x, y, ones, zeros, zeros, zeros, -u * x, -u * y], axis=-1),
                        tf.stack([zeros, zeros, zeros, x, y, ones, -v * x, -v * y], axis=-1)], axis=1)
    transforms = tf.cast(tf.linalg.solve(matrix, tf.concat([u, v], axis=1)[..., None])[..., 0], tf.float32)
    chosen = random_uniform(key, "perspective/apply", [batch_size]) < augmentations.probability
    identity = tf.constant([1, 0, 0, 0, 1, 0, 0, 0], tf.float32)
    return tf.where(chosen[:, None], transforms, identity)


# ----------------------------------------------------------------------------
# Degradation: HR -> LR, and the output format.
# ----------------------------------------------------------------------------


def _quantize(images):
    """Rounds [0, 1] values to 8 bits in the graph, as :func:`srlib.images.to_uint8` does, kept in [0, 1].

    The LR it rounds was filtered in float32, so an exact half (rare: a step edge halved) may
    land a level low; evaluation LR comes from imresize's uint8 path, which rounds such halves up.
    """
    return tf.floor(tf.clip_by_value(images, 0.0, 1.0) * 255.0 + 0.5) / 255.0


def _degrade(hr, key, scale, recipe):
    """``(lr, hr)`` of one scale in the output format, from augmented RGB HR patches."""
    config, batch = recipe.augmentations, hr.shape[:1]
    lr = hr
    if config.blur_sigma:
        sigma = random_uniform(key, "blur_sigma", batch, *config.blur_sigma)
        blurred = gaussian_blur(lr, sigma, config.blur_sigma[1])
        lr = apply_to_fraction(key, "blur_sigma", config.probability, lr, blurred)
    lr = imresize(lr, scale=1 / scale, method=recipe.downscale_method)
    if config.poisson_peak:
        peak = random_uniform(key, "poisson_peak", batch, *config.poisson_peak)[:, None, None, None]
        photons = tf.random.stateless_poisson(lr.shape, random_stream(key, "poisson/noise"),
                                              lam=tf.maximum(lr, 0.0) * peak, dtype=tf.float32)
        lr = apply_to_fraction(key, "poisson_peak", config.probability, lr, photons / peak)
    if config.gaussian_noise_sigma:
        sigma = random_uniform(key, "gaussian_noise_sigma", batch, *config.gaussian_noise_sigma)
        sigma = sigma[:, None, None, None]
        noise = tf.random.stateless_normal(lr.shape, random_stream(key, "gaussian/noise")) * sigma
        lr = apply_to_fraction(key, "gaussian_noise_sigma", config.probability, lr, lr + noise)
    lr = _quantize(lr) if recipe.quantize else tf.clip_by_value(lr, 0.0, 1.0)
    if config.jpeg_quality:
        low, high = config.jpeg_quality
        quality = tf.random.stateless_uniform(batch, random_stream(key, "jpeg_quality"), low, high + 1, tf.int32)
        lr = apply_to_fraction(key, "jpeg_quality", config.probability, lr, jpeg_compress(lr, quality))
    if recipe.channels == "y":
        lr, hr = rgb_to_y(lr), rgb_to_y(hr)
    if recipe.upsampled_input:
        lr = tf.clip_by_value(imresize(lr, scale=scale, method=recipe.upsample_method), 0.0, 1.0)
    return lr, hr


# ----------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Recipe:
    """Everything a batch depends on besides ``(seed, epoch, batch index)``."""

    scales: tuple
    hr_patch_size: int
    batch_size: int
    steps_per_epoch: int
    channels: str
    upsampled_input: bool
    downscale_method: object
    upsample_method: object
    quantize: bool
    augmentations: Augmentations


def _make_batch(store, recipe, seed, batch_number):
    """Batch ``batch_number`` (counted from epoch 0) as ``(lr, hr)``; pure in its arguments."""
    epoch, batch_index = batch_number // recipe.steps_per_epoch, batch_number % recipe.steps_per_epoch
    epoch_key = tf.stack([tf.constant(seed, tf.int64), epoch])
    key = tf.random.experimental.stateless_fold_in(epoch_key, batch_index)
    examples = batch_index * recipe.batch_size + tf.range(recipe.batch_size, dtype=tf.int64)
    image_index = _epoch_order(epoch_key, examples, int(store.heights.shape[0]))
    hr = _crop(store, image_index, key, recipe.hr_patch_size, recipe.augmentations)
    hr = augment_hr(hr, key, recipe.augmentations)
    if len(recipe.scales) == 1:
        return _degrade(hr, key, recipe.scales[0], recipe)
    choice = tf.random.stateless_uniform([], random_stream(key, "scale"), 0, len(recipe.scales), tf.int32)
    return tf.switch_case(choice, [functools.partial(_degrade, hr, key, scale, recipe) for scale in recipe.scales])


def _check_method(method, name):
    try:
        resolve_method(method)
    except ValueError as error:
        raise ValueError(f"`{name}`: {error}") from None


def _check_channels(channels):
    if channels not in CHANNELS:
        raise ValueError(f"`channels` must be one of {CHANNELS}. Received: channels={channels!r}")


def training_dataset(images, scale, hr_patch_size, batch_size=16, steps_per_epoch=None, seed=0, epoch=0,
                     epochs=None, channels="y", upsampled_input=False, downscale_method="bicubic",
                     upsample_method="bicubic", quantize=True, augmentations=None, greyscale="repeat", limit=None):
    """Random ``(lr, hr)`` training batches, a function of ``(seed, epoch)``.

    Use as ``model.fit(dataset, epochs=E, steps_per_epoch=S, initial_epoch=epoch)``
    with the same ``S``; to resume, build it again with ``epoch`` = the restored epoch.

    Args:
        images: dataset name or folder (:func:`srlib.datasets.load_images`), a list of
            names (``["T91", "BSD200"]``: their union), or uint8
            ``(H, W, 1|3)`` arrays or ``(stem, array)`` pairs. Images smaller than the
            patch are left out.
        scale (int | list[int]): downscaling factor; a list draws one per batch.
        hr_patch_size (int): HR patch side, a multiple of every scale (LR side P / s).
        batch_size (int): patches per batch. Default: 16.
        steps_per_epoch (int | None): batches per epoch. Default: one patch per image,
            ``max(1, num_images // batch_size)``.
        seed (int): the seed of every random decision. Default: 0.
        epoch (int): the first epoch produced (the resume point). Default: 0.
        epochs (int | None): epochs produced; None repeats forever. Default: None.
        channels (str): ``"y"`` (BT.601 luma) or ``"rgb"``. Default: "y".
        upsampled_input (bool): LR interpolated back to HR size. Default: False.
        downscale_method: :func:`srlib.resize.imresize` method making LR. Default: "bicubic".
        upsample_method: the method for ``upsampled_input``. Default: "bicubic".
        quantize (bool): round LR to 8 bits as the protocol does, else keep it float
            (clipped to [0, 1] either way). Default: True.
        augmentations (Augmentations | None): see :class:`Augmentations`. Default: none.
        greyscale (str): ``"repeat"`` greyscale images to RGB (their Y then has the
            studio-swing range of every patch) or ``"drop"`` them. Default: "repeat".
        limit (int | None): load only the first ``limit`` images of a named dataset.

    Returns:
        A ``tf.data.Dataset`` of float32 ``(lr, hr)`` in [0, 1]: ``hr`` (B, P, P, C), ``lr``
        (B, P / s, P / s, C) or (B, P, P, C) upsampled; C = 1 for Y, 3 for RGB. With
        several scales and small LR, the LR spatial sizes are None in the element spec.
    """
    scales = tuple(scale) if isinstance(scale, (list, tuple)) else (scale,)
    if not scales:
        raise ValueError("`scale` must be an integer or a non-empty list of them. Received: scale=[]")
    for value in scales:
        integer_at_least(value, "scale", 1)
    integer_at_least(hr_patch_size, "hr_patch_size", 1)
    if any(hr_patch_size % value for value in scales):
        multiple = math.lcm(*scales)
        raise ValueError(f"`hr_patch_size` must be a multiple of every scale (of {multiple}). "
                         f"Received: hr_patch_size={hr_patch_size}, scale={scale!r}")
    integer_at_least(batch_size, "batch_size", 1)
    integer_at_least(seed, "seed", 0)
    integer_at_least(epoch, "epoch", 0)
    if epochs is not None:
        integer_at_least(epochs, "epochs", 1)
    _check_channels(channels)
    _check_method(downscale_method, "downscale_method")
    _check_method(upsample_method, "upsample_method")
    augmentations = Augmentations() if augmentations is None else augmentations
    if not isinstance(augmentations, Augmentations):
        raise ValueError(f"`augmentations` must be an Augmentations or None. Received: {augmentations!r}")

    arrays = _load_rgb_images(images, greyscale, hr_patch_size, limit)
    if steps_per_epoch is None:
        steps_per_epoch = max(1, len(arrays) // batch_size)
    integer_at_least(steps_per_epoch, "steps_per_epoch", 1)
    recipe = _Recipe(scales, hr_patch_size, batch_size, steps_per_epoch, channels, upsampled_input,
                     downscale_method, upsample_method, quantize, augmentations)
    store = _ImageStore.from_arrays(arrays)

    first = epoch * steps_per_epoch
    numbers = (tf.data.Dataset.counter(first) if epochs is None
               else tf.data.Dataset.range(first, first + epochs * steps_per_epoch))
    # No Python control flow depends on tensors, so AutoGraph (slow to convert) is skipped.
    make_batch = tf.autograph.experimental.do_not_convert(functools.partial(_make_batch, store, recipe, seed))
    dataset = numbers.map(make_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    options = tf.data.Options()
    options.deterministic = True
    return dataset.prefetch(tf.data.AUTOTUNE).with_options(options)


def validation_images(dataset, scale, channels="y", upsampled_input=False, upsample_method="bicubic",
                      dtype="float32", limit=None):
    """Whole-image ``(lr, hr)`` NumPy pairs under the paper protocol.

    HR cropped to a multiple of ``scale``, LR = MATLAB bicubic of the uint8 HR rounded
    to 8 bits: :func:`srlib.resize.degrade`, as :mod:`srlib.evaluate` uses.

    Args:
        dataset: registered dataset name or folder path.
        scale (int): downscaling factor.
        channels (str): ``"y"`` or ``"rgb"``. Greyscale images stay grey for Y (as the
            protocol measures them) and are repeated for RGB. Default: "y".
        upsampled_input (bool): LR interpolated to HR size with ``upsample_method``.
        dtype (str): ``"float32"`` in [0, 1] (as :func:`training_dataset`) or ``"uint8"``
            (every step rounded). Default: "float32".
        limit (int | None): only the first ``limit`` images.

    Returns:
        A list of ``(lr, hr)``, ``(h, w, C)`` and ``(h * scale, w * scale, C)``
        (LR at HR size with ``upsampled_input``).
    """
    integer_at_least(scale, "scale", 1)
    _check_channels(channels)
    _check_method(upsample_method, "upsample_method")
    if dtype not in ("float32", "uint8"):
        raise ValueError(f"`dtype` must be 'float32' or 'uint8'. Received: dtype={dtype!r}")
    pairs = []
    for _, image in datasets.load_images(dataset, limit=limit):
        hr, lr = degrade(image, scale)
        if channels == "rgb" and hr.shape[-1] == 1:
            hr, lr = np.repeat(hr, 3, axis=-1), np.repeat(lr, 3, axis=-1)
        if dtype == "float32":
            hr, lr = hr.astype(np.float32) / 255.0, lr.astype(np.float32) / 255.0
        if channels == "y":
            hr, lr = rgb_to_y(hr), rgb_to_y(lr)
        if upsampled_input:
            lr = imresize(lr, scale=scale, method=upsample_method)
            lr = lr if dtype == "uint8" else np.clip(lr, 0.0, 1.0)
        pairs.append((lr, hr))
    return pairs


def validation_dataset(dataset, scale, channels="y", upsampled_input=False, upsample_method="bicubic", limit=None):
    """:func:`validation_images` (float32) as a dataset of one-image batches with None
    spatial sizes (every image has its own), for ``model.fit(validation_data=...)``."""
    pairs = validation_images(dataset, scale, channels, upsampled_input, upsample_method, "float32", limit)
    depth = 1 if channels == "y" else 3
    spec = tf.TensorSpec((None, None, depth), tf.float32)
    return (tf.data.Dataset.from_generator(lambda: iter(pairs), output_signature=(spec, spec))
            .batch(1).prefetch(tf.data.AUTOTUNE))


def augmentation_examples(image, scale=2, hr_patch_size=None, augmentations=EXAMPLE_AUGMENTATIONS, seed=0,
                          channels="rgb", upsampled_input=False):
    """One ``(lr, hr)`` example per enabled augmentation, for a notebook figure.

    The central square of ``image`` goes through the training pipeline with no
    augmentation (``"none"``), then with each augmentation alone, always applied; a
    symmetry that draws the identity is drawn again, so every panel shows its effect.

    Args:
        image: uint8 ``(H, W, 1|3)`` array.
        scale (int): downscaling factor. Default: 2.
        hr_patch_size (int | None): side of the square; default the largest multiple
            of ``scale`` up to ``min(H, W, 192)``.
        augmentations (Augmentations): the settings shown. Default: EXAMPLE_AUGMENTATIONS.
        seed (int): the first seed tried. Default: 0.
        channels, upsampled_input: as in :func:`training_dataset`. Default: RGB, small LR.

    Returns:
        ``{name: (lr, hr)}``, float32 NumPy ``(h, w, C)`` arrays in [0, 1].
    """
    scale = integer_at_least(scale, "scale", 1)
    image = _load_rgb_images([np.asarray(image)], "repeat", scale, None)[0]
    height, width = image.shape[:2]
    if hr_patch_size is None:
        size = min(height, width, 192) // scale * scale
    else:
        # Checked here: a larger patch fails deep in the crop's gather, and one that is not a
        # multiple of the scale silently misaligns LR and HR.
        size = integer_at_least(hr_patch_size, "hr_patch_size", 1)
        if size > min(height, width) or size % scale:
            raise ValueError(f"`hr_patch_size` must be a multiple of scale={scale} no larger than the image's "
                             f"smaller side ({height}x{width} image). Received: hr_patch_size={hr_patch_size}")
    top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
    store = _ImageStore.from_arrays([image[top:top + size, left:left + size]])

    def run(config, example_seed):
        recipe = _Recipe((scale,), size, 1, 1, channels, upsampled_input, "bicubic", "bicubic", True, config)
        lr, hr = _make_batch(store, recipe, example_seed, tf.constant(0, tf.int64))
        return lr[0].numpy(), hr[0].numpy()

    examples = {"none": run(Augmentations(), seed)}
    for name in augmentations.enabled():
        single = Augmentations(**{name: getattr(augmentations, name)})
        for attempt in range(16):
            lr, hr = run(single, seed + attempt)
            if not np.array_equal(lr, examples["none"][0]):
                break
        examples[name] = (lr, hr)
    return examples
