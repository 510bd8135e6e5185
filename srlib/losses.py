"""Training losses for super-resolution networks.

Conventions shared by every loss here:

* images are channels-last batches ``(N, H, W, C)`` with values in [0, 1];
  ``y_true`` is the ground-truth high-resolution image, ``y_pred`` the network
  output, both of the same shape;
* each ``Loss.call`` returns one value per image, shape ``(N,)``, so Keras'
  ``sample_weight`` weights images and the default ``"sum_over_batch_size"``
  reduction averages over the batch;
* every class is registered under the ``"srlib"`` package with a complete
  ``get_config``, so ``keras.losses.serialize``/``deserialize`` and models
  compiled with them round-trip.

Contents:

* pixel losses: ``L1Loss``, ``MSELoss``, ``CharbonnierLoss``;
* structural losses: ``SSIMLoss``, ``MSSSIMLoss``, ``MixL1MSSSIMLoss`` and the
  differentiable per-image metrics ``ssim`` and ``ms_ssim`` behind them;
* feature losses on a frozen VGG19: ``PerceptualLoss``, ``TextureLoss``,
  built by ``vgg19_feature_extractor``;
* ``TotalVariationLoss`` (a regulariser on ``y_pred``) and
  ``GradientSensitiveLoss``;
* adversarial losses on discriminator logits: ``generator_adversarial_loss``
  and ``discriminator_adversarial_loss``;
* ``WeightedSum``, which combines losses and reports each component.
"""

import os

import keras
import numpy as np
from keras import ops

_PACKAGE = "srlib"


def _mean_per_image(values):
    """Averages every axis but the batch axis: ``(N, ...)`` -> ``(N,)``."""
    axes = tuple(range(1, len(values.shape)))
    return ops.mean(values, axis=axes) if axes else values


def _check_images(y_true, y_pred, loss_name):
    # Unknown (None) sizes are compatible with anything: a fully convolutional
    # model has y_pred (None, None, None, C) while the dataset knows y_true's.
    compatible = len(y_true.shape) == len(y_pred.shape) == 4 and all(
        true_size is None or pred_size is None or true_size == pred_size
        for true_size, pred_size in zip(y_true.shape, y_pred.shape)
    )
    if not compatible:
        raise ValueError(
            f"{loss_name} expects y_true and y_pred of the same shape (N, H, W, C). "
            f"Received: y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
        )


