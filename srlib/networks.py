"""Models seen as one interface for tiled inference: ``network(batch) -> batch``.

:mod:`srlib.inference` runs any model tile by tile. What it needs of a model is
its scale, channels, the context (receptive-field radius) its tiles must overlap by,
a tile shape it may require, how many tiles it takes at once and what input it
expects. :class:`Network` states that interface on float32 NHWC tiles, and three
adapters provide it: :class:`KerasNetwork` (batches of tiles, one traced function),
:class:`TFLiteNetwork` (an ``ai_edge_litert`` interpreter with a fixed batch-1
tile, as :mod:`srlib.export` writes it, with its model card) and
:class:`CallableNetwork` (any function, with its scale and context given).
:func:`as_network` picks the adapter.
"""

import os
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from srlib import files, models
from srlib.models.fir import polyphase_bank
from srlib.resize import imresize

DEFAULT_BATCH_SIZE = 8
MODEL_CARD_SUFFIX = ".card.json"  # srlib.export writes it next to each .tflite
# Interpolation of the network input, by input kind, unless the caller or a model card says otherwise.
DEFAULT_INTERPOLATION = models.upscaling.DEFAULT_INTERPOLATION


def interpolation_support(scale, method):
    """Input pixels an integer ``imresize`` upscale reads on each side of an output pixel."""
    return polyphase_bank(scale, method)[1]


class Network:
    """A model seen as ``network(batch) -> batch`` on float32 NHWC tiles.

    Attributes:
        scale: int, output size / input size (1 for pre-upsampling networks).
        channels: int, input channels; the output has as many.
        context: int or None, pixels of context (in input pixels) each output
            pixel depends on on every side: the overlap ``"auto"`` uses.
        tile_shape: ``(h, w)`` the network requires, or None for any size.
        batch_size: int, tiles per call.
        input_kind: ``"lr"``, ``"upsampled"`` or ``"lr_and_upsampled"`` (the
            network then makes its second input itself from the LR tile).
    """

    scale = 1
    channels = 1
    context = None
    tile_shape = None
    batch_size = DEFAULT_BATCH_SIZE
    input_kind = "lr"

    def __call__(self, batch):
        raise NotImplementedError


class KerasNetwork(Network):
    """A Keras model run on batches of tiles through one ``tf.function``.

    Args:
        model: a ``keras.Model`` on NHWC float images.
        scale: int, the model's upscaling factor. None: found from the output
            size on a 16x16 probe; required for two-input models. Default: None.
        interpolation: ``imresize`` method making the second input of a
            two-input model. None: ``"lanczos3"`` (SP-VDSR). Default: None.
        batch_size: int, tiles per call. Default: 8.
    """

    def __init__(self, model, scale=None, interpolation=None, batch_size=DEFAULT_BATCH_SIZE):
        self.model = model
        self.channels = int(model.inputs[0].shape[-1])
        self.batch_size = batch_size
        if len(model.inputs) == 2:
            if scale is None:
                raise ValueError(f"Model {model.name!r} takes [lr, interpolated] inputs and needs `scale`. "
                                 "Received: scale=None")
            self.input_kind, self.scale = "lr_and_upsampled", scale
        else:
            probe = model(np.zeros((1, 16, 16, self.channels), "float32"), training=False)
            probed_scale = int(probe.shape[1]) // 16
            if scale is not None and probed_scale != 1 and scale != probed_scale:
                raise ValueError(f"Model {model.name!r} upscales x{probed_scale}. Received: scale={scale}")
            self.scale = probed_scale
            self.input_kind = "lr" if probed_scale > 1 else "upsampled"
        self.interpolation = interpolation or DEFAULT_INTERPOLATION.get(self.input_kind)
        self._context = None
        self._forward = tf.function(lambda *inputs: model(list(inputs) if len(inputs) > 1 else inputs[0],
                                                          training=False), reduce_retracing=True)

    @property
    def context(self):
        if self._context is None:  # measured once, on first use: a few hundred ms
            self._context = models.receptive_field(self.model)
            if self.input_kind == "lr_and_upsampled":
                self._context += interpolation_support(self.scale, self.interpolation)
        return self._context

    def __call__(self, batch):
        inputs = [tf.convert_to_tensor(batch, tf.float32)]
        if self.input_kind == "lr_and_upsampled":
            inputs.append(imresize(inputs[0], scale=self.scale, method=self.interpolation))
        return self._forward(*inputs).numpy()


