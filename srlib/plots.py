"""Small plotting helpers for the notebooks and ``make demo``.

They keep figure code out of the reader's way; every figure has a title and, where
there are axes to read, labelled axes. Comparisons show a zoomed crop, because
the differences between SR methods live in edges and textures.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle


def _show(axis, image, title):
    image = np.asarray(image)
    grey = image.ndim == 2 or image.shape[-1] == 1
    axis.imshow(image.squeeze() if grey else image, cmap="gray" if grey else None,
                vmin=0, vmax=255 if image.dtype == np.uint8 else 1, interpolation="nearest")
    axis.set_title(title, fontsize=9)
    axis.axis("off")


def busiest_crop(image, size):
    """Top-left corner of the ``size`` x ``size`` window with the most gradient energy."""
    grey = np.asarray(image, np.float64).mean(axis=-1) if np.ndim(image) == 3 else np.asarray(image, np.float64)
    energy = np.abs(np.diff(grey, axis=0))[:, :-1] + np.abs(np.diff(grey, axis=1))[:-1]
    best, corner = -1.0, (0, 0)
    step = max(size // 4, 1)
    for top in range(0, energy.shape[0] - size + 1, step):
        for left in range(0, energy.shape[1] - size + 1, step):
            value = energy[top:top + size, left:left + size].sum()
            if value > best:
                best, corner = value, (top, left)
    return corner


def compare_crops(images, titles, crop=None, crop_size=64, suptitle=None):
    """First row: whole images with the crop outlined; second row: the zoomed crops.

    Args:
        images: list of same-size uint8 images.
        titles: one title per image (put the PSNR in it).
        crop: ``(top, left)`` of the zoomed window; default the busiest window of the last image.
        crop_size: side of the zoomed window in pixels.
    """
    if not len(images) or len(titles) != len(images):
        raise ValueError(f"`images` and `titles` must be non-empty and as long as each other. Received: "
                         f"{len(images)} images, {len(titles)} titles")
    top, left = crop if crop is not None else busiest_crop(images[-1], crop_size)
    height, width = np.shape(images[0])[:2]
    if not (0 <= top <= height - crop_size and 0 <= left <= width - crop_size):
        raise ValueError(f"`crop` must put a {crop_size}x{crop_size} window inside the {height}x{width} images. "
                         f"Received: crop={crop!r}")
    figure, axes = plt.subplots(2, len(images), figsize=(2.6 * len(images), 6.2), squeeze=False,
                                layout="constrained")
    for column, (image, title) in enumerate(zip(images, titles)):
        _show(axes[0, column], image, title)
        axes[0, column].add_patch(Rectangle((left, top), crop_size, crop_size, fill=False, edgecolor="red", lw=1.5))
        zoom_title = " ".join(["zoom"] + title.split()[:1])  # "zoom bicubic" for "bicubic 30.1 dB"
        _show(axes[1, column], np.asarray(image)[top:top + crop_size, left:left + crop_size], zoom_title)
    if suptitle:
        figure.suptitle(suptitle)
    return figure


def protocol_crops(hr_image, scale, upscalers, name="", crop_size=64):
    """Each upscaler's output of the protocol LR of ``hr_image`` beside HR, with zoomed crops.

    Args:
        hr_image: uint8 HR image.
        scale: int, the protocol's scale.
        upscalers: ``{label: upscale(lr_uint8, scale) -> sr_uint8}`` in display order,
            e.g. ``{"bicubic": evaluate.fir_upscaler("bicubic"), "ESPCN": models.upscaler(model)}``.
        name: the image's name, for the title.
        crop_size: side of the zoomed window in pixels. Default 64.

    Returns:
        ``(figure, psnr)``: the figure and ``{label: Y-PSNR}`` under the protocol.
    """
    from srlib import evaluate
    from srlib.resize import degrade

    hr_cropped, lr_image = degrade(hr_image, scale)
    psnr, shown = {}, []
    for label, upscale in upscalers.items():
        psnr[label], _, _, _, sr_image = evaluate.evaluate_pair(hr_cropped, lr_image, upscale, scale)
        shown.append(sr_image)
    titles = [f"{label} {value:.2f} dB" for label, value in psnr.items()] + ["HR (ground truth)"]
    figure = compare_crops(shown + [hr_cropped], titles, crop_size=crop_size,
                           suptitle=f"'{name}' x{scale} (Y-PSNR under the protocol)")
    return figure, psnr


def fir_comparison_figure(dataset, image_index, scale, methods):
    """HR and every FIR method's upscale of the protocol LR, with Y-PSNR in the titles."""
    from srlib import datasets, evaluate

    name, hr_image = datasets.load_images(dataset)[image_index]
    shown, titles = [], []
    for method in methods:
        psnr_y, _, hr_cropped, _, sr_image = evaluate.evaluate_image(hr_image, evaluate.fir_upscaler(method), scale)
        shown.append(sr_image)
        titles.append(f"{method} {psnr_y:.2f} dB")
    shown.append(hr_cropped)
    titles.append("HR (ground truth)")
    return compare_crops(shown, titles, suptitle=f"'{name}' x{scale}: FIR upscaling of the MATLAB-bicubic LR (Y-PSNR)")


