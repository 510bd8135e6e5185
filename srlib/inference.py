"""Tiled inference: upscale frames of any size, in bounded memory, without seams.

A 3840x2160 frame does not fit a mobile GPU texture, and whole-frame Keras
inference of a x2 model holds several 8K feature maps at once. Tiling fixes
both, but the usual "crop, run, paste" leaves seams: a convolution near a tile
edge sees the zero padding of the tile instead of the neighbouring pixels.

The tiles here overlap by at least the model's receptive-field radius
(measured with :func:`srlib.models.receptive_field`, ``overlap="auto"``), and
each tile only contributes its central region, the pixels whose whole
receptive field lies inside the tile. Tiles never reach past the image: along
each axis they step by ``tile - 2 * overlap`` and the last one is shifted back
to end at the border. A tile touching the border therefore sees the same
'same' zero padding there as a whole-image run, and its kept region extends to
that border. No blending is needed: the tiled result equals the whole-image
result (to float rounding, tested to 1e-5). An image axis shorter than a tile
is run whole.

Everything a tile needs is done per tile, so memory is bounded by the input,
the preallocated output and one batch of tiles:

* Y models on RGB images: BT.601 Y goes through the network, Cb and Cr are
  upscaled with Lanczos-3, and the tile is converted back to RGB;
* pre-upsampling networks (SRCNN, VDSR) get their bicubic input upsampled per
  tile; two-input networks (SP-VDSR ``"second_input"``) their interpolated
  input. The overlap then also covers the interpolation kernel's support, so
  the equality with whole-image processing still holds.

Networks are adapted to one interface, ``network(batch) -> batch`` on float32
NHWC tiles, by :mod:`srlib.networks` (Keras models, TFLite files, any function).

Entry points: :func:`tiled_run` (one network on one array),
:class:`TiledUpscaler` / :func:`upscale_image` (images, colour handling),
:func:`upscale_file` and :func:`upscale_video` (for the command line).
"""

import math
import os
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from srlib import files, images, models
from srlib.color import rgb_to_ycbcr, ycbcr_to_rgb
from srlib.networks import (DEFAULT_BATCH_SIZE, DEFAULT_INTERPOLATION, Network, TFLiteNetwork, as_network,
                            interpolation_support)
from srlib.resize import imresize

DEFAULT_TILE = (128, 128)
DEFAULT_CHROMA = "lanczos3"


def tile_spans(length, tile, overlap):
    """Where the tiles along one axis start, and which part of each is kept.

    Args:
        length: int, image size along the axis.
        tile: int, tile size along the axis.
        overlap: int, pixels of context each kept pixel needs on both sides.

    Returns:
        ``[(start, keep_begin, keep_end), ...]``: tile ``k`` covers
        ``[start, start + min(tile, length))``, and its result is kept on
        ``[keep_begin, keep_end)``; the kept ranges partition ``[0, length)``.
    """
    if length <= tile:
        return [(0, 0, length)]
    step = tile - 2 * overlap
    if step < 1:
        raise ValueError(f"`tile` must exceed twice the overlap ({overlap}) to make progress. Received: tile={tile}")
    spans, start, keep_begin = [], 0, 0
    while True:
        last = start + tile >= length
        if last:
            start = length - tile  # shifted back inside the image: no padding the whole image did not have
        keep_end = length if last else start + tile - overlap
        spans.append((start, keep_begin, keep_end))
        if last:
            return spans
        keep_begin, start = keep_end, start + step


# --- Tiling ---------------------------------------------------------------------------------------


def _resolve_overlap(overlap, network):
    if overlap == "auto":
        if network.context is None:
            raise ValueError("overlap='auto' needs the network's receptive field, which is unknown here (a TFLite "
                             "file without its model card, or a plain function): pass an integer `overlap`.")
        return int(network.context)
    if isinstance(overlap, bool) or not isinstance(overlap, (int, np.integer)) or overlap < 0:
        raise ValueError(f"`overlap` must be 'auto' or a non-negative integer. Received: overlap={overlap!r}")
    return int(overlap)


def _resolve_tile(tile, network):
    if tile is not None:
        tile = (tile, tile) if isinstance(tile, (int, np.integer)) else tuple(tile)
        if len(tile) != 2 or any(size < 1 for size in tile):
            raise ValueError(f"`tile` must be a positive int or an (h, w) pair. Received: tile={tile!r}")
    if network.tile_shape is not None:
        if tile is not None and tile != tuple(network.tile_shape):
            raise ValueError(f"This network runs fixed {tuple(network.tile_shape)} tiles. Received: tile={tile!r}")
        return tuple(network.tile_shape)
    return tuple(int(size) for size in (tile or DEFAULT_TILE))