class TFLiteNetwork(Network):
    """A TFLite model with a fixed batch-1 tile, run tile by tile on the CPU (XNNPACK).

    Images smaller than the tile are run whole: the interpreter's input is
    resized to them (the CPU interpreter allows it; a GPU build of the same
    file would need an export at that size).

    Args:
        model: path of a ``.tflite`` file, or an ``ai_edge_litert`` ``Interpreter``.
        num_threads: int, CPU threads of the interpreter made from a path. Default: 2.
        interpolation: ``imresize`` method making the second input of a
            two-input model. None: the model card's, else ``"lanczos3"``. Default: None.
        context: int, overlap the tiles need. None: the model card's receptive
            field (``srlib.export`` writes ``MODEL.card.json``), else unknown
            and ``overlap`` must be given. Default: None.
    """

    batch_size = 1

    def __init__(self, model, num_threads=2, interpolation=None, context=None):
        from ai_edge_litert.interpreter import Interpreter

        card = {}
        if isinstance(model, (str, os.PathLike)):
            path = Path(model)
            if not path.is_file():
                raise FileNotFoundError(f"TFLite model file not found: {path}")
            card_file = path.with_name(path.name + MODEL_CARD_SUFFIX)
            card = (files.read_json(card_file, "; srlib.export writes it beside the model") if card_file.is_file()
                    else {})
            try:
                model = Interpreter(model_path=str(path), num_threads=num_threads)
            except ValueError as error:
                raise ValueError(f"{path}: not a valid TFLite model ({error})") from error
        self.interpreter = model
        self.interpreter.allocate_tensors()
        details = sorted(model.get_input_details(), key=lambda detail: int(np.prod(detail["shape"][1:3])))
        self._inputs = [detail["index"] for detail in details]  # LR first: the converter may reorder inputs
        self._output = model.get_output_details()[0]["index"]
        lr_shape = tuple(int(size) for size in details[0]["shape"])
        out_shape = tuple(int(size) for size in model.get_output_details()[0]["shape"])
        if lr_shape[0] != 1 or len(lr_shape) != 4:
            raise ValueError(f"Expected a TFLite model with one batch-1 NHWC input. Received input shape {lr_shape}")
        self.tile_shape, self.channels = lr_shape[1:3], lr_shape[3]
        self.scale = out_shape[1] // lr_shape[1]
        self.input_kind = "lr_and_upsampled" if len(details) == 2 else ("lr" if self.scale > 1 else "upsampled")
        if self.input_kind == "lr_and_upsampled":
            self.scale = int(details[1]["shape"][1]) // lr_shape[1]
        self.interpolation = interpolation or card.get("interpolation") or DEFAULT_INTERPOLATION.get(self.input_kind)
        self.context = context if context is not None else card.get("context")
        self._current_shape = self.tile_shape

    def _resize_inputs(self, shape):
        """Reallocates for tiles of ``shape`` (images smaller than the exported tile)."""
        for position, index in enumerate(self._inputs):
            factor = self.scale if position else 1
            self.interpreter.resize_tensor_input(index, [1, shape[0] * factor, shape[1] * factor, self.channels])
        self.interpreter.allocate_tensors()
        self._current_shape = shape

    def __call__(self, batch):
        batch = np.asarray(batch, np.float32)
        if batch.shape[1:3] != self._current_shape:
            self._resize_inputs(batch.shape[1:3])
        second = (imresize(batch, scale=self.scale, method=self.interpolation)
                  if self.input_kind == "lr_and_upsampled" else None)
        outputs = None
        for index in range(len(batch)):
            self.interpreter.set_tensor(self._inputs[0], batch[index:index + 1])
            if second is not None:
                self.interpreter.set_tensor(self._inputs[1], second[index:index + 1])
            self.interpreter.invoke()
            result = self.interpreter.get_tensor(self._output)
            if outputs is None:
                outputs = np.empty((len(batch), *result.shape[1:]), np.float32)
            outputs[index] = result[0]
        return outputs


class CallableNetwork(Network):
    """Any ``function(batch) -> batch`` with its scale, channels and context given.

    Args:
        function: maps float32 ``(N, h, w, channels)`` to ``(N, h * scale, w * scale, channels)``.
        scale: int, upscaling factor; 1 for a network that refines an interpolated image
            (pre-upsampling: :class:`TiledUpscaler` interpolates its input with ``method``).
        channels: int, input (and output) channels.
        context: int or None, overlap its tiles need (None: ``overlap`` must
            be given). Default: None.
        batch_size: int, tiles per call. Default: 8.
        tile_shape: ``(h, w)`` the function requires, or None. Default: None.
    """

    def __init__(self, function, scale, channels, context=None, batch_size=DEFAULT_BATCH_SIZE, tile_shape=None):
        self.function, self.scale, self.channels = function, int(scale), int(channels)
        self.context, self.batch_size, self.tile_shape = context, batch_size, tile_shape
        self.input_kind = "upsampled" if self.scale == 1 else "lr"  # scale 1: it refines an interpolated image

    def __call__(self, batch):
        return np.asarray(self.function(batch), np.float32)


def as_network(model, scale=None, interpolation=None, batch_size=DEFAULT_BATCH_SIZE, num_threads=2):
    """Wraps a Keras model, a TFLite file or interpreter (or a :class:`Network`) as a :class:`Network`."""
    if isinstance(model, Network):
        return model
    if isinstance(model, keras.Model):
        return KerasNetwork(model, scale=scale, interpolation=interpolation, batch_size=batch_size)
    if isinstance(model, (str, os.PathLike)) and str(model).endswith(".tflite"):
        return TFLiteNetwork(model, num_threads=num_threads, interpolation=interpolation)
    if hasattr(model, "get_input_details") and hasattr(model, "invoke"):
        return TFLiteNetwork(model, interpolation=interpolation)
    raise ValueError("`model` must be a keras.Model, a .tflite path or interpreter, or an srlib Network "
                     f"(wrap other functions in CallableNetwork). Received: model={model!r}")