# --- Pixel losses --------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package=_PACKAGE)
class L1Loss(keras.losses.Loss):
    """Mean absolute error per image, ``mean |y_pred - y_true|``.

    The default loss of EDSR and most PSNR-oriented SR networks (Lim et al.
    2017 found it converges to higher PSNR than L2).
    """

    def call(self, y_true, y_pred):
        return _mean_per_image(ops.abs(y_pred - y_true))


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MSELoss(keras.losses.Loss):
    """Mean squared error per image, ``mean (y_pred - y_true)**2`` (the L2 loss)."""

    def call(self, y_true, y_pred):
        return _mean_per_image(ops.square(y_pred - y_true))


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CharbonnierLoss(keras.losses.Loss):
    """Charbonnier loss, a differentiable L1: ``mean sqrt((y_pred - y_true)**2 + epsilon**2)``.

    Paper: Wei-Sheng Lai, Jia-Bin Huang, Narendra Ahuja, Ming-Hsuan Yang
    (2017). Deep Laplacian Pyramid Networks for Fast and Accurate
    Super-Resolution.

    Args:
        epsilon: float > 0. Below ``|error| ~ epsilon`` the loss is quadratic,
            so its gradient is finite and continuous at zero error.
            Default: 1e-3 (LapSRN).
    """

    def __init__(self, epsilon=1e-3, name=None, reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if not epsilon > 0:
            raise ValueError(f"`epsilon` must be > 0. Received: epsilon={epsilon!r}")
        self.epsilon = float(epsilon)

    def call(self, y_true, y_pred):
        return _mean_per_image(ops.sqrt(ops.square(y_pred - y_true) + self.epsilon**2))

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


# --- SSIM and MS-SSIM ---------------------------------------------------------------------------

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
    return _mean_per_image(ssim_map)


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
    (needs 88) or ``MS_SSIM_WEIGHTS[:3]`` for 48x48 (needs 44); the factors
    are used as given, not renormalised (as tf.image does).

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
        if isinstance(filter_size, bool) or not isinstance(filter_size, int) or filter_size < 1:
            raise ValueError(f"`filter_size` must be a positive integer. Received: filter_size={filter_size!r}")
        self.max_val = float(max_val)
        self.filter_size = filter_size
        self.filter_sigma = float(filter_sigma)
        self.k1 = float(k1)
        self.k2 = float(k2)

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


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SSIMLoss(_StructuralSimilarityLoss):
    """``1 - SSIM`` per image, with SSIM as computed by ``ssim``.

    Args:
        max_val: float, dynamic range of the images. Default: 1.0.
        filter_size: int, side of the Gaussian window. Default: 11.
        filter_sigma: float, standard deviation of the window. Default: 1.5.
        k1, k2: floats, stabilising constants. Default: 0.01, 0.03.

    Images need ``H, W >= filter_size``.
    """

    def call(self, y_true, y_pred):
        _check_images(y_true, y_pred, "SSIMLoss")
        return 1.0 - ssim(y_true, y_pred, **self._ssim_kwargs())


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MSSSIMLoss(_StructuralSimilarityLoss):
    """``1 - MS-SSIM`` per image, with MS-SSIM as computed by ``ms_ssim``.

    Args:
        max_val, filter_size, filter_sigma, k1, k2: as in ``SSIMLoss``.
        power_factors: floats, one exponent per scale from fine to coarse.
            Default: ``MS_SSIM_WEIGHTS``. Images need
            ``H, W >= filter_size * 2**(len(power_factors) - 1)`` (176 for
            the default); pass fewer factors for small training patches.
    """

    def __init__(self, power_factors=MS_SSIM_WEIGHTS, **kwargs):
        super().__init__(**kwargs)
        try:
            self.power_factors = tuple(float(power) for power in power_factors)
        except TypeError:
            self.power_factors = ()
        if not self.power_factors:
            raise ValueError(
                "`power_factors` must be a non-empty sequence of exponents, one per scale. "
                f"Received: power_factors={power_factors!r}"
            )

    def _ms_ssim(self, y_true, y_pred):
        _check_images(y_true, y_pred, self.__class__.__name__)
        return ms_ssim(y_true, y_pred, power_factors=self.power_factors, **self._ssim_kwargs())

    def call(self, y_true, y_pred):
        return 1.0 - self._ms_ssim(y_true, y_pred)

    def get_config(self):
        return {**super().get_config(), "power_factors": list(self.power_factors)}


@keras.saving.register_keras_serializable(package=_PACKAGE)
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
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"`alpha` must be in [0, 1]. Received: alpha={alpha!r}")
        self.alpha = float(alpha)

    def call(self, y_true, y_pred):
        l1 = _mean_per_image(ops.abs(y_pred - y_true))
        return self.alpha * (1.0 - self._ms_ssim(y_true, y_pred)) + (1.0 - self.alpha) * l1

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


# --- VGG19 feature losses ------------------------------------------------------------------

VGG19_WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG19_WEIGHTS_URL = f"https://storage.googleapis.com/tensorflow/keras-applications/vgg19/{VGG19_WEIGHTS_FILE}"
# SRGAN's names: VGG{i}{j} is the j-th convolution (after ReLU) before the i-th pooling.
VGG19_LAYER_ALIASES = {"vgg22": "block2_conv2", "vgg54": "block5_conv4"}
VGG19_LAYERS = tuple(
    name
    for block, convolutions in enumerate((2, 2, 4, 4, 4), start=1)
    for name in [f"block{block}_conv{index}" for index in range(1, convolutions + 1)] + [f"block{block}_pool"]
)
# keras.applications.vgg19.preprocess_input ("caffe" mode): BGR order, ImageNet mean in [0, 255].
_IMAGENET_MEAN_BGR = (103.939, 116.779, 123.68)


class PretrainedWeightsNotFoundError(FileNotFoundError):
    """Raised when pretrained weights are requested but are not on disk."""


def _keras_cache_dir():
    """Directory where ``keras.utils.get_file`` caches application weights.

    Keras reads ``KERAS_HOME`` once, at import; reading it here, at call time,
    lets callers (and tests) redirect the cache after importing Keras. The
    file found is loaded by path, so the two never disagree.
    """
    keras_home = os.environ.get("KERAS_HOME")
    if not keras_home:
        home = os.path.expanduser("~")
        keras_home = os.path.join(home if os.access(home, os.W_OK) else "/tmp", ".keras")
    return os.path.join(keras_home, "models")


