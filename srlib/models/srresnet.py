"""SRResNet generator and the SRGAN discriminator."""

import keras

from srlib.layers import ResidualBlock, SubPixelConv2D, prelu
from srlib.models.fir import FIRUpsample
from srlib.validation import integer_at_least, positive_int, scale_factor

UPSAMPLING_STAGES = {2: (2,), 3: (3,), 4: (2, 2), 8: (2, 2, 2)}


def srresnet(scale=4, channels=3, num_blocks=16, filters=64, interpolation_skip=None):
    """SRResNet: residual blocks at LR, sub-pixel x2 stages, the SRGAN generator.

    Paper: Christian Ledig, Lucas Theis, Ferenc Huszar, Jose Caballero, Andrew
    Cunningham, Alejandro Acosta, Andrew Aitken, Alykhan Tejani, Johannes
    Totz, Zehan Wang, Wenzhe Shi (2017). Photo-Realistic Single Image
    Super-Resolution Using a Generative Adversarial Network.

    ``conv9x9-PReLU``, ``num_blocks`` residual blocks
    (``conv-BN-PReLU-conv-BN`` + identity), ``conv3x3-BN`` plus a long skip
    from the first PReLU, then one ``SubPixelConv2D(2)-PReLU`` stage per
    factor of 2 of ``scale`` (a single x3 stage for ``scale=3``), and a
    ``conv9x9`` to ``channels``. The paper's LR input is in [0, 1] and its HR
    output in [-1, 1] (tanh); here both are [0, 1] and the output is linear.

    Args:
        scale: int, upscaling factor: 2, 3, 4 or 8. Default: 4.
        channels: int, image channels. Default: 3.
        num_blocks: int, residual blocks. Default: 16.
        filters: int, feature maps. Default: 64.
        interpolation_skip: None (the paper's network), or an ``imresize``
            method (``"bicubic"``) whose upscaled input is added to the output,
            as BasicSR's MSRResNet adds a bilinear one: the network then learns
            the residual to the interpolation (VDSR's residual learning), starts
            exactly at it (the tail starts at zero) and converges in far fewer
            steps. Default: None.

    Returns:
        A ``keras.Model`` named ``"srresnet_x{scale}"``.
        Input: ``(N, H, W, channels)`` LR, float in [0, 1].
        Output: ``(N, H * scale, W * scale, channels)``, float, about [0, 1]
        (not clipped).

    Cost (RGB, default x4): 1,552,771 parameters (4,224 of them batch-norm
    moving statistics); 138,636 MACs per output pixel: 1,232,064 per LR
    pixel in the head and body, 147,456 per input pixel of each x2 stage,
    15,552 per output pixel in the tail.
    """
    # An integer check first: 2.0 == 2 would pass the lookup and name the model "srresnet_x2.0".
    scale = scale_factor(scale)
    if scale not in UPSAMPLING_STAGES:
        raise ValueError(f"`scale` must be one of {sorted(UPSAMPLING_STAGES)}. Received: scale={scale!r}")
    channels = positive_int(channels, "channels")
    filters = positive_int(filters, "filters")
    num_blocks = integer_at_least(num_blocks, "num_blocks", 0)
    inputs = keras.Input((None, None, channels), name="lr")
    x = keras.layers.Conv2D(filters, 9, padding="same", kernel_initializer="he_normal", name="head")(inputs)
    skip = x = prelu(name="head_prelu")(x)
    for index in range(num_blocks):
        x = ResidualBlock(filters, style="srresnet", name=f"block_{index + 1}")(x)
    x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer="he_normal",
                            name="body_end")(x)
    x = keras.layers.BatchNormalization(name="body_end_norm")(x)
    x = keras.layers.Add(name="long_skip")([skip, x])
    for index, factor in enumerate(UPSAMPLING_STAGES[scale]):
        x = SubPixelConv2D(factor, filters, name=f"upsample_{index + 1}")(x)
        x = prelu(name=f"upsample_{index + 1}_prelu")(x)
    if interpolation_skip is None:
        outputs = keras.layers.Conv2D(channels, 9, padding="same", name="tail")(x)
        return keras.Model(inputs, outputs, name=f"srresnet_x{scale}")
    residual = keras.layers.Conv2D(channels, 9, padding="same", kernel_initializer="zeros", name="tail")(x)
    try:  # scale is valid here, so FIRUpsample can only refuse the method
        interpolation = FIRUpsample(scale, interpolation_skip, name="interpolation")
    except ValueError as error:
        raise ValueError(f"`interpolation_skip` must be None or an imresize method. Received: "
                         f"interpolation_skip={interpolation_skip!r} ({error})") from None
    interpolated = interpolation(inputs)
    outputs = keras.layers.Add(name="interpolation_skip")([interpolated, residual])
    return keras.Model(inputs, outputs, name=f"srresnet_x{scale}")


def discriminator(input_shape=(96, 96, 3)):
    """The SRGAN discriminator: eight 3x3 conv layers (four with stride 2) and two dense layers.

    Paper: Christian Ledig et al. (2017). Photo-Realistic Single Image
    Super-Resolution Using a Generative Adversarial Network.

    ``conv3x3(64)-LeakyReLU``, then seven ``conv3x3-BN-LeakyReLU`` blocks
    with 64, 128, 128, 256, 256, 512, 512 filters and strides 2, 1, 2, 1, 2,
    1, 2 (the feature map shrinks 16 times), ``Dense(1024)-LeakyReLU`` and
    ``Dense(1)``. LeakyReLU slope 0.2. Convolutions before batch norm have no
    bias. The output is a logit (no sigmoid): pair it with a
    ``from_logits=True`` loss.

    Args:
        input_shape: ``(H, W, C)`` of the HR patches, static (the flattened
            features feed a dense layer, so the size is fixed; the four strided
            convolutions round odd sizes up). Default: ``(96, 96, 3)``.

    Returns:
        A ``keras.Model`` named ``"srgan_discriminator"``.
        Input: ``(N, H, W, C)``, float in [0, 1].
        Output: ``(N, 1)`` logits, real > 0.

    Cost (96x96x3): 23,567,361 parameters (3,712 of them batch-norm moving
    statistics), 18.9 M of them in ``Dense(1024)`` on the 6x6x512 features.
    """
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3 or any(
            not isinstance(size, int) or size < 1 for size in input_shape):
        raise ValueError(f"`input_shape` must be a static (H, W, C). Received: input_shape={input_shape!r}")
    inputs = keras.Input(input_shape, name="hr")
    x = keras.layers.Conv2D(64, 3, padding="same", name="conv_1")(inputs)
    x = keras.layers.LeakyReLU(0.2, name="conv_1_lrelu")(x)
    blocks = [(64, 2), (128, 1), (128, 2), (256, 1), (256, 2), (512, 1), (512, 2)]
    for index, (filters, strides) in enumerate(blocks, start=2):
        x = keras.layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, name=f"conv_{index}")(x)
        x = keras.layers.BatchNormalization(name=f"conv_{index}_norm")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"conv_{index}_lrelu")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(1024, name="dense")(x)
    x = keras.layers.LeakyReLU(0.2, name="dense_lrelu")(x)
    outputs = keras.layers.Dense(1, name="logits")(x)
    return keras.Model(inputs, outputs, name="srgan_discriminator")
