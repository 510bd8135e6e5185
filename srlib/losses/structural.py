"""Structural losses: SSIM, MS-SSIM and the L1 + MS-SSIM mix, with the per-image metrics behind them.

Conventions: see :mod:`srlib.losses`.
"""

import keras
import numpy as np
from keras import ops

from srlib.losses._common import PACKAGE, check_images, mean_per_image
from srlib.validation import is_finite_number, non_negative_number, positive_int, positive_number


# Wang, Simoncelli & Bovik (2003), from fine to coarse scale.
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _gaussian_window(size, sigma):
    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    window = np.exp(-(offsets**2) / (2.0 * sigma**2))
    return window / window.sum()


def _ssim_maps(y_true, y_pred, max_val, filter_size, filter_sigma, k1, k2):
    """SSIM and contrast-structure maps on the 'valid' region, shape (N, H-f+1, W-f+1, C)."""
    channels = y_pred.shape[-1]
    if channels is None:
        raise ValueError(f"SSIM needs a known number of channels. Received shape {tuple(y_pred.shape)}")
    # The five local statistics go through one depthwise convolution, and the
    # Gaussian is separable: two 1D passes cost 2f instead of f*f multiplies.
    statistics = ops.concatenate([y_true, y_pred, y_true * y_true, y_pred * y_pred, y_true * y_pred], axis=-1)
    window = _gaussian_window(filter_size, filter_sigma)
    vertical = ops.convert_to_tensor(np.tile(window.reshape(-1, 1, 1, 1), (1, 1, 5 * channels, 1)), statistics.dtype)
    horizontal = ops.reshape(vertical, (1, filter_size, 5 * channels, 1))
    blurred = ops.depthwise_conv(ops.depthwise_conv(statistics, vertical), horizontal)
    mean_true, mean_pred, square_true, square_pred, product = ops.split(blurred, 5, axis=-1)

    variance_true = square_true - ops.square(mean_true)
    variance_pred = square_pred - ops.square(mean_pred)
    covariance = product - mean_true * mean_pred
    c1 = (k1 * max_val) ** 2
    c2 = (k2 * max_val) ** 2
    luminance = (2.0 * mean_true * mean_pred + c1) / (ops.square(mean_true) + ops.square(mean_pred) + c1)
    contrast_structure = (2.0 * covariance + c2) / (variance_true + variance_pred + c2)
    return luminance * contrast_structure, contrast_structure


def _check_ssim_size(shape, min_size, what):
    height, width = shape[1], shape[2]
    if (height is not None and height < min_size) or (width is not None and width < min_size):
        raise ValueError(f"{what} needs images of at least {min_size}x{min_size} pixels. Received shape {tuple(shape)}")


def ssim(y_true, y_pred, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03):
    """Differentiable SSIM of each image pair, averaged over pixels and channels.

    Paper: Zhou Wang, Alan C. Bovik, Hamid R. Sheikh, Eero P. Simoncelli
    (2004). Image Quality Assessment: From Error Visibility to Structural
    Similarity.

    Local statistics use a Gaussian window and only the 'valid' positions
    (no padding), with population (biased) variances. With the default
    window this equals, to float32 precision, ``tf.image.ssim`` and
    ``skimage.metrics.structural_similarity(..., gaussian_weights=True,
    sigma=1.5, use_sample_covariance=False, data_range=max_val,
    channel_axis=-1)``: skimage filters the whole image (reflect padding) and
    then crops the 5 border pixels whose windows leave the image, which
    leaves exactly the 'valid' positions; its window is truncated at 3.5
    sigma, i.e. 11 taps for sigma 1.5, so other ``filter_size``/``sigma``
    pairs need ``win_size`` set there to compare. It is computed on whatever
    channels it is given: the SR papers' SSIM on MATLAB's Y channel is a
    metric, not this loss.

    Args:
        y_true, y_pred: images ``(N, H, W, C)`` in [0, max_val], H and W >=
            ``filter_size``.
        max_val: float, dynamic range of the images. Default: 1.0.
        filter_size: int, side of the Gaussian window. Default: 11.
        filter_sigma: float, standard deviation of the window. Default: 1.5.
        k1, k2: floats, stabilising constants. Default: 0.01, 0.03.

    Returns:
        Tensor ``(N,)`` of SSIM values in [-1, 1], 1 for identical images.
    """
    _check_ssim_size(y_pred.shape, filter_size, "SSIM")
    ssim_map, _ = _ssim_maps(y_true, y_pred, max_val, filter_size, filter_sigma, k1, k2)
    return mean_per_image(ssim_map)


