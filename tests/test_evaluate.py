"""The protocol check: our bicubic must land on the published bicubic numbers."""

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import require_dataset
from srlib import evaluate, images


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_set5_bicubic_matches_published(scale):
    require_dataset("Set5")
    result = evaluate.evaluate("bicubic", "Set5", scale)
    assert result.images == 5
    assert result.psnr_y == pytest.approx(evaluate.published_psnr("bicubic", "Set5", scale), abs=0.02)
    # SSIM too: the published bicubic SSIM was computed with MATLAB's Gaussian-window ssim
    assert result.ssim_y == pytest.approx(evaluate.published_ssim("bicubic", "Set5", scale), abs=0.001)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_set14_bicubic_matches_published(scale):
    require_dataset("Set14")
    result = evaluate.evaluate("bicubic", "Set14", scale)
    assert result.images == 14
    assert result.psnr_y == pytest.approx(evaluate.published_psnr("bicubic", "Set14", scale), abs=0.1)
    assert result.ssim_y == pytest.approx(evaluate.published_ssim("bicubic", "Set14", scale), abs=0.002)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_the_papers_float_luma_bicubic_gives_the_published_digits(scale):
    """The residual 0.01 dB / 0.0004 SSIM of the protocol's bicubic rows is the papers' own
    pipeline (luma alone, LR unrounded): with it, Set5 lands on every printed digit."""
    require_dataset("Set5")
    from srlib import datasets

    values = np.array([evaluate.bicubic_on_float_luma(hr, scale) for _, hr in datasets.load_images("Set5")])
    psnr_y, ssim_y = values.mean(axis=0)
    assert round(psnr_y, 2) == evaluate.published_psnr("bicubic", "Set5", scale)
    assert round(ssim_y, 4) == evaluate.published_ssim("bicubic", "Set5", scale)
    protocol = evaluate.evaluate("bicubic", "Set5", scale)
    assert 0 < psnr_y - protocol.psnr_y < 0.02 and 0 < ssim_y - protocol.ssim_y < 0.001


def test_wrong_kernel_misses_the_published_number():
    """The check can fail: OpenCV-style bicubic LR (no antialiasing) is far off."""
    require_dataset("Set5")
    from srlib import datasets, metrics
    from srlib.resize import crop_to_multiple, imresize

    values = []
    for _, hr in datasets.load_images("Set5"):
        hr = crop_to_multiple(hr, 4)
        lr = imresize(hr, scale=1 / 4, antialias=False)
        values.append(metrics.psnr(hr, imresize(lr, scale=4), crop_border=4, y_channel=True))
    assert abs(np.mean(values) - 28.42) > 0.3


def test_published_table_has_sources():
    table = evaluate.published_table()
    assert "protocol" in table and table["sources"]
    assert evaluate.published_psnr("vdsr", "Set5", 3) == 33.66
    assert evaluate.published_psnr("bicubic", "Urban100", 2) is None
    assert evaluate.published_ssim("vdsr", "Set5", 2) == 0.9587
    assert evaluate.published_ssim("espcn", "Set5", 3) is None  # the paper reports no SSIM
    assert "ssim" in table["sources"]


def test_evaluate_rejects_bad_scale_and_bad_upscaler():
    with pytest.raises(ValueError, match="scale"):
        evaluate.evaluate("bicubic", "embedded", 1)
    with pytest.raises(ValueError, match="`hr_image` must be uint8"):
        evaluate.bicubic_on_float_luma(np.zeros((8, 8, 3), np.float32), 2)
    with pytest.raises(ValueError, match="expected uint8"):
        evaluate.evaluate(lambda lr, scale: lr, "embedded", 2)


def test_evaluate_names_the_image_it_cannot_measure(tmp_path):
    images.write_image(tmp_path / "tiny.png", np.full((8, 8, 3), 128, np.uint8))
    with pytest.raises(ValueError, match=r"image 'tiny' \(8x8\): SSIM needs"):
        evaluate.evaluate("bicubic", tmp_path, 2)


