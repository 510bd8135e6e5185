"""FSRCNN: SRCNN made fast by running at low resolution and upscaling last."""

import keras

from srlib.layers import prelu
from srlib.validation import integer_at_least, positive_int, scale_factor


def fsrcnn(scale, channels=1, d=56, s=12, m=4):
    """FSRCNN: an hourglass of convolutions on the LR image, then a deconvolution.

    Paper: Chao Dong, Chen Change Loy, Xiaoou Tang (2016). Accelerating the
    Super-Resolution Convolutional Neural Network.

    Feature extraction ``conv5x5(d)``, shrinking ``conv1x1(s)``, ``m`` mapping
    ``conv3x3(s)``, expanding ``conv1x1(d)`` (each followed by a PReLU), and a
    ``9x9`` transposed convolution with stride ``scale``. Only the last layer
    depends on the scale: see :func:`fsrcnn_for_new_scale`.

    The deconvolution has no activation and stays a separate op: the TFLite GPU
    delegate rejects ``TRANSPOSE_CONV`` with a fused activation. With 'same'
    padding, LR pixel ``i`` lands its kernel centre on HR pixel
    ``i * scale + scale // 2``: MATLAB's grid puts it at ``i * scale + (scale - 1) / 2``,
    so this is exact for odd scales and half an HR pixel to the right for even ones,
    which the 9x9 kernel learns to absorb.

    Args:
        scale: int, upscaling factor, >= 2.
        channels: int, image channels (1 for the paper's Y model). Default: 1.
        d: int, LR feature dimension. Default: 56.
        s: int, shrunk feature dimension of the mapping part. Default: 12.
        m: int, number of mapping layers. Default: 4.

    Returns:
        A ``keras.Model`` named ``"fsrcnn_x{scale}"``.
        Input: ``(N, H, W, channels)`` LR, float in [0, 1].
        Output: ``(N, H * scale, W * scale, channels)``, float, about [0, 1]
        (not clipped).

    Cost (Y, default 56-12-4): 12,809 parameters (12,464 weights, the paper's
    count, + 173 biases + 172 PReLU slopes); 7,928 MACs per LR pixel in the
    body + 4,536 per LR pixel in the deconvolution, i.e. 1,385 MACs per output
    pixel at x3.
    """
    scale = scale_factor(scale)
    for value, name in ((channels, "channels"), (d, "d"), (s, "s")):
        positive_int(value, name)
    m = integer_at_least(m, "m", 0, "mapping layers")

    def conv_prelu(x, filters, kernel_size, name):
        x = keras.layers.Conv2D(filters, kernel_size, padding="same", kernel_initializer="he_normal", name=name)(x)
        return prelu(name=f"{name}_prelu")(x)

    inputs = keras.Input((None, None, channels), name="lr")
    x = conv_prelu(inputs, d, 5, "feature_extraction")
    x = conv_prelu(x, s, 1, "shrinking")
    for index in range(m):
        x = conv_prelu(x, s, 3, f"mapping_{index + 1}")
    x = conv_prelu(x, d, 1, "expanding")
    outputs = _deconvolution(scale, channels)(x)
    return keras.Model(inputs, outputs, name=f"fsrcnn_x{scale}")


def fsrcnn_s(scale, channels=1):
    """FSRCNN-s, the paper's small real-time variant: ``fsrcnn(scale, d=32, s=5, m=1)``.

    Paper: Chao Dong, Chen Change Loy, Xiaoou Tang (2016). Accelerating the
    Super-Resolution Convolutional Neural Network (section 4, FSRCNN-s).

    Args:
        scale: int, upscaling factor, >= 2.
        channels: int, image channels (1 for the paper's Y model). Default: 1.

    Returns:
        A Functional ``keras.Model``, as :func:`fsrcnn`:
        Input: ``(N, H, W, channels)`` LR, float in [0, 1].
        Output: ``(N, H * scale, W * scale, channels)``, float, about [0, 1]
        (not clipped).

    Cost (Y): 4,086 parameters (3,937 weights, the paper's count); 1,345 MACs
    per LR pixel + 2,592 in the deconvolution, i.e. 437 MACs per output pixel at x3.
    """
    return fsrcnn(scale, channels, d=32, s=5, m=1)


def _deconvolution(scale, channels):
    return keras.layers.Conv2DTranspose(
        channels, 9, strides=scale, padding="same",
        kernel_initializer=keras.initializers.RandomNormal(stddev=0.001), name="deconvolution",
    )


def fsrcnn_for_new_scale(model, new_scale, freeze_body=True):
    """The paper's transfer trick: reuse a trained FSRCNN body for another scale.

    The convolutions before the deconvolution are scale independent, so the
    returned model shares them (the same layer objects, hence the same
    weights) with ``model`` and ends in a fresh 9x9 deconvolution of stride
    ``new_scale``. With ``freeze_body`` the shared layers are set
    non-trainable, so that fine-tuning trains the deconvolution only;
    without it they are set trainable, so that the whole network fine-tunes
    (also after an earlier transfer froze them). Either way ``model``, which
    holds the same layers, changes with them.

    Args:
        model: a model built by :func:`fsrcnn` or :func:`fsrcnn_s` (its last
            layer must be the ``Conv2DTranspose``).
        new_scale: int, upscaling factor of the new model, >= 2.
        freeze_body: bool, set the shared layers non-trainable (True) or
            trainable (False). Default: True.

    Returns:
        A ``keras.Model`` named ``"fsrcnn_x{new_scale}"``, same input as ``model``.
    """
    new_scale = scale_factor(new_scale, "new_scale")
    deconvolution = model.layers[-1]
    if not isinstance(deconvolution, keras.layers.Conv2DTranspose):
        raise ValueError(
            "`model` must end in the FSRCNN deconvolution (a Conv2DTranspose layer). "
            f"Received: model={model.name!r} ending in {type(deconvolution).__name__}"
        )
    for layer in model.layers[:-1]:
        layer.trainable = not freeze_body
    outputs = _deconvolution(new_scale, deconvolution.filters)(deconvolution.input)
    return keras.Model(model.input, outputs, name=f"fsrcnn_x{new_scale}")
