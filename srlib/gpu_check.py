"""Offline check that a ``.tflite`` file runs entirely on the TFLite GPU delegate.

``tf.lite.experimental.Analyzer.analyze(..., gpu_compatibility=True)`` still
exists in TensorFlow 2.21 but checks nothing any more (it always reports the
model as compatible), and the delegate itself only says what it rejected when
it is created on a device with a GPU. A single rejected op in the middle of an
SR network splits the graph: by default only the largest supported partition
runs on the GPU and the rest goes back to the CPU, with copies in between. So
this module re-implements the delegate's acceptance rules on the flatbuffer:

* the op allowlist with the highest op version each parser accepts
  (``tensorflow/lite/delegates/gpu/common/model_builder.cc``,
  ``CheckMaxSupportedOpVersion``), e.g. ``CONV_2D`` <= 6, ``TRANSPOSE_CONV`` <= 3
  (a fused activation makes it version 4), ``PRELU`` 1, ``ADD`` <= 2, ``MUL`` <= 3;
* the per-op rules of ``tensorflow/lite/tools/versioning/gpu_compatibility.cc``
  (fused activations, ``DEPTH_TO_SPACE`` block size, constant paddings,
  ``MIRROR_PAD`` only ``REFLECT``, ``RESIZE_BILINEAR`` not ``align_corners``
  together with ``half_pixel_centers``, ``STRIDED_SLICE`` masks, broadcasts...);
* the tensor rules of ``GetOpsToReplace``: every non-constant tensor float32 or
  float16 (int8/uint8 only for the quantized path), rank <= 4; and what the
  GPU backends need beyond it: static shapes (no -1 in a shape signature) and
  batch 1 everywhere;
* custom ops are rejected except the four the delegate implements; Flex ops
  (``SELECT_TF_OPS``) never run on it.

Float16 models keep their weights as float16 constants behind ``DEQUANTIZE``
ops; the delegate folds those (``FP16GraphPartitionHelper``) before its
support check and skips them when it builds the graph, so a ``DEQUANTIZE`` of
a float16 constant passes whatever its version. Other ``DEQUANTIZE`` and
``QUANTIZE`` ops need the quantized path (``quantized_ok=True``).

The rules are those of the TensorFlow sources; the device still has the last
word (``benchmark_model --use_gpu=true`` prints how many ops it delegated).
"""

import dataclasses
from pathlib import Path

import numpy as np
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

# Highest op version each delegate parser accepts; None where the parser checks no version.
MAX_OP_VERSIONS = {
    "ABS": 2, "ADD": 2, "ADD_N": None, "AVERAGE_POOL_2D": 2, "BATCH_MATMUL": None, "CAST": None,
    "CONCATENATION": 2, "CONV_2D": 6, "COS": 2, "CUMSUM": 1, "DENSIFY": 1, "DEPTHWISE_CONV_2D": 6,
    "DEPTH_TO_SPACE": None, "DEQUANTIZE": 3, "DIV": 2, "ELU": 2, "EQUAL": 2, "EXP": 2, "FLOOR": 2,
    "FLOOR_DIV": 2, "FLOOR_MOD": 2, "FULLY_CONNECTED": 9, "GATHER": None, "GELU": None, "GREATER": 2,
    "GREATER_EQUAL": 2, "HARD_SWISH": None, "LEAKY_RELU": 2, "LESS": 2, "LESS_EQUAL": 2, "LOG": 2,
    "LOGICAL_AND": 2, "LOGISTIC": 2, "LSTM": 4, "MAXIMUM": 2, "MAX_POOL_2D": 2, "MEAN": None, "MINIMUM": 2,
    "MIRROR_PAD": 2, "MUL": 3, "NEG": 2, "NOT_EQUAL": 2, "ONE_HOT": None, "PACK": None, "PAD": 2, "PADV2": 2,
    "POW": 2, "PRELU": 1, "QUANTIZE": 2, "REDUCE_MAX": None, "REDUCE_MIN": None, "REDUCE_PROD": None,
    "RELU": 2, "RELU6": 2, "RELU_0_TO_1": None, "RELU_N1_TO_1": None, "RESHAPE": 1, "RESIZE_BILINEAR": 3,
    "RESIZE_NEAREST_NEIGHBOR": 3, "RSQRT": 2, "SELECT": 1, "SELECT_V2": 1, "SIGN": 2, "SIN": 2, "SLICE": 2,
    "SOFTMAX": 2, "SPACE_TO_DEPTH": 2, "SPLIT": None, "SPLIT_V": None, "SQRT": 2, "SQUARE": 2,
    "SQUARED_DIFFERENCE": 2, "STRIDED_SLICE": 2, "SUB": 2, "SUM": None, "TANH": 2, "TILE": None,
    "TRANSPOSE": 2, "TRANSPOSE_CONV": 3, "UNPACK": None,
}
# Custom ops with a GPU implementation (everything else, Flex ops included, stays on the CPU).
GPU_CUSTOM_OPS = ("Convolution2DTransposeBias", "MaxPoolingWithArgmax2D", "MaxUnpooling2D", "Resampler")
# Only these may follow an element-wise op with one runtime input and no constant.
ONE_INPUT_ELEMENTWISE = ("ABS", "COS", "ELU", "EXP", "FLOOR", "LOG", "LOGISTIC", "NEG", "RSQRT", "SIGN", "SIN",
                         "SQRT", "SQUARE", "TANH")
