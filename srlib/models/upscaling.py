"""Running a model under the evaluation protocol: uint8 LR in, uint8 SR out.

:func:`upscaler` wraps a model into the ``upscale(lr_uint8, scale) ->
sr_uint8`` function that :func:`srlib.evaluate.evaluate` takes, with the
standard protocol for luma-only models: the network upscales Y, the chroma
comes from a bicubic upscale of the LR image. PSNR and SSIM of a luma model
are measured on the Y it produced (rounded to 8 bits), as the papers' code
does, not on the Y of the RGB image: converting to RGB clips colours outside
the RGB cube, which moves Y by up to 17 levels at saturated edges (ESPCN x3
on Set5: 17 on butterfly, 11 on woman, 3 or 4 on the others). The chroma
only matters for viewing.
"""

import keras
import numpy as np

from srlib.color import rgb_to_ycbcr, ycbcr_to_rgb
from srlib.images import to_uint8
from srlib.resize import imresize

INPUT_KINDS = ("upsampled", "lr", "lr_and_upsampled")
# Interpolation of the network input, by input kind, unless the caller says otherwise: what the
# registered models train on (SRCNN and VDSR bicubic, SP-VDSR's second input Lanczos-3).
# srlib.inference and the export cards use the same table, so evaluation, tiled inference and
# the .tflite file all feed a model the same input.
DEFAULT_INTERPOLATION = {"upsampled": "bicubic", "lr_and_upsampled": "lanczos3"}


def _probe_input_kind(model, channels):
    """``("upsampled", None)`` or ``("lr", scale)`` from the output size on an 8x8 input."""
    outputs = model(np.zeros((1, 8, 8, channels), "float32"), training=False)
    side = int(outputs.shape[1])
    return ("upsampled", None) if side == 8 else ("lr", side // 8)


def upscaler(model, scale=None, channels=None, input_kind=None, interpolation=None):
    """An ``upscale(lr_uint8, scale) -> sr_uint8`` function running ``model``.

    For a one-channel model on an RGB image: Y (BT.601, MATLAB ``rgb2ycbcr``)
    goes through the network, Cb and Cr are upscaled bicubically, and the
    result is converted back to RGB. Greyscale images (``(H, W)`` or
    ``(H, W, 1)``) go through a one-channel model directly; a three-channel
    model sees them repeated on three channels and returns their mean.
    The output is rounded (half up) and clipped to uint8.

    Args:
        model: a Keras model on NHWC float images in [0, 1].
        scale: int, the model's upscaling factor; checked against the
            ``scale`` each call passes. None: found from the model's output
            size (post-upsampling models), or any scale (pre-upsampling
            models, which one model serves for all). Required for
            ``"lr_and_upsampled"`` models. Default: None.
        channels: int, 1 (luma model) or 3 (RGB model). None: the model
            input's channels. Default: None.
        input_kind: ``"upsampled"`` (SRCNN, VDSR: the input is the
            interpolated LR), ``"lr"`` (post-upsampling models) or
            ``"lr_and_upsampled"`` (SP-VDSR ``"second_input"``: both). None:
            ``"lr_and_upsampled"`` for two-input models, otherwise from the
            output size of an 8x8 probe. Default: None.
        interpolation: ``imresize`` method that makes the upsampled input. None:
            :data:`DEFAULT_INTERPOLATION` for the input kind (``"bicubic"`` for
            ``"upsampled"``, ``"lanczos3"`` for SP-VDSR's second input). Default: None.

    Returns:
        ``upscale(lr_image, scale)``: uint8 ``(h, w)``, ``(h, w, 1)`` or
        ``(h, w, 3)`` in, uint8 of shape ``(h * scale, w * scale, ...)`` out.
        For a one-channel model it also has ``upscale.with_luma(lr_image, scale)
        -> (sr_image, sr_y)``: the same image and, for an RGB input, the network's
        Y plane as uint8 ``(h * scale, w * scale, 1)`` (None for greyscale), which
        :func:`srlib.evaluate.evaluate_pair` measures.

    Raises:
        ValueError: (at a call) ``lr_image`` is not uint8.
    """
    channels = model.inputs[0].shape[-1] if channels is None else channels
    if channels not in (1, 3):
        raise ValueError(f"`channels` must be 1 (luma model) or 3 (RGB model). Received: channels={channels!r}")
    if input_kind is None:
        if len(model.inputs) == 2:
            input_kind = "lr_and_upsampled"
        else:
            input_kind, probed_scale = _probe_input_kind(model, channels)
            if scale is not None and probed_scale is not None and scale != probed_scale:
                raise ValueError(f"`scale` must be the model's own factor: {model.name} upscales "
                                 f"x{probed_scale}. Received: scale={scale!r}")
            scale = probed_scale if scale is None else scale
    if input_kind not in INPUT_KINDS:
        raise ValueError(f"`input_kind` must be one of {INPUT_KINDS}. Received: input_kind={input_kind!r}")
    if input_kind == "lr_and_upsampled" and scale is None:
        raise ValueError("`scale` is required for a model taking [lr, upsampled] inputs. Received: scale=None")
    model_scale = scale
    interpolation = interpolation or DEFAULT_INTERPOLATION.get(input_kind)

    def with_luma(lr_image, scale):
        if model_scale is not None and scale != model_scale:
            raise ValueError(f"This upscaler runs a x{model_scale} model. Received: scale={scale!r}")
        lr_image = np.asarray(lr_image)
        if lr_image.dtype != np.uint8:  # a float image in [0, 1] would be divided by 255 once more
            raise ValueError(f"`lr_image` must be uint8 in [0, 255]. Received: dtype {lr_image.dtype}")
        squeeze = lr_image.ndim == 2
        image = lr_image[..., None] if squeeze else lr_image
        image = image.astype("float32") / 255.0
        grey = image.shape[-1] == 1
        if channels == 1 and not grey:
            ycbcr = rgb_to_ycbcr(image)
            planes = ycbcr[..., :1]
        else:
            planes = np.repeat(image, 3, axis=-1) if channels == 3 and grey else image

        inputs = [] if input_kind == "upsampled" else [planes[None]]
        if input_kind != "lr":
            inputs.append(imresize(planes, scale=scale, method=interpolation)[None])
        outputs = keras.ops.convert_to_numpy(model(inputs if len(inputs) > 1 else inputs[0], training=False))[0]

        luma = None
        if channels == 1 and not grey:
            luma = to_uint8(outputs)
            chroma = imresize(ycbcr[..., 1:], scale=scale, method="bicubic")
            outputs = ycbcr_to_rgb(np.concatenate([outputs, chroma], axis=-1))
        elif channels == 3 and grey:
            outputs = outputs.mean(axis=-1, keepdims=True)
        sr_image = to_uint8(outputs)
        return (sr_image[..., 0] if squeeze else sr_image), luma

    def upscale(lr_image, scale):
        return with_luma(lr_image, scale)[0]

    upscale.__name__ = model.name
    if channels == 1:
        upscale.with_luma = with_luma
    return upscale
