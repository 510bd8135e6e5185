"""TFLite export for mobile GPUs: fixed tiles, builtin ops, a model card per file.

The GPU delegate wants static shapes, batch 1, rank <= 4 and builtin ops only
(see :mod:`srlib.gpu_check`). srlib's models are fully convolutional
(``(None, None, C)`` inputs), so :func:`export_tflite` first rebuilds each on
fixed ``keras.Input(shape=(h, w, C), batch_size=1)`` inputs (a second input,
SP-VDSR's interpolated image, at ``(scale * h, scale * w)``) and converts that
with ``tf.lite.TFLiteConverter.from_keras_model`` restricted to
``TFLITE_BUILTINS``: an op without a builtin fails the conversion instead of
becoming a Flex op. (``model.export(format="tf_saved_model")`` +
``from_saved_model`` gives the same graphs here, with a temporary folder more.)
Frames are then processed as tiles of that shape (:mod:`srlib.inference`).

Modes:

* ``"float32"``: the reference;
* ``"float16"``: float16 weights (half the file), dequantized on load by the
  CPU interpreter and folded by the GPU delegate, which computes in fp16 or
  fp32 as the app asks;
* ``"dynamic_int8"``: int8 weights, float activations (CPU hybrid kernels);
* ``"int8"``: int8 weights and activations calibrated on random crops of
  photos (the embedded ones unless told otherwise) made into the model's input:
  for a pre-upsampling model exported with its ``scale``, each crop is
  bicubic-downscaled by it and interpolated back up (:func:`representative_tiles`);
  float32 input and output (QUANTIZE / DEQUANTIZE at the ends). The float GPU
  path rejects its int8 tensors; :func:`srlib.gpu_check.check_gpu_compatibility`
  reports them (``quantized_ok=True`` for the delegate's quantized path).

Every export writes ``MODEL.tflite.card.json`` next to the file (see
:class:`ModelCard`): cost, receptive field, measured CPU latency per tile and
the throughput a target needs for 720p->1440p and 1080p->2160p at 30 fps;
:class:`srlib.networks.TFLiteNetwork` reads its receptive field and
interpolation from it. :func:`parity_psnr` compares a TFLite file with its
Keras model on real image tiles.
"""

import collections
import dataclasses
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from srlib import datasets, files, models
from srlib.color import rgb_to_y
from srlib.gpu_check import op_list, read_tflite
from srlib.inference import DEFAULT_CHROMA, _ImagePipeline
from srlib.models.analysis import median_seconds
from srlib.models.fir import FIRUpsample
from srlib.networks import (DEFAULT_INTERPOLATION, MODEL_CARD_SUFFIX, KerasNetwork, TFLiteNetwork,
                            interpolation_support)
from srlib.resize import imresize
from srlib.validation import integer_at_least, is_integer, positive_int, scale_factor

EXPORT_MODES = ("float32", "float16", "dynamic_int8", "int8")
# Output sizes whose MACs/s the card quotes: (label, (height, width)), at 30 frames per second.
TARGET_OUTPUTS = (("720p->1440p", (1440, 2560)), ("1080p->2160p", (2160, 3840)))
TARGET_FPS = 30
INTERPOLATION_INPUT_NOTES = {
    "graph": "in-graph polyphase FIRUpsample (exact MATLAB imresize) from builtin ops: STRIDED_SLICE + "
             "CONCATENATION (symmetric border), CONV_2D (phases), DEPTH_TO_SPACE",
    "second_input": "the interpolated image is a second model input: the app resizes (GPU bilinear/bicubic "
                    "shader or CPU) before each tile",
    "nearest": "residual on a nearest-neighbour upscale in the graph: CONCATENATION + DEPTH_TO_SPACE",
}


