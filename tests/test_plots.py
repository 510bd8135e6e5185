"""Plotting helpers: the learning-curve figure of the training notebooks."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from srlib import plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _labels(axis):
    return [line.get_label() for line in axis.get_lines()]


def test_learning_curves_one_scale():
    history = {"loss": [0.01, 0.005, 0.004], "val_psnr": [30.0, 31.0, 31.5], "wall_time_s": [60.0, 120.0, 180.0]}
    figure = plots.learning_curves(history, "SRCNN", 500, 3, bicubic_psnr=30.4, published_psnr=32.75,
                                   validation_limit=2)
    loss_axis, epoch_axis, time_axis = figure.axes
    assert loss_axis.get_yscale() == "log" and loss_axis.get_title() == "Training loss"
    assert epoch_axis.get_title() == time_axis.get_title() == "Validation x3 on first 2 images of Set5"
    assert epoch_axis.get_xlabel() == "epoch (500 steps)" and time_axis.get_xlabel() == "wall-clock time (minutes)"
    assert _labels(epoch_axis) == ["SRCNN, this run", "bicubic, same images", "published SRCNN (all of Set5)"]
    assert list(time_axis.get_lines()[0].get_xdata()) == [1.0, 2.0, 3.0]  # minutes
    assert time_axis.get_lines()[2].get_ydata()[0] == 32.75


def test_learning_curves_skip_epochs_without_validation():
    history = {"loss": [0.01, 0.005, 0.004, 0.003], "val_psnr": [None, 31.0, None, 31.5],
               "wall_time_s": [60.0, 120.0, 180.0, 240.0]}
    epoch_axis, time_axis = plots.learning_curves(history, "ESPCN", 500, 3).axes[1:]
    assert list(epoch_axis.get_lines()[0].get_xdata()) == [2, 4]
    assert list(epoch_axis.get_lines()[0].get_ydata()) == [31.0, 31.5]
    assert list(time_axis.get_lines()[0].get_xdata()) == [2.0, 4.0]  # minutes


def test_learning_curves_several_scales_draw_one_curve_per_scale():
    history = {"loss": [0.01, 0.005], "wall_time_s": [30.0, 60.0], "val_psnr": [31.0, 32.0],
               **{f"val_psnr_x{scale}": [40.0 - scale, 41.0 - scale] for scale in (2, 3, 4)}}
    figure = plots.learning_curves(history, "VDSR", 250, [2, 3, 4],
                                   bicubic_psnr={2: 33.7, 3: 30.4, 4: 28.4})
    epoch_axis = figure.axes[1]
    assert epoch_axis.get_title() == "Validation x2, x3, x4 on Set5"
    assert _labels(epoch_axis) == ["VDSR x2, this run", "bicubic x2, same images", "VDSR x3, this run",
                                   "bicubic x3, same images", "VDSR x4, this run", "bicubic x4, same images"]
    assert list(epoch_axis.get_lines()[4].get_ydata()) == [36.0, 37.0]


def test_protocol_crops_measures_each_upscaler_under_the_protocol():
    from srlib import datasets, evaluate

    name, hr_image = datasets.load_images("embedded")[1]
    upscalers = {"bicubic": evaluate.fir_upscaler("bicubic"), "lanczos3": evaluate.fir_upscaler("lanczos3")}
    figure, psnr = plots.protocol_crops(hr_image, 3, upscalers, name, crop_size=32)
    assert list(psnr) == ["bicubic", "lanczos3"]
    assert psnr["bicubic"] == pytest.approx(evaluate.evaluate_image(hr_image, upscalers["bicubic"], 3)[0])
    titles = [axis.get_title() for axis in figure.axes[:3]]
    assert titles == [f"bicubic {psnr['bicubic']:.2f} dB", f"lanczos3 {psnr['lanczos3']:.2f} dB", "HR (ground truth)"]
    assert name in figure._suptitle.get_text()


def test_busiest_crop_finds_the_textured_window():
    image = np.full((64, 64, 3), 128, np.uint8)
    image[32:48, 16:32] = np.indices((16, 16)).sum(axis=0)[..., None] % 2 * 255  # a checkerboard patch
    assert plots.busiest_crop(image, 16) == (32, 16)
    assert plots.busiest_crop(image[..., 0], 16) == (32, 16)  # greyscale too


def test_compare_crops_outlines_and_zooms_the_same_window():
    images = [np.full((40, 50, 3), value, np.uint8) for value in (10, 200)]
    figure = plots.compare_crops(images, ["first 30.00 dB", "second 31.00 dB"], crop=(8, 12), crop_size=16,
                                 suptitle="two images")
    whole, zoomed = figure.axes[:2], figure.axes[2:]
    assert [axis.get_title() for axis in whole] == ["first 30.00 dB", "second 31.00 dB"]
    assert [axis.get_title() for axis in zoomed] == ["zoom first", "zoom second"]
    outline = whole[0].patches[0]
    assert (outline.get_x(), outline.get_y(), outline.get_width(), outline.get_height()) == (12, 8, 16, 16)
    assert zoomed[1].get_images()[0].get_array().shape == (16, 16, 3)
    assert figure._suptitle.get_text() == "two images"


def test_fir_comparison_figure_titles_carry_each_methods_protocol_psnr():
    from srlib import datasets, evaluate

    figure = plots.fir_comparison_figure("embedded", 1, 3, ["bicubic", "nearest"])
    titles = [axis.get_title() for axis in figure.axes[:3]]
    hr_image = datasets.load_images("embedded")[1][1]
    for title, method in zip(titles, ["bicubic", "nearest"]):
        psnr_y = evaluate.evaluate_image(hr_image, evaluate.fir_upscaler(method), 3)[0]
        assert title == f"{method} {psnr_y:.2f} dB"
    assert titles[2] == "HR (ground truth)"


def test_bad_arguments_are_named():
    history = {"loss": [0.01], "wall_time_s": [30.0], **{f"val_psnr_x{scale}": [30.0] for scale in (2, 3)}}
    assert len(plots.learning_curves(history, "VDSR", 250, range(2, 4)).axes) == 3  # any sequence of scales
    with pytest.raises(ValueError, match=r"`bicubic_psnr` must be a dict with a value for each of the scales \[2, 3\]"):
        plots.learning_curves(history, "VDSR", 250, [2, 3], bicubic_psnr={2: 33.7})
    with pytest.raises(ValueError, match="`published_psnr` must be a dict"):
        plots.learning_curves(history, "VDSR", 250, [2, 3], published_psnr=37.5)
    image = np.zeros((80, 80, 3), np.uint8)
    with pytest.raises(ValueError, match="as long as each other. Received: 2 images, 1 titles"):
        plots.compare_crops([image, image], ["bicubic"])
    with pytest.raises(ValueError, match=r"`crop` must put a 64x64 window inside the 80x80 images"):
        plots.compare_crops([image], ["bicubic"], crop=(20, 0))
