"""Separable FIR resampling in TensorFlow, exact to MATLAB ``imresize``.

The published super-resolution tables make their low-resolution inputs with
MATLAB ``imresize(hr, 1/s, 'bicubic')``: Keys' cubic (a = -0.5), antialiased
when downscaling by stretching the kernel by ``1/scale``, with symmetric
(half-sample) border extension. ``tf.image.resize``, PIL and OpenCV all differ
from it, at the borders or everywhere, and cost tenths of a dB to several dB.

How it works, per spatial axis (the axis with the smaller scale goes first, as
in MATLAB):

1. :func:`contributions` reproduces MATLAB's ``contributions`` routine: for each
   output sample, the input indices it reads and their normalised weights.
2. When those weights repeat with a period (every integer and rational factor:
   ``q`` output phases advancing ``r`` input samples), the axis is filtered as a
   strided polyphase convolution over a symmetrically padded input: a few
   multiply-adds per output sample, no gathers.
3. Otherwise (tiny images whose border reflects more than once, or irrational
   factors) the rows are gathered and weighted explicitly.

Everything is TensorFlow ops on NHWC tensors, so it batches, runs inside
``tf.data`` and on a GPU. NumPy input gives NumPy output. Called eagerly, a shape
seen for the second time runs as a traced graph (video frames, tiles, benchmarks),
because Python dispatch of the thirty-odd ops costs more than the arithmetic; a
one-off shape runs eagerly, because tracing costs about 100 ms.
"""

import collections
import functools
import math
import numbers

import numpy as np
import tensorflow as tf

# ----------------------------------------------------------------------------
# Kernels: each maps distances (NumPy float64 array) to weights, with its support
# width (the kernel is zero outside [-width / 2, width / 2]).
# ----------------------------------------------------------------------------


def box_kernel(x):
    """Box (MATLAB ``'box'``): 1 on [-0.5, 0.5)."""
    return ((-0.5 <= x) & (x < 0.5)).astype(np.float64)


def triangle_kernel(x):
    """Triangle, i.e. bilinear (MATLAB ``'triangle'`` / ``'bilinear'``)."""
    return np.maximum(1.0 - np.abs(x), 0.0)


def bc_cubic_kernel(b, c):
    """Mitchell-Netravali family of cubics with parameters ``B`` and ``C``.

    Paper: Mitchell & Netravali 1988, "Reconstruction filters in computer graphics".
    ``B = 0, C = 0.5`` is Keys' cubic with a = -0.5 (MATLAB bicubic, Catmull-Rom);
    ``B = C = 1/3`` is the filter Mitchell and Netravali recommend; ``B = 1, C = 0``
    is the cubic B-spline (a smoothing, non-interpolating filter).
    """
    def kernel(x):
        ax = np.abs(x)
        ax2, ax3 = ax * ax, ax * ax * ax
        near = ((12 - 9 * b - 6 * c) * ax3 + (-18 + 12 * b + 6 * c) * ax2 + (6 - 2 * b)) / 6
        far = ((-b - 6 * c) * ax3 + (6 * b + 30 * c) * ax2 + (-12 * b - 48 * c) * ax + (8 * b + 24 * c)) / 6
        return np.where(ax < 1, near, np.where(ax < 2, far, 0.0))
    return kernel


def cubic_kernel(x):
    """Keys' cubic convolution with a = -0.5, MATLAB's ``'bicubic'``.

    Written exactly as MATLAB's ``cubic`` so that weights agree to the last bit.
    """
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return ((1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1)
            + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((1 < ax) & (ax <= 2)))


def lanczos_kernel(lobes):
    """Lanczos windowed sinc with ``lobes`` lobes (MATLAB ``'lanczos2'``/``'lanczos3'``)."""
    def kernel(x):
        eps = np.finfo(np.float64).eps
        value = (np.sin(np.pi * x) * np.sin(np.pi * x / lobes) + eps) / (np.pi ** 2 * x * x / lobes + eps)
        return value * (np.abs(x) < lobes)
    return kernel


