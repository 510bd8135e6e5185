"""Evaluation under the protocol of the published super-resolution tables.

For each HR image:

1. crop HR to a multiple of ``scale`` (bottom/right);
2. LR = MATLAB ``imresize(HR, 1/scale, 'bicubic')``, rounded and clipped to 8 bits;
3. SR = the method's upscale of LR, rounded and clipped to 8 bits;
4. PSNR and SSIM on Y (BT.601, MATLAB ``rgb2ycbcr``) with ``scale`` pixels shaved. A luma
   model (one that upscales Y alone) is measured on the Y it output, rounded to 8 bits, as
   the papers' MATLAB code measures it, not on the Y of its RGB image.

A *method* is anything with ``upscale(lr_uint8, scale) -> sr_uint8``: an FIR
filter (:func:`fir_upscaler`) here, trained networks in :mod:`srlib.models`.
Published numbers come from ``srlib/resources/published.json``, the one file
that the notebooks, the README and the CLI read them from.
"""

import dataclasses
import json
from importlib import resources
from pathlib import Path

import numpy as np

from srlib import datasets, metrics
from srlib.color import rgb_to_y
from srlib.images import to_uint8
from srlib.resize import crop_to_multiple, degrade, imresize, resolve_method
from srlib.validation import scale_factor


# The FIR baselines the demo, the CLI and `reproduce` report, in the order tables list them.
FIR_METHODS = ("nearest", "box", "bilinear", "bicubic", "mitchell", "lanczos2", "lanczos3")


@dataclasses.dataclass
class ImageResult:
    name: str
    psnr_y: float
    ssim_y: float


@dataclasses.dataclass
class EvaluationResult:
    """Mean and per-image Y-PSNR/SSIM of one method on one dataset and scale."""

    dataset: str
    scale: int
    method: str
    per_image: list

    @property
    def images(self):
        return len(self.per_image)

    @property
    def psnr_y(self):
        return float(np.mean([result.psnr_y for result in self.per_image]))

    @property
    def ssim_y(self):
        return float(np.mean([result.ssim_y for result in self.per_image]))

    def to_dict(self):
        return {"dataset": self.dataset, "scale": self.scale, "method": self.method, "images": self.images,
                "psnr_y": self.psnr_y, "ssim_y": self.ssim_y,
                "per_image": [dataclasses.asdict(result) for result in self.per_image]}


def fir_upscaler(method):
    """An upscale function for an FIR method name (see :func:`srlib.resize.imresize`)."""
    resolve_method(method)  # fail early on an unknown name

    def upscale(lr_image, scale):
        return imresize(lr_image, scale=scale, method=method)
    upscale.__name__ = str(method)
    return upscale


def _check_uint8_hr(hr_image):
    if np.asarray(hr_image).dtype != np.uint8:
        raise ValueError(f"`hr_image` must be uint8 in [0, 255]. Received: dtype {np.asarray(hr_image).dtype}")


def evaluate_image(hr_image, upscale, scale):
    """Runs the protocol on one uint8 HR image.

    Returns:
        ``(psnr_y, ssim_y, hr_cropped, lr, sr)``.
    """
    _check_uint8_hr(hr_image)  # a float HR would be blamed on the upscaler's output below
    hr_cropped, lr_image = degrade(hr_image, scale)
    return evaluate_pair(hr_cropped, lr_image, upscale, scale)


def evaluate_pair(hr_cropped, lr_image, upscale, scale):
    """The protocol on an already degraded pair (``degrade(hr_image, scale)``): callers
    that measure the same images many times (validation every epoch) degrade them once.

    Returns:
        ``(psnr_y, ssim_y, hr_cropped, lr, sr)``.
    """
    with_luma = getattr(upscale, "with_luma", None)  # luma models (srlib.models.upscaler)
    if with_luma is not None:
        sr_image, sr_luma = with_luma(lr_image, scale)
    else:
        sr_image, sr_luma = upscale(lr_image, scale), None
    sr_image = np.asarray(sr_image)
    if sr_image.shape != hr_cropped.shape or sr_image.dtype != np.uint8:
        raise ValueError(f"upscale returned {sr_image.shape} {sr_image.dtype}; "
                         f"expected uint8 of shape {hr_cropped.shape} (the cropped HR)")
    # A luma model is measured on the Y it produced, as the papers' code measures it: the RGB
    # image's Y differs wherever Y with the interpolated chroma falls outside the RGB cube.
    reference, measured = (hr_cropped, sr_image) if sr_luma is None else (rgb_to_y(hr_cropped), sr_luma)
    return (metrics.psnr(reference, measured, crop_border=scale, y_channel=True),
            metrics.ssim(reference, measured, crop_border=scale, y_channel=True),
            hr_cropped, lr_image, sr_image)


