"""VDSR: a deep plain network that learns the residual of a bicubic upscale."""

import keras

from srlib.layers import ClipToUnit
from srlib.validation import integer_at_least, positive_int


def vdsr(channels=1, depth=20, filters=64, clip_output=False):
    """VDSR: ``depth`` 3x3 convolutions with ReLU and a global residual.

    Paper: Jiwon Kim, Jung Kwon Lee, Kyoung Mu Lee (2016). Accurate Image
    Super-Resolution Using Very Deep Convolutional Networks.

    ``output = input + residual(input)`` where the input is the
    bicubic-upsampled LR image: the network only adds the missing high
    frequencies, and one model serves every scale it was trained on (the
    paper trains x2, x3 and x4 together). 'Same' (zero) padding keeps the
    size, as in the paper.

    Args:
        channels: int, image channels (1 for the paper's Y model). Default: 1.
        depth: int, number of convolutions, first and last included, >= 2.
            Default: 20.
        filters: int, filters of the hidden convolutions. Default: 64.
        clip_output: bool, end with ``ClipToUnit`` (zero gradient where it
            clips: better added for export than trained with). Default: False.

    Returns:
        A ``keras.Model`` named ``"vdsr"``.
        Input: ``(N, H, W, channels)`` bicubic-upsampled LR, float in [0, 1].
        Output: ``(N, H, W, channels)``, float in [0, 1] when clipped.

    Cost (Y, default): 665,921 parameters; 664,704 MACs per output pixel.
    Receptive field: ``2 * depth + 1`` = 41 pixels.
    """
    channels = positive_int(channels, "channels")
    filters = positive_int(filters, "filters")
    depth = integer_at_least(depth, "depth", 2, "convolutions, first and last included")
    inputs = keras.Input((None, None, channels), name="upsampled")
    x = inputs
    for index in range(depth - 1):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu",
                                kernel_initializer="he_normal", name=f"conv_{index + 1}")(x)
    residual = keras.layers.Conv2D(channels, 3, padding="same", kernel_initializer="he_normal",
                                   name=f"conv_{depth}")(x)
    outputs = keras.layers.Add(name="global_residual")([inputs, residual])
    if clip_output:
        outputs = ClipToUnit(name="clip")(outputs)
    return keras.Model(inputs, outputs, name="vdsr")
