"""SP-VDSR: a shallow VDSR whose body runs at low resolution (sub-pixel output)."""

import keras

from srlib.layers import ClipToUnit, DepthToSpace, SubPixelConv2D, prelu
from srlib.models.fir import FIRUpsample
from srlib.resize import resolve_method
from srlib.validation import integer_at_least, positive_int, scale_factor

INTERPOLATION_INPUTS = ("graph", "second_input", "nearest")


def sp_vdsr(scale=2, channels=1, depth=5, filters=8, activation="leaky_relu",
            interpolation="lanczos3", interpolation_input="graph"):
    """SP-VDSR: VDSR's global residual, with the body at LR and a sub-pixel output.

    Paper: Chrisostomo (SP-VDSR, sub-pixel VDSR for line art, x2), after
    Jiwon Kim, Jung Kwon Lee, Kyoung Mu Lee (2016). Accurate Image
    Super-Resolution Using Very Deep Convolutional Networks; and Wenzhe Shi
    et al. (2016), Real-Time Single Image and Video Super-Resolution Using an
    Efficient Sub-Pixel Convolutional Neural Network.

    ``depth - 1`` 3x3 convolutions with ``filters`` maps run on the LR image,
    a last 3x3 convolution emits ``channels * scale**2`` maps and
    ``depth_to_space`` turns them into the HR residual, which is added to an
    interpolated upscale of the input; the sum is clipped to [0, 1]. VDSR pays
    for every layer at HR size; here only the addition does.

    Where the interpolated image comes from (``interpolation_input``):

    * ``"graph"``: computed in the model by ``FIRUpsample(scale,
      interpolation)``, equal to ``srlib.resize.imresize`` on every pixel.
      One input; converts to TFLite builtins (slices, concatenation,
      ``CONV_2D``, ``DEPTH_TO_SPACE``), at an extra 17.5 MACs per output pixel
      for Lanczos-3 x2.
    * ``"second_input"``: the model takes ``[lr, interpolated]`` and the
      caller resizes (e.g. ``imresize(lr, scale, method=interpolation)``; the
      model does not check which method was used). The lightest TFLite
      graph; the app resizes with whatever it has.
    * ``"nearest"``: pixel repetition in the graph, as ``depth_to_space`` of
      the input concatenated ``scale**2`` times (TFLite ``CONCATENATION`` and
      ``DEPTH_TO_SPACE``; Keras' ``UpSampling2D`` would repeat through rank-5
      tensors). ``interpolation`` is ignored; the residual must then also
      learn what a better interpolation would have added.

    Args:
        scale: int, upscaling factor, >= 2. Default: 2.
        channels: int, image channels. Default: 1.
        depth: int, number of convolutions, first and last (sub-pixel)
            included, >= 2. Default: 5.
        filters: int, filters of the hidden convolutions. Default: 8.
        activation: Keras activation name of the hidden layers, or
            ``"prelu"``. Default: ``"leaky_relu"`` (slope 0.2, TFLite ``LEAKY_RELU``).
        interpolation: ``imresize`` method of the interpolated image (for
            ``"graph"``; the intended one for ``"second_input"``).
            Default: ``"lanczos3"``.
        interpolation_input: ``"graph"``, ``"second_input"`` or ``"nearest"``.
            Default: ``"graph"``.

    Returns:
        A ``keras.Model`` named ``"sp_vdsr_x{scale}"``.
        Inputs: ``(N, H, W, channels)`` LR, float in [0, 1]; with
        ``"second_input"`` also ``(N, H * scale, W * scale, channels)``.
        Output: ``(N, H * scale, W * scale, channels)``, float in [0, 1].

    Cost (Y, default x2): 2,124 parameters; 2,088 MACs per LR pixel in the
    learned convolutions (522 per output pixel), + 17.5 per output pixel for
    the in-graph Lanczos-3 (``"graph"``).
    """
    scale = scale_factor(scale)
    channels = positive_int(channels, "channels")
    filters = positive_int(filters, "filters")
    depth = integer_at_least(depth, "depth", 2, "convolutions, first and last included")
    if interpolation_input not in INTERPOLATION_INPUTS:
        raise ValueError(f"`interpolation_input` must be one of {INTERPOLATION_INPUTS}. "
                         f"Received: interpolation_input={interpolation_input!r}")
    resolve_method(interpolation)  # fails early on an unknown method name

    lr = keras.Input((None, None, channels), name="lr")
    x = lr
    for index in range(depth - 1):
        x = keras.layers.Conv2D(filters, 3, padding="same", kernel_initializer="he_normal", name=f"conv_{index + 1}")(x)
        if activation == "prelu":
            x = prelu(name=f"prelu_{index + 1}")(x)
        else:
            x = keras.layers.Activation(activation, name=f"activation_{index + 1}")(x)
    residual = SubPixelConv2D(scale, channels, name=f"conv_{depth}_sub_pixel")(x)

    inputs = [lr]
    if interpolation_input == "graph":
        interpolated = FIRUpsample(scale, interpolation, name="interpolation")(lr)
    elif interpolation_input == "second_input":
        interpolated = keras.Input((None, None, channels), name="interpolated")
        inputs.append(interpolated)
    else:
        tiled = keras.layers.Concatenate(name="tile")([lr] * scale**2)
        interpolated = DepthToSpace(scale, name="nearest_upsample")(tiled)
    outputs = ClipToUnit(name="clip")(keras.layers.Add(name="global_residual")([interpolated, residual]))
    return keras.Model(inputs if len(inputs) > 1 else lr, outputs, name=f"sp_vdsr_x{scale}")