def _run_cli(*arguments):
    return subprocess.run([sys.executable, "-m", "srlib", *arguments], capture_output=True, text=True, timeout=300)


def test_cli_json_output():
    completed = _run_cli("evaluate", "--method", "lanczos3", "--dataset", "embedded", "--scale", "3", "--json")
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert set(result) == {"dataset", "scale", "method", "images", "psnr_y", "ssim_y", "per_image", "protocol"}
    assert result["protocol"] == evaluate.PROTOCOL
    assert result["images"] == 5 and len(result["per_image"]) == 5
    expected = evaluate.evaluate("lanczos3", "embedded", 3)  # the CLI prints what the library measures
    assert result["psnr_y"] == pytest.approx(expected.psnr_y, abs=1e-9)
    assert result["ssim_y"] == pytest.approx(expected.ssim_y, abs=1e-9)


def test_cli_table_and_errors():
    completed = _run_cli("evaluate", "--method", "bicubic", "--dataset", "embedded", "--scale", "2", "--limit", "2")
    assert completed.returncode == 0 and "PSNR-Y" in completed.stdout and "Protocol" in completed.stdout
    completed = _run_cli("evaluate", "--method", "sinc9", "--dataset", "embedded")
    assert completed.returncode == 2 and "method must be one of" in completed.stderr
    completed = _run_cli("evaluate", "--dataset", "NoSuchSet")
    assert completed.returncode == 2 and "unknown dataset" in completed.stderr


def test_published_vs_ours_rows():
    from srlib.evaluate import EvaluationResult, ImageResult

    def result(dataset, method, psnr_y, images=5):
        return EvaluationResult(dataset, 3, method, [ImageResult(str(i), psnr_y, 0.9) for i in range(images)])

    table = evaluate.published_vs_ours("espcn", [
        (result("Set5", "espcn", 32.0), result("Set5", "bicubic", 30.0), "shipped"),
        (result("Set14", "espcn", 29.0, images=2), result("Set14", "bicubic", 27.0, images=2))])
    set5, set14 = table.splitlines()[2:]
    published = evaluate.published_psnr("espcn", "Set5", 3)
    assert f"{published:.2f}" in set5 and "shipped" in set5 and "+2.00" in set5
    assert f"{published - evaluate.published_psnr('bicubic', 'Set5', 3):+.2f}" in set5
    assert set14.split()[2] == "2"  # images
    assert set5.split()[-2:] == ["-", "0.9000"]  # ESPCN published no SSIM; ours
    srcnn = evaluate.published_vs_ours("srcnn", [(result("Set5", "srcnn", 32.0), result("Set5", "bicubic", 30.0))])
    assert f"{evaluate.published_ssim('srcnn', 'Set5', 3):.4f}" in srcnn
    subset = evaluate.published_vs_ours("espcn", [(result("Set5", "espcn", 32.0, images=2),
                                                   result("Set5", "bicubic", 30.0, images=2))])
    assert "(subset)" in subset and f"{published:.2f}" not in subset
    with pytest.raises(ValueError, match="Set14"):
        evaluate.published_vs_ours("espcn", [(result("Set5", "espcn", 32.0), result("Set14", "bicubic", 27.0))])


def test_checkerboard_ratios_finds_the_pattern_of_an_upscaler_with_unequal_phases():
    def patterned_bicubic(lr_image, scale):  # bicubic, then every other pixel 3 % brighter
        upscaled = evaluate.fir_upscaler("bicubic")(lr_image, scale).astype(np.float64)
        upscaled[::2, ::2] *= 1.03
        return np.clip(np.round(upscaled), 0, 255).astype(np.uint8)

    clean = evaluate.checkerboard_ratios("bicubic", "embedded", 2, limit=2)
    patterned = evaluate.checkerboard_ratios(patterned_bicubic, "embedded", 2, limit=2)
    assert len(clean) == len(patterned) == 2
    assert max(clean) < 3.0
    assert min(patterned) > 10 * max(clean)


