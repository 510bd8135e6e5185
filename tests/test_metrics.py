import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from srlib import color, metrics


def _pair(rng, shape=(64, 72, 3), noise=12.0):
    clean = rng.integers(0, 256, shape, dtype=np.uint8)
    noisy = np.clip(clean + rng.normal(0, noise, shape), 0, 255).astype(np.uint8)
    return clean, noisy


def test_psnr_matches_skimage(rng):
    clean, noisy = _pair(rng)
    assert metrics.psnr(clean, noisy) == pytest.approx(peak_signal_noise_ratio(clean, noisy, data_range=255), abs=1e-9)


def test_psnr_known_value():
    reference = np.zeros((10, 10), np.float64)
    assert metrics.psnr(reference, reference + 0.1) == pytest.approx(20.0)
    assert metrics.psnr(reference, reference) == float("inf")


def test_ssim_matches_skimage_gaussian(rng):
    clean, noisy = _pair(rng)
    expected = structural_similarity(clean, noisy, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                     data_range=255, channel_axis=-1)
    assert metrics.ssim(clean, noisy) == pytest.approx(expected, abs=1e-9)


def test_y_channel_and_crop_border(rng):
    clean, noisy = _pair(rng)
    shaved_y = metrics.psnr(clean, noisy, crop_border=4, y_channel=True)
    expected = peak_signal_noise_ratio(color.rgb_to_y(clean)[4:-4, 4:-4], color.rgb_to_y(noisy)[4:-4, 4:-4],
                                       data_range=255)
    assert shaved_y == pytest.approx(expected, abs=1e-9)
    # the border matters: corrupt only the border and the shaved PSNR must ignore it
    corrupted = clean.copy()
    corrupted[:3] = 0
    assert metrics.psnr(clean, corrupted, crop_border=3) == float("inf")
    assert metrics.psnr(clean, corrupted) < 30


def test_float_images_use_unit_range(rng):
    clean, noisy = _pair(rng)
    assert metrics.psnr(clean / 255.0, noisy / 255.0) == pytest.approx(metrics.psnr(clean, noisy), abs=1e-9)
    assert metrics.ssim(clean / 255.0, noisy / 255.0) == pytest.approx(metrics.ssim(clean, noisy), abs=1e-9)


def test_ssim_of_identical_images_is_one(rng):
    clean, _ = _pair(rng)
    assert metrics.ssim(clean, clean, crop_border=2, y_channel=True) == pytest.approx(1.0)


@pytest.mark.parametrize("call", [
    lambda: metrics.psnr(np.zeros((8, 8)), np.zeros((8, 9))),
    lambda: metrics.psnr(np.zeros((8, 8), np.uint8), np.zeros((8, 8))),
    lambda: metrics.psnr(np.zeros((8, 8)), np.zeros((8, 8)), crop_border=4),
    lambda: metrics.ssim(np.zeros((10, 10)), np.zeros((10, 10))),
])
def test_bad_input(call):
    with pytest.raises(ValueError):
        call()


@pytest.mark.parametrize("image, message", [
    (np.full((8, 8), 200, np.uint16), "uint8 in \\[0, 255\\] or float in \\[0, 1\\], got uint16"),
    (np.full((8, 8), 200, np.int64), "got int64"),
    (np.full((8, 8), 200.0, np.float32), "float images must be in \\[0, 1\\] \\(values from 199 to 200"),
    (np.full((8, 8), -200.0, np.float32), "values from -201 to -200"),
])
def test_images_of_another_range_are_refused_not_scored_against_the_wrong_peak(image, message):
    # They scored about 48 dB too low (the peak is 255 only for uint8).
    for metric in (metrics.psnr, metrics.ssim):
        with pytest.raises(ValueError, match=message):
            metric(image, image - 1, crop_border=0)


@pytest.mark.parametrize("crop_border", [2.0, -1, True])
def test_crop_border_must_be_a_non_negative_integer(crop_border):
    with pytest.raises(ValueError, match="`crop_border` must be an integer >= 0"):
        metrics.psnr(np.zeros((16, 16)), np.zeros((16, 16)), crop_border=crop_border)


def _bicubic_round_trip(scale):
    """An embedded photo through the protocol with bicubic: HR and its upscale, uint8."""
    from srlib import datasets, evaluate
    _, hr_image = datasets.load_images("embedded", limit=1)[0]
    _, _, hr_cropped, _, upscaled = evaluate.evaluate_image(hr_image, evaluate.fir_upscaler("bicubic"), scale)
    return hr_cropped, upscaled


@pytest.mark.parametrize("scale", [2, 4])
def test_checkerboard_ratio_separates_a_grid_pattern_from_interpolation(scale):
    hr_image, upscaled = _bicubic_round_trip(scale)
    clean = metrics.checkerboard_ratio(upscaled, hr_image, scale, crop_border=scale, y_channel=True)
    # a 2 % modulation with period `scale`, as unequal sub-pixel phases make
    rows, columns = np.indices(upscaled.shape[:2])
    pattern = 1 + 0.02 * np.where((rows % scale == 0) ^ (columns % scale == 0), 1.0, -1.0)
    patterned = np.clip(np.round(upscaled * pattern[..., None]), 0, 255).astype(np.uint8)
    with_grid = metrics.checkerboard_ratio(patterned, hr_image, scale, crop_border=scale, y_channel=True)
    assert clean < 3.0
    assert with_grid > 10 * clean


def test_checkerboard_ratio_ignores_a_pattern_of_another_period():
    hr_image, upscaled = _bicubic_round_trip(4)
    columns = np.indices(upscaled.shape[:2])[1]
    pattern = 1 + 0.02 * np.sin(2 * np.pi * columns / 7)  # period 7: not on the grid of period 4
    patterned = np.clip(np.round(upscaled * pattern[..., None]), 0, 255).astype(np.uint8)
    assert metrics.checkerboard_ratio(patterned, hr_image, 4, crop_border=4, y_channel=True) < 3.0


@pytest.mark.parametrize("arguments, message", [
    (dict(scale=1), "`scale` must be an integer >= 2"),
    (dict(scale=2.0), "`scale` must be an integer >= 2"),
    (dict(scale=2, neighbourhood=0), "`neighbourhood` must be a positive integer"),
    (dict(scale=8), "too small"),
])
def test_checkerboard_ratio_rejects_bad_arguments(arguments, message):
    image = np.zeros((40, 40), np.uint8)
    with pytest.raises(ValueError, match=message):
        metrics.checkerboard_ratio(image, image, **arguments)


def test_a_nan_image_does_not_hide_the_other_images_range():
    with pytest.raises(ValueError, match="float images must be in"):
        metrics.psnr(np.full((8, 8), np.nan), np.full((8, 8), 300.0))