@dataclasses.dataclass
class ModelCard:
    """What a target needs to know about one exported ``.tflite`` file.

    Attributes:
        name: model name. path: the ``.tflite`` file. mode: export mode.
        tensorflow_version: the converter's TensorFlow.
        file_size_bytes: size of the ``.tflite`` file.
        tile_shape: ``(h, w)`` of the (first) input tile, batch 1.
        output_tile_shape: ``(h, w)`` of the output tile.
        channels: image channels (1: Y model).
        scale: output / input size of the network (1 for pre-upsampling).
        input_kind: ``"lr"``, ``"upsampled"`` or ``"lr_and_upsampled"``.
        interpolation: ``imresize`` method of the upsampled input, if any.
        interpolation_input: for models with an interpolated residual base:
            ``"graph"``, ``"second_input"`` or ``"nearest"``, else None.
        interpolation_note: what that variant converts to.
        parameters: parameter count of the Keras model.
        macs_per_output_pixel: from :func:`srlib.models.model_cost` at the tile.
        receptive_field: radius in input pixels (:func:`srlib.models.receptive_field`).
        context: overlap tiles need (receptive field, plus the interpolation
            support for a second input).
        tiling_overhead: ``(tile area) / (area kept per tile)`` with that overlap.
        ops: ``"NAME vVERSION"`` of every op, in execution order.
        latency_ms_per_tile: median CPU latency (ai_edge_litert, XNNPACK).
        latency_threads: threads of that measurement. latency_runs: timed runs.
        macs_per_second_needed: ``{label: macs_per_output_pixel * output pixels * 30}``
            for :data:`TARGET_OUTPUTS`, whole frames (tiling multiplies it by
            ``tiling_overhead``).
    """

    name: str
    path: str
    mode: str
    tensorflow_version: str
    file_size_bytes: int
    tile_shape: tuple
    output_tile_shape: tuple
    channels: int
    scale: int
    input_kind: str
    interpolation: str
    interpolation_input: str
    interpolation_note: str
    parameters: int
    macs_per_output_pixel: float
    receptive_field: int
    context: int
    tiling_overhead: float
    ops: list
    latency_ms_per_tile: float
    latency_threads: int
    latency_runs: int
    macs_per_second_needed: dict

    def to_dict(self):
        return dataclasses.asdict(self)


def format_model_card(card):
    """The card as text, one fact per line.

    Args:
        card: a :class:`ModelCard`.

    Returns:
        str, without a final newline.
    """
    lines = [
        f"{card.name} ({card.mode}): {card.path}",
        f"  file size           {card.file_size_bytes / 1024:.1f} KiB (TensorFlow {card.tensorflow_version})",
        f"  tile                {card.tile_shape[0]}x{card.tile_shape[1]}x{card.channels} -> "
        f"{card.output_tile_shape[0]}x{card.output_tile_shape[1]}x{card.channels}, batch 1, input {card.input_kind}"
        + (f" ({card.interpolation})" if card.interpolation else ""),
        f"  parameters          {card.parameters:,}",
        f"  MACs/output pixel   {card.macs_per_output_pixel:,.1f}",
        f"  receptive field     radius {card.receptive_field}; tile overlap {card.context} "
        f"(tiling overhead x{card.tiling_overhead:.2f})",
        f"  CPU latency         {card.latency_ms_per_tile:.2f} ms/tile (median of {card.latency_runs}, XNNPACK, "
        f"{card.latency_threads} threads)",
    ]
    for label, value in card.macs_per_second_needed.items():
        lines.append(f"  {label + ' @' + str(TARGET_FPS) + ' fps':<19} {value / 1e9:,.1f} GMAC/s "
                     f"({2 * value / 1e9:,.1f} GFLOP/s); tiled: {card.tiling_overhead * value / 1e9:,.1f} GMAC/s")
    if card.interpolation_input:
        lines.append(f"  interpolation input {card.interpolation_input}: {card.interpolation_note}")
    counts = collections.Counter(card.ops)  # in order of first appearance
    lines.append(f"  ops                 {', '.join(op + (f' x{n}' if n > 1 else '') for op, n in counts.items())}")
    return "\n".join(lines)


def card_path(tflite_path):
    """``MODEL.tflite`` -> ``MODEL.tflite.card.json``.

    Args:
        tflite_path: path of a ``.tflite`` file (str or ``Path``).

    Returns:
        The ``Path`` of its model card, in the same folder.
    """
    tflite_path = Path(tflite_path)
    return tflite_path.with_name(tflite_path.name + MODEL_CARD_SUFFIX)


# --- Conversion -----------------------------------------------------------------------------------


