"""ESPCN: convolutions at low resolution, one sub-pixel convolution to upscale."""

import keras

from srlib.layers import SubPixelConv2D
from srlib.validation import positive_int, scale_factor


def espcn(scale, channels=1, filters=(64, 32), kernel_sizes=(5, 3, 3), activation="tanh"):
    """ESPCN: ``conv(f1)-act-conv(f2)-act`` then a sub-pixel convolution.

    Paper: Wenzhe Shi, Jose Caballero, Ferenc Huszar, Johannes Totz, Andrew P.
    Aitken, Rob Bishop, Daniel Rueckert, Zehan Wang (2016). Real-Time Single
    Image and Video Super-Resolution Using an Efficient Sub-Pixel
    Convolutional Neural Network.

    The last convolution emits ``channels * scale**2`` maps that
    ``depth_to_space`` rearranges into the HR image (``SubPixelConv2D``, ICNR
    initialised so that training starts from a nearest-neighbour upscale of a
    plain convolution). The paper uses tanh in the hidden layers (it reports
    it beats ReLU here); any Keras activation name works.

    Args:
        scale: int, upscaling factor, >= 2.
        channels: int, image channels (1 for the paper's Y model). Default: 1.
        filters: pair of ints, filters of the two hidden convolutions. Default: (64, 32).
        kernel_sizes: three ints, kernel sizes of the three convolutions.
            Default: (5, 3, 3).
        activation: str, activation of the hidden layers. Default: ``"tanh"``.

    Returns:
        A ``keras.Model`` named ``"espcn_x{scale}"``.
        Input: ``(N, H, W, channels)`` LR, float in [0, 1].
        Output: ``(N, H * scale, W * scale, channels)``, float, about [0, 1]
        (not clipped).

    Cost (Y, x3): 22,729 parameters; 22,624 MACs per LR pixel, i.e. 2,514 per
    output pixel. Receptive field: 9x9 LR pixels (radius 4).
    TFLite: ``CONV_2D``, ``TANH``, ``DEPTH_TO_SPACE``.
    """
    scale = scale_factor(scale)
    channels = positive_int(channels, "channels")
    if not isinstance(filters, (tuple, list)) or len(filters) != 2:
        raise ValueError(f"`filters` must be a pair of ints (f1, f2). Received: filters={filters!r}")
    if not isinstance(kernel_sizes, (tuple, list)) or len(kernel_sizes) != 3:
        raise ValueError(f"`kernel_sizes` must be three ints. Received: kernel_sizes={kernel_sizes!r}")
    inputs = keras.Input((None, None, channels), name="lr")
    x = keras.layers.Conv2D(filters[0], kernel_sizes[0], padding="same", activation=activation, name="conv_1")(inputs)
    x = keras.layers.Conv2D(filters[1], kernel_sizes[1], padding="same", activation=activation, name="conv_2")(x)
    outputs = SubPixelConv2D(scale, channels, kernel_size=kernel_sizes[2], name="sub_pixel")(x)
    return keras.Model(inputs, outputs, name=f"espcn_x{scale}")