def resolve_vgg19_weights(weights):
    """Returns the local file for a VGG19 weights spec, or None for random weights.

    srlib never downloads implicitly: training machines are often offline, and
    a missing file should fail at once with instructions, not after a network
    timeout.

    Args:
        weights: ``"imagenet"`` (the no-top file in the Keras cache), a path to
            a ``.h5``/``.weights.h5`` file, or None.

    Raises:
        PretrainedWeightsNotFoundError: "imagenet" is not in the cache.
        FileNotFoundError: a given path does not exist.
    """
    if weights is None:
        return None
    if weights == "imagenet":
        cache_dir = _keras_cache_dir()
        path = os.path.join(cache_dir, VGG19_WEIGHTS_FILE)
        if not os.path.isfile(path):
            raise PretrainedWeightsNotFoundError(
                f"The VGG19 ImageNet weights file '{VGG19_WEIGHTS_FILE}' is not in the Keras cache "
                f"directory '{cache_dir}', and srlib does not download it. Download it from "
                f"{VGG19_WEIGHTS_URL} and put it in '{cache_dir}' (the directory follows $KERAS_HOME), "
                "or pass weights='/path/to/file.h5'. weights=None gives random features (tests only)."
            )
        return path
    path = os.fspath(weights)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"VGG19 weights file not found: '{path}'")
    return path


def _validate_weights_spec(weights):
    if weights is None or weights == "imagenet":
        return weights
    if isinstance(weights, (str, os.PathLike)):
        return os.fspath(weights)
    raise ValueError(f"`weights` must be 'imagenet', a path to a weights file or None. Received: weights={weights!r}")


def _canonical_vgg19_layer(layer):
    name = VGG19_LAYER_ALIASES.get(layer, layer)
    if name not in VGG19_LAYERS:
        raise ValueError(
            f"Unknown VGG19 layer {layer!r}. Expected one of {sorted(VGG19_LAYER_ALIASES)} "
            f"or a keras.applications.VGG19 layer name: {', '.join(VGG19_LAYERS)}"
        )
    return name


def vgg19_preprocess(images):
    """Maps RGB images in [0, 1] to VGG19 inputs.

    Same result as ``keras.applications.vgg19.preprocess_input(images * 255)``:
    RGB -> BGR, then subtract the ImageNet mean; no division by a standard
    deviation (the original Caffe weights expect none).
    """
    bgr = ops.flip(images * 255.0, axis=-1)
    return bgr - ops.convert_to_tensor(_IMAGENET_MEAN_BGR, bgr.dtype)


def vgg19_feature_extractor(layers, weights="imagenet"):
    """Frozen VGG19 mapping RGB images in [0, 1] to the features of ``layers``.

    Paper: Karen Simonyan, Andrew Zisserman (2015). Very Deep Convolutional
    Networks for Large-Scale Image Recognition.

    Keras' VGG19 convolutions fuse their ReLU, so features are taken after
    the activation (as in SRGAN; ESRGAN's pre-activation features would need
    the convolution split from its ReLU).

    Args:
        layers: iterable of layer names (``keras.applications.VGG19`` names
            such as ``"block5_conv4"``, or the aliases ``"vgg22"``, ``"vgg54"``).
        weights: ``"imagenet"``, a path to a weights file, or None (random,
            tests only); see ``resolve_vgg19_weights``. Default: "imagenet".

    Returns:
        A non-trainable ``keras.Model`` taking RGB images ``(N, H, W, 3)`` in
        [0, 1], of any size that survives the poolings before the deepest
        layer (``2**k`` pixels for a layer of block ``k + 1``), and returning
        a dict ``{canonical layer name: features (N, h, w, c)}``.
    """
    names = [_canonical_vgg19_layer(layer) for layer in layers]
    if not names:
        raise ValueError("`layers` must name at least one VGG19 layer. Received an empty sequence.")
    weights_path = resolve_vgg19_weights(weights)
    vgg = keras.applications.VGG19(include_top=False, weights=weights_path, input_shape=(None, None, 3))
    # Only the layers up to the deepest requested one are ever run.
    features = keras.Model(vgg.input, {name: vgg.get_layer(name).output for name in names}, name="vgg19_truncated")
    images = keras.Input((None, None, 3), name="rgb_unit_range")
    extractor = keras.Model(images, features(vgg19_preprocess(images)), name="vgg19_features")
    extractor.trainable = False
    return extractor


