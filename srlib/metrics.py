"""PSNR and SSIM under the super-resolution protocol.

Papers compare on the luma channel (MATLAB ``rgb2ycbcr``, see :mod:`srlib.color`)
after shaving ``scale`` pixels from every border, because a network sees no
context there and the original MATLAB scripts ignore it. Both metrics here take
``crop_border`` and ``y_channel`` so that the protocol is one call away, and both
accumulate in float64 so that they do not depend on the input precision.

Value ranges: uint8 images are compared on [0, 255]; float images on [0, 1].
"""

import numpy as np
from scipy import signal

from srlib import color
from srlib.validation import integer_at_least, positive_int, scale_factor


def _prepare(image_a, image_b, crop_border, y_channel):
    image_a, image_b = np.asarray(image_a), np.asarray(image_b)
    if image_a.shape != image_b.shape:
        raise ValueError(f"images must have the same shape, got {image_a.shape} and {image_b.shape}")
    if image_a.dtype != image_b.dtype:
        raise ValueError(f"images must have the same dtype, got {image_a.dtype} and {image_b.dtype}")
    if image_a.ndim == 2:
        image_a, image_b = image_a[..., None], image_b[..., None]
    if image_a.ndim != 3:
        raise ValueError(f"expected (H, W) or (H, W, C) images, got shape {image_a.shape}")
    if not (image_a.dtype == np.uint8 or np.issubdtype(image_a.dtype, np.floating)):
        raise ValueError(f"images must be uint8 in [0, 255] or float in [0, 1], got {image_a.dtype}")
    # The peak is 255 for uint8 and 1 for floats: a float image in 0-255 would score ~48 dB too low.
    if image_a.dtype != np.uint8:
        # NaN-ignoring (fmin/fmax), without copying the images: a NaN must not hide the range.
        low = np.fmin(np.fmin.reduce(image_a, axis=None), np.fmin.reduce(image_b, axis=None))
        high = np.fmax(np.fmax.reduce(image_a, axis=None), np.fmax.reduce(image_b, axis=None))
        if high > 2 or low < -1:
            raise ValueError(f"float images must be in [0, 1] (values from {low:g} to {high:g} look like another "
                             f"range, such as 0-255: divide by 255 or pass uint8)")
    crop_border = integer_at_least(crop_border, "crop_border", 0)
    if 2 * crop_border >= min(image_a.shape[:2]):
        raise ValueError(f"crop_border={crop_border} leaves nothing of a {image_a.shape[:2]} image")
    if y_channel:
        image_a, image_b = color.rgb_to_y(image_a), color.rgb_to_y(image_b)
    data_range = 255.0 if image_a.dtype == np.uint8 else 1.0
    if crop_border:
        image_a = image_a[crop_border:-crop_border, crop_border:-crop_border]
        image_b = image_b[crop_border:-crop_border, crop_border:-crop_border]
    return image_a.astype(np.float64), image_b.astype(np.float64), data_range


def psnr(image_a, image_b, crop_border=0, y_channel=False):
    """Peak signal-to-noise ratio in dB.

    Args:
        image_a, image_b: ``(H, W)`` or ``(H, W, C)``, same shape and dtype;
            uint8 in [0, 255] or float in [0, 1].
        crop_border: pixels shaved from every border before comparing (the
            protocol uses the scale factor). Default 0.
        y_channel: compare the BT.601 luma of RGB images. Default False.

    Returns:
        PSNR as a Python float; ``inf`` for identical images.
    """
    image_a, image_b, data_range = _prepare(image_a, image_b, crop_border, y_channel)
    mse = np.mean((image_a - image_b) ** 2)
    if mse == 0:
        return float("inf")
    return float(10.0 * np.log10(data_range ** 2 / mse))


def gaussian_profile(size=11, sigma=1.5):
    """Normalised 1-D Gaussian; its outer product is the 2-D window of ``ssim_index.m``."""
    coordinates = np.arange(size, dtype=np.float64) - (size - 1) / 2
    profile = np.exp(-(coordinates ** 2) / (2 * sigma ** 2))
    return profile / profile.sum()


def _ssim_single_channel(image_a, image_b, data_range, profile):
    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2

    def filtered(image):  # the window is separable: two 1-D passes, 'valid' region only
        rows = signal.convolve2d(image, profile[:, None], mode="valid")
        return signal.convolve2d(rows, profile[None, :], mode="valid")

    mean_a, mean_b = filtered(image_a), filtered(image_b)
    variance_a = filtered(image_a * image_a) - mean_a ** 2
    variance_b = filtered(image_b * image_b) - mean_b ** 2
    covariance = filtered(image_a * image_b) - mean_a * mean_b
    ssim_map = ((2 * mean_a * mean_b + c1) * (2 * covariance + c2)) / (
        (mean_a ** 2 + mean_b ** 2 + c1) * (variance_a + variance_b + c2))
    return ssim_map.mean()