def _validate_tile_shape(tile_shape):
    if len(tile_shape) != 2 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1
                                   for s in tile_shape):
        raise ValueError(f"`tile_shape` must be a pair of positive ints (h, w). Received: tile_shape={tile_shape!r}")
    return tuple(int(size) for size in tile_shape)


def fixed_shape_model(model, tile_shape, scale=None):
    """``model`` on fixed batch-1 inputs: ``(h, w, C)``, and ``(scale*h, scale*w, C)`` for a second input.

    Args:
        model: a fully convolutional Keras model.
        tile_shape: ``(h, w)`` of the (first) input.
        scale: int >= 2, required for two-input models (size of the second
            input), unused otherwise. Default: None.

    Returns:
        A ``keras.Model`` sharing ``model``'s layers and weights.
    """
    height, width = _validate_tile_shape(tile_shape)
    scale = _optional_scale(scale)
    inputs = [keras.Input((height, width, model.inputs[0].shape[-1]), batch_size=1, name="input")]
    if len(model.inputs) == 2:
        if scale is None:
            raise ValueError(f"Model {model.name!r} takes a second (interpolated) input and needs `scale`. "
                             "Received: scale=None")
        inputs.append(keras.Input((height * scale, width * scale, model.inputs[1].shape[-1]), batch_size=1,
                                  name="interpolated"))
    elif len(model.inputs) != 1:
        raise ValueError(f"Expected a model with one or two image inputs. Received {len(model.inputs)} inputs")
    outputs = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs, name=model.name)