TWO_INPUT_ELEMENTWISE = ("DIV", "EQUAL", "FLOOR_DIV", "FLOOR_MOD", "GREATER", "GREATER_EQUAL", "LESS",
                         "LESS_EQUAL", "MAXIMUM", "MINIMUM", "NOT_EQUAL", "POW", "SQUARED_DIFFERENCE", "SUB")
COMPARISONS = ("EQUAL", "GREATER", "GREATER_EQUAL", "LESS", "LESS_EQUAL", "NOT_EQUAL")
# Fused activations the delegate turns into a following node; SIGN_BIT has no GPU kernel.
GPU_FUSED_ACTIVATIONS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH")

_TYPE_NAMES = {value: name for name, value in vars(schema.TensorType).items() if not name.startswith("_")}
_ACTIVATION_NAMES = {value: name for name, value in vars(schema.ActivationFunctionType).items()
                     if not name.startswith("_")}
_OPERATOR_NAMES = {value: name for name, value in vars(schema.BuiltinOperator).items() if not name.startswith("_")}
_FLOAT_TYPES = (schema.TensorType.FLOAT32, schema.TensorType.FLOAT16)
_QUANTIZED_TYPES = (schema.TensorType.INT8, schema.TensorType.UINT8)


@dataclasses.dataclass(frozen=True)
class Violation:
    """One reason why (part of) a model would not run on the GPU delegate.

    Attributes:
        op_index: int, index of the operator in the main subgraph (execution order).
        op_name: str, builtin op name (``"TRANSPOSE_CONV"``) or custom op name.
        reason: str, what the delegate rejects and, where it helps, what it expects.
    """

    op_index: int
    op_name: str
    reason: str

    def __str__(self):
        return f"op {self.op_index} {self.op_name}: {self.reason}"


def tensor_type_name(tensor):
    """The type of a tensor of :func:`read_tflite`'s model as a name: ``"FLOAT32"``, ``"INT8"``..."""
    return _TYPE_NAMES.get(tensor.type, f"type {tensor.type}")