# name -> (kernel function, support width, antialias by default when downscaling)
METHODS = {
    "nearest": (box_kernel, 1.0, False),
    "box": (box_kernel, 1.0, True),
    "bilinear": (triangle_kernel, 2.0, True),
    "bicubic": (cubic_kernel, 4.0, True),
    "mitchell": (bc_cubic_kernel(1 / 3, 1 / 3), 4.0, True),
    "bspline": (bc_cubic_kernel(1.0, 0.0), 4.0, True),
    "lanczos2": (lanczos_kernel(2), 4.0, True),
    "lanczos3": (lanczos_kernel(3), 6.0, True),
}
ALIASES = {"triangle": "bilinear", "cubic": "bicubic", "catmull-rom": "bicubic", "keys": "bicubic",
           "mitchell-netravali": "mitchell", "lanczos": "lanczos3"}


def resolve_method(method):
    """Returns ``(kernel, width, antialias_default)`` for a method name or a custom tuple.

    Args:
        method: a name in :data:`METHODS` (or an alias such as ``"catmull-rom"``),
            ``("bc", B, C)`` for any Mitchell-Netravali cubic, or
            ``(kernel_function, support_width)`` for a custom kernel.
    """
    if isinstance(method, str):
        name = ALIASES.get(method.lower(), method.lower())
        if name not in METHODS:
            valid = sorted(set(METHODS) | set(ALIASES))
            raise ValueError(f"method must be one of {valid}, a ('bc', B, C) tuple or (kernel, width); got {method!r}")
        return METHODS[name]
    if isinstance(method, tuple) and len(method) == 3 and method[0] == "bc":
        return bc_cubic_kernel(float(method[1]), float(method[2])), 4.0, True
    if isinstance(method, tuple) and len(method) == 2 and callable(method[0]):
        return method[0], float(method[1]), True
    raise ValueError(f"method must be a name, ('bc', B, C) or (kernel, width); got {method!r}")


# ----------------------------------------------------------------------------
# MATLAB's contributions, and the polyphase structure hidden in them.
# ----------------------------------------------------------------------------


def contributions(in_length, out_length, scale, kernel, kernel_width, antialias):
    """Input indices and weights of each output sample, as MATLAB ``imresize`` computes them.

    Args:
        in_length, out_length: sizes of the axis before and after resizing.
        scale: the scale factor of this axis (``out / in`` unless the caller gave one).
        kernel, kernel_width: kernel function and its support.
        antialias: stretch the kernel by ``1 / scale`` when ``scale < 1``.

    Returns:
        ``(left, weights, indices)``: ``left`` (out_length,) int64, the 0-based first
        tap before border handling; ``weights`` (out_length, taps) float64, each row
        summing to one; ``indices`` (out_length, taps) int64, 0-based input indices
        after symmetric border extension.
    """
    if antialias and scale < 1:
        def weight_fn(x):
            return scale * kernel(scale * x)
        kernel_width = kernel_width / scale
    else:
        weight_fn = kernel
    position = np.arange(1, out_length + 1, dtype=np.float64)
    # Output sample x (1-based) sits at input coordinate u; half-pixel centres.
    u = position / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - kernel_width / 2)
    taps = int(math.ceil(kernel_width)) + 2
    indices = left[:, None] + np.arange(taps)[None, :]
    weights = weight_fn(u[:, None] - indices)
    weights = weights / np.sum(weights, axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(in_length), np.arange(in_length - 1, -1, -1)])
    indices = mirror[np.mod(indices.astype(np.int64) - 1, 2 * in_length)]
    return left.astype(np.int64) - 1, weights, indices


def _polyphase(left, weights, tolerance=1e-12):
    """Finds ``q`` phases advancing ``r`` input samples, if the weights are periodic.

    Returns ``(phases, stride)`` or ``None``. Integer downscaling by s gives (1, s),
    integer upscaling by s gives (s, 1), a factor of 3/2 gives (3, 2).
    """
    out_length = len(left)
    for phases in range(1, min(out_length, 64) + 1):
        if out_length <= phases:
            return None
        stride = left[phases] - left[0]
        if stride < 1:
            continue
        head, tail = weights[:-phases], weights[phases:]
        if (np.all(left[phases:] - left[:-phases] == stride)
                and np.max(np.abs(head - tail), initial=0.0) <= tolerance):
            return phases, int(stride)
    return None


# ----------------------------------------------------------------------------
# Filtering one axis of an NHWC float tensor (float32, or float64 for uint8 images).
# ----------------------------------------------------------------------------