def representative_tiles(images, tile_shape, channels, count=64, seed=0, upsampling_scale=None,
                         interpolation="bicubic"):
    """Random crops for int8 calibration (and parity), float32 ``(count, h, w, channels)`` in [0, 1].

    A pre-upsampling model (SRCNN, VDSR) sees an interpolated LR image, not a
    sharp one: with ``upsampling_scale``, each crop is made into that input, as
    :mod:`srlib.inference` makes it from an LR image: bicubic-downscaled by the
    factor (MATLAB ``imresize`` to uint8, as LR images are made), converted
    to the model's channels, and interpolated back up with ``interpolation``.

    Args:
        images: uint8 ``(H, W, C)`` arrays or ``(stem, array)`` pairs
            (:func:`srlib.datasets.load_images`); RGB becomes Y (BT.601) for a
            one-channel model, greyscale is repeated for a three-channel one.
        tile_shape: ``(h, w)`` of the crops (multiples of ``upsampling_scale``).
        channels: int, 1 or 3.
        count: int >= 1, number of crops. Default: 64.
        seed: int >= 0, seed of the crop positions. Default: 0.
        upsampling_scale: int >= 2, the factor a pre-upsampling model's input
            was interpolated by; None: the sharp crops (the input of a
            post-upsampling model is an LR image itself). Default: None.
        interpolation: ``imresize`` method of that upscale. Default: ``"bicubic"``.

    Returns:
        float32 array ``(count, h, w, channels)``.
    """
    height, width = _validate_tile_shape(tile_shape)
    if not is_integer(channels) or channels not in (1, 3):
        raise ValueError(f"`channels` must be 1 or 3. Received: channels={channels!r}")
    count = positive_int(count, "count")
    seed = integer_at_least(seed, "seed", 0)
    factor = 1 if upsampling_scale is None else scale_factor(upsampling_scale, "upsampling_scale")
    if height % factor or width % factor:
        raise ValueError(f"`tile_shape` must be a multiple of `upsampling_scale` ({factor}) to hold whole LR "
                         f"pixels. Received: tile_shape={tile_shape!r}")
    arrays = [image[1] if isinstance(image, tuple) else image for image in images]
    arrays = [np.asarray(array) for array in arrays if array.shape[0] >= height and array.shape[1] >= width]
    if not arrays:
        raise ValueError(f"`images` must contain an image of at least {height}x{width} pixels for the tiles.")
    rng = np.random.default_rng(seed)
    tiles = np.empty((count, height // factor, width // factor, int(channels)), np.float32)
    for index in range(count):
        array = arrays[rng.integers(len(arrays))]
        top, left = rng.integers(array.shape[0] - height + 1), rng.integers(array.shape[1] - width + 1)
        crop = array[top:top + height, left:left + width]
        if factor > 1:
            crop = imresize(crop, scale=1 / factor, method="bicubic")  # the LR image: uint8, as MATLAB makes it
        crop = crop.astype(np.float32) / 255.0
        if crop.ndim == 2:
            crop = crop[..., None]
        if channels == 1 and crop.shape[-1] == 3:
            crop = rgb_to_y(crop)
        elif channels == 3 and crop.shape[-1] == 1:
            crop = np.repeat(crop, 3, axis=-1)
        tiles[index] = crop
    if factor > 1:
        tiles = np.asarray(imresize(tiles, scale=factor, method=interpolation), np.float32)
    return tiles


def _optional_scale(scale):
    """``scale`` as an int >= 2, or None."""
    return None if scale is None else scale_factor(scale)


def _upsampling_scale(fixed, scale):
    """The scale a one-input model ``fixed`` at a fixed tile sees its input upsampled by: ``scale``
    for a pre-upsampling model (same output size as input), else None (LR input, or a second input)."""
    if len(fixed.inputs) != 1 or tuple(fixed.outputs[0].shape[1:3]) != tuple(fixed.inputs[0].shape[1:3]):
        return None
    return scale


def _model_inputs(model, tiles, scale, interpolation):
    """Inputs of ``model`` for LR ``tiles``: the tiles, and their interpolation for a second input."""
    if len(model.inputs) == 1:
        return [tiles]
    return [tiles, imresize(tiles, scale=scale, method=interpolation)]


def convert(model, tile_shape, mode="float32", representative_images=None, scale=None,
            interpolation=None, calibration_tiles=64):
    """Converts ``model`` at a fixed tile to TFLite bytes (builtin ops only, batch 1, NHWC).

    Args:
        model: a Keras model.
        tile_shape: ``(h, w)`` of the (first) input tile.
        mode: one of :data:`EXPORT_MODES`. Default: ``"float32"``.
        representative_images: images for int8 calibration (see
            :func:`representative_tiles`). None: the embedded photos. Default: None.
        scale: int >= 2, the upscaling factor: required for two-input models;
            for a pre-upsampling model, int8 calibration crops are downscaled by it
            and interpolated back up (without it, calibration uses sharp crops).
            Default: None.
        interpolation: ``imresize`` method of a second or pre-upsampled input
            during calibration. None: ``"lanczos3"`` for two inputs, ``"bicubic"``
            otherwise. Default: None.
        calibration_tiles: int >= 1, calibration crops for ``"int8"``. Default: 64.

    Returns:
        The ``.tflite`` flatbuffer as bytes.
    """
    if mode not in EXPORT_MODES:
        raise ValueError(f"`mode` must be one of {EXPORT_MODES}. Received: mode={mode!r}")
    calibration_tiles = positive_int(calibration_tiles, "calibration_tiles")
    interpolation = _interpolation(model, interpolation)
    fixed = fixed_shape_model(model, tile_shape, scale)
    converter = tf.lite.TFLiteConverter.from_keras_model(fixed)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # never SELECT_TF_OPS (Flex)
    if mode != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif mode == "int8":
        images = representative_images if representative_images is not None else datasets.load_images("embedded")
        tiles = representative_tiles(images, tile_shape, model.inputs[0].shape[-1], calibration_tiles,
                                     upsampling_scale=_upsampling_scale(fixed, scale), interpolation=interpolation)

        def representative_dataset():
            for index in range(len(tiles)):
                yield _model_inputs(model, tiles[index:index + 1], scale, interpolation)

        converter.representative_dataset = representative_dataset
        # Int8 kernels first; an op without one stays float rather than failing the export.
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
    return converter.convert()


def measure_latency(tflite_path, runs=10, num_threads=2, seed=0):
    """Median milliseconds of one ``invoke`` on random inputs (ai_edge_litert, XNNPACK, after 2 warm-ups).

    Args:
        tflite_path: the ``.tflite`` file.
        runs: int >= 1, timed runs. Default: 10.
        num_threads: int >= 1, interpreter threads. Default: 2.
        seed: int >= 0, seed of the random inputs (uniform in [0, 1]). Default: 0.

    Returns:
        float, the median of the timed runs in milliseconds.
    """
    from ai_edge_litert.interpreter import Interpreter

    runs = positive_int(runs, "runs")
    num_threads = positive_int(num_threads, "num_threads")
    seed = integer_at_least(seed, "seed", 0)

    interpreter = Interpreter(model_path=str(tflite_path), num_threads=num_threads)
    interpreter.allocate_tensors()
    rng = np.random.default_rng(seed)
    for detail in interpreter.get_input_details():
        interpreter.set_tensor(detail["index"], rng.uniform(0, 1, detail["shape"]).astype(detail["dtype"]))
    return 1e3 * median_seconds(interpreter.invoke, runs, warmups=2)


def interpolation_input_of(model):
    """How ``model`` gets the interpolated image its output is a residual on.

    Args:
        model: a Keras model.

    Returns:
        ``"second_input"`` (a second model input), ``"graph"`` (an in-graph
        :class:`srlib.models.fir.FIRUpsample`) or ``"nearest"`` (a layer named
        ``nearest_upsample``) for SP-VDSR-like models, else None.
    """
    if len(model.inputs) == 2:
        return "second_input"
    if any(isinstance(layer, FIRUpsample) for layer in model.layers):
        return "graph"
    if any(layer.name == "nearest_upsample" for layer in model.layers):
        return "nearest"
    return None


def export_tflite(model, path, tile_shape=None, mode="float32", representative_images=None, scale=None,
                  interpolation=None, name=None, latency_runs=10, num_threads=2):
    """Exports ``model`` to ``path`` and writes its model card next to it, as a pair.

    Both files are complete (the model measured, the card written) before either
    replaces an earlier export; the card is renamed into place first, then the
    model, and if that fails the earlier card is put back. A failure at any
    point leaves the earlier model and card as they were.

    Args:
        model: a Keras model from :mod:`srlib.models` (or any fully
            convolutional NHWC model).
        path: the ``.tflite`` file to write; ``PATH.card.json`` comes with it.
        tile_shape: ``(h, w)`` of the input tile (LR for post-upsampling
            models, HR for pre-upsampling ones). None: :func:`default_tile_shape`.
            Default: None.
        mode: ``"float32"``, ``"float16"``, ``"dynamic_int8"`` or ``"int8"``.
            Default: ``"float32"``.
        representative_images: int8 calibration images (see
            :func:`representative_tiles`). None: crops of the embedded photos.
            Default: None.
        scale: int >= 2, upscaling factor; required for two-input models (for a
            pre-upsampling model, its int8 calibration crops are degraded by it,
            see :func:`convert`). Default: None.
        interpolation: ``imresize`` method of a pre-upsampled or second input
            (recorded in the card, used for calibration). None: ``"bicubic"``
            for pre-upsampling models, ``"lanczos3"`` for two inputs. Default: None.
        name: model name in the card. None: ``model.name``. Default: None.
        latency_runs: int >= 1, timed runs of the latency measurement. Default: 10.
        num_threads: int >= 1, threads of the latency measurement. Default: 2.

    Returns:
        The :class:`ModelCard` (also written as JSON).
    """
    path = files.check_output_path(path, "model.tflite")
    latency_runs = positive_int(latency_runs, "latency_runs")  # all arguments before the slow conversion
    num_threads = positive_int(num_threads, "num_threads")
    scale = _optional_scale(scale)
    interpolation = _interpolation(model, interpolation)
    geometry = _tile_geometry(model, scale, interpolation)
    tile_shape = _validate_tile_shape(tile_shape) if tile_shape is not None else _default_tile(geometry)
    _check_tile(tile_shape, geometry)
    data = convert(model, tile_shape, mode, representative_images, scale, interpolation)
    # The card is measured on the temporary copy: an earlier export at `path` and its card stay
    # untouched (and consistent) until both new files are complete.
    card_file = card_path(path)
    earlier_card = card_file.read_bytes() if card_file.is_file() else None
    card_published = False
    try:
        with files.replacing(path) as draft:  # renamed over `path` last, when the block completes
            draft.write_bytes(data)
            card = _model_card(model, draft, path, tile_shape, mode, interpolation, name, latency_runs, num_threads,
                               geometry)
            files.write_json(card_file, card.to_dict())  # written whole beside it, then renamed into place
            card_published = True
    except BaseException:
        if card_published:  # the model was not renamed: the earlier card goes back beside the earlier model
            if earlier_card is None:
                card_file.unlink(missing_ok=True)
            else:
                files.atomic_write(card_file, lambda handle: handle.write(earlier_card))
        raise
    return card


def _interpolation(model, interpolation):
    """``interpolation``, or the default of a model's interpolated input: Lanczos-3 for a second
    input (SP-VDSR), bicubic for a pre-upsampling model's (recorded only for those)."""
    return interpolation or DEFAULT_INTERPOLATION["lr_and_upsampled" if len(model.inputs) == 2 else "upsampled"]


@dataclasses.dataclass(frozen=True)
class _TileGeometry:
    """What an exported tile must hold: contexts in the tile's pixels and in LR image pixels."""

    radius: int  # receptive-field radius, in input pixels
    context: int  # overlap tiles need: the radius, plus the interpolation for a second input
    factor: int  # input pixels per LR pixel: the scale for a pre-upsampling model, else 1
    image_context: int | None  # LR pixels of context srlib.inference tiles an RGB image with (None: no scale)


def _tile_geometry(model, scale, interpolation):
    """The :class:`_TileGeometry` of ``model`` (probes it, and measures its receptive field)."""
    if len(model.inputs) not in (1, 2):
        raise ValueError(f"Expected a model with one or two image inputs. Received {len(model.inputs)} inputs")
    network = KerasNetwork(model, scale=scale, interpolation=interpolation)  # probes the input kind and scale
    context = network.context  # the receptive field, plus the interpolation's support for a second input
    radius = context - (interpolation_support(network.scale, interpolation) if len(model.inputs) == 2 else 0)
    scale = scale or network.scale
    if scale == 1:  # a pre-upsampling model exported without its scale: only HR tiles are known
        return _TileGeometry(radius, context, 1, None)
    # srlib.inference tiles an RGB image in LR tiles (HR ones divided by the scale for a pre-upsampling
    # model), overlapped by the network's context in LR pixels plus what the interpolations read
    # (the LR input's, and the chroma's for a Y model).
    pipeline = _ImagePipeline(network, scale, 3, interpolation, DEFAULT_CHROMA)
    return _TileGeometry(radius, context, scale if network.input_kind == "upsampled" else 1, pipeline.context)


def _check_tile(tile_shape, geometry):
    """Refuses a tile :mod:`srlib.inference` could never use the exported file with."""
    if min(tile_shape) <= 2 * geometry.context:
        raise ValueError(f"`tile_shape` must exceed twice the context of {geometry.context} pixels (the receptive "
                         f"field{' and the interpolation' if geometry.context > geometry.radius else ''}), or "
                         f"tiling makes no progress. Received: tile_shape={tile_shape}")
    if any(size % geometry.factor for size in tile_shape):
        # Its tiles are HR-sized and must hold whole LR pixels (srlib.inference refuses them otherwise).
        raise ValueError(f"`tile_shape` of a pre-upsampling model must be a multiple of `scale` ({geometry.factor}). "
                         f"Received: tile_shape={tile_shape}")
    image_tile = tuple(size // geometry.factor for size in tile_shape)
    if geometry.image_context is not None and min(image_tile) <= 2 * geometry.image_context:
        raise ValueError(f"`tile_shape` {tile_shape} gives LR tiles of {image_tile}, which must exceed twice their "
                         f"context of {geometry.image_context} LR pixels, or tiling makes no progress. "
                         f"Received: tile_shape={tile_shape}")


def default_tile_shape(model, scale=None, interpolation=None):
    """A square export tile for ``model``: 64x64 unless its context asks for more.

    The side is at least four times the context, both the network's (in the
    tile's pixels) and the one :mod:`srlib.inference` tiles an RGB image with
    (in LR pixels): at least half of each side is kept, so tiling at most
    quadruples the work. A pre-upsampling model's HR tile is rounded to whole
    LR pixels. 64 for ESPCN and FSRCNN, 63 for SRCNN at x3, 96 / 108 / 112
    for VDSR at x2 / x3 / x4 (radius 20), 96 for the shipped 8-block SRResNet
    at x4 (radius 24), 160 for the paper's 16 blocks (radius 40).

    Args:
        model: a Keras model from :mod:`srlib.models`.
        scale: int, upscaling factor (required for two-input models). Default: None.
        interpolation: as in :func:`export_tflite`. Default: None.

    Returns:
        ``(side, side)``.
    """
    return _default_tile(_tile_geometry(model, scale, _interpolation(model, interpolation)))


def _default_tile(geometry):
    factor = geometry.factor
    needed = max(4 * geometry.context, 4 * (geometry.image_context or 0) * factor)
    return (max(64 - 64 % factor, -(-needed // factor) * factor),) * 2


def _model_card(model, draft, path, tile_shape, mode, interpolation, name, latency_runs, num_threads, geometry):
    """The :class:`ModelCard` of the TFLite file ``draft``, which will be published as ``path``."""
    two_inputs = len(model.inputs) == 2
    context = geometry.context
    network = TFLiteNetwork(draft, num_threads=num_threads, interpolation=interpolation, context=context)
    input_sizes = [tile_shape] + ([(tile_shape[0] * network.scale, tile_shape[1] * network.scale)]
                                  if two_inputs else [])
    cost = models.model_cost(model, input_sizes if two_inputs else tile_shape)
    kept = [size - 2 * context for size in tile_shape]
    overhead = tile_shape[0] * tile_shape[1] / (kept[0] * kept[1])
    variant = interpolation_input_of(model)
    return ModelCard(
        name=name or model.name,
        path=str(path),
        mode=mode,
        tensorflow_version=tf.__version__,
        file_size_bytes=draft.stat().st_size,
        tile_shape=tile_shape,
        output_tile_shape=tuple(size * network.scale for size in tile_shape),
        channels=network.channels,
        scale=network.scale,
        input_kind=network.input_kind,
        interpolation=interpolation if network.input_kind != "lr" else None,
        interpolation_input=variant,
        interpolation_note=INTERPOLATION_INPUT_NOTES.get(variant),
        parameters=cost.parameters,
        macs_per_output_pixel=cost.macs_per_output_pixel,
        receptive_field=geometry.radius,
        context=context,
        tiling_overhead=overhead,
        ops=[f"{op} v{version}" for op, version in op_list(read_tflite(draft))],
        latency_ms_per_tile=measure_latency(draft, latency_runs, num_threads),
        latency_threads=num_threads,
        latency_runs=latency_runs,
        macs_per_second_needed={label: cost.macs_per_output_pixel * height * width * TARGET_FPS
                                for label, (height, width) in TARGET_OUTPUTS},
    )


def parity_psnr(keras_model, tflite_path, images, count=8, seed=0, scale=None):
    """PSNR (dB, data range 1) between a Keras model and its TFLite export on real image tiles.

    Both run on the same ``count`` random crops of ``images`` at the TFLite
    tile shape (Y for one-channel models); outputs are compared unclipped.

    Args:
        keras_model: the Keras model that was exported.
        tflite_path: the ``.tflite`` file.
        images: uint8 arrays or ``(stem, array)`` pairs, e.g.
            ``srlib.datasets.load_images("embedded")``.
        count: int >= 1, number of tiles. Default: 8.
        seed: int >= 0, seed of the crop positions. Default: 0.
        scale: int >= 2, the upscaling factor: required for two-input models;
            a pre-upsampling model's tiles are downscaled by it and interpolated
            back up, as its real inputs are (without it: sharp crops). Default: None.

    Returns:
        float, the PSNR over all tiles (``inf`` when identical).
    """
    count = positive_int(count, "count")
    seed = integer_at_least(seed, "seed", 0)
    scale = _optional_scale(scale)
    network = TFLiteNetwork(tflite_path, context=0)
    upsampling_scale = scale if network.input_kind == "upsampled" else None
    tiles = representative_tiles(images, network.tile_shape, network.channels, count, seed,
                                 upsampling_scale=upsampling_scale, interpolation=network.interpolation)
    tflite_outputs = network(tiles)
    inputs = _model_inputs(keras_model, tiles, scale or network.scale, network.interpolation)
    keras_outputs = keras.ops.convert_to_numpy(keras_model(inputs if len(inputs) > 1 else inputs[0],
                                                           training=False))
    mse = float(np.mean((keras_outputs.astype(np.float64) - tflite_outputs) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(1.0 / mse)
