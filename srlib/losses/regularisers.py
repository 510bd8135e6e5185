"""Total variation and the gradient-sensitive (edge-aware) loss.

Conventions: see :mod:`srlib.losses`.
"""

import keras
import numpy as np
from keras import ops

from srlib.losses._common import PACKAGE, check_images, mean_per_image
from srlib.validation import non_negative_number, positive_number


@keras.saving.register_keras_serializable(package=PACKAGE)
class TotalVariationLoss(keras.losses.Loss):
    """Total variation of ``y_pred``; ``y_true`` is ignored.

    Paper: Leonid I. Rudin, Stanley Osher, Emad Fatemi (1992). Nonlinear Total
    Variation Based Noise Removal Algorithms; a regulariser on generated images
    in Justin Johnson, Alexandre Alahi, Li Fei-Fei (2016), Perceptual Losses for
    Real-Time Style Transfer and Super-Resolution.

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

    Input ``(N, H, W, C)``, any range (images in [0, 1] in
    srlib); ``call`` returns ``(N,)``, >= 0.
    """

    def __init__(self, isotropic=False, epsilon=1e-8, name=None, reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.isotropic = bool(isotropic)
        self.epsilon = positive_number(epsilon, "epsilon")

    def call(self, y_true, y_pred):
        if self.isotropic:
            corner = y_pred[:, :-1, :-1, :]
            dx = y_pred[:, :-1, 1:, :] - corner
            dy = y_pred[:, 1:, :-1, :] - corner
            return mean_per_image(ops.sqrt(ops.square(dx) + ops.square(dy) + self.epsilon))
        dx = y_pred[:, :, 1:, :] - y_pred[:, :, :-1, :]
        dy = y_pred[:, 1:, :, :] - y_pred[:, :-1, :, :]
        return mean_per_image(ops.abs(dx)) + mean_per_image(ops.abs(dy))

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


@keras.saving.register_keras_serializable(package=PACKAGE)
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
        self.edge_weight = non_negative_number(edge_weight, "edge_weight")
        self.flat_weight = non_negative_number(flat_weight, "flat_weight")

    def call(self, y_true, y_pred):
        check_images(y_true, y_pred, "GradientSensitiveLoss")
        mask = sobel_edge_mask(y_true)
        error = y_pred - y_true
        edge = mean_per_image(ops.square(mask * error))
        flat = mean_per_image(ops.square((1.0 - mask) * error))
        return self.edge_weight * edge + self.flat_weight * flat

    def get_config(self):
        return {**super().get_config(), "edge_weight": self.edge_weight, "flat_weight": self.flat_weight}