def _take(tensor, axis, begin, end):
    """``tensor[..., begin:end, ...]`` along ``axis`` (the tensor itself for the whole range)."""
    if begin == 0 and end == tensor.shape[axis]:
        return tensor
    index = [slice(None)] * 4
    index[axis] = slice(begin, end)
    return tensor[tuple(index)]


def _mirror_pad(image, axis, before, after):
    """Half-sample symmetric extension (MATLAB's border rule) by concatenation.

    ``tf.pad(mode="SYMMETRIC")`` does the same but is about three times slower on CPU.
    """
    length = image.shape[axis]
    parts = [image]
    if before:
        parts.insert(0, tf.reverse(_take(image, axis, 0, before), [axis]))
    if after:
        parts.append(tf.reverse(_take(image, axis, length - after, length), [axis]))
    return tf.concat(parts, axis) if len(parts) > 1 else image


@functools.cache  # chosen once, when TensorFlow starts
def _onednn_enabled():
    """Whether TensorFlow runs its CPU kernels through oneDNN.

    TensorFlow turns oneDNN on by default only on CPUs with AVX-512-class instructions; on
    others (the AMD machines here, for one) its own kernels run, and they favour different
    formulations (see :func:`_filter_columns`). ``TF_ENABLE_ONEDNN_OPTS=1`` forces it on.
    """
    try:
        from tensorflow.python.util import _pywrap_util_port
        return bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):  # a TensorFlow without the probe: assume the default build
        return True


def _polyphase_filter(image, axis, bank, stride):
    """Runs a (span, phases) filter bank along ``axis`` and interleaves the phases.

    Output sample ``m * phases + j`` is phase ``j`` of the window starting at ``m * stride``.
    """
    span = bank.shape[0]
    if stride > 1 and (image.shape[axis] - span) // stride == 0:
        # One window: TF 2.21's oneDNN convolution returns uninitialised memory for a strided
        # convolution with a single output column (batch > 1, one channel); no stride is needed.
        image, stride = _take(image, axis, 0, span), 1
    if axis == 1:
        return _filter_rows(image, bank, stride)
    return _filter_columns(image, bank, stride)


def _filter_rows(image, bank, stride):
    """Along the height: each row is one pixel of ``width * channels`` channels, so that a
    depthwise kernel vectorises over a long contiguous axis. One convolution per phase; the
    phases are interleaved by stacking them between the rows.

    Measured on a 960x540 RGB image upscaled x2 along the height: 2.5 ms with oneDNN and
    5.2 ms without, against 3.8 ms and 30 ms for a block-diagonal ``conv2d`` and a transpose.
    """
    span, phases = bank.shape
    _, height, width, channels = image.shape
    dtype = image.dtype.as_numpy_dtype
    rows = tf.reshape(image, [-1, height, 1, width * channels])
    filtered = []
    for phase in range(phases):
        kernel = np.tile(bank[:, phase].reshape(span, 1, 1, 1).astype(dtype), [1, 1, width * channels, 1])
        # TensorFlow's own (non-oneDNN) depthwise kernel accepts only equal row and column
        # strides; along a width of 1 the column stride changes nothing.
        filtered.append(tf.nn.depthwise_conv2d(rows, kernel, strides=[1, stride, stride, 1], padding="VALID"))
    result = filtered[0] if phases == 1 else tf.stack(filtered, axis=2)  # [N, H', phases, 1, W * C]
    return tf.reshape(result, [-1, result.shape[1] * phases, width, channels])