def read_tflite(path):
    """Reads a ``.tflite`` file into flatbuffer objects (``schema.ModelT``).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: ``path`` is not a TFLite flatbuffer.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"TFLite model file not found: {path}")
    content = path.read_bytes()
    # A TFLite flatbuffer carries the file identifier "TFL3" after its 4-byte root offset.
    if len(content) < 8 or content[4:8] != b"TFL3":
        raise ValueError(f"{path}: not a TFLite model (expected the flatbuffer identifier 'TFL3' at bytes 4-8)")
    try:
        return flatbuffer_utils.read_model_from_bytearray(bytearray(content))
    except Exception as error:  # the generated flatbuffer code raises anything on corrupt input
        raise ValueError(f"{path}: corrupt TFLite model ({type(error).__name__}: {error})") from error


def op_name(model, operator):
    """Builtin name of ``operator`` (``"CONV_2D"``), or its custom code for custom ops."""
    code = model.operatorCodes[operator.opcodeIndex]
    builtin = max(code.builtinCode, code.deprecatedBuiltinCode)  # codes >= 127 live in builtinCode only
    if builtin == schema.BuiltinOperator.CUSTOM:
        custom = code.customCode
        return custom.decode() if isinstance(custom, bytes) else str(custom)
    return _OPERATOR_NAMES.get(builtin, f"BUILTIN_{builtin}")


def op_list(model):
    """``[(op_name, version), ...]`` of the main subgraph, in execution order."""
    return [(op_name(model, operator), model.operatorCodes[operator.opcodeIndex].version)
            for operator in model.subgraphs[0].operators]


class _Graph:
    """The main subgraph with the questions the rules ask of its tensors."""

    def __init__(self, model):
        self.model = model
        self.subgraph = model.subgraphs[0]
        # Outputs of DEQUANTIZE ops on float16 constants: the delegate folds them into float constants.
        self.folded = {operator.outputs[0] for operator in self.subgraph.operators
                       if op_name(model, operator) == "DEQUANTIZE" and self.is_float16_constant(operator.inputs[0])}

    def tensor(self, index):
        return self.subgraph.tensors[index]

    def is_float16_constant(self, index):
        return self._has_data(index) and self.subgraph.tensors[index].type == schema.TensorType.FLOAT16

    def is_constant(self, index):
        return index in self.folded or self._has_data(index)

    def _has_data(self, index):
        tensor = self.subgraph.tensors[index]
        if tensor.buffer <= 0 or tensor.isVariable:  # buffer 0 is the empty sentinel
            return False
        buffer = self.model.buffers[tensor.buffer]
        return (buffer.data is not None and len(buffer.data) > 0) or bool(buffer.offset)

    def constant_values(self, index):
        """An integer constant's values as a NumPy array; None if not stored in the model."""
        tensor = self.subgraph.tensors[index]
        dtype = {schema.TensorType.INT32: np.int32, schema.TensorType.INT64: np.int64}.get(tensor.type)
        if dtype is None or not self._has_data(index) or self.model.buffers[tensor.buffer].data is None:
            return None
        return np.frombuffer(bytes(self.model.buffers[tensor.buffer].data), dtype)

    def shape(self, index):
        shape = self.subgraph.tensors[index].shape
        return [] if shape is None else [int(size) for size in shape]

    def runtime_inputs(self, operator):
        return [index for index in operator.inputs if index >= 0 and not self.is_constant(index)]

    def constant_inputs(self, operator):
        return [index for index in operator.inputs if index >= 0 and self.is_constant(index)]


def check_gpu_compatibility(path, quantized_ok=False):
    """Lists what keeps a TFLite model off the GPU delegate.

    Args:
        path: path of the ``.tflite`` file.
        quantized_ok: bool, accept int8/uint8 activations and ``QUANTIZE`` /
            ``DEQUANTIZE`` ops: the delegate's quantized path, which
            ``TfLiteGpuDelegateOptionsV2Default()`` enables
            (``TFLITE_GPU_EXPERIMENTAL_FLAGS_ENABLE_QUANT``) and an app may
            clear. Default: False (the float path, float32/float16 activations
            only: the stricter check, whose passes run under either setting).

    Returns:
        A list of :class:`Violation`, in op order; empty when every op and tensor
        is accepted.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: ``path`` is not a TFLite model.
    """
    model = read_tflite(path)
    graph = _Graph(model)
    violations = []
    reported_tensors = set()  # a tensor shared by several ops is reported once
    for op_index, operator in enumerate(graph.subgraph.operators):
        name = op_name(model, operator)
        reasons = _op_reasons(graph, operator, name, quantized_ok)
        reasons += _tensor_reasons(graph, operator, name, quantized_ok, reported_tensors)
        violations.extend(Violation(op_index, name, reason) for reason in reasons)
    return violations


