"""Pixel losses: L1, L2 (MSE) and Charbonnier.

Conventions: see :mod:`srlib.losses`.
"""

import keras
from keras import ops

from srlib.losses._common import PACKAGE, check_images, mean_per_image
from srlib.validation import positive_number


@keras.saving.register_keras_serializable(package=PACKAGE)
class L1Loss(keras.losses.Loss):
    """Mean absolute error per image, ``mean |y_pred - y_true|``.

    The default loss of EDSR and most PSNR-oriented SR networks (Lim et al.
    2017 found it converges to higher PSNR than L2).
    """

    def call(self, y_true, y_pred):
        check_images(y_true, y_pred, "L1Loss")
        return mean_per_image(ops.abs(y_pred - y_true))


@keras.saving.register_keras_serializable(package=PACKAGE)
class MSELoss(keras.losses.Loss):
    """Mean squared error per image, ``mean (value_range * (y_pred - y_true))**2`` (the L2 loss).

    Args:
        value_range: width of the intensity range the error is measured in, for images
            given in [0, 1]. SRGAN computes its MSE on HR images scaled to [-1, 1]:
            ``value_range=2.0``, 4x the MSE on [0, 1], which matters where the loss is
            weighed against another (the adversarial term). Default: 1.0.
    """

    def __init__(self, value_range=1.0, name=None, reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.value_range = positive_number(value_range, "value_range")

    def call(self, y_true, y_pred):
        check_images(y_true, y_pred, "MSELoss")
        return mean_per_image(ops.square(self.value_range * (y_pred - y_true)))

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range}


@keras.saving.register_keras_serializable(package=PACKAGE)
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
        self.epsilon = positive_number(epsilon, "epsilon")

    def call(self, y_true, y_pred):
        check_images(y_true, y_pred, "CharbonnierLoss")
        return mean_per_image(ops.sqrt(ops.square(y_pred - y_true) + self.epsilon**2))

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