def _filter_columns(image, bank, stride):
    """Along the width, where the contiguous axis holds only the channels.

    With oneDNN, a block-diagonal ``conv2d`` whose output channels are ordered (phase,
    channel), so that the interleave is a free reshape; a downscale (one phase) runs faster
    as a depthwise convolution over rows of height 1: 2.7 ms against 5.0 ms for 1920x540 RGB
    halved. Without oneDNN, a matrix product over blocks of windows (:func:`_filter_blocks`).
    """
    span, phases = bank.shape
    _, height, width, channels = image.shape
    dtype = image.dtype.as_numpy_dtype
    if not _onednn_enabled():
        if channels <= _MOST_CHANNELS_FOR_BLOCKS and (phases > 1 or image.dtype == tf.float32):
            return _filter_blocks(image, bank, stride)
        # Many channels (feature maps), or a float64 downscale: transposing twice around the
        # row filter (see _MOST_CHANNELS_FOR_BLOCKS).
        transposed = tf.transpose(image, [0, 2, 1, 3])
        return tf.transpose(_filter_rows(transposed, bank, stride), [0, 2, 1, 3])
    if phases == 1:
        kernel = np.tile(bank.reshape(1, span, 1, 1).astype(dtype), [1, 1, channels, 1])
        rows = tf.reshape(image, [-1, 1, width, channels])  # equal strides again: see _filter_rows
        filtered = tf.nn.depthwise_conv2d(rows, kernel, strides=[1, stride, stride, 1], padding="VALID")
        return tf.reshape(filtered, [-1, height, filtered.shape[2], channels])
    kernel = np.einsum("kp,cd->kcpd", bank, np.eye(channels))  # [tap, in channel, phase, out channel]
    kernel = kernel.reshape(1, span, channels, phases * channels).astype(dtype)
    filtered = tf.nn.conv2d(image, kernel, strides=[1, 1, stride, 1], padding="VALID")
    return tf.reshape(filtered, [-1, height, filtered.shape[2] * phases, channels])


# The block product multiplies by a (taps x channels, outputs x channels) matrix, whose size
# grows with the square of the channel count. Measured on equal amounts of data, x2 and x1/2:
# faster than the transposes up to 8 channels, twice as slow at 16. A float64 downscale (the
# uint8 path) keeps the transposes: 1080p RGB halved, 50-78 ms against 61-90 with blocks.
_MOST_CHANNELS_FOR_BLOCKS = 8