def run_check_gpu(path, quantized_ok=False):
    """``python -m srlib check-gpu MODEL.tflite``: prints the violations, returns the exit code.

    Prints one line per violation (op index, op name, reason) and a summary
    line: ``"N ops, all supported by the GPU delegate"`` or
    ``"M violations in K of N ops: not fully supported by the GPU delegate"``.

    Args:
        path: path of the ``.tflite`` file.
        quantized_ok: bool, see :func:`check_gpu_compatibility`. Default: False.

    Returns:
        int, 0 when the model is fully supported, 1 otherwise.

    Raises:
        FileNotFoundError, ValueError: as :func:`check_gpu_compatibility` (the
        CLI turns them into exit code 2).
    """
    violations = check_gpu_compatibility(path, quantized_ok=quantized_ok)
    num_ops = len(read_tflite(path).subgraphs[0].operators)
    for violation in violations:
        print(violation)
    if violations:
        ops = len({violation.op_index for violation in violations})
        print(f"{len(violations)} violations in {ops} of {num_ops} ops: not fully supported by the GPU delegate")
        return 1
    print(f"{num_ops} ops, all supported by the GPU delegate")
    return 0


# --- Per-op rules -----------------------------------------------------------------------------


def _op_reasons(graph, operator, name, quantized_ok):
    """Reasons from the op allowlist, the op version and the op's own rules."""
    model = graph.model
    code = model.operatorCodes[operator.opcodeIndex]
    if max(code.builtinCode, code.deprecatedBuiltinCode) == schema.BuiltinOperator.CUSTOM:
        if name.startswith("Flex"):
            return [f"Flex (SELECT_TF_OPS) op {name!r}: runs TensorFlow kernels on the CPU, never on the delegate"]
        if name not in GPU_CUSTOM_OPS:
            return [f"custom op {name!r} has no GPU implementation (the delegate knows {', '.join(GPU_CUSTOM_OPS)})"]
        return []
    if name not in MAX_OP_VERSIONS:
        return [f"{name} is not supported by the GPU delegate"]
    if name == "DEQUANTIZE" and graph.is_float16_constant(operator.inputs[0]):
        # float16 weights: FP16GraphPartitionHelper takes these nodes out before the delegate's
        # support check (op version included) and the model builder skips them: always folded.
        return []

    reasons = []
    options = operator.builtinOptions
    activation = getattr(options, "fusedActivationFunction", None)
    activation_name = _ACTIVATION_NAMES.get(activation, str(activation))
    fused_activation_in_version = name == "TRANSPOSE_CONV" and activation not in (None, 0)
    if fused_activation_in_version:
        # Report the cause, not only its symptom (the version bump).
        reasons.append(f"fused activation {activation_name} (op version {code.version}); the delegate accepts "
                       f"TRANSPOSE_CONV up to version {MAX_OP_VERSIONS[name]}, without a fused activation: "
                       "keep the activation a separate op")
    elif MAX_OP_VERSIONS[name] is not None and code.version > MAX_OP_VERSIONS[name]:
        reasons.append(f"op version {code.version}; the delegate accepts up to version {MAX_OP_VERSIONS[name]}")
    if activation is not None and activation_name not in GPU_FUSED_ACTIVATIONS and not fused_activation_in_version:
        reasons.append(f"fused activation {activation_name}; the delegate accepts {', '.join(GPU_FUSED_ACTIVATIONS)}")

    rule = _OP_RULES.get(name)
    if rule is not None:
        reasons += rule(graph, operator, options)
    if name in ONE_INPUT_ELEMENTWISE:
        reasons += _one_input_elementwise(graph, operator)
    if name in TWO_INPUT_ELEMENTWISE:
        reasons += _two_input_elementwise(graph, operator)
    if name in ("QUANTIZE", "DEQUANTIZE"):
        reasons += _quantization_op(graph, operator, name, quantized_ok)
    return reasons


