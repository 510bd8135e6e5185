"""Feature losses on a frozen VGG19: perceptual (content) and Gram-matrix texture losses.

Conventions: see :mod:`srlib.losses`.
"""

import os

import keras
from keras import ops

from srlib.losses._common import PACKAGE, check_images, mean_per_image
from srlib.validation import positive_number


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


def _vgg19_minimum_side(layers):
    """Smallest H and W that leave the deepest of ``layers`` (canonical names) a non-empty map.

    Each 2x2 pooling floors the size by half, so ``k`` poolings up to a layer
    need ``2**k`` pixels; smaller images give empty features and a NaN loss.

    Returns:
        ``(minimum side, deepest layer)``.
    """
    def poolings(name):
        return int(name[len("block")]) - 1 + name.endswith("_pool")

    deepest = max(layers, key=poolings)
    return 2 ** poolings(deepest), deepest


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
        [0, 1], of any size that survives the poolings up to the deepest
        layer (``2**k`` pixels for ``k`` poolings up to it), and returning
        a dict ``{canonical layer name: features (N, h, w, c)}``, computed in
        float32 whatever the global dtype policy.
    """
    names = [_canonical_vgg19_layer(layer) for layer in layers]
    if not names:
        raise ValueError("`layers` must name at least one VGG19 layer. Received an empty sequence.")
    weights_path = resolve_vgg19_weights(weights)
    # keras.applications.VGG19 takes no dtype: its layers follow the global policy.
    # Under mixed precision they would compute in bfloat16/float16, and a loss is a
    # small difference of large features, which half precision would drown in
    # rounding.
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        vgg = keras.applications.VGG19(include_top=False, weights=weights_path, input_shape=(None, None, 3))
        # Only the layers up to the deepest requested one are ever run.
        features = keras.Model(vgg.input, {name: vgg.get_layer(name).output for name in names}, name="vgg19_truncated")
        images = keras.Input((None, None, 3), name="rgb_unit_range")
        extractor = keras.Model(images, features(vgg19_preprocess(images)), name="vgg19_features")
    finally:
        keras.config.set_dtype_policy(previous_policy)
    extractor.trainable = False
    return extractor


def _check_vgg_inputs(y_true, y_pred, loss_name, layers):
    check_images(y_true, y_pred, loss_name)
    if y_pred.shape[-1] != 3:
        raise ValueError(
            f"{loss_name} runs VGG19 on RGB images; expected 3 channels. Received shape {tuple(y_pred.shape)}"
        )
    # Only static sizes can be checked: in eager mode they always are, and in a
    # traced step y_true's usually are even when the model's output is (None, None).
    minimum, deepest = _vgg19_minimum_side(layers)
    sizes = [size for images in (y_true, y_pred) for size in images.shape[1:3] if size is not None]
    if any(size < minimum for size in sizes):
        raise ValueError(
            f"{loss_name} needs images of at least {minimum}x{minimum} pixels for VGG19 layer {deepest!r} "
            f"(smaller ones leave it no features, and the loss would be NaN). "
            f"Received: y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
        )


@keras.saving.register_keras_serializable(package=PACKAGE)
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

    Inputs: RGB images ``(N, H, W, 3)`` in [0, 1]; H and W at least ``2**k``
    for ``k`` poolings up to ``layer``: 16 for block5 convolutions (the
    default), 2 for ``"vgg22"``, 32 for ``"block5_pool"``.

    Raises:
        PretrainedWeightsNotFoundError: weights="imagenet" and the file is not
            in the Keras cache (message says where to get it).
        ValueError: in ``call``, images known to be smaller than that minimum.
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
        self.feature_scale = positive_number(feature_scale, "feature_scale")
        self.distance = distance
        self.extractor = vgg19_feature_extractor([self.layer], self.weights)

    def call(self, y_true, y_pred):
        _check_vgg_inputs(y_true, y_pred, "PerceptualLoss", [self.layer])
        true_features = self.extractor(y_true, training=False)[self.layer] * self.feature_scale
        pred_features = self.extractor(y_pred, training=False)[self.layer] * self.feature_scale
        difference = pred_features - true_features
        return mean_per_image(ops.square(difference) if self.distance == "mse" else ops.abs(difference))

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


@keras.saving.register_keras_serializable(package=PACKAGE)
class TextureLoss(keras.losses.Loss):
    """MSE between Gram matrices of VGG19 features, averaged over layers (style loss).

    Papers: Leon A. Gatys, Alexander S. Ecker, Matthias Bethge (2015). Texture
    Synthesis Using Convolutional Neural Networks (the Gram matrix as texture
    statistic), and (2016) Image Style Transfer Using Convolutional Neural
    Networks (as a loss). For SR: Mehdi S. M.
    Sajjadi, Bernhard Scholkopf, Michael Hirsch (2017). EnhanceNet: Single
    Image Super-Resolution Through Automated Texture Synthesis, whose layer
    choice is the default. EnhanceNet compares Grams of 16x16 patches; this
    loss uses one Gram per image (crop patches before calling it to get the
    patch-wise variant).

    Args:
        layers: VGG19 layer names or aliases. Default:
            ``("block1_conv1", "block2_conv1", "block3_conv1")``.
        weights: VGG19 weights spec, as in ``PerceptualLoss``. Default: "imagenet".

    Inputs: RGB images ``(N, H, W, 3)`` in [0, 1]; H and W at least ``2**k``
    for ``k`` poolings up to the deepest of ``layers`` (4 for the default,
    16 for block5 convolutions), or ``call`` raises a ValueError.
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
        _check_vgg_inputs(y_true, y_pred, "TextureLoss", self.layers)
        true_features = self.extractor(y_true, training=False)
        pred_features = self.extractor(y_pred, training=False)
        per_layer = [
            mean_per_image(ops.square(gram_matrix(pred_features[name]) - gram_matrix(true_features[name])))
            for name in self.layers
        ]
        return ops.mean(ops.stack(per_layer, axis=0), axis=0)

    def get_config(self):
        return {**super().get_config(), "layers": list(self.layers), "weights": self.weights}