def learning_curves(history, model_label, steps_per_epoch, scales, bicubic_psnr=None, published_psnr=None,
                    validation="Set5", validation_limit=None, loss_label="MSE"):
    """Training loss (log scale), and validation Y-PSNR against epochs and against wall-clock time.

    Args:
        history: a checkpoint saver's history: ``loss``, ``wall_time_s`` and ``val_psnr`` (one scale)
            or ``val_psnr_x<scale>`` (several); None where an epoch was not validated.
        model_label: the network in the legend, like ``"SRCNN"``.
        steps_per_epoch: optimizer steps per epoch, for the x axis label.
        scales: the validation scale, or a list of scales: one curve per scale, in its own colour.
        bicubic_psnr: bicubic's Y-PSNR on the validation images (dashed); a dict by scale for a list.
        published_psnr: the paper's Y-PSNR on all of ``validation`` (dotted); a dict by scale for a list.
        validation: the validation dataset. Default Set5.
        validation_limit: the first images of ``validation`` that were validated; None for all.
        loss_label: the training loss, for the y axis label.

    Returns:
        The figure.
    """
    several = not np.isscalar(scales)  # a list, tuple, range or array of scales
    scale_list = [int(scale) for scale in scales] if several else [scales]
    for name, values in [("bicubic_psnr", bicubic_psnr), ("published_psnr", published_psnr)]:
        if several and values is not None and not (isinstance(values, dict) and set(scale_list) <= set(values)):
            raise ValueError(f"`{name}` must be a dict with a value for each of the scales {scale_list}. "
                             f"Received: {name}={values!r}")
    images = validation if validation_limit is None else f"first {validation_limit} images of {validation}"
    epochs = np.arange(1, len(history["loss"]) + 1)
    epoch_label = f"epoch ({steps_per_epoch} steps)"
    figure, (loss_axis, epoch_axis, time_axis) = plt.subplots(1, 3, figsize=(16, 4), layout="constrained")
    loss_axis.semilogy(epochs, history["loss"], marker=".")
    loss_axis.set(title="Training loss", xlabel=epoch_label, ylabel=f"{loss_label} (log scale)")
    for axis, x_values, x_label in [(epoch_axis, epochs, epoch_label),
                                    (time_axis, np.array(history["wall_time_s"], dtype=float) / 60,
                                     "wall-clock time (minutes)")]:
        for index, scale in enumerate(scale_list):
            suffix, colour = (f" x{scale}", f"C{index}") if several else ("", None)
            values = history[f"val_psnr_x{scale}" if several else "val_psnr"]
            validated = [index for index, value in enumerate(values) if value is not None]  # every N epochs
            axis.plot(np.asarray(x_values)[validated], np.asarray(values)[validated].astype(float), marker=".",
                      color=colour, label=f"{model_label}{suffix}, this run")
            bicubic = bicubic_psnr[scale] if several and bicubic_psnr is not None else bicubic_psnr
            if bicubic is not None:
                axis.axhline(bicubic, color=colour or "gray", linestyle="--", label=f"bicubic{suffix}, same images")
            published = published_psnr[scale] if several and published_psnr is not None else published_psnr
            if published is not None:
                axis.axhline(published, color=colour or "black", linestyle=":",
                             label=f"published {model_label}{suffix} (all of {validation})")
        axis.set(title=f"Validation {', '.join(f'x{scale}' for scale in scale_list)} on {images}", xlabel=x_label,
                 ylabel="Y-PSNR (dB)")
    epoch_axis.legend(fontsize=8)
    return figure
