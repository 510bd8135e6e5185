"""Reading and writing 8-bit images with predictable channels.

Benchmark sets mix modes: Set14 ``bridge.png`` is single-channel greyscale,
some copies of Urban100 or user photos are palette or RGBA. Everything in srlib
works on ``uint8`` arrays of shape ``(H, W, 1)`` or ``(H, W, 3)``; this module is
where files become such arrays and back.
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from srlib import files

IMAGE_SUFFIXES = (".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff", ".ppm", ".pgm", ".webp")


def to_standard_channels(array, source="image"):
    """uint8 ``(H, W)``, ``(H, W, 1|2|3|4)`` -> ``(H, W, 1)`` grey or ``(H, W, 3)`` RGB.

    Alpha is dropped (super-resolution of the colour planes; an alpha plane can be
    upscaled separately). ``source`` names the file in error messages.
    """
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise ValueError(f"{source}: expected 8-bit pixels, got dtype {array.dtype}")
    if array.ndim == 2:
        return array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(f"{source}: expected (H, W) or (H, W, 1-4) pixels, got shape {array.shape}")
    if array.shape[-1] == 2:  # grey + alpha
        return array[..., :1]
    return array[..., :3]


def to_uint8(values):
    """Floats in [0, 1] to uint8 as MATLAB's ``uint8(x * 255)`` does: clipped, rounded half up.

    The last step of the protocol for every upscaled image (a network's output, its Y plane,
    a tile written into a uint8 result).
    """
    return np.floor(np.clip(values, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def read_image(path):
    """Reads an image file as uint8 ``(H, W, 1)`` (greyscale) or ``(H, W, 3)`` (RGB).

    A photo with an EXIF orientation tag (phones store pixels unrotated) is turned
    upright, as image viewers show it; the written result carries no such tag.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not a readable image, or has more than 8 bits per sample.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: {path}")
    try:
        with Image.open(path) as image:
            if _high_bit_depth(image):  # Pillow would keep the high byte of each sample, silently
                raise ValueError(f"{path}: 16 bits per sample; srlib reads 8-bit images (the protocol is 8-bit). "
                                 f"Convert it first, rounding: uint8 = round(value / 257)")
            image.load()
            image = ImageOps.exif_transpose(image)
            mode = image.mode
            if mode in ("1", "L", "LA", "RGB", "RGBA"):
                array = np.asarray(image.convert("L" if mode in ("1", "LA") else mode))
            elif mode in ("P", "PA", "CMYK", "YCbCr"):
                array = np.asarray(image.convert("RGB"))
            else:
                raise ValueError(f"{path}: unsupported image mode {mode!r}; expected 8-bit grey, RGB or RGBA")
    except OSError as error:
        raise ValueError(f"{path}: not a readable image ({error})") from error
    return to_standard_channels(array, source=str(path))


def _high_bit_depth(image):
    """True for colour files with 16 bits per sample (PNG, TIFF), which Pillow opens as 8-bit
    ``"RGB"``/``"RGBA"``; 16-bit greyscale opens as mode ``"I;16"`` and is refused by mode."""
    rawmodes = [tile.args if isinstance(tile.args, str) else tile.args[0] for tile in image.tile if tile.args]
    return any(isinstance(rawmode, str) and rawmode.split(";")[0] in ("RGB", "RGBA", "RGBX")
               and rawmode.split(";")[-1] in ("16B", "16L", "16N") for rawmode in rawmodes)


def check_output_path(path):
    """Raises unless ``path`` can receive an image: a known suffix, an existing folder.

    Called before any expensive work, so that a typo costs nothing.

    Raises:
        ValueError: the suffix is not one of ``IMAGE_SUFFIXES``, or ``path`` is a folder.
        FileNotFoundError: the folder of ``path`` does not exist.
    """
    path = files.check_output_path(path, "out.png")
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise ValueError(f"output {path}: unknown image suffix {path.suffix!r}; expected one of "
                         f"{', '.join(IMAGE_SUFFIXES)}")
    return path


def write_image(path, array):
    """Writes uint8 ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)`` atomically.

    The format follows the suffix (one of ``IMAGE_SUFFIXES``, see
    :func:`check_output_path`). The image goes to a temporary file in the same
    folder first and is renamed over ``path`` only when complete, so an existing
    file is never half-written.
    """
    path = check_output_path(path)
    array = to_standard_channels(array, source=str(path))
    image = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
    image_format = Image.registered_extensions()[path.suffix.lower()]
    files.atomic_write(path, lambda handle: image.save(handle, format=image_format))


def list_images(folder):
    """Image files directly inside ``folder``, sorted by name."""
    folder = Path(folder)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
