"""Training losses for super-resolution networks.

One module per family; everything is importable from ``srlib.losses``.

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

Modules: ``pixel``, ``structural``, ``perceptual``, ``regularisers``, ``adversarial``,
``combined``.
"""

from srlib.losses.adversarial import ADVERSARIAL_KINDS, discriminator_adversarial_loss, generator_adversarial_loss
from srlib.losses.combined import WeightedSum
from srlib.losses.perceptual import (VGG19_LAYER_ALIASES, VGG19_LAYERS, VGG19_WEIGHTS_FILE, VGG19_WEIGHTS_URL,
                                     PerceptualLoss, PretrainedWeightsNotFoundError, TextureLoss, gram_matrix,
                                     resolve_vgg19_weights, vgg19_feature_extractor, vgg19_preprocess)
from srlib.losses.pixel import CharbonnierLoss, L1Loss, MSELoss
from srlib.losses.regularisers import GradientSensitiveLoss, TotalVariationLoss, sobel_edge_mask
from srlib.losses.structural import MS_SSIM_WEIGHTS, MixL1MSSSIMLoss, MSSSIMLoss, SSIMLoss, ms_ssim, ssim

__all__ = [
    "ADVERSARIAL_KINDS", "MS_SSIM_WEIGHTS", "VGG19_LAYERS", "VGG19_LAYER_ALIASES", "VGG19_WEIGHTS_FILE",
    "VGG19_WEIGHTS_URL", "CharbonnierLoss", "GradientSensitiveLoss", "L1Loss", "MSELoss", "MSSSIMLoss",
    "MixL1MSSSIMLoss", "PerceptualLoss", "PretrainedWeightsNotFoundError", "SSIMLoss", "TextureLoss",
    "TotalVariationLoss", "WeightedSum", "discriminator_adversarial_loss", "generator_adversarial_loss",
    "gram_matrix", "ms_ssim", "resolve_vgg19_weights", "sobel_edge_mask", "ssim", "vgg19_feature_extractor",
    "vgg19_preprocess",
]