def _block_size(windows, target):
    """A block size near ``target`` that divides ``windows``, if there is one: the last block
    then needs no zero padding, and the output no slicing (each a copy of the image)."""
    for size in sorted(range(max(1, target // 2), 2 * target + 1), key=lambda size: abs(size - target)):
        if windows % size == 0:
            return size
    return min(windows, target)


def _filter_blocks(image, bank, stride):
    """The width filter of TensorFlow's own kernels, as one matrix product.

    ``block`` consecutive windows read ``frame`` consecutive samples, so each block of
    output samples is one row of input samples (channels interleaved, as in memory) times
    a banded matrix, the bank placed once per window, Kronecker with the channel identity.
    Without oneDNN this beats TensorFlow's convolutions along a 3-channel axis and the
    transposes around the row filter (bicubic, RGB, traced, same process: 960x540 doubled
    along the width 4.5-5.7 ms against 19-22 ms, 1920x540 halved 5.3-6.7 against 14-21 ms).
    """
    span, phases = bank.shape
    _, height, width, channels = image.shape
    windows = (width - span) // stride + 1
    block = _block_size(windows, 8 if phases == 1 else max(1, 32 // phases))  # measured: x2 16, x1/2 8
    blocks = -(-windows // block)
    frame = (block - 1) * stride + span
    padded_width = (blocks - 1) * block * stride + frame
    if padded_width > width:  # zeros that only the dropped windows of the last block read
        image = tf.pad(image, [[0, 0], [0, 0], [0, padded_width - width], [0, 0]])
    matrix = np.zeros((frame, block * phases))
    for window in range(block):
        matrix[window * stride:window * stride + span, window * phases:(window + 1) * phases] = bank
    matrix = np.kron(matrix, np.eye(channels)).astype(image.dtype.as_numpy_dtype)
    rows = tf.reshape(image, [-1, image.shape[2] * channels])
    frames = tf.signal.frame(rows, frame * channels, block * stride * channels, axis=1)  # [N*H, blocks, frame*C]
    filtered = tf.matmul(tf.reshape(frames, [-1, frame * channels]), matrix)
    filtered = tf.reshape(filtered, [-1, height, blocks * block * phases, channels])
    return filtered if blocks * block == windows else filtered[:, :, :windows * phases]


def _filter_bank(left, weights, phases):
    """``(start, bank)``: the first window's first input sample, and a (span, phases) bank
    whose column j holds phase j's weights at their offset in the window."""
    start = int(left[0])
    offsets = (left[:phases] - start).astype(np.int64)
    taps = weights.shape[1]
    bank = np.zeros((int(offsets.max()) + taps, phases), np.float64)
    for phase in range(phases):
        bank[offsets[phase]:offsets[phase] + taps, phase] = weights[phase]
    return start, bank


def _resize_axis_polyphase(image, axis, in_length, out_length, left, weights, phases, stride):
    """Strided polyphase filtering of one axis; ``None`` where one mirror is not enough.

    Window ``k`` reads input samples ``start + k * stride`` to ``start + k * stride + span``.
    Two ways to give the border windows their mirrored samples, chosen by measurement
    (1080p RGB, x2 and x1/2, with and without oneDNN): when upscaling, pad the input and
    filter it in one go, which copies the (smaller) input once; when downscaling, run the
    inside windows on the image itself and the few border windows on short mirrored strips,
    which copies the (smaller) output once, when the pieces are concatenated.
    """
    start, bank = _filter_bank(left, weights, phases)
    span = bank.shape[0]
    windows = -(-out_length // phases)  # rounded up; the last window may emit unwanted phases
    end = start + (windows - 1) * stride + span  # one past the last input sample read
    if max(-start, end - in_length) > in_length:
        return None
    if phases > stride:
        padded = _mirror_pad(image, axis, max(-start, 0), max(end - in_length, 0))
        begin = max(start, 0)  # in the padded image, sample `start` sits at `begin`
        filtered = _polyphase_filter(_take(padded, axis, begin, begin + end - start), axis, bank, stride)
        return _take(filtered, axis, 0, out_length)
    # Windows [first_inside, end_inside) need no border samples; the last window is handled
    # as a border window whenever it emits more phases than the output keeps.
    first_inside = max(0, -(start // stride))
    end_inside = min(windows - (windows * phases != out_length), (in_length - span - start) // stride + 1)
    if end_inside <= first_inside:
        return _border_windows(image, axis, in_length, bank, stride, start, 0, windows, out_length, phases)
    parts = []
    if first_inside > 0:
        parts.append(_border_windows(image, axis, in_length, bank, stride, start, 0, first_inside,
                                     first_inside * phases, phases))
    parts.append(_inside_windows(image, axis, bank, stride, start + first_inside * stride, end_inside - first_inside))
    if end_inside < windows:
        parts.append(_border_windows(image, axis, in_length, bank, stride, start, end_inside, windows,
                                     out_length - end_inside * phases, phases))
    return tf.concat(parts, axis) if len(parts) > 1 else parts[0]


def _inside_windows(image, axis, bank, stride, begin, count):
    """``count`` windows starting at sample ``begin >= 0``, all inside the image."""
    if begin < stride:  # zero taps in front align the convolution's windows (from sample 0) with ours
        bank, begin = np.pad(bank, [(begin, 0), (0, 0)]), 0
    span = bank.shape[0]
    if begin == 0 and (image.shape[axis] - span) // stride + 1 == count:
        # A convolution over the whole axis makes exactly these windows: no slice, which would copy.
        return _polyphase_filter(image, axis, bank, stride)
    return _polyphase_filter(_take(image, axis, begin, begin + (count - 1) * stride + span), axis, bank, stride)


def _border_windows(image, axis, in_length, bank, stride, start, first, last, keep, phases):
    """Windows ``first`` to ``last`` on a mirrored strip; keeps the first ``keep`` outputs."""
    begin, end = start + first * stride, start + (last - 1) * stride + bank.shape[0]
    before, after = max(-begin, 0), max(end - in_length, 0)
    inside = _take(image, axis, max(begin, 0), min(end, in_length))
    if max(before, after) <= inside.shape[axis]:
        strip = _mirror_pad(inside, axis, before, after)
    else:  # a strip shorter than its own reflection: mirror the whole image
        strip = _take(_mirror_pad(image, axis, before, after), axis, begin + before, end + before)
    filtered = _polyphase_filter(strip, axis, bank, stride)
    return filtered if (last - first) * phases == keep else _take(filtered, axis, 0, keep)


def _resize_axis_gather(image, axis, weights, indices):
    """Generic path: gather every tap and weight it (any factor, any size)."""
    gathered = tf.gather(image, tf.constant(indices, tf.int32), axis=axis)  # taps inserted after `axis`
    weight_shape = [1] * 5
    weight_shape[axis], weight_shape[axis + 1] = weights.shape
    weighted = gathered * tf.constant(weights.reshape(weight_shape), image.dtype)
    return tf.reduce_sum(weighted, axis=axis + 1)


def _resize_axis(image, axis, out_length, scale, kernel, kernel_width, antialias):
    in_length = image.shape[axis]
    left, weights, indices = contributions(in_length, out_length, scale, kernel, kernel_width, antialias)
    structure = _polyphase(left, weights)
    if structure is not None:
        result = _resize_axis_polyphase(image, axis, in_length, out_length, left, weights, *structure)
        if result is not None:
            return result
    return _resize_axis_gather(image, axis, weights, indices)


# ----------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------


def _resize_batch(batched, plan):
    """Resizes an NHWC uint8 or float batch following ``plan``; uint8 comes back rounded."""
    out_size, scales, kernel, kernel_width, antialias = plan
    input_dtype = batched.dtype
    # uint8 is filtered as MATLAB does it: the integer values themselves, in double precision,
    # rounded once at the end. Filtering values scaled to [0, 1] in float32 put sums that are
    # exact halves in real arithmetic (a step edge halved) just below the half, and rounded
    # them down. In float64 they come out exact where the weights are dyadic fractions
    # (bicubic x2, x1/2, x1/4: the protocol's factors) and within an ulp or two elsewhere
    # (bicubic x5/2: 17 of 557 halves rounded down), as MATLAB's own double sums do.
    result = tf.cast(batched, tf.float64 if input_dtype == tf.uint8 else tf.float32)
    # MATLAB resizes the axis with the smaller scale first, rows first on ties. On a tie the
    # order changes only float rounding, so an upscale takes the columns first: the pass along
    # the width was the costlier one (three channels in the contiguous axis), and it then runs on
    # the smaller image (960x540 x2: 33 ms against 42 ms when it was transposed into rows, without
    # oneDNN; equal with oneDNN, and equal since the width is a block product: 23-27 ms either way).
    if scales[0] == scales[1] > 1:
        order = (2, 1)
    else:
        order = sorted((1, 2), key=lambda axis: scales[axis - 1])  # a stable sort: rows first on ties
    for axis in order:
        if result.shape[axis] != out_size[axis - 1] or scales[axis - 1] != 1:
            result = _resize_axis(result, axis, out_size[axis - 1], scales[axis - 1], kernel, kernel_width, antialias)
    if input_dtype == tf.uint8:
        result = tf.cast(tf.clip_by_value(tf.floor(result + 0.5), 0, 255), tf.uint8)  # half away from zero
    return result


_GRAPHS = collections.OrderedDict()  # key -> None (seen once) or a traced tf.function
_GRAPHS_KEPT = 32


def _graph_for_repeated(key, plan):
    """The function that resizes for ``plan``: eager on a key's first call, a graph afterwards.

    Inside ``tf.function`` or ``tf.data`` the caller is already tracing, so nothing is cached.
    """
    def eager(batched):
        return _resize_batch(batched, plan)
    if not tf.executing_eagerly():
        return eager
    try:
        seen, graph = True, _GRAPHS.pop(key)
    except KeyError:
        seen, graph = False, None
    except TypeError:  # a custom kernel that cannot be hashed: never cached
        return eager
    if seen and graph is None:
        # Traced here for this one shape; calling the concrete function later does not count
        # as retracing (tf.function would warn once several keys trace the same Python code).
        graph = tf.function(eager).get_concrete_function(tf.TensorSpec(key[0], key[1]))
    _GRAPHS[key] = graph  # (re)inserted last: the least recently used key goes first
    while len(_GRAPHS) > _GRAPHS_KEPT:
        _GRAPHS.popitem(last=False)
    return graph or eager


def output_size(in_size, scale):
    """MATLAB's output size for a scale factor: ``ceil(in * scale)`` per axis."""
    return tuple(int(math.ceil(length * factor - 1e-9)) for length, factor in zip(in_size, scale))


def _as_pair(value, name):
    if isinstance(value, numbers.Real):  # NumPy scalars too
        value = (value, value)
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or any(not isinstance(v, numbers.Real) or not math.isfinite(v) or v <= 0 for v in value)):
        raise ValueError(f"{name} must be a positive number or a pair of them, got {value!r}")
    return tuple(float(v) if name == "scale" else v for v in value)


def imresize(image, scale=None, size=None, method="bicubic", antialias=None):
    """Resizes images exactly like MATLAB ``imresize``.

    Args:
        image: ``(H, W)``, ``(H, W, C)`` or ``(N, H, W, C)``; NumPy array or tensor;
            uint8 in [0, 255] or float in [0, 1]. Spatial sizes must be static.
        scale: factor for both axes, or ``(scale_h, scale_w)``, e.g. ``1 / 3``. The
            output size is ``ceil(in * scale)`` and the weights use ``scale`` itself,
            as MATLAB does.
        size: ``(out_h, out_w)`` instead of ``scale``; then ``scale = out / in``.
        method: ``"nearest"``, ``"box"``, ``"bilinear"``, ``"bicubic"`` (default,
            Keys a = -0.5 = Catmull-Rom), ``"mitchell"`` (B = C = 1/3), ``"bspline"``,
            ``"lanczos2"``, ``"lanczos3"``, ``("bc", B, C)`` or ``(kernel, width)``.
        antialias: stretch the kernel when downscaling; defaults to MATLAB's
            choice (on for every method except ``"nearest"``).

    Returns:
        The resized images in the input's layout and kind (NumPy in, NumPy out).
        uint8 input gives uint8 output rounded half away from zero and clipped,
        as MATLAB does; it is filtered in float64 like MATLAB's, so that exact
        halves (a step edge halved) round up at the protocol's factors, at three to
        five times the cost of float input. Float input gives float32, neither
        rounded nor clipped (cubic and Lanczos kernels overshoot).
    """
    if (scale is None) == (size is None):
        raise ValueError("imresize needs exactly one of `scale` or `size`")
    kernel, kernel_width, antialias_default = resolve_method(method)
    antialias = antialias_default if antialias is None else antialias

    is_numpy = not tf.is_tensor(image)
    tensor = tf.convert_to_tensor(image)
    input_dtype = tensor.dtype
    if not (input_dtype == tf.uint8 or input_dtype.is_floating):
        raise ValueError(f"image must be uint8 or floating point, got {input_dtype.name}")
    rank = tensor.shape.rank
    if rank not in (2, 3, 4):
        raise ValueError(f"image must have shape (H, W), (H, W, C) or (N, H, W, C); got {tensor.shape}")
    batched = tensor
    if rank == 2:
        batched = batched[None, :, :, None]
    elif rank == 3:
        batched = batched[None]
    in_size = batched.shape[1:3]
    if None in in_size or batched.shape[-1] is None:
        raise ValueError(f"imresize needs static spatial sizes and channels (got {tuple(batched.shape)}); crop "
                         "or tf.ensure_shape the image first (tf.io.decode_png: pass `channels`)")
    if size is not None:
        out_size = _as_pair(size, "size")
        if not all(float(length).is_integer() for length in out_size):
            raise ValueError(f"size must be a pair of whole numbers of pixels, got {size!r}")
        out_size = tuple(int(length) for length in out_size)
        scales = tuple(o / i for o, i in zip(out_size, in_size))
    else:
        scales = _as_pair(scale, "scale")
        out_size = output_size(in_size, scales)

    plan = (out_size, scales, kernel, kernel_width, antialias)
    key = (tuple(batched.shape), batched.dtype, out_size, scales, method, antialias)
    result = _graph_for_repeated(key, plan)(batched)
    if rank == 2:
        result = result[0, :, :, 0]
    elif rank == 3:
        result = result[0]
    return result.numpy() if is_numpy else result


def degrade(hr_image, scale, method="bicubic"):
    """The protocol's LR image: crop HR to a multiple of ``scale``, then downscale by ``1 / scale``.

    Args:
        hr_image: ``(H, W, C)`` or ``(N, H, W, C)`` uint8 or float [0, 1].
        scale: integer scale factor (2, 3, 4, ...).
        method: FIR method for the downscale (MATLAB bicubic for the paper tables).

    Returns:
        ``(hr_cropped, lr)``, both in the input's kind and dtype (uint8 LR is rounded,
        like the 8-bit LR images every published table was computed from).
    """
    if not isinstance(scale, (int, np.integer)) or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    hr_cropped = crop_to_multiple(hr_image, scale)
    return hr_cropped, imresize(hr_cropped, scale=1 / scale, method=method)


def crop_to_multiple(image, multiple):
    """Crops the bottom/right edge so that height and width are multiples of ``multiple``."""
    height_axis = 0 if len(image.shape) in (2, 3) else 1
    height, width = image.shape[height_axis], image.shape[height_axis + 1]
    height, width = height - height % multiple, width - width % multiple
    if height_axis == 0:
        return image[:height, :width]
    return image[:, :height, :width]
