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
    top, left = crop if crop is not None else busiest_crop(images[-1], crop_size)
    figure, axes = plt.subplots(2, len(images), figsize=(2.6 * len(images), 6.2), squeeze=False,
                                layout="constrained")
    for column, (image, title) in enumerate(zip(images, titles)):
        _show(axes[0, column], image, title)
        axes[0, column].add_patch(Rectangle((left, top), crop_size, crop_size, fill=False, edgecolor="red", lw=1.5))
        _show(axes[1, column], np.asarray(image)[top:top + crop_size, left:left + crop_size], f"zoom {title.split()[0]}")
    if suptitle:
        figure.suptitle(suptitle)
    return figure


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