def bicubic_on_float_luma(hr_image, scale):
    """Y-PSNR/SSIM of bicubic as the papers' MATLAB test scripts compute it.

    Those scripts (SRCNN's and VDSR's, whose bicubic rows the later tables copy) degrade the
    luma alone, in single precision, and never round the LR: ``Y = rgb2ycbcr(HR)(:, :, 1)``,
    ``modcrop``, ``single(Y) / 255``, ``imresize`` by ``1/scale`` and back by ``scale``,
    ``uint8(SR * 255)``, ``scale`` pixels shaved. This reproduces the published Set5 bicubic
    PSNR and SSIM to their printed digits. :func:`evaluate` instead gives every method the
    8-bit RGB image that a low-resolution file is, as networks need; its bicubic rows land
    0.002-0.013 dB and 0.0001-0.0004 SSIM under these on Set5.

    Args:
        hr_image: ``(H, W, 3)`` RGB or ``(H, W, 1)`` grey, uint8 in [0, 255].
        scale: integer scale factor.

    Returns:
        ``(psnr_y, ssim_y)``.
    """
    scale = scale_factor(scale)
    _check_uint8_hr(hr_image)
    hr_luma = rgb_to_y(crop_to_multiple(np.asarray(hr_image), scale))  # a grey image is its own luma
    lr_luma = imresize(hr_luma.astype(np.float32) / 255, scale=1 / scale)  # left unrounded
    sr_luma = to_uint8(imresize(lr_luma, scale=scale))
    return (metrics.psnr(hr_luma, sr_luma, crop_border=scale),
            metrics.ssim(hr_luma, sr_luma, crop_border=scale))


def evaluate(upscale, dataset, scale, method_name=None, progress=False, limit=None):
    """Mean Y-PSNR/SSIM of ``upscale`` over a dataset under the paper protocol.

    Args:
        upscale: ``upscale(lr_uint8, scale) -> sr_uint8``, or an FIR method name.
        dataset: registered dataset name or folder path.
        scale: integer scale factor.
        method_name: label for the result; defaults to the method's name.
        progress: show a progress bar. Default False.
        limit: evaluate only the first ``limit`` images. Default all.

    Returns:
        An :class:`EvaluationResult`.
    """
    scale = scale_factor(scale)
    if isinstance(upscale, str):
        method_name = method_name or upscale
        upscale = fir_upscaler(upscale)
    method_name = method_name or getattr(upscale, "__name__", "method")
    loaded = datasets.load_images(dataset, limit=limit)
    if progress:
        from tqdm.auto import tqdm
        loaded = tqdm(loaded, desc=f"{method_name} x{scale} on {dataset}", leave=False)
    per_image = []
    for name, hr_image in loaded:
        try:
            psnr_y, ssim_y, *_ = evaluate_image(hr_image, upscale, scale)
        except ValueError as error:  # e.g. an image too small for SSIM after the shave
            raise ValueError(f"{dataset} image {name!r} ({hr_image.shape[1]}x{hr_image.shape[0]}): {error}") from error
        per_image.append(ImageResult(name, psnr_y, ssim_y))
    return EvaluationResult(_dataset_name(dataset), int(scale), method_name, per_image)


def _dataset_name(dataset):
    """The registered spelling of a dataset name ("set5" -> "Set5", "bsd100" -> "B100"), so
    that published figures are found for it; a folder path as given."""
    name = str(dataset)
    if Path(name).expanduser().is_dir():
        return name
    try:
        return datasets.lookup(name).name
    except ValueError:
        return name


def checkerboard_ratios(upscale, dataset, scale, limit=None):
    """:func:`srlib.metrics.checkerboard_ratio` of each output of ``upscale`` under the protocol
    (bicubic degradation, Y, ``scale`` pixels shaved), in the dataset's order.

    Args:
        upscale: ``upscale(lr_uint8, scale) -> sr_uint8``, or an FIR method name.
        dataset: registered dataset name or folder path.
        scale: integer scale factor >= 2, also the period of the pattern looked for.
        limit: only the first ``limit`` images. Default all.

    Returns:
        A list of floats, one per image (about 1: no grid pattern).
    """
    if isinstance(upscale, str):
        upscale = fir_upscaler(upscale)
    ratios = []
    for _, hr_image in datasets.load_images(dataset, limit=limit):
        _, _, hr_cropped, _, sr_image = evaluate_image(hr_image, upscale, scale)
        ratios.append(metrics.checkerboard_ratio(sr_image, hr_cropped, scale, crop_border=scale, y_channel=True))
    return ratios


def published_table():
    """The published numbers and their sources, as a dict (see ``published.json``)."""
    text = resources.files("srlib").joinpath("resources/published.json").read_text()
    return json.loads(text)


def published_psnr(method, dataset, scale):
    """Published Y-PSNR of ``method`` on ``dataset`` at ``scale``, or None if not reported."""
    return _published_value(method, "psnr", dataset, scale)