def ms_ssim(
    y_true,
    y_pred,
    max_val=1.0,
    power_factors=MS_SSIM_WEIGHTS,
    filter_size=11,
    filter_sigma=1.5,
    k1=0.01,
    k2=0.03,
):
    """Differentiable multi-scale SSIM of each image pair.

    Paper: Zhou Wang, Eero P. Simoncelli, Alan C. Bovik (2003). Multiscale
    Structural Similarity for Image Quality Assessment.

    Scale ``j`` (of ``M = len(power_factors)``) compares images downsampled
    ``j`` times by 2x2 average pooling; its contrast-structure term (luminance
    too at the coarsest scale) is averaged over pixels and raised to
    ``power_factors[j]``. Per-channel products are averaged over channels.
    This matches ``tf.image.ssim_multiscale`` when H and W are divisible by
    ``2**(M - 1)``; otherwise pooling drops the odd last row/column where
    tf.image pads it.

    The coarsest scale must still hold one window: images need
    ``H, W >= filter_size * 2**(M - 1)``, i.e. 176 pixels for the default
    five scales and 11x11 window. For smaller training patches use fewer
    scales, e.g. ``power_factors=MS_SSIM_WEIGHTS[:4]`` for 96x96 patches
    (needs 88) or ``MS_SSIM_WEIGHTS[:3]`` for 48x48 (needs 44). As in
    ``tf.image.ssim_multiscale``, the factors are used as given, not
    renormalised to sum to 1 (the first four sum to 0.87), so values compare
    only between losses with the same factors.

    Args:
        y_true, y_pred: images ``(N, H, W, C)`` in [0, max_val].
        max_val: float, dynamic range of the images. Default: 1.0.
        power_factors: floats, one exponent per scale from fine to coarse.
            Default: ``MS_SSIM_WEIGHTS`` (Wang et al. 2003).
        filter_size, filter_sigma, k1, k2: as in ``ssim``.

    Returns:
        Tensor ``(N,)``, 1 for identical images.
    """
    num_scales = len(power_factors)
    _check_ssim_size(y_pred.shape, filter_size * 2 ** (num_scales - 1), f"MS-SSIM with {num_scales} scales")
    # Negative contrast-structure values (anti-correlated patches) would give
    # NaN under a fractional power. tf.image clamps them at 0; a small floor
    # also keeps the gradient of x**p finite there.
    floor = 1e-6
    value = 1.0
    for scale_index, power in enumerate(power_factors):
        ssim_map, contrast_structure = _ssim_maps(y_true, y_pred, max_val, filter_size, filter_sigma, k1, k2)
        is_coarsest = scale_index == num_scales - 1
        per_channel = ops.mean(ssim_map if is_coarsest else contrast_structure, axis=(1, 2))
        value = value * ops.maximum(per_channel, floor) ** power
        if not is_coarsest:
            y_true = ops.average_pool(y_true, 2, strides=2, padding="valid")
            y_pred = ops.average_pool(y_pred, 2, strides=2, padding="valid")
    return ops.mean(value, axis=-1)


