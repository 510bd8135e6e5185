"""Keras layers and initializers shared by the super-resolution models.

Everything here is channels-last (NHWC), written with ``keras.ops`` so it runs
on any Keras backend, registered under the ``"srlib"`` package so that models
containing it round-trip through ``.keras`` files, and restricted to what the
TFLite GPU delegate accepts:

* no ``Lambda`` layers (their Python bytecode is not portable and ``.keras``
  files refuse to load them in safe mode);
* no tensor of rank 5 or more (the GPU delegate rejects the whole graph);
* pixel shuffle is ``depth_to_space``, which converts to the single TFLite
  ``DEPTH_TO_SPACE`` op instead of a reshape/transpose chain;
* PReLU shares its slopes over height and width (``prelu()``), giving an alpha
  of shape ``(1, 1, C)`` that converts to the TFLite ``PRELU`` op;
* clipping to [0, 1] converts to ``MINIMUM``/``RELU`` (or ``RELU_0_TO_1``).

Contents:

* ``ICNR``: initializer for sub-pixel convolutions that starts them as a
  nearest-neighbour upscale of a plain convolution.
* ``DepthToSpace``, ``SubPixelConv2D``: pixel-shuffle upsampling.
* ``ResidualBlock``: EDSR (conv-ReLU-conv) or SRResNet (conv-BN-PReLU-conv-BN).
* ``prelu()``: PReLU factory with the TFLite-friendly shared axes.
* ``ClipToUnit``: clips images to [0, 1].
"""

import keras
from keras import ops

from srlib.validation import is_finite_number, non_negative_number, positive_int, positive_number, scale_factor

