"""Cost and receptive field of super-resolution models.

* :func:`model_cost`: parameters and multiply-accumulates (MACs) of a model at
  a given input size, from the TensorFlow graph the model traces to, so that
  convolutions nested in custom layers (``SubPixelConv2D``, ``ResidualBlock``,
  ``FIRUpsample``) are counted too.
* :func:`receptive_field`: the radius, in input pixels, of the input region
  an output pixel depends on, measured on the model itself.
* :func:`forward_seconds`: the wall time of a forward pass, to set beside the MACs.
"""

import dataclasses
import time

import keras
import numpy as np
import tensorflow as tf

from srlib.validation import integer_at_least, positive_int


@dataclasses.dataclass(frozen=True)
class ModelCost:
    """Parameters and MACs of a model at one input size.

    Attributes:
        parameters: all weights, batch-norm moving statistics included.
        trainable_parameters: the trainable ones.
        macs: multiply-accumulates of one forward pass on one image.
        output_size: ``(H, W)`` of the output.
        macs_per_output_pixel: ``macs / (H * W)``.
        macs_by_op: MACs of each convolution / matrix product, keyed by the
            TensorFlow op name (which contains the layer names).
    """

    parameters: int
    trainable_parameters: int
    macs: int
    output_size: tuple
    macs_per_output_pixel: float
    macs_by_op: dict


def _op_macs(op):
    """MACs of one TensorFlow op, or 0 for an op that is not a conv or matmul."""
    if op.type in ("Conv2D", "DepthwiseConv2dNative"):
        # Kernel (k_h, k_w, C_in, C_out), or (k_h, k_w, C_in, multiplier) for depthwise: the same product.
        kernel_h, kernel_w, in_channels, last = op.inputs[1].shape
        batch, out_h, out_w, _ = op.outputs[0].shape
        return batch * out_h * out_w * kernel_h * kernel_w * in_channels * last
    if op.type == "Conv2DBackpropInput":  # transposed convolution: each input pixel scatters a kernel
        kernel_h, kernel_w, out_channels, in_channels = op.inputs[1].shape
        batch, in_h, in_w, _ = op.inputs[2].shape
        return batch * in_h * in_w * kernel_h * kernel_w * in_channels * out_channels
    if op.type in ("MatMul", "BatchMatMulV2"):
        a_shape, b_shape = op.inputs[0].shape, op.inputs[1].shape
        return int(np.prod(a_shape)) * b_shape[-1]
    return 0


def model_cost(model, input_size):
    """Counts parameters and MACs of ``model`` on one image of a given size.

    Traces the model on a batch of one with static shapes and sums the
    convolutions (``k_h * k_w * C_in * C_out`` per output pixel; per *input*
    pixel for transposed convolutions), depthwise convolutions and matrix
    products. Additions, activations and batch norm are not counted.

    Args:
        model: a Keras model with NHWC image inputs.
        input_size: ``(H, W)`` of the input, or one ``(H, W)`` per input for
            multi-input models (e.g. SP-VDSR with ``"second_input"``:
            ``[(h, w), (scale * h, scale * w)]``).

    Returns:
        A :class:`ModelCost`.
    """
    sizes = [tuple(input_size)] if np.ndim(input_size) == 1 else [tuple(size) for size in input_size]
    if len(sizes) != len(model.inputs) or any(len(size) != 2 for size in sizes):
        raise ValueError(f"`input_size` must give one (H, W) per model input ({len(model.inputs)}). "
                         f"Received: input_size={input_size!r}")
    specs = [tf.TensorSpec((1, *size, tensor.shape[-1]), tensor.dtype) for size, tensor in zip(sizes, model.inputs)]

    @tf.function
    def forward(*inputs):
        return model(list(inputs) if len(inputs) > 1 else inputs[0], training=False)

    graph = forward.get_concrete_function(*specs).graph
    macs_by_op = {op.name: int(_op_macs(op)) for op in graph.get_operations() if _op_macs(op)}
    output_shape = graph.outputs[0].shape
    output_size = (int(output_shape[1]), int(output_shape[2])) if output_shape.rank == 4 else (1, 1)
    macs = sum(macs_by_op.values())
    trainable = sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)
    return ModelCost(
        parameters=int(model.count_params()),
        trainable_parameters=trainable,
        macs=macs,
        output_size=output_size,
        macs_per_output_pixel=macs / (output_size[0] * output_size[1]),
        macs_by_op=macs_by_op,
    )


def _probe_clone(model, seed):
    """A copy of ``model`` whose kernels are positive and sum to about 0.5 per output.

    With positive weights and inputs every activation stays positive and
    moderate: no ReLU cuts a path, tanh does not saturate, a clip does not
    engage, so every input pixel the architecture connects to an output
    pixel gets a non-zero gradient.
    """
    clone = keras.models.clone_model(model)
    rng = np.random.default_rng(seed)
    for weight in clone.weights:
        if weight.name.endswith("kernel") and len(weight.shape) >= 2:
            fan_in = int(np.prod(weight.shape[:-1]))
            weight.assign(rng.uniform(0.25, 0.75, weight.shape).astype("float32") / fan_in)
    return clone