def _convolution(graph, operator, options):
    reasons = []
    if len(graph.runtime_inputs(operator)) > 2:
        reasons.append("expects 1 or 2 runtime inputs (input, optionally weights)")
    strides = (getattr(options, "strideH", 1), getattr(options, "strideW", 1))
    dilations = (getattr(options, "dilationHFactor", 1), getattr(options, "dilationWFactor", 1))
    if min(strides) <= 0 or min(dilations) <= 0:
        reasons.append(f"strides {strides} and dilations {dilations} must be positive")
    return reasons


def _depthwise_convolution(graph, operator, options):
    reasons = _convolution(graph, operator, options)
    input_shape, output_shape = graph.shape(operator.inputs[0]), graph.shape(operator.outputs[0])
    if len(input_shape) == 4 and len(output_shape) == 4:
        multiplier = options.depthMultiplier
        if multiplier != 1 and input_shape[3] != 1:
            reasons.append(f"depth multiplier {multiplier} with {input_shape[3]} input channels "
                           "(the delegate needs multiplier 1 or a single input channel)")
    return reasons


def _transpose_convolution(graph, operator, options):
    reasons = []
    if len(graph.runtime_inputs(operator)) > 2:
        reasons.append("expects 1 or 2 runtime inputs")
    if min(options.strideH, options.strideW) <= 0:
        reasons.append(f"strides ({options.strideH}, {options.strideW}) must be positive")
    return reasons


def _block_size(graph, operator, options):
    reasons = []
    if len(graph.runtime_inputs(operator)) != 1:
        reasons.append("expects exactly one runtime input")
    if options.blockSize <= 1:
        reasons.append(f"block size {options.blockSize}; the delegate needs a block size > 1")
    return reasons


def _prelu(graph, operator, options):
    alpha = operator.inputs[1]
    if not graph.is_constant(alpha):
        return ["alpha must be a constant tensor"]
    alpha_shape, input_shape = graph.shape(alpha), graph.shape(operator.inputs[0])
    channels = input_shape[-1] if input_shape else None
    per_channel = alpha_shape and all(size == 1 for size in alpha_shape[:-1]) and alpha_shape[-1] == channels
    full = (len(alpha_shape) >= 3 and all(size == 1 for size in alpha_shape[:-3])
            and alpha_shape[-3:] == input_shape[-3:])
    if not (per_channel or full):
        return [f"alpha of shape {alpha_shape} for input {input_shape}; the delegate needs one slope per channel "
                "(C) or a full H x W x C alpha (Keras: PReLU(shared_axes=[1, 2]))"]
    return []


def _add(graph, operator, options):
    if len(operator.inputs) != 2:
        return [f"ADD with {len(operator.inputs)} inputs; the delegate needs exactly two"]
    return _broadcast(graph, operator)


def _mul(graph, operator, options):
    if len(operator.inputs) != 2:
        return [f"MUL with {len(operator.inputs)} inputs; the delegate needs exactly two"]
    first, second = (graph.shape(index) for index in operator.inputs)
    if len(first) == len(second):
        if any(a < b for a, b in zip(first, second)) and any(b < a for a, b in zip(first, second)):
            return [f"MUL of shapes {first} and {second}: one input must be at least as large as the other "
                    "in every dimension"]
        return []
    return _broadcast(graph, operator)


def _broadcast(graph, operator):
    first, second = (graph.shape(index) for index in operator.inputs)
    try:
        np.broadcast_shapes(tuple(first), tuple(second))
    except ValueError:
        return [f"cannot broadcast shapes {first} and {second}"]
    return []