_PACKAGE = "srlib"
RESIDUAL_STYLES = ("edsr", "srresnet")


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ICNR(keras.initializers.Initializer):
    """ICNR initializer for the convolution in front of a pixel shuffle.

    Paper: Andrew Aitken, Christian Ledig, Lucas Theis, Jose Caballero, Zehan
    Wang, Wenzhe Shi (2017). Checkerboard artifact free sub-pixel convolution:
    A note on sub-pixel convolution, resize convolution and convolution resize.

    A convolution with ``C * scale**2`` filters followed by ``depth_to_space``
    starts, with a plain random initialisation, as ``scale**2`` unrelated
    filters interleaved on the output grid: the source of checkerboard
    artifacts. ICNR draws a kernel for ``C`` filters only and copies it to all
    ``scale**2`` sub-pixel positions, so that right after initialisation the
    conv + pixel shuffle equals a ``C``-filter convolution followed by a
    nearest-neighbour upscale (every ``scale x scale`` output block is
    constant, given a constant bias).

    The copies are laid out for TensorFlow's ``depth_to_space`` (NHWC, "DCR"
    order), where output pixel ``(i, j)`` of a block and channel ``c`` read
    input channel ``(i * scale + j) * C + c``: the base kernel is *tiled*
    along the output-channel axis. (PyTorch's ``pixel_shuffle`` uses the other
    order, which is why PyTorch ICNR code repeats each filter instead.)

    Args:
        scale: int, upscaling factor of the following ``depth_to_space``, >= 2.
        initializer: initializer (name, config dict or instance) for the base
            kernel of ``C`` filters. Default: ``"he_normal"``.

    Called with a 4D kernel shape ``(kernel_h, kernel_w, in_channels,
    C * scale**2)``.
    """

    def __init__(self, scale, initializer="he_normal"):
        self.scale = scale_factor(scale)
        self.initializer = keras.initializers.get(initializer)

    def __call__(self, shape, dtype=None):
        blocks = self.scale**2
        if len(shape) != 4 or shape[-1] % blocks != 0:
            raise ValueError(
                "ICNR expects a Conv2D kernel shape (kernel_h, kernel_w, "
                f"in_channels, out_channels) with out_channels divisible by "
                f"scale**2={blocks}. Received: shape={tuple(shape)}"
            )
        base_shape = (*shape[:3], shape[-1] // blocks)
        base_kernel = self.initializer(base_shape, dtype=dtype)
        return ops.tile(base_kernel, (1, 1, 1, blocks))

    def get_config(self):
        return {
            "scale": self.scale,
            "initializer": keras.initializers.serialize(self.initializer),
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class DepthToSpace(keras.layers.Layer):
    """Pixel shuffle: moves channel blocks to ``scale x scale`` spatial blocks.

    Paper: Wenzhe Shi, Jose Caballero, Ferenc Huszar, Johannes Totz, Andrew P.
    Aitken, Rob Bishop, Daniel Rueckert, Zehan Wang (2016). Real-Time Single
    Image and Video Super-Resolution Using an Efficient Sub-Pixel
    Convolutional Neural Network.

    Uses ``keras.ops.depth_to_space`` (``tf.nn.depth_to_space`` on the
    TensorFlow backend), which converts to the TFLite ``DEPTH_TO_SPACE`` op.

    Args:
        scale: int, upscaling factor, >= 2.

    Input shape: ``(N, H, W, C * scale**2)``.
    Output shape: ``(N, H * scale, W * scale, C)``.
    """

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale_factor(scale)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is not None and channels % (self.scale**2) != 0:
            raise ValueError(
                f"DepthToSpace(scale={self.scale}) needs a number of input "
                f"channels divisible by scale**2={self.scale**2}. "
                f"Received input shape {tuple(input_shape)}"
            )
        super().build(input_shape)

    def call(self, inputs):
        return ops.depth_to_space(inputs, self.scale, data_format="channels_last")

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        height = None if height is None else height * self.scale
        width = None if width is None else width * self.scale
        channels = None if channels is None else channels // self.scale**2
        return (batch, height, width, channels)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SubPixelConv2D(keras.layers.Layer):
    """Sub-pixel convolution: 'same' conv to ``channels * scale**2``, then pixel shuffle.

    Paper: Wenzhe Shi et al. (2016). Real-Time Single Image and Video
    Super-Resolution Using an Efficient Sub-Pixel Convolutional Neural Network.
    ICNR: Andrew Aitken et al. (2017). Checkerboard artifact free sub-pixel
    convolution.

    Args:
        scale: int, upscaling factor, >= 2. For x4 and x8, SR networks usually
            chain x2 stages instead of one large shuffle.
        channels: int, channels of the upscaled output.
        kernel_size: int, size of the square convolution kernel. Default: 3.
        use_icnr: bool, wrap ``kernel_initializer`` in ``ICNR`` so that the
            layer starts as a nearest-neighbour upscale. Default: True.
        kernel_initializer: initializer of the convolution kernel (the base
            initializer when ``use_icnr``). Default: ``"he_normal"``.
        bias_initializer: initializer of the bias. Keep it constant (the
            default ``"zeros"``) for the ICNR property to hold. Default:
            ``"zeros"``.
        kernel_regularizer: optional regularizer of the kernel. Default: None.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``...).

    Input shape: ``(N, H, W, C_in)``.
    Output shape: ``(N, H * scale, W * scale, channels)``.
    """

    def __init__(
        self,
        scale,
        channels,
        kernel_size=3,
        use_icnr=True,
        kernel_initializer="he_normal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.scale = scale_factor(scale)
        self.channels = positive_int(channels, "channels")
        self.kernel_size = positive_int(kernel_size, "kernel_size")
        self.use_icnr = bool(use_icnr)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

        conv_initializer = self.kernel_initializer
        if self.use_icnr:
            conv_initializer = ICNR(self.scale, self.kernel_initializer)
        self.conv = keras.layers.Conv2D(
            self.channels * self.scale**2,
            self.kernel_size,
            padding="same",
            kernel_initializer=conv_initializer,
            bias_initializer=self.bias_initializer,
            kernel_regularizer=self.kernel_regularizer,
            dtype=self.dtype_policy,
            name="conv",
        )
        self.depth_to_space = DepthToSpace(self.scale, dtype=self.dtype_policy, name="depth_to_space")

    def build(self, input_shape):
        self.conv.build(input_shape)
        self.depth_to_space.build(self.conv.compute_output_shape(input_shape))
        super().build(input_shape)

    def call(self, inputs):
        return self.depth_to_space(self.conv(inputs))

    def compute_output_shape(self, input_shape):
        return self.depth_to_space.compute_output_shape(self.conv.compute_output_shape(input_shape))

    def get_config(self):
        return {
            **super().get_config(),
            "scale": self.scale,
            "channels": self.channels,
            "kernel_size": self.kernel_size,
            "use_icnr": self.use_icnr,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
        }


def prelu(name=None, alpha_initial=0.25, **kwargs):
    """PReLU with one slope per channel, shared over height and width.

    Paper: Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun (2015). Delving
    Deep into Rectifiers: Surpassing Human-Level Performance on ImageNet
    Classification.

    ``keras.layers.PReLU()`` without ``shared_axes`` learns one slope per
    pixel and channel: the layer then only accepts the input size it was
    built for, and its ``(H, W, C)`` alpha is not what TFLite GPU expects.
    With ``shared_axes=[1, 2]`` alpha has shape ``(1, 1, C)``, works at any
    input size and converts to a single TFLite ``PRELU`` op. (SRGAN's PyTorch
    ports use ``nn.PReLU()``, one slope for all channels; per-channel slopes
    include that case.)

    Args:
        name: optional layer name. Default: None.
        alpha_initial: float, initial slope of the negative part; 0.25 as in
            He et al. (2015) and PyTorch (Keras' default is 0). Default: 0.25.
        **kwargs: further ``keras.layers.PReLU`` arguments.

    Returns:
        A ``keras.layers.PReLU`` instance (serializes as a built-in layer).
    """
    return keras.layers.PReLU(
        alpha_initializer=keras.initializers.Constant(alpha_initial),
        shared_axes=[1, 2],
        name=name,
        **kwargs,
    )


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ResidualBlock(keras.layers.Layer):
    """Residual block of EDSR or SRResNet: ``x + residual_scaling * F(x)``.

    Papers:
        ``style="edsr"``: Bee Lim, Sanghyun Son, Heewon Kim, Seungjun Nah,
        Kyoung Mu Lee (2017). Enhanced Deep Residual Networks for Single Image
        Super-Resolution. ``F = conv-ReLU-conv``, no batch normalisation
        (it removes range flexibility and costs memory); EDSR's large model
        uses ``residual_scaling=0.1`` to stabilise training.

        ``style="srresnet"``: Christian Ledig et al. (2017). Photo-Realistic
        Single Image Super-Resolution Using a Generative Adversarial Network.
        ``F = conv-BN-PReLU-conv-BN``. The convolutions have no bias because
        the following batch normalisation's offset makes it redundant.

    Args:
        filters: int, channels of the block; must equal the input channels
            (the skip connection is an identity).
        kernel_size: int, size of both square kernels. Default: 3.
        style: ``"edsr"`` or ``"srresnet"``. Default: ``"edsr"``.
        residual_scaling: float >= 0, factor applied to ``F(x)`` before the
            addition (both styles). Default: 1.0.
        kernel_initializer: initializer of both kernels. Default: ``"he_normal"``.
        kernel_regularizer: optional regularizer of both kernels. Default: None.
        norm_momentum: float in [0, 1), batch-norm moving-average momentum (srresnet
            only; Keras convention, PyTorch's ``momentum=0.1`` is 0.9 here).
            Default: 0.99.
        norm_epsilon: float > 0, batch-norm epsilon (srresnet only). Default: 1e-3.
        **kwargs: base ``keras.layers.Layer`` arguments.

    Input and output shape: ``(N, H, W, filters)``.
    """

    def __init__(
        self,
        filters,
        kernel_size=3,
        style="edsr",
        residual_scaling=1.0,
        kernel_initializer="he_normal",
        kernel_regularizer=None,
        norm_momentum=0.99,
        norm_epsilon=1e-3,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if style not in RESIDUAL_STYLES:
            raise ValueError(f"`style` must be one of {RESIDUAL_STYLES}. Received: style={style!r}")
        self.filters = positive_int(filters, "filters")
        self.kernel_size = positive_int(kernel_size, "kernel_size")
        self.style = style
        self.residual_scaling = non_negative_number(residual_scaling, "residual_scaling")
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        # A moving average's momentum of 1 would never update the statistics.
        if not is_finite_number(norm_momentum) or not 0 <= norm_momentum < 1:
            raise ValueError(f"`norm_momentum` must be a number in [0, 1). Received: norm_momentum={norm_momentum!r}")
        self.norm_momentum = float(norm_momentum)
        self.norm_epsilon = positive_number(norm_epsilon, "norm_epsilon")

        use_batch_norm = style == "srresnet"
        self.conv1 = self._make_conv("conv1", use_bias=not use_batch_norm)
        self.conv2 = self._make_conv("conv2", use_bias=not use_batch_norm)
        if use_batch_norm:
            self.norm1 = self._make_batch_norm("norm1")
            self.norm2 = self._make_batch_norm("norm2")
            self.activation = prelu(name="prelu", dtype=self.dtype_policy)
        else:
            self.norm1 = self.norm2 = None
            self.activation = keras.layers.ReLU(dtype=self.dtype_policy, name="relu")

    def _make_conv(self, name, use_bias):
        return keras.layers.Conv2D(
            self.filters,
            self.kernel_size,
            padding="same",
            use_bias=use_bias,
            kernel_initializer=self.kernel_initializer,
            kernel_regularizer=self.kernel_regularizer,
            dtype=self.dtype_policy,
            name=name,
        )

    def _make_batch_norm(self, name):
        return keras.layers.BatchNormalization(
            momentum=self.norm_momentum,
            epsilon=self.norm_epsilon,
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, input_shape):
        if input_shape[-1] != self.filters:
            raise ValueError(
                f"ResidualBlock(filters={self.filters}) adds its input to its "
                f"output, so the input must have {self.filters} channels. "
                f"Received input shape {tuple(input_shape)}"
            )
        # Every sublayer keeps the input shape ('same' padding, filters == C).
        for layer in (self.conv1, self.norm1, self.activation, self.conv2, self.norm2):
            if layer is not None:
                layer.build(input_shape)
        super().build(input_shape)

    def call(self, inputs, training=None):
        residual = self.conv1(inputs)
        if self.norm1 is not None:
            residual = self.norm1(residual, training=training)
        residual = self.conv2(self.activation(residual))
        if self.norm2 is not None:
            residual = self.norm2(residual, training=training)
        # Skip the multiply when it is a no-op: one op less in the TFLite graph.
        if self.residual_scaling != 1.0:
            residual = residual * self.residual_scaling
        return inputs + residual

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "style": self.style,
            "residual_scaling": self.residual_scaling,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "norm_momentum": self.norm_momentum,
            "norm_epsilon": self.norm_epsilon,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ClipToUnit(keras.layers.Layer):
    """Clips images to the valid range [0, 1].

    Put it at the end of a model so exported models never emit out-of-range
    pixels. Its gradient is zero wherever it clips, so a pixel that overshoots
    gets no training signal even when its target lies inside (0, 1); models
    that suffer from this can train without the layer and add it for export.

    Input and output shape: any; values of the output in [0, 1].
    """

    def call(self, inputs):
        return ops.clip(inputs, 0.0, 1.0)

    def compute_output_shape(self, input_shape):
        return input_shape