def _check_rgb(y_true, y_pred, loss_name):
    _check_images(y_true, y_pred, loss_name)
    if y_pred.shape[-1] != 3:
        raise ValueError(
            f"{loss_name} runs VGG19 on RGB images; expected 3 channels. Received shape {tuple(y_pred.shape)}"
        )


@keras.saving.register_keras_serializable(package=_PACKAGE)
class PerceptualLoss(keras.losses.Loss):
    """Distance between VGG19 features of ``y_true`` and ``y_pred`` (content loss).

    Papers: Justin Johnson, Alexandre Alahi, Li Fei-Fei (2016). Perceptual
    Losses for Real-Time Style Transfer and Super-Resolution. Christian Ledig
    et al. (2017). Photo-Realistic Single Image Super-Resolution Using a
    Generative Adversarial Network (SRGAN: VGG54, features / 12.75, MSE).

    Args:
        layer: VGG19 layer name or alias (``"vgg22"`` = ``"block2_conv2"``,
            ``"vgg54"`` = ``"block5_conv4"``). Default: ``"block5_conv4"``.
        weights: ``"imagenet"`` (Keras cache, never downloaded), path to a
            weights file, or None (random, tests only). Default: "imagenet".
        feature_scale: float, features are multiplied by it before the
            distance; SRGAN's 1/12.75 brings VGG54 MSE to the scale of pixel
            losses. Default: 1/12.75.
        distance: ``"mse"`` (SRGAN) or ``"l1"`` (ESRGAN). Default: "mse".

    Inputs: RGB images ``(N, H, W, 3)`` in [0, 1]; H and W at least 16 for
    block5 layers (four poolings before them).

    Raises:
        PretrainedWeightsNotFoundError: weights="imagenet" and the file is not
            in the Keras cache (message says where to get it).
    """

    DISTANCES = ("mse", "l1")

    def __init__(
        self,
        layer="block5_conv4",
        weights="imagenet",
        feature_scale=1.0 / 12.75,
        distance="mse",
        name=None,
        reduction="sum_over_batch_size",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if distance not in self.DISTANCES:
            raise ValueError(f"`distance` must be one of {self.DISTANCES}. Received: distance={distance!r}")
        self.layer = _canonical_vgg19_layer(layer)
        self.weights = _validate_weights_spec(weights)
        self.feature_scale = float(feature_scale)
        self.distance = distance
        self.extractor = vgg19_feature_extractor([self.layer], self.weights)

    def call(self, y_true, y_pred):
        _check_rgb(y_true, y_pred, "PerceptualLoss")
        true_features = self.extractor(y_true, training=False)[self.layer] * self.feature_scale
        pred_features = self.extractor(y_pred, training=False)[self.layer] * self.feature_scale
        difference = pred_features - true_features
        return _mean_per_image(ops.square(difference) if self.distance == "mse" else ops.abs(difference))

    def get_config(self):
        return {
            **super().get_config(),
            "layer": self.layer,
            "weights": self.weights,
            "feature_scale": self.feature_scale,
            "distance": self.distance,
        }


def gram_matrix(features):
    """Gram matrices ``F^T F / (C * H * W)`` of features ``(N, H, W, C)`` -> ``(N, C, C)``."""
    batch, height, width, channels = ops.shape(features)
    flat = ops.reshape(features, (batch, height * width, channels))
    gram = ops.matmul(ops.transpose(flat, (0, 2, 1)), flat)
    return gram / ops.cast(channels * height * width, features.dtype)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class TextureLoss(keras.losses.Loss):
    """MSE between Gram matrices of VGG19 features, averaged over layers (style loss).

    Papers: Leon A. Gatys, Alexander S. Ecker, Matthias Bethge (2016). Image
    Style Transfer Using Convolutional Neural Networks. For SR: Mehdi S. M.
    Sajjadi, Bernhard Scholkopf, Michael Hirsch (2017). EnhanceNet: Single
    Image Super-Resolution Through Automated Texture Synthesis, whose layer
    choice is the default. EnhanceNet compares Grams of 16x16 patches; this
    loss uses one Gram per image (crop patches before calling it to get the
    patch-wise variant).

    Args:
        layers: VGG19 layer names or aliases. Default:
            ``("block1_conv1", "block2_conv1", "block3_conv1")``.
        weights: VGG19 weights spec, as in ``PerceptualLoss``. Default: "imagenet".

    Inputs: RGB images ``(N, H, W, 3)`` in [0, 1].
    """

    def __init__(
        self,
        layers=("block1_conv1", "block2_conv1", "block3_conv1"),
        weights="imagenet",
        name=None,
        reduction="sum_over_batch_size",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if isinstance(layers, str):
            raise ValueError(f"`layers` must be a sequence of layer names, not a string. Received: layers={layers!r}")
        self.layers = tuple(_canonical_vgg19_layer(layer) for layer in layers)
        self.weights = _validate_weights_spec(weights)
        self.extractor = vgg19_feature_extractor(self.layers, self.weights)

    def call(self, y_true, y_pred):
        _check_rgb(y_true, y_pred, "TextureLoss")
        true_features = self.extractor(y_true, training=False)
        pred_features = self.extractor(y_pred, training=False)
        per_layer = [
            _mean_per_image(ops.square(gram_matrix(pred_features[name]) - gram_matrix(true_features[name])))
            for name in self.layers
        ]
        return ops.mean(ops.stack(per_layer, axis=0), axis=0)

    def get_config(self):
        return {**super().get_config(), "layers": list(self.layers), "weights": self.weights}


# --- Regularisers and edge-aware losses ---------------------------------------------------------


@keras.saving.register_keras_serializable(package=_PACKAGE)
class TotalVariationLoss(keras.losses.Loss):
    """Total variation of ``y_pred``; ``y_true`` is ignored.

    A smoothness regulariser on the output (Keras losses take both tensors,
    so ``y_true`` is accepted and unused). With ``dx``/``dy`` the horizontal
    and vertical forward differences:

    * anisotropic (default): ``mean |dx| + mean |dy|``, each over its own
      valid region;
    * isotropic: ``mean sqrt(dx**2 + dy**2 + epsilon)`` over the
      ``(H-1, W-1)`` region where both differences exist; ``epsilon`` keeps
      the gradient finite on flat regions.

    Args:
        isotropic: bool. Default: False.
        epsilon: float > 0, isotropic only. Default: 1e-8.
    """

    def __init__(self, isotropic=False, epsilon=1e-8, name=None, reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if not epsilon > 0:
            raise ValueError(f"`epsilon` must be > 0. Received: epsilon={epsilon!r}")
        self.isotropic = bool(isotropic)
        self.epsilon = float(epsilon)

    def call(self, y_true, y_pred):
        if self.isotropic:
            corner = y_pred[:, :-1, :-1, :]
            dx = y_pred[:, :-1, 1:, :] - corner
            dy = y_pred[:, 1:, :-1, :] - corner
            return _mean_per_image(ops.sqrt(ops.square(dx) + ops.square(dy) + self.epsilon))
        dx = y_pred[:, :, 1:, :] - y_pred[:, :, :-1, :]
        dy = y_pred[:, 1:, :, :] - y_pred[:, :-1, :, :]
        return _mean_per_image(ops.abs(dx)) + _mean_per_image(ops.abs(dy))

    def get_config(self):
        return {**super().get_config(), "isotropic": self.isotropic, "epsilon": self.epsilon}


def sobel_edge_mask(images):
    """Per-image normalised Sobel gradient magnitude, ``(N, H, W, C)`` -> ``(N, H, W, 1)`` in [0, 1].

    The gradient is taken on the channel mean (one mask for all channels, so
    colour edges and luma edges weigh alike) with reflect padding (image
    borders are not edges), and divided by its per-image maximum; a flat image
    gives an all-zero mask. The result carries no gradient.
    """
    gray = ops.mean(images, axis=-1, keepdims=True)
    padded = ops.pad(gray, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
    sobel_x = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    kernel = np.stack([sobel_x, sobel_x.T], axis=-1)[:, :, np.newaxis, :]  # (3, 3, 1, 2)
    gradients = ops.conv(padded, ops.convert_to_tensor(kernel, padded.dtype), padding="valid")
    magnitude = ops.sqrt(ops.sum(ops.square(gradients), axis=-1, keepdims=True))
    peak = ops.max(magnitude, axis=(1, 2, 3), keepdims=True)
    return ops.stop_gradient(magnitude / ops.maximum(peak, keras.config.epsilon()))


@keras.saving.register_keras_serializable(package=_PACKAGE)
class GradientSensitiveLoss(keras.losses.Loss):
    """MSE split into edge and flat parts by a gradient mask of the ground truth.

    Paper: Yong Guo, Qi Chen, Jian Chen, Junzhou Huang, Yanwu Xu, Jiezhang
    Cao, Peilin Zhao, Mingkui Tan (2018). Dual Reconstruction Nets for Image
    Super-Resolution with Gradient Sensitive Loss. arXiv:1809.07099.

    With ``M = sobel_edge_mask(y_true)`` (constant, channel-shared):
    ``edge_weight * MSE(M*y_true, M*y_pred) + flat_weight * MSE((1-M)*y_true, (1-M)*y_pred)``,
    each MSE averaged over all pixels and channels.

    Args:
        edge_weight: float >= 0, weight of the high-frequency term. Default: 1.0.
        flat_weight: float >= 0, weight of the low-frequency term. Default: 1.0.
    """

    def __init__(self, edge_weight=1.0, flat_weight=1.0, name=None, reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if edge_weight < 0 or flat_weight < 0:
            raise ValueError(
                "`edge_weight` and `flat_weight` must be >= 0. "
                f"Received: edge_weight={edge_weight!r}, flat_weight={flat_weight!r}"
            )
        self.edge_weight = float(edge_weight)
        self.flat_weight = float(flat_weight)

    def call(self, y_true, y_pred):
        _check_images(y_true, y_pred, "GradientSensitiveLoss")
        mask = sobel_edge_mask(y_true)
        error = y_pred - y_true
        edge = _mean_per_image(ops.square(mask * error))
        flat = _mean_per_image(ops.square((1.0 - mask) * error))
        return self.edge_weight * edge + self.flat_weight * flat

    def get_config(self):
        return {**super().get_config(), "edge_weight": self.edge_weight, "flat_weight": self.flat_weight}


# --- Adversarial losses ------------------------------------------------------------------------

ADVERSARIAL_KINDS = ("bce", "lsgan", "relativistic")


def _validate_kind(kind):
    if kind not in ADVERSARIAL_KINDS:
        raise ValueError(f"`kind` must be one of {ADVERSARIAL_KINDS}. Received: kind={kind!r}")


def _relativistic_logits(real_logits, fake_logits):
    """``C(x_r) - E[C(x_f)]`` and ``C(x_f) - E[C(x_r)]``, means over the whole batch."""
    return real_logits - ops.mean(fake_logits), fake_logits - ops.mean(real_logits)


# On logits, BCE(z, target 1) = softplus(-z) and BCE(z, target 0) = softplus(z),
# which is the numerically stable form of -log(sigmoid(z)) and -log(1 - sigmoid(z)).


def generator_adversarial_loss(real_logits, fake_logits, kind="bce"):
    """Adversarial loss of the generator, a scalar, from discriminator logits.

    * ``"bce"``: non-saturating GAN (Goodfellow et al. 2014; SRGAN),
      ``BCE(fake, 1)``.
    * ``"lsgan"``: least squares (Mao et al. 2017), ``mean (fake - 1)**2``.
    * ``"relativistic"``: relativistic average GAN (Jolicoeur-Martineau 2018;
      ESRGAN, Wang et al. 2018), ``(BCE(real - mean fake, 0) +
      BCE(fake - mean real, 1)) / 2``. The 1/2 follows the ESRGAN and BasicSR
      code, so their loss weight (5e-3) carries over.

    Args:
        real_logits: discriminator logits on ground-truth images, any shape
            (one per image or a patch map); used by "relativistic" only, may
            be None otherwise.
        fake_logits: discriminator logits on generated images.
        kind: one of ``ADVERSARIAL_KINDS``. Default: "bce".
    """
    _validate_kind(kind)
    if kind == "bce":
        return ops.mean(ops.softplus(-fake_logits))
    if kind == "lsgan":
        return ops.mean(ops.square(fake_logits - 1.0))
    real_vs_fake, fake_vs_real = _relativistic_logits(real_logits, fake_logits)
    return 0.5 * (ops.mean(ops.softplus(real_vs_fake)) + ops.mean(ops.softplus(-fake_vs_real)))


def discriminator_adversarial_loss(real_logits, fake_logits, kind="bce"):
    """Adversarial loss of the discriminator, a scalar, from its logits.

    * ``"bce"``: ``BCE(real, 1) + BCE(fake, 0)``.
    * ``"lsgan"``: ``mean (real - 1)**2 + mean fake**2`` (Mao et al.'s 1/2
      factor is dropped, matching the BCE sum above).
    * ``"relativistic"``: ``(BCE(real - mean fake, 1) + BCE(fake - mean real, 0)) / 2``
      (ESRGAN/BasicSR convention).

    Args:
        real_logits: discriminator logits on ground-truth images.
        fake_logits: discriminator logits on generated images (stop their
            gradient towards the generator in the discriminator step).
        kind: one of ``ADVERSARIAL_KINDS``. Default: "bce".
    """
    _validate_kind(kind)
    if kind == "bce":
        return ops.mean(ops.softplus(-real_logits)) + ops.mean(ops.softplus(fake_logits))
    if kind == "lsgan":
        return ops.mean(ops.square(real_logits - 1.0)) + ops.mean(ops.square(fake_logits))
    real_vs_fake, fake_vs_real = _relativistic_logits(real_logits, fake_logits)
    return 0.5 * (ops.mean(ops.softplus(-real_vs_fake)) + ops.mean(ops.softplus(fake_vs_real)))


# --- Combining losses -----------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package=_PACKAGE)
class WeightedSum(keras.losses.Loss):
    """Weighted sum of losses, ``sum_i weight_i * loss_i``, with per-component values.

    Example:

    ```python
    loss = WeightedSum({"l1": (1.0, L1Loss()), "perceptual": (6e-3, PerceptualLoss())})
    total, components = loss.compute_components(hr, sr)  # log each component
    ```

    Each component's ``call`` gives per-image values (averaged to ``(N,)``
    if it returns more axes); this loss's ``reduction`` and ``sample_weight``
    then apply once to the weighted sum, and the components' own reductions
    are not used. Serializable when every component is.

    Args:
        components: dict ``{name: (weight, keras.losses.Loss instance)}``,
            in the order to report them.
    """

    def __init__(self, components, name=None, reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if not isinstance(components, dict) or not components:
            raise ValueError(
                "`components` must be a non-empty dict {name: (weight, loss)}. "
                f"Received: components={components!r}"
            )
        self.components = {}
        for component_name, entry in components.items():
            if not (isinstance(entry, (tuple, list)) and len(entry) == 2 and isinstance(entry[1], keras.losses.Loss)):
                raise ValueError(
                    f"`components[{component_name!r}]` must be a (weight, keras.losses.Loss) pair. Received: {entry!r}"
                )
            self.components[str(component_name)] = (float(entry[0]), entry[1])

    def _per_image_components(self, y_true, y_pred):
        return {name: _mean_per_image(loss.call(y_true, y_pred)) for name, (_, loss) in self.components.items()}

    def call(self, y_true, y_pred):
        values = self._per_image_components(y_true, y_pred)
        return sum(weight * values[name] for name, (weight, _) in self.components.items())

    def compute_components(self, y_true, y_pred, sample_weight=None):
        """Total loss and unweighted component values in one pass.

        Returns:
            ``(total, {name: value})`` where ``total`` equals
            ``self(y_true, y_pred, sample_weight)`` for the batch-averaging
            reductions and each value is the component reduced the same way,
            before its weight.
        """
        y_true = ops.convert_to_tensor(y_true, self.dtype)
        y_pred = ops.convert_to_tensor(y_pred, self.dtype)
        per_image = self._per_image_components(y_true, y_pred)
        values = {name: self._reduce(value, sample_weight) for name, value in per_image.items()}
        total = sum(weight * values[name] for name, (weight, _) in self.components.items())
        return total, values

    def _reduce(self, values, sample_weight):
        if sample_weight is not None:
            sample_weight = ops.reshape(ops.convert_to_tensor(sample_weight, values.dtype), (-1,))
            values = values * sample_weight
        if self.reduction in (None, "none"):
            return values
        if self.reduction == "sum":
            return ops.sum(values)
        if self.reduction == "mean_with_sample_weight" and sample_weight is not None:
            return ops.sum(values) / ops.sum(sample_weight)
        return ops.mean(values)

    def get_config(self):
        components = {
            name: {"weight": weight, "loss": keras.losses.serialize(loss)}
            for name, (weight, loss) in self.components.items()
        }
        return {**super().get_config(), "components": components}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["components"] = {
            name: (entry["weight"], keras.losses.deserialize(entry["loss"]))
            for name, entry in config["components"].items()
        }
        return cls(**config)