def ssim(image_a, image_b, crop_border=0, y_channel=False):
    """Structural similarity (Wang et al. 2004), mean over the valid region.

    Paper: Wang, Bovik, Sheikh, Simoncelli 2004, "Image quality assessment:
    from error visibility to structural similarity". Gaussian window 11x11 with
    sigma 1.5, K1 = 0.01, K2 = 0.03, statistics over the window positions that
    fit inside the (shaved) image; colour images average the per-channel SSIM.

    Args:
        image_a, image_b: ``(H, W)`` or ``(H, W, C)``, same shape and dtype;
            uint8 in [0, 255] or float in [0, 1]; at least 11x11 after shaving.
        crop_border: pixels shaved from every border first. Default 0.
        y_channel: compare the BT.601 luma of RGB images. Default False.

    Returns:
        SSIM as a Python float in [-1, 1]; 1 for identical images.
    """
    image_a, image_b, data_range = _prepare(image_a, image_b, crop_border, y_channel)
    profile = gaussian_profile()
    if min(image_a.shape[:2]) < profile.size:
        raise ValueError(f"SSIM needs at least 11x11 pixels after shaving, got {image_a.shape[:2]}")
    values = [_ssim_single_channel(image_a[..., channel], image_b[..., channel], data_range, profile)
              for channel in range(image_a.shape[-1])]
    return float(np.mean(values))


def checkerboard_ratio(image, reference, scale, crop_border=0, y_channel=False, neighbourhood=2):
    """How much of the error is a pattern repeating every ``scale`` pixels.

    A sub-pixel or transposed convolution computes each of the ``scale x scale``
    output phases with its own filter. When the phases disagree (a common
    result of adversarial training), the output carries a grid pattern of
    period ``scale``, modulated by the image: its spectrum peaks at the grid
    frequencies ``(k H / scale, l W / scale)``. An interpolation that keeps a
    constant constant (bicubic, a network whose phases agree) puts no peak there.

    The ratio compares the error spectrum ``|FFT(image - reference)|^2`` at the
    ``scale^2 - 1`` grid frequencies other than 0 with its mean over the bins
    around each (a square of side ``2 * neighbourhood + 1``, the bin itself
    left out), averaged over the grid frequencies. About 1: no grid pattern
    (the spectrum is smooth there); well above 1 (10, 100): a visible one.

    Args:
        image: the upscaled image, ``(H, W)`` or ``(H, W, C)``, uint8 or float in [0, 1].
        reference: the HR image, same shape and dtype.
        scale: int >= 2, the period of the pattern to look for.
        crop_border: pixels shaved from every border first. Default 0.
        y_channel: measure on the BT.601 luma of RGB images. Default False.
        neighbourhood: half-side of the square of bins a peak is compared with. Default 2.

    Returns:
        The ratio as a Python float (colour images: the mean over channels).
    """
    scale = scale_factor(scale)
    neighbourhood = positive_int(neighbourhood, "neighbourhood")
    image, reference, _ = _prepare(image, reference, crop_border, y_channel)
    height, width = (size - size % scale for size in image.shape[:2])  # whole periods only
    if min(height, width) < scale * (2 * neighbourhood + 2):
        raise ValueError(f"image of {image.shape[0]}x{image.shape[1]} pixels (after shaving) is too small "
                         f"to separate the grid frequencies of scale {scale}")
    error = image[:height, :width] - reference[:height, :width]
    power = np.abs(np.fft.fft2(error - error.mean(axis=(0, 1)), axes=(0, 1))) ** 2
    offsets = [(row, column) for row in range(-neighbourhood, neighbourhood + 1)
               for column in range(-neighbourhood, neighbourhood + 1) if (row, column) != (0, 0)]
    ratios = []
    for phase_row in range(scale):
        for phase_column in range(scale):
            if phase_row == phase_column == 0:
                continue
            row, column = phase_row * height // scale, phase_column * width // scale
            around = np.mean([power[(row + dr) % height, (column + dc) % width] for dr, dc in offsets], axis=0)
            ratios.append(power[row, column] / np.maximum(around, np.finfo(np.float64).tiny))
    return float(np.mean(ratios))
