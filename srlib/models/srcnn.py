"""SRCNN: the first convolutional super-resolution network (pre-upsampling)."""

import keras

from srlib.validation import positive_int


def srcnn(channels=1, filters=(64, 32), kernel_sizes=(9, 5, 5)):
    """SRCNN: patch extraction, non-linear mapping and reconstruction convolutions.

    Paper: Chao Dong, Chen Change Loy, Kaiming He, Xiaoou Tang (2014). Learning
    a Deep Convolutional Network for Image Super-Resolution (ECCV, 9-1-5); the
    9-5-5 and ImageNet results the tables quote are from the journal version,
    Image Super-Resolution Using Deep Convolutional Networks (TPAMI 2016,
    arXiv:1501.00092).

    ``conv(f1)-ReLU-conv(f2)-ReLU-conv(channels)`` on the bicubic-upsampled
    low-resolution image: the same network serves every scale it was trained
    for. ``kernel_sizes=(9, 1, 5)`` is the paper's base model, ``(9, 5, 5)``
    its best one (published tables quote 9-5-5); ``(9, 3, 5)`` the middle one.

    The paper trains with 'valid' convolutions (a 33x33 input patch gives a
    21x21 output for 9-1-5, 17x17 for 9-5-5); its released test code filters
    whole images with replicated borders (MATLAB ``imfilter(..., 'same',
    'replicate')``). Here every convolution is 'same' with zero padding, so the
    output has the input's size and the evaluation protocol stays that of every
    other model; pixels within the receptive-field radius (8 for 9-5-5) of a
    border see zeros instead of replicated image.

    Args:
        channels: int, image channels (1 for the paper's Y-only model). Default: 1.
        filters: pair of ints, filters of the first two convolutions. Default: (64, 32).
        kernel_sizes: three ints, kernel sizes of the three convolutions.
            Default: (9, 5, 5).

    Returns:
        A ``keras.Model`` named ``"srcnn"``.
        Input: ``(N, H, W, channels)`` bicubic-upsampled LR, float in [0, 1].
        Output: ``(N, H, W, channels)``, float, about [0, 1] (not clipped).

    Cost (Y, default 9-5-5): 57,281 parameters (57,184 weights + 97 biases, the
    paper's 57,184 counts weights only), 57,184 MACs per output pixel;
    9-1-5: 8,129 parameters (paper: 8,032), 8,032 MACs per pixel.
    Receptive field: ``sum(kernel_sizes) - 2`` = 17 pixels for 9-5-5.
    """
    channels = positive_int(channels, "channels")
    if len(filters) != 2:
        raise ValueError(f"`filters` must be a pair of ints (f1, f2). Received: filters={filters!r}")
    if len(kernel_sizes) != 3:
        raise ValueError(f"`kernel_sizes` must be three ints. Received: kernel_sizes={kernel_sizes!r}")
    inputs = keras.Input((None, None, channels), name="upsampled")
    x = keras.layers.Conv2D(filters[0], kernel_sizes[0], padding="same", activation="relu",
                            kernel_initializer="he_normal", name="patch_extraction")(inputs)
    x = keras.layers.Conv2D(filters[1], kernel_sizes[1], padding="same", activation="relu",
                            kernel_initializer="he_normal", name="mapping")(x)
    outputs = keras.layers.Conv2D(channels, kernel_sizes[2], padding="same", name="reconstruction")(x)
    return keras.Model(inputs, outputs, name="srcnn")