class _StructuralSimilarityLoss(keras.losses.Loss):
    """Holds the SSIM window and constants shared by the SSIM-based losses."""

    def __init__(
        self,
        max_val=1.0,
        filter_size=11,
        filter_sigma=1.5,
        k1=0.01,
        k2=0.03,
        name=None,
        reduction="sum_over_batch_size",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.max_val = positive_number(max_val, "max_val")
        self.filter_size = positive_int(filter_size, "filter_size")
        # sigma 0 makes the Gaussian window 0/0, and the loss NaN.
        self.filter_sigma = positive_number(filter_sigma, "filter_sigma")
        # The constants keep SSIM's ratios defined where both images are flat or
        # black (0/0 without them); a negative one would act as its absolute value.
        self.k1 = positive_number(k1, "k1")
        self.k2 = positive_number(k2, "k2")

    def _ssim_kwargs(self):
        return {
            "max_val": self.max_val,
            "filter_size": self.filter_size,
            "filter_sigma": self.filter_sigma,
            "k1": self.k1,
            "k2": self.k2,
        }

    def get_config(self):
        return {**super().get_config(), **self._ssim_kwargs()}


@keras.saving.register_keras_serializable(package=PACKAGE)
class SSIMLoss(_StructuralSimilarityLoss):
    """``1 - SSIM`` per image, with SSIM as computed by ``ssim``.

    Paper: Zhou Wang, Alan C. Bovik, Hamid R. Sheikh, Eero P. Simoncelli (2004).
    Image Quality Assessment: From Error Visibility to Structural Similarity.
    Inputs ``(N, H, W, C)`` in ``[0, max_val]``; ``call`` returns ``(N,)`` in [0, 2].

    Args:
        max_val: float > 0, dynamic range of the images. Default: 1.0.
        filter_size: int, side of the Gaussian window. Default: 11.
        filter_sigma: float > 0, standard deviation of the window. Default: 1.5.
        k1, k2: floats > 0, stabilising constants. Default: 0.01, 0.03.

    Images need ``H, W >= filter_size``.
    """

    def call(self, y_true, y_pred):
        check_images(y_true, y_pred, "SSIMLoss")
        return 1.0 - ssim(y_true, y_pred, **self._ssim_kwargs())


@keras.saving.register_keras_serializable(package=PACKAGE)
class MSSSIMLoss(_StructuralSimilarityLoss):
    """``1 - MS-SSIM`` per image, with MS-SSIM as computed by ``ms_ssim``.

    Paper: Zhou Wang, Eero P. Simoncelli, Alan C. Bovik (2003). Multiscale
    Structural Similarity for Image Quality Assessment.
    Inputs ``(N, H, W, C)`` in ``[0, max_val]``; ``call`` returns ``(N,)``.

    Args:
        max_val, filter_size, filter_sigma, k1, k2: as in ``SSIMLoss``.
        power_factors: floats >= 0, one exponent per scale from fine to coarse.
            Default: ``MS_SSIM_WEIGHTS``. Images need
            ``H, W >= filter_size * 2**(len(power_factors) - 1)`` (176 for
            the default); pass fewer factors for small training patches.
    """

    def __init__(self, power_factors=MS_SSIM_WEIGHTS, **kwargs):
        super().__init__(**kwargs)
        try:
            powers = tuple(power_factors)
        except TypeError:
            powers = ()
        if not powers:
            raise ValueError(
                "`power_factors` must be a non-empty sequence of exponents, one per scale. "
                f"Received: power_factors={power_factors!r}"
            )
        # A negative exponent inverts a scale's term: ms_ssim's 1e-6 floor becomes 1e6, and the loss -999999.
        self.power_factors = tuple(
            non_negative_number(power, f"power_factors[{index}]") for index, power in enumerate(powers)
        )

    def _ms_ssim(self, y_true, y_pred):
        check_images(y_true, y_pred, self.__class__.__name__)
        return ms_ssim(y_true, y_pred, power_factors=self.power_factors, **self._ssim_kwargs())

    def call(self, y_true, y_pred):
        return 1.0 - self._ms_ssim(y_true, y_pred)

    def get_config(self):
        return {**super().get_config(), "power_factors": list(self.power_factors)}


@keras.saving.register_keras_serializable(package=PACKAGE)
class MixL1MSSSIMLoss(MSSSIMLoss):
    """``alpha * (1 - MS-SSIM) + (1 - alpha) * L1`` per image.

    Paper: Hang Zhao, Orazio Gallo, Iuri Frosio, Jan Kautz (2017). Loss
    Functions for Image Restoration with Neural Networks.

    Two deliberate differences from the paper: the L1 term is a plain mean
    (the paper weights each pixel's L1 with the Gaussian window of the
    coarsest scale), and MS-SSIM is Wang et al.'s downsampling pyramid (the
    paper instead widens the Gaussian, sigma 0.5 to 8, at full resolution so
    that it works on small patches). Hence this loss also needs the pyramid's
    minimum image size.

    Args:
        alpha: float in [0, 1], weight of the MS-SSIM term. Default: 0.84.
        max_val, power_factors, filter_size, filter_sigma, k1, k2: as in
            ``MSSSIMLoss``, including its minimum image size.
    """

    def __init__(self, alpha=0.84, **kwargs):
        super().__init__(**kwargs)
        if not is_finite_number(alpha) or not 0.0 <= alpha <= 1.0:
            raise ValueError(f"`alpha` must be a number in [0, 1]. Received: alpha={alpha!r}")
        self.alpha = float(alpha)

    def call(self, y_true, y_pred):
        l1 = mean_per_image(ops.abs(y_pred - y_true))
        return self.alpha * (1.0 - self._ms_ssim(y_true, y_pred)) + (1.0 - self.alpha) * l1

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}
