"""In-graph MATLAB ``imresize`` upscaling by an integer factor, as a Keras layer.

:func:`srlib.resize.imresize` needs static spatial sizes (it computes MATLAB's
``contributions`` table for the actual image length) and reshapes through a
rank-5 tensor, so it cannot sit inside a fully convolutional model exported to
TFLite. For an *integer* upscaling factor ``s`` it does not need to: output
sample ``m * s + j`` (0-based) sits at input coordinate ``m - 1/2 + (j + 1/2) / s``,
so every phase ``j`` uses the same weights at every position ``m``, and only the
border rule (half-sample symmetric extension) depends on the image. The layer
therefore runs, per axis,

1. symmetric extension by ``pad`` rows (columns), built from single-row slices
   and a concatenation;
2. a "valid" convolution whose ``s`` output channels per input channel are the
   ``s`` phases;

and finally ``depth_to_space`` interleaves the ``s x s`` phases. The weights are
taken from :func:`srlib.resize.contributions` itself, so the result equals
``imresize(x, scale=s, method=method)`` on every pixel, borders included, for
any input size of at least ``pad`` pixels (tested to 1e-5).

TFLite: lowers to ``STRIDED_SLICE``, ``CONCATENATION``, ``CONV_2D`` and
``DEPTH_TO_SPACE``, all builtins the GPU delegate accepts. (``tf.pad`` with
``mode="SYMMETRIC"`` would be a single ``MIRROR_PAD``, but the GPU delegate only
accepts its ``REFLECT`` mode, which is a different border rule.)
"""

import keras
import numpy as np
from keras import ops

from srlib.resize import contributions, resolve_method
from srlib.validation import scale_factor


def polyphase_bank(scale, method="bicubic"):
    """The 1-D filters of MATLAB ``imresize`` upscaling by an integer factor.

    Args:
        scale: int, upscaling factor, >= 2.
        method: an :func:`srlib.resize.imresize` method name or tuple.

    Returns:
        ``(bank, pad)``: ``bank`` float64 of shape ``(2 * pad + 1, scale)``,
        column ``j`` the weights of output phase ``j`` over input samples
        ``m - pad .. m + pad``; ``pad`` the extension each border needs.
    """
    scale_factor(scale)
    kernel, kernel_width, _ = resolve_method(method)
    length = 4 * int(np.ceil(kernel_width)) + 8  # long enough for an interior sample
    left, weights, _ = contributions(length, length * scale, scale, kernel, kernel_width, antialias=True)
    middle = length // 2
    taps = {}  # (phase, offset from m) -> weight
    for phase in range(scale):
        row = middle * scale + phase
        for tap, weight in enumerate(weights[row]):
            if weight != 0.0:
                taps[phase, int(left[row]) + tap - middle] = weight
    pad = max(abs(offset) for _, offset in taps)
    bank = np.zeros((2 * pad + 1, scale), np.float64)
    for (phase, offset), weight in taps.items():
        bank[offset + pad, phase] = weight
    return bank, pad


@keras.saving.register_keras_serializable(package="srlib")
class FIRUpsample(keras.layers.Layer):
    """Upscales by an integer factor exactly like MATLAB ``imresize``.

    Fixed (non-trainable, not saved) separable polyphase filter: see the
    module docstring. Its two convolutions cost ``(2 * pad + 1) * scale * C**2
    * (1 + scale**2)`` MACs per input pixel as dense convolutions (their
    kernels are block-diagonal across channels): 70 per input pixel, 17.5 per
    output pixel, for Lanczos-3 x2 on one channel.

    Args:
        scale: int, upscaling factor, >= 2.
        method: ``imresize`` method name (``"bicubic"``, ``"lanczos3"``,
            ``"bilinear"``, ``"nearest"``...). Default: ``"bicubic"``.
        **kwargs: base ``keras.layers.Layer`` arguments.

    Input shape: ``(N, H, W, C)`` with ``H, W >= pad`` (2 for bicubic, 3 for
    Lanczos-3); any values.
    Output shape: ``(N, H * scale, W * scale, C)``; values can overshoot the
    input range (cubic and Lanczos kernels have negative lobes).
    """

    def __init__(self, scale, method="bicubic", **kwargs):
        super().__init__(**kwargs)
        self.scale = scale_factor(scale)
        self.method = tuple(method) if isinstance(method, list) else method  # JSON turns tuples into lists
        self.bank, self.pad = polyphase_bank(self.scale, self.method)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"FIRUpsample needs a known number of channels. Received input shape {input_shape}")
        for size in input_shape[1:3]:
            if size is not None and size < self.pad:
                raise ValueError(
                    f"FIRUpsample(method={self.method!r}) needs inputs of at least {self.pad} pixels "
                    f"per side (one symmetric reflection). Received input shape {tuple(input_shape)}"
                )
        span, scale = self.bank.shape
        eye = np.eye(channels)
        # Height pass: channel c -> (phase i, channel c) at index i * C + c.
        kernel_h = np.einsum("ki,cd->kcid", self.bank, eye).reshape(span, 1, channels, scale * channels)
        # Width pass: (i, c) -> (i, j, c) at index (i * s + j) * C + c, the order depth_to_space reads.
        kernel_w = np.einsum("kj,ab,cd->kacbjd", self.bank, np.eye(scale), eye)
        kernel_w = kernel_w.reshape(1, span, scale * channels, scale * scale * channels)
        self.kernel_h = kernel_h.astype("float32")
        self.kernel_w = kernel_w.astype("float32")
        super().build(input_shape)

    def _extend(self, inputs, axis):
        """Half-sample symmetric extension by ``pad`` along ``axis`` (1 or 2)."""
        def row(index):  # inputs[:, index] along `axis`, keeping the axis
            stop = index + 1 if index != -1 else None
            return inputs[:, index:stop] if axis == 1 else inputs[:, :, index:stop]
        before = [row(index) for index in reversed(range(self.pad))]
        after = [row(-1 - index) for index in range(self.pad)]
        return ops.concatenate([*before, inputs, *after], axis=axis) if self.pad else inputs

    def call(self, inputs):
        outputs = ops.conv(self._extend(inputs, 1), ops.cast(self.kernel_h, inputs.dtype), padding="valid")
        outputs = ops.conv(self._extend(outputs, 2), ops.cast(self.kernel_w, inputs.dtype), padding="valid")
        return ops.depth_to_space(outputs, self.scale, data_format="channels_last")

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        height = None if height is None else height * self.scale
        width = None if width is None else width * self.scale
        return (batch, height, width, channels)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "method": self.method}