def test_a_dataset_is_reported_under_its_registered_name():
    # "default" is an alias of the embedded set; a lower-case "set5" must find Set5's published row.
    result = evaluate.evaluate("bicubic", "default", 2, limit=1)
    assert result.dataset == "embedded"
    assert evaluate._dataset_name("set5") == "Set5" and evaluate._dataset_name("bsd100") == "B100"
    assert evaluate._dataset_name("no-such-set") == "no-such-set"


def test_format_table_puts_the_published_row_beside_whole_sets_only():
    def result(method, images, psnr):
        return evaluate.EvaluationResult("Set5", 2, method, [evaluate.ImageResult(f"i{index}", psnr, 0.9)
                                                              for index in range(images)])

    rows = evaluate.format_table([result("bicubic", 5, 33.60), result("bicubic", 2, 35.0),
                                  result("my_filter", 5, 30.0)]).splitlines()
    assert rows[0].split() == ["method", "dataset", "scale", "images", "PSNR-Y", "SSIM-Y", "published", "diff"]
    assert rows[2].split() == ["bicubic", "Set5", "x2", "5", "33.60", "0.9000", "33.66", "-0.06"]
    assert rows[3].split() == ["bicubic", "Set5", "x2", "2", "35.00", "0.9000", "33.66", "subset"]
    assert rows[4].split() == ["my_filter", "Set5", "x2", "5", "30.00", "0.9000", "-"]
    assert "published" not in evaluate.format_table([result("bicubic", 5, 33.6)], published=False)


def test_a_luma_model_is_measured_on_its_own_y_output():
    import keras

    from srlib import color, metrics, models, resize

    # Saturated colour bars: Y with interpolated chroma leaves the RGB cube at their edges, so
    # the RGB image's Y is not the network's.
    hr = np.zeros((48, 48, 3), np.uint8)
    hr[:, 8:24, 0] = 255
    hr[:, 24:40, 2] = 255
    hr[20:30] = [0, 255, 0]
    model = keras.Sequential([keras.Input((None, None, 1)), keras.layers.Identity()])  # "SR" = bicubic of LR Y
    upscale = models.upscaler(model)
    hr_cropped, lr = resize.degrade(hr, 3)
    psnr_y, ssim_y, _, _, sr = evaluate.evaluate_pair(hr_cropped, lr, upscale, 3)
    network_y = upscale.with_luma(lr, 3)[1]
    expected_y = np.floor(np.clip(resize.imresize(color.rgb_to_ycbcr(lr / 255.0)[..., :1], scale=3,
                                                  method="bicubic"), 0, 1) * 255 + 0.5).astype(np.uint8)
    np.testing.assert_array_equal(network_y, expected_y)
    assert psnr_y == metrics.psnr(color.rgb_to_y(hr_cropped), expected_y, crop_border=3)
    assert ssim_y == metrics.ssim(color.rgb_to_y(hr_cropped), expected_y, crop_border=3)
    np.testing.assert_array_equal(sr, upscale(lr, 3))
    assert abs(psnr_y - metrics.psnr(hr_cropped, sr, crop_border=3, y_channel=True)) > 0.01  # the RGB round trip
    with pytest.raises(ValueError, match="`lr_image` must be uint8 in \\[0, 255\\]. Received: dtype float64"):
        upscale(lr / 255.0, 3)


def test_a_float_hr_image_is_named_not_blamed_on_the_upscaler():
    with pytest.raises(ValueError, match="`hr_image` must be uint8 in \\[0, 255\\]. Received: dtype float32"):
        evaluate.evaluate_image(np.zeros((24, 24, 3), np.float32), evaluate.fir_upscaler("bicubic"), 3)