def _store(target, values):
    """Writes float [0, 1] ``values`` into ``target``: rounded (half up) and clipped for uint8."""
    if target.dtype == np.uint8:
        target[...] = images.to_uint8(values)
    else:
        target[...] = values


def tiled_run(image, network, tile=None, overlap="auto", out=None):
    """Runs ``network`` over ``image`` tile by tile; equals a whole-image run.

    Args:
        image: ``(H, W, C)`` NumPy array, uint8 in [0, 255] or float in [0, 1],
            ``C == network.channels``. Tiles are converted to float32 one batch
            at a time, so the image itself can stay uint8.
        network: a :class:`Network` (see :func:`as_network`).
        tile: int or ``(h, w)``, input tile size; must equal the network's
            fixed tile if it has one. None: that tile, else ``(128, 128)``.
            Default: None.
        overlap: ``"auto"`` (the network's receptive-field radius) or an int.
            Below the receptive-field radius, seams appear. Default: ``"auto"``.
        out: optional preallocated ``(H * scale, W * scale, C)`` array, float
            or uint8 (then rounded and clipped from [0, 1]). Default: None
            (a float32 array is allocated).

    Returns:
        ``out``, filled.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != network.channels:
        raise ValueError(f"`image` must have shape (H, W, {network.channels}). Received shape {image.shape}")
    height, width, channels = image.shape
    tile_h, tile_w = _resolve_tile(tile, network)
    automatic, overlap = overlap == "auto", _resolve_overlap(overlap, network)
    try:
        rows, cols = tile_spans(height, tile_h, overlap), tile_spans(width, tile_w, overlap)
    except ValueError as error:  # tile_spans sees one axis: say which tile, image and overlap
        where = ("overlap='auto': the receptive field, and the support of any interpolation inside the "
                 "pipeline" if automatic else "as given")
        raise ValueError(f"`tile` must exceed twice the overlap ({overlap} pixels, {where}) on every side of "
                         f"the image it divides: a {tile_h}x{tile_w} tile (height x width) on a {height}x{width} "
                         f"image. Received: tile={tile!r}") from error
    scale = network.scale
    if out is None:
        out = np.empty((height * scale, width * scale, channels), np.float32)
    elif out.shape != (height * scale, width * scale, channels):
        raise ValueError(f"`out` must have shape {(height * scale, width * scale, channels)}. Received {out.shape}")
    tile_h, tile_w = min(tile_h, height), min(tile_w, width)
    to_float = (1.0 / 255.0) if image.dtype == np.uint8 else 1.0
    batch = np.empty((network.batch_size, tile_h, tile_w, channels), np.float32)
    pending = []

    def flush():
        results = network(batch[:len(pending)])
        for result, (row, col) in zip(results, pending):
            (top, keep_top, keep_bottom), (left, keep_left, keep_right) = row, col
            _store(out[keep_top * scale:keep_bottom * scale, keep_left * scale:keep_right * scale],
                   result[(keep_top - top) * scale:(keep_bottom - top) * scale,
                          (keep_left - left) * scale:(keep_right - left) * scale])
        pending.clear()

    for row in rows:
        for col in cols:
            batch[len(pending)] = image[row[0]:row[0] + tile_h, col[0]:col[0] + tile_w] * to_float
            pending.append((row, col))
            if len(pending) == network.batch_size:
                flush()
    if pending:
        flush()
    return out


class _ImagePipeline(Network):
    """LR image tiles -> HR image tiles around a network: colour, pre-upsampling, FIR.

    ``network`` None means plain ``imresize(method=interpolation)``.
    """

    def __init__(self, network, scale, channels, interpolation, chroma):
        self.network, self.scale, self.channels = network, scale, channels
        self.interpolation, self.chroma = interpolation, chroma
        net_channels = channels if network is None else network.channels
        self.luma = net_channels == 1 and channels == 3
        self.grey_to_rgb = net_channels == 3 and channels == 1
        self.pre_upsample = network is not None and network.scale == 1
        self._context = None
        self.batch_size = DEFAULT_BATCH_SIZE if network is None else network.batch_size
        self.tile_shape = None
        if network is not None and network.tile_shape is not None:
            factor = scale if self.pre_upsample else 1
            if any(size % factor for size in network.tile_shape):
                raise ValueError(f"The network's fixed tile {network.tile_shape} is not a multiple of scale {scale}")
            self.tile_shape = tuple(size // factor for size in network.tile_shape)

    @property
    def context(self):
        """LR pixels of context: the widest of the network's and the interpolations' (lazy: may measure)."""
        if self._context is None:
            network, scale = self.network, self.scale
            contexts = [interpolation_support(scale, self.chroma)] if self.luma else []
            if network is None:
                contexts.append(interpolation_support(scale, self.interpolation))
            elif self.pre_upsample:  # the network's context is in HR pixels, after interpolating the LR tile
                contexts.append(None if network.context is None else
                                math.ceil(network.context / scale) + interpolation_support(scale, self.interpolation))
            else:
                contexts.append(network.context)
            self._context = None if None in contexts else max(contexts)
        return self._context

    def __call__(self, batch):
        # TensorFlow ops on float32 tensors: NumPy's float64 colour conversion would dominate the run time.
        batch = tf.convert_to_tensor(batch, tf.float32)
        ycbcr = rgb_to_ycbcr(batch) if self.luma else None
        planes = ycbcr[..., :1] if self.luma else (tf.repeat(batch, 3, axis=-1) if self.grey_to_rgb else batch)
        if self.network is None:
            outputs = imresize(planes, scale=self.scale, method=self.interpolation)
        else:
            if self.pre_upsample:
                planes = imresize(planes, scale=self.scale, method=self.interpolation)
            outputs = self.network(planes.numpy())
        if self.luma:
            chroma = imresize(ycbcr[..., 1:], scale=self.scale, method=self.chroma)
            outputs = ycbcr_to_rgb(tf.concat([outputs, chroma], axis=-1))
        elif self.grey_to_rgb:
            outputs = tf.reduce_mean(outputs, axis=-1, keepdims=True)
        return np.asarray(outputs)


class TiledUpscaler:
    """Upscales whole images (or video frames) tile by tile with one network.

    For a one-channel (Y) network on RGB images, Y (BT.601, MATLAB
    ``rgb2ycbcr``) goes through the network and Cb, Cr are upscaled with
    ``chroma``; greyscale images go through a Y network directly; a
    three-channel network sees greyscale repeated and returns the mean.
    Pre-upsampling networks (SRCNN, VDSR) get ``imresize(method=method)`` of
    each tile first.

    Args:
        model: a ``keras.Model``, a ``.tflite`` path or interpreter, a
            :class:`Network`, or None for a plain ``imresize`` with ``method``.
        scale: int, upscaling factor. None: the network's (post-upsampling
            networks). Default: None.
        tile: int or ``(h, w)``, LR tile size. None: the network's fixed tile,
            else ``(128, 128)``. Default: None.
        overlap: ``"auto"`` or an int, in LR pixels. Default: ``"auto"``.
        batch_size: int, tiles per Keras call. Default: 8.
        method: ``imresize`` method: the whole upscale without a model, the
            input interpolation of pre-upsampling and two-input networks
            otherwise. None: ``"bicubic"`` (no model, pre-upsampling) or
            ``"lanczos3"`` (two inputs). Default: None.
        chroma: ``imresize`` method for Cb and Cr. Default: ``"lanczos3"``.
        num_threads: int, CPU threads of a TFLite interpreter made from a path.
            Default: 2.
    """

    def __init__(self, model=None, scale=None, tile=None, overlap="auto", batch_size=DEFAULT_BATCH_SIZE,
                 method=None, chroma=DEFAULT_CHROMA, num_threads=2):
        self.network = None if model is None else as_network(model, scale=scale, interpolation=method,
                                                            batch_size=batch_size, num_threads=num_threads)
        if method is not None and self.network is not None and self.network.input_kind == "lr":
            # Silently ignored, it would suggest the network's output depends on it.
            raise ValueError(f"`method` is the input interpolation of pre-upsampling and two-input networks; this "
                             f"network takes the LR image itself. Received: method={method!r}")
        if self.network is not None and self.network.scale > 1:
            if scale is not None and scale != self.network.scale:
                raise ValueError(f"The model upscales x{self.network.scale}. Received: scale={scale}")
            scale = self.network.scale
        if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 2:
            raise ValueError(f"`scale` must be an integer >= 2 (required for pre-upsampling models and plain "
                             f"interpolation). Received: scale={scale!r}")
        self.scale = int(scale)
        if method is None:
            kind = "upsampled" if self.network is None else self.network.input_kind
            method = getattr(self.network, "interpolation", None) or DEFAULT_INTERPOLATION.get(kind, "bicubic")
        self.method, self.chroma = method, chroma
        self.tile, self.overlap = tile, overlap

    def __call__(self, image):
        """Upscales ``image``: uint8 in, uint8 out (rounded, clipped); float in, float32 out (not clipped).

        ``image``: ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)``.
        """
        image = np.asarray(image)
        squeeze = image.ndim == 2
        planes = image[..., None] if squeeze else image
        if planes.ndim != 3 or planes.shape[-1] not in (1, 3):
            raise ValueError(f"`image` must have shape (H, W), (H, W, 1) or (H, W, 3). Received shape {image.shape}")
        if not (planes.dtype == np.uint8 or np.issubdtype(planes.dtype, np.floating)):
            raise ValueError(f"`image` must be uint8 or float in [0, 1]. Received dtype {image.dtype}")
        pipeline = _ImagePipeline(self.network, self.scale, planes.shape[-1], self.method, self.chroma)
        height, width, channels = planes.shape
        out = np.empty((height * self.scale, width * self.scale, channels),
                       np.uint8 if planes.dtype == np.uint8 else np.float32)
        tiled_run(planes, pipeline, tile=self.tile, overlap=self.overlap, out=out)
        return out[..., 0] if squeeze else out


def upscale_image(image, model=None, scale=None, **kwargs):
    """``TiledUpscaler(model, scale, **kwargs)(image)``: see :class:`TiledUpscaler`."""
    return TiledUpscaler(model, scale, **kwargs)(image)


# --- Files and video ------------------------------------------------------------------------------


def load_network(model=None, checkpoint=None, scale=None):
    """The model :func:`upscale_file` runs, from a model object, a name or a file.

    Args:
        model: a ``keras.Model``, a TFLite interpreter, a :class:`Network`, a
            name in :data:`srlib.models.MODELS` (with ``checkpoint`` holding
            its weights), or a ``.keras`` / ``.tflite`` path. Default: None.
        checkpoint: path of a ``.keras`` model, a ``.tflite`` model or a
            ``.weights.h5`` file (for ``model``). Training checkpoints of
            :class:`srlib.checkpoint.CheckpointSaver` are restored by the
            caller into a model passed as ``model``. Default: None.
        scale: int, the scale a named model is built for. Default: None.

    Returns:
        The model, or None when neither argument is given.
    """
    if isinstance(model, (str, os.PathLike)) and Path(model).suffix in (".keras", ".tflite"):
        if checkpoint is not None:
            raise ValueError(f"Give the model file as `model` or `checkpoint`, not both. Received: model={model!r}, "
                             f"checkpoint={checkpoint!r}")
        model, checkpoint = None, model
    if checkpoint is None:
        if isinstance(model, (str, os.PathLike)) and str(model).endswith(".weights.h5"):
            raise ValueError(f"A .weights.h5 file holds weights only: pass it as `checkpoint` with the model "
                             f"name as `model`. Received: model={model!r}")
        if isinstance(model, str):
            raise ValueError(f"Model name {model!r} needs `checkpoint`, the file with its trained weights.")
        return model
    path = Path(checkpoint)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file not found: {path}")
    if path.suffix == ".tflite":
        return TFLiteNetwork(path)
    if path.suffix == ".keras":
        return keras.models.load_model(path, compile=False)
    if path.name.endswith(".weights.h5"):
        if isinstance(model, str):
            model = models.build(model, scale)
        if not isinstance(model, keras.Model):
            raise ValueError(f"Weights file {path} needs `model`: a name in srlib.models.MODELS or a keras.Model.")
        model.load_weights(path)
        return model
    raise ValueError(f"{path}: expected a .keras, .tflite or .weights.h5 checkpoint")


def _refuse_same_file(input_path, output_path):
    if Path(output_path).resolve() == Path(input_path).resolve():
        raise ValueError(f"Refusing to overwrite the input file {input_path}: choose another output path.")


def upscale_file(input_path, output_path, scale, method=None, model=None, checkpoint=None, tile=None,
                 overlap="auto", batch_size=DEFAULT_BATCH_SIZE):
    """Upscales an image file into another, tile by tile.

    RGB, greyscale, palette and RGBA files are read with
    :func:`srlib.images.read_image` (alpha is dropped: the output is RGB or
    grey); Y models run on Y with Lanczos-3 chroma. The output is written
    atomically (:func:`srlib.images.write_image`).

    Args:
        input_path: the image to upscale.
        output_path: where to write the result; must not be ``input_path``.
        scale: int, upscaling factor (checked against a post-upsampling model's).
        method: ``imresize`` method: the whole upscale when there is no
            model, the input interpolation of pre-upsampling / two-input
            models otherwise. Default: None (see :class:`TiledUpscaler`).
        model, checkpoint: the model, see :func:`load_network`. Neither: plain
            interpolation with ``method`` (default bicubic). Default: None.
        tile: int or ``(h, w)``, LR tile size. Default: None.
        overlap: ``"auto"`` or an int. Default: ``"auto"``.
        batch_size: int, tiles per Keras call. Default: 8.

    Returns:
        ``Path`` of the written file.
    """
    _refuse_same_file(input_path, output_path)
    images.check_output_path(output_path)  # before the work, not after it
    image = images.read_image(input_path)
    network = load_network(model, checkpoint, scale)
    upscaler = TiledUpscaler(network, scale, tile=tile, overlap=overlap, batch_size=batch_size, method=method)
    images.write_image(output_path, upscaler(image))
    return Path(output_path)


def upscale_video(input_path, output_path, scale, model=None, tile=None, overlap="auto", progress=True,
                  method=None, checkpoint=None, batch_size=DEFAULT_BATCH_SIZE):
    """Upscales every frame of a video with OpenCV (mp4v); audio is not copied.

    Frames go through :class:`TiledUpscaler` one at a time (their tiles in
    batches); the video is written to a temporary file next to
    ``output_path`` and renamed over it when complete.

    Args:
        input_path: a video OpenCV can read.
        output_path: the video to write (``.mp4``, ``.avi``...); not ``input_path``.
        scale, model, tile, overlap, method, checkpoint, batch_size: as
            :func:`upscale_file`.
        progress: bool, show a tqdm progress bar. Default: True.

    Returns:
        int, the number of frames written.
    """
    import cv2
    from tqdm.auto import tqdm

    _refuse_same_file(input_path, output_path)
    if not Path(input_path).is_file():
        raise FileNotFoundError(f"video file not found: {input_path}")
    output_path = files.check_output_path(output_path, "upscaled.mp4")
    upscaler = TiledUpscaler(load_network(model, checkpoint, scale), scale, tile=tile, overlap=overlap,
                             batch_size=batch_size, method=method)
    capture = cv2.VideoCapture(str(input_path))
    if not capture.isOpened():
        raise ValueError(f"{input_path}: OpenCV cannot read this file as a video")
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    if width <= 0 or height <= 0:  # OpenCV "opens" some non-video files and reports a 0x0 frame
        capture.release()
        raise ValueError(f"{input_path}: not a readable video (OpenCV reports {width}x{height} frames)")
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    frames = 0
    try:
        # VideoWriter opens the temporary path itself and picks the container by its suffix.
        with files.replacing(output_path, suffix=output_path.suffix or ".mp4") as temporary:
            writer = cv2.VideoWriter(str(temporary), cv2.VideoWriter_fourcc(*"mp4v"), fps,
                                     (width * upscaler.scale, height * upscaler.scale))
            try:
                if not writer.isOpened():
                    raise ValueError(f"OpenCV cannot write an mp4v video to {output_path}")
                with tqdm(total=total, unit="frame", disable=not progress, desc=Path(input_path).name) as bar:
                    while True:
                        ok, frame = capture.read()
                        if not ok:
                            break
                        upscaled = upscaler(frame[..., ::-1])  # OpenCV frames are BGR
                        writer.write(np.ascontiguousarray(upscaled[..., ::-1]))
                        frames += 1
                        bar.update(1)
                if frames == 0:  # e.g. a codec this OpenCV build cannot decode: publish no empty video
                    raise ValueError(f"{input_path}: OpenCV decoded no frames (is its codec supported by "
                                     f"this OpenCV build?); {output_path} was not written")
            finally:
                writer.release()
    finally:
        capture.release()
    return frames