def published_ssim(method, dataset, scale):
    """Published Y-SSIM of ``method`` on ``dataset`` at ``scale``, or None if not reported.

    FSRCNN and ESPCN report none; see ``sources["ssim"]`` in ``published.json`` for the
    caveat on SRResNet/SRGAN (computed with another SSIM implementation).
    """
    return _published_value(method, "ssim", dataset, scale)


def _published_value(method, metric, dataset, scale):
    entry = published_table()["methods"].get(method.lower())
    if entry is None:
        return None
    return entry.get(metric, {}).get(dataset, {}).get(str(scale))


def _is_whole_dataset(result):
    try:
        return result.images == datasets.lookup(result.dataset).num_images
    except ValueError:  # a folder path: no registered size to compare with
        return False


def format_table(results, published=True):
    """A plain-text table of :class:`EvaluationResult` rows, published PSNR beside ours."""
    header = f"{'method':<12} {'dataset':<10} {'scale':>5} {'images':>6} {'PSNR-Y':>8} {'SSIM-Y':>7}"
    if published:
        header += f" {'published':>9} {'diff':>6}"
    lines = [header, "-" * len(header)]
    for result in results:
        line = (f"{result.method:<12} {result.dataset:<10} {'x' + str(result.scale):>5} {result.images:>6} "
                f"{result.psnr_y:>8.2f} {result.ssim_y:>7.4f}")
        if published:
            reference = published_psnr(result.method, result.dataset, result.scale)
            if reference is None:
                line += f" {'-':>9} {'':>6}"
            elif not _is_whole_dataset(result):
                line += f" {reference:>9.2f} {'subset':>6}"  # a mean over some images is not comparable
            else:
                line += f" {reference:>9.2f} {result.psnr_y - reference:>+6.2f}"
        lines.append(line)
    return "\n".join(lines)


def published_vs_ours(method, rows):
    """The notebooks' closing table: the paper's row next to ours and bicubic's.

    Args:
        method: the published method's name in ``published.json`` (``"espcn"``).
        rows: ``(ours, bicubic)`` or ``(ours, bicubic, note)`` tuples of
            :class:`EvaluationResult` on the same images (``note``: which weights, e.g.
            ``"shipped"``).

    Returns:
        The table as text, Y-PSNR in dB then Y-SSIM: "-" where the paper has no number,
        "(subset)" where ours is a mean over part of the set (quick mode), which a published
        mean cannot be compared with.

    Raises:
        ValueError: if a row's two results are not on the same dataset, scale and images.
    """
    header = (f"{'dataset':<8} {'scale':>5} {'weights':<9} {'images':>6} {'bicubic':>8} "
              f"{'published ' + method:>{max(17, len(method) + 10)}} {'ours':>7} {'ours - bicubic':>15} "
              f"{'published - bicubic':>20} {'SSIM published':>14} {'SSIM ours':>9}")
    lines = [header, "-" * len(header)]
    for ours, bicubic, *note in rows:
        if (ours.dataset, ours.scale, ours.images) != (bicubic.dataset, bicubic.scale, bicubic.images):
            raise ValueError(f"a row compares {ours.method} on {ours.dataset} x{ours.scale} ({ours.images} images) "
                             f"with bicubic on {bicubic.dataset} x{bicubic.scale} ({bicubic.images} images)")
        published = published_psnr(method, ours.dataset, ours.scale)
        published_bicubic = published_psnr("bicubic", ours.dataset, ours.scale)
        published_text = "-" if published is None else f"{published:.2f}"
        gain_text = "-" if published is None or published_bicubic is None else f"{published - published_bicubic:+.2f}"
        published_ssim_value = published_ssim(method, ours.dataset, ours.scale)
        ssim_text = "-" if published_ssim_value is None else f"{published_ssim_value:.4f}"
        if not _is_whole_dataset(ours):  # a mean over some images is not comparable with the paper's
            published_text, gain_text = [text if text == "-" else "(subset)" for text in (published_text, gain_text)]
            ssim_text = ssim_text if ssim_text == "-" else "(subset)"
        lines.append(f"{ours.dataset:<8} {'x' + str(ours.scale):>5} {(note or [''])[0]:<9} {ours.images:>6} "
                     f"{bicubic.psnr_y:>8.2f} {published_text:>{max(17, len(method) + 10)}} {ours.psnr_y:>7.2f} "
                     f"{ours.psnr_y - bicubic.psnr_y:>+15.2f} {gain_text:>20} {ssim_text:>14} {ours.ssim_y:>9.4f}")
    return "\n".join(lines)


PROTOCOL = ("Protocol: HR cropped to a multiple of the scale; LR = MATLAB imresize bicubic, 8-bit; "
            "PSNR/SSIM on Y (BT.601, MATLAB rgb2ycbcr; a luma model's own 8-bit Y output) with `scale` pixels "
            "shaved.")