def receptive_field(model, input_size=64, seed=0):
    """Radius, in pixels of the (first) input, of what one output pixel sees.

    Measured, not derived: a copy of the model with positive random kernels
    (see ``_probe_clone``) runs on a constant image, and the gradient of the
    ``scale x scale`` output pixels over the centre input pixel (all
    sub-pixel phases) with respect to the input is non-zero exactly on their
    receptive field. The radius is the largest distance from the centre
    input pixel to a pixel of that field: tiles that overlap by ``radius``
    input pixels on each side give the same output as whole-image inference
    (away from the image borders). LR pixels for post-upsampling models, HR
    pixels for pre-upsampling ones (SRCNN 9-5-5: radius 8, i.e. a 17x17
    field; VDSR-20: radius 20).

    Args:
        model: a fully convolutional Keras model with NHWC image inputs
            (further inputs, like SP-VDSR's interpolated image, get the
            first's size times the model's scale and are held constant).
        input_size: int, side of the square probe input; grown by half until the
            field no longer touches the border. Default: 64.
        seed: int, seed of the random kernels. Default: 0.

    Returns:
        int, the radius.
    """
    clone = _probe_clone(model, seed)
    size = input_size
    while size <= 4096:
        lr = tf.Variable(tf.fill((1, size, size, model.inputs[0].shape[-1]), 0.25))
        extra = []
        if len(model.inputs) > 1:
            output_size = _output_side(clone, size)
            extra = [tf.fill((1, output_size, output_size, tensor.shape[-1]), 0.25) for tensor in model.inputs[1:]]
        anchor = size // 2
        with tf.GradientTape() as tape:
            outputs = clone([lr, *extra] if extra else lr, training=False)
            scale = outputs.shape[1] // size
            # The scale x scale output pixels over the anchor input pixel: every sub-pixel phase.
            block = outputs[0, anchor * scale:(anchor + 1) * scale, anchor * scale:(anchor + 1) * scale]
            target = tf.reduce_sum(block)
        gradient = np.abs(tape.gradient(target, lr).numpy()[0]).sum(axis=-1)
        rows, cols = np.nonzero(gradient)
        if len(rows) == 0:
            raise ValueError(f"No input pixel affects the output of model {model.name!r}; cannot measure its field.")
        if rows.min() > 0 and cols.min() > 0 and rows.max() < size - 1 and cols.max() < size - 1:
            return int(max(anchor - rows.min(), rows.max() - anchor, anchor - cols.min(), cols.max() - anchor))
        size += size // 2  # x1.5, not x2: memory grows with the area (7.3 GB at 128 for a 16-block SRResNet)
    raise ValueError(f"The receptive field of model {model.name!r} exceeds 4096 pixels.")


def _output_side(model, size):
    """Output side of a multi-input model whose later inputs have the output's size.

    Traced with the later inputs' sizes unknown: TensorFlow's broadcasting
    shape inference takes the size from the branch that starts at the first input.
    """
    specs = [tf.TensorSpec((1, size, size, model.inputs[0].shape[-1]))]
    specs += [tf.TensorSpec((1, None, None, tensor.shape[-1])) for tensor in model.inputs[1:]]

    @tf.function
    def forward(*inputs):
        return model(list(inputs), training=False)

    side = forward.get_concrete_function(*specs).graph.outputs[0].shape[1]
    if side is None:
        raise ValueError(f"Cannot infer the output size of model {model.name!r} from its first input alone.")
    return int(side)


def median_seconds(function, repeats, warmups=1):
    """Median wall time (s) of ``repeats`` calls of ``function()``, after ``warmups`` untimed calls.

    The warm-up calls take tracing, allocation and thread-pool start-up out of what is measured.
    The benchmarks, :func:`forward_seconds` and :func:`srlib.export.measure_latency` time with it.

    Args:
        function: the call to time, without arguments.
        repeats: int >= 1, timed calls.
        warmups: int >= 0, untimed calls first. Default: 1.

    Returns:
        float, seconds.
    """
    repeats = positive_int(repeats, "repeats")
    for _ in range(integer_at_least(warmups, "warmups", 0)):
        function()
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return float(np.median(timings))


def forward_seconds(model, inputs, repeats=5):
    """Median wall time (s) of ``model.predict_on_batch(inputs)``, after one warm-up call.

    The warm-up builds the graph, so the median times the forward pass alone.

    Args:
        model: a Keras model.
        inputs: a batch the model accepts (an array, or a list for several inputs).
        repeats: int, timed calls. Default: 5.

    Returns:
        float, seconds.
    """
    return median_seconds(lambda: model.predict_on_batch(inputs), repeats)