def _pad(graph, operator, options):
    reasons = []
    if len(graph.runtime_inputs(operator)) != 1:
        reasons.append("expects one runtime input; the paddings must be a constant tensor")
    paddings_shape = graph.shape(operator.inputs[1]) if len(operator.inputs) > 1 else []
    if paddings_shape not in ([4, 2], [3, 2]):
        reasons.append(f"paddings of shape {paddings_shape}; the delegate needs 4x2 or 3x2")
    if isinstance(options, schema.MirrorPadOptionsT) and options.mode != schema.MirrorPadMode.REFLECT:
        reasons.append("MIRROR_PAD mode SYMMETRIC; the delegate only implements REFLECT")
    return reasons


def _resize(graph, operator, options):
    reasons = []
    if len(graph.runtime_inputs(operator)) != 1:
        reasons.append("expects one runtime input; the output size must be a constant tensor")
    if getattr(options, "alignCorners", False) and getattr(options, "halfPixelCenters", False):
        reasons.append("align_corners and half_pixel_centers both set")
    return reasons


def _strided_slice(graph, operator, options):
    reasons = []
    for mask in ("ellipsisMask", "newAxisMask", "shrinkAxisMask"):
        if getattr(options, mask, 0):
            reasons.append(f"STRIDED_SLICE with a {mask}; the delegate supports none")
    if len(operator.inputs) < 4:
        return reasons + ["STRIDED_SLICE needs begin, end and strides inputs"]
    # The delegate reads begin, end and strides as constants and refuses zero and negative
    # strides while parsing the graph (model_builder.cc), which fails the whole delegate.
    if len(graph.runtime_inputs(operator)) != 1:
        reasons.append("STRIDED_SLICE with computed begin, end or strides; the delegate needs constants")
    strides = graph.constant_values(operator.inputs[3])
    if strides is not None and (strides <= 0).any():
        reasons.append(f"STRIDED_SLICE strides {strides.tolist()}; the delegate refuses reverse (negative) and zero strides")
    return reasons + _rank_three_or_four(graph, operator, options)


def _rank_three_or_four(graph, operator, options):
    rank = len(graph.shape(operator.inputs[0]))
    return [] if rank in (3, 4) else [f"input of rank {rank}; the delegate slices rank 3 or 4 tensors only"]


def _one_runtime_input(graph, operator, options):
    if len(graph.runtime_inputs(operator)) != 1:
        return ["expects exactly one runtime input (shape/permutation/size inputs must be constant)"]
    return []


def _softmax(graph, operator, options):
    return [] if options.beta == 1 else [f"softmax beta {options.beta}; the delegate needs beta 1"]


def _fully_connected(graph, operator, options):
    reasons = []
    if options.weightsFormat != schema.FullyConnectedOptionsWeightsFormat.DEFAULT:
        reasons.append("shuffled weights format; the delegate needs the default format")
    if graph.is_constant(operator.inputs[0]):
        reasons.append("constant input")
    if len(graph.runtime_inputs(operator)) > 2:
        reasons.append("more than 2 runtime inputs")
    return reasons


def _constant_axes(graph, operator, options):
    axes = operator.inputs[1] if len(operator.inputs) > 1 else -1
    if axes < 0 or not graph.is_constant(axes) or graph.tensor(axes).type != schema.TensorType.INT32:
        return ["axes must be a constant int32 tensor"]
    return []


def _one_input_elementwise(graph, operator):
    if len(graph.runtime_inputs(operator)) != 1 or graph.constant_inputs(operator):
        return ["expects one runtime input and no constant"]
    return []


def _two_input_elementwise(graph, operator):
    runtime, constant = len(graph.runtime_inputs(operator)), len(graph.constant_inputs(operator))
    if (runtime, constant) not in ((2, 0), (1, 1)):
        return [f"{runtime} runtime and {constant} constant inputs; the delegate handles 1 or 2 operands"]
    return []


def _quantization_op(graph, operator, name, quantized_ok):
    source = graph.tensor(operator.inputs[0])  # (a DEQUANTIZE of a float16 constant never gets here)
    if name == "DEQUANTIZE" and source.type == schema.TensorType.INT16:
        return ["DEQUANTIZE of int16 is not supported"]
    if not quantized_ok:
        return [f"{name} of {_TYPE_NAMES.get(source.type)} belongs to a quantized model: supported only on the "
                "delegate's quantized path (on by default: pass quantized_ok=True unless the app clears "
                "TFLITE_GPU_EXPERIMENTAL_FLAGS_ENABLE_QUANT)"]
    return []


_OP_RULES = {
    "ADD": _add, "AVERAGE_POOL_2D": _convolution, "CONV_2D": _convolution, "DEPTH_TO_SPACE": _block_size,
    "DEPTHWISE_CONV_2D": _depthwise_convolution, "FULLY_CONNECTED": _fully_connected, "MAX_POOL_2D": _convolution,
    "MEAN": _constant_axes, "MIRROR_PAD": _pad, "MUL": _mul, "PAD": _pad, "PADV2": _pad, "PRELU": _prelu,
    "REDUCE_MAX": _constant_axes, "REDUCE_MIN": _constant_axes, "REDUCE_PROD": _constant_axes,
    "RESHAPE": _one_runtime_input, "RESIZE_BILINEAR": _resize, "RESIZE_NEAREST_NEIGHBOR": _resize,
    "SLICE": _rank_three_or_four, "SOFTMAX": _softmax, "SPACE_TO_DEPTH": _block_size,
    "STRIDED_SLICE": _strided_slice, "SUM": _constant_axes, "TILE": _one_runtime_input,
    "TRANSPOSE": _one_runtime_input, "TRANSPOSE_CONV": _transpose_convolution,
}


# --- Tensor rules -----------------------------------------------------------------------------


def _tensor_reasons(graph, operator, name, quantized_ok, reported):
    """Rank, type, static-shape and batch rules on the op's inputs and outputs."""
    reasons = []
    allowed = set(_FLOAT_TYPES) | (set(_QUANTIZED_TYPES) if quantized_ok else set())
    if name == "CAST":  # CAST exists to move between these
        allowed |= {schema.TensorType.INT32, schema.TensorType.BOOL}
    for role, indices in (("input", operator.inputs), ("output", operator.outputs)):
        for index in indices:
            if index < 0 or index in reported:
                continue
            tensor = graph.tensor(index)
            tensor_name = tensor.name.decode() if isinstance(tensor.name, bytes) else str(tensor.name)
            tensor_name = tensor_name.split(";")[0][-60:]  # fused ops join all their names with ';'
            shape = graph.shape(index)
            found = []
            if len(shape) > 4:
                found.append(f"{role} tensor {tensor_name!r} has rank {len(shape)}; the delegate handles rank <= 4 "
                             "(e.g. a pixel shuffle written as reshape + transpose: use DEPTH_TO_SPACE)")
            if not graph.is_constant(index):
                found += _activation_reasons(graph, index, role, tensor_name, shape, name, allowed, quantized_ok)
            if found:
                reported.add(index)
                reasons += found
    return reasons


def _activation_reasons(graph, index, role, tensor_name, shape, name, allowed, quantized_ok):
    tensor = graph.tensor(index)
    found = []
    is_bool_comparison = tensor.type == schema.TensorType.BOOL and role == "output" and name in COMPARISONS
    if tensor.type not in allowed and not is_bool_comparison:
        expected = "float32/float16" + (" or int8/uint8" if quantized_ok else "")
        hint = "" if quantized_ok or tensor.type not in _QUANTIZED_TYPES else " (quantized model: quantized_ok=True)"
        found.append(f"{role} tensor {tensor_name!r} is {_TYPE_NAMES.get(tensor.type)}; the delegate needs "
                     f"{expected} activations{hint}")
    signature = tensor.shapeSignature
    if signature is not None and any(int(size) < 0 for size in signature):
        found.append(f"{role} tensor {tensor_name!r} has a dynamic shape {[int(s) for s in signature]}; "
                     "the delegate needs static shapes (export with a fixed batch 1 and tile size)")
    elif len(shape) == 4 and shape[0] != 1:
        found.append(f"{role} tensor {tensor_name!r} has batch {shape[0]}; the delegate needs batch 1 everywhere")
    return found
