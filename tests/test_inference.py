"""Tests of srlib.inference: tiled == whole-image results, colour pipeline, TFLite, files, video, memory."""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from PIL import Image

from srlib import export, images, inference, models, networks
from srlib.resize import imresize

# Small configurations: exactness does not depend on width.
CASES = [("espcn", 3, {"filters": (16, 8)}), ("fsrcnn", 3, {"d": 16, "m": 2}), ("sp_vdsr", 2, {}),
         ("sp_vdsr_nearest", 2, {}), ("sp_vdsr_second_input", 2, {}), ("srcnn", 2, {"filters": (16, 8)}),
         ("vdsr", 2, {"depth": 5, "filters": 8})]


@pytest.fixture(scope="module")
def built():
    keras.utils.set_random_seed(0)
    return {name: models.build(name, scale, **kwargs) for name, scale, kwargs in CASES}


def _whole(model, image, scale):
    """The reference: the model on the whole image at once."""
    if len(model.inputs) == 2:
        return model([image[None], imresize(image[None], scale=scale, method="lanczos3")]).numpy()[0]
    return model(image[None]).numpy()[0]


# --- Tile layout ------------------------------------------------------------------------------------


@pytest.mark.parametrize("length, tile, overlap", [(100, 32, 5), (33, 32, 5), (32, 32, 5), (10, 32, 5),
                                                   (97, 20, 0), (1000, 128, 20), (23, 12, 5)])
def test_tile_spans_partition_the_axis_and_keep_the_context(length, tile, overlap):
    spans = inference.tile_spans(length, tile, overlap)
    size = min(tile, length)
    assert spans[0][1] == 0 and spans[-1][2] == length
    for (start, keep_begin, keep_end), following in zip(spans, spans[1:] + [None]):
        assert 0 <= start and start + size <= length  # never past the image: no padding it did not have
        assert start <= keep_begin < keep_end <= start + size
        if following is not None:
            assert following[1] == keep_end  # kept ranges are contiguous
        if keep_begin > 0:
            assert keep_begin - start >= overlap
        if keep_end < length:
            assert start + size - keep_end >= overlap


def test_tile_must_exceed_twice_the_overlap(built):
    with pytest.raises(ValueError, match="tile"):
        inference.tile_spans(100, 10, 5)
    # The message gives the whole tile as passed, the image and where the overlap came from.
    network = networks.as_network(built["fsrcnn"])
    narrow = 2 * network.context - 1
    with pytest.raises(ValueError, match=rf"overlap \({network.context} pixels, overlap='auto'.*a 40x{narrow} tile "
                                         rf"\(height x width\) on a 50x60 image. Received: tile=\(40, {narrow}\)"):
        inference.tiled_run(np.zeros((50, 60, 1), np.float32), network, tile=(40, narrow))
    with pytest.raises(ValueError, match=r"overlap \(9 pixels, as given\)"):
        inference.tiled_run(np.zeros((50, 60, 1), np.float32), network, tile=16, overlap=9)


# --- Exactness --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, scale, kwargs", CASES, ids=[case[0] for case in CASES])
def test_tiled_equals_whole_image(built, name, scale, kwargs, rng):
    model = built[name]
    network = networks.as_network(model, scale=scale, batch_size=4)
    image = rng.uniform(0, 1, (61, 53, 1)).astype("float32")  # odd sizes, several tiles per axis
    assert network.context == models.receptive_field(model) + (3 if name == "sp_vdsr_second_input" else 0)
    tiled = inference.tiled_run(image, network, tile=(26, 22))
    np.testing.assert_allclose(tiled, _whole(model, image, scale), atol=1e-5)


def test_too_small_an_overlap_leaves_seams(built, rng):
    model = built["fsrcnn"]
    network = networks.as_network(model)
    image = rng.uniform(0, 1, (61, 53, 1)).astype("float32")
    seams = inference.tiled_run(image, network, tile=(26, 22), overlap=network.context - 3)
    assert np.abs(seams - _whole(model, image, 3)).max() > 1e-3


def test_image_smaller_than_a_tile_runs_whole(built, rng):
    model = built["espcn"]
    image = rng.uniform(0, 1, (9, 40, 1)).astype("float32")  # one axis below the tile, one above
    tiled = inference.tiled_run(image, networks.as_network(model), tile=(32, 16))
    np.testing.assert_allclose(tiled, _whole(model, image, 3), atol=1e-5)


@pytest.mark.parametrize("name", ["espcn", "sp_vdsr_second_input", "vdsr"])
def test_colour_pipeline_tiled_equals_whole(built, name, rng):
    scale = dict((case[0], case[1]) for case in CASES)[name]
    rgb = rng.integers(0, 256, (45, 38, 3), dtype=np.uint8)
    whole = inference.upscale_image(rgb, built[name], scale=scale, tile=1000)
    tiled = inference.upscale_image(rgb, built[name], scale=scale, tile=(26, 22))
    assert tiled.shape == (45 * scale, 38 * scale, 3) and tiled.dtype == np.uint8
    assert np.abs(tiled.astype(int) - whole).max() <= 1  # float differences of 1e-7 can flip a rounding
    floats = rgb.astype("float32") / 255
    np.testing.assert_allclose(inference.upscale_image(floats, built[name], scale=scale, tile=(26, 22)),
                               inference.upscale_image(floats, built[name], scale=scale, tile=1000), atol=1e-5)


@pytest.mark.parametrize("name", ["espcn", "sp_vdsr_second_input", "vdsr"])
def test_matches_the_protocol_upscaler_with_its_bicubic_chroma(built, name, rng):
    # Evaluation (models.upscaler) and inference must feed a model the same input by default:
    # SP-VDSR's second input is Lanczos-3 in both (a bicubic one differed by up to 34 levels).
    scale = dict((case[0], case[1]) for case in CASES)[name]
    model = built[name]
    rgb = rng.integers(0, 256, (30, 27, 3), dtype=np.uint8)
    expected = models.upscaler(model, scale if name == "sp_vdsr_second_input" else None)(rgb, scale)
    tiled = inference.upscale_image(rgb, model, scale=scale, tile=(20, 18), chroma="bicubic")
    assert np.abs(tiled.astype(int) - expected).max() <= 1


def test_greyscale_and_plain_interpolation(built, rng):
    grey = rng.integers(0, 256, (25, 31), dtype=np.uint8)
    upscaled = inference.upscale_image(grey, built["espcn"], tile=(16, 16))
    assert upscaled.shape == (75, 93)
    np.testing.assert_array_equal(inference.upscale_image(grey, scale=2, tile=(12, 12)),  # no model: imresize
                                  imresize(grey, scale=2, method="bicubic"))


# --- TFLite -----------------------------------------------------------------------------------------


def test_tflite_network_runs_tiles_one_by_one_with_the_card_overlap(built, tmp_path, rng):
    model = built["sp_vdsr_second_input"]
    path = tmp_path / "sp_vdsr.tflite"
    export.export_tflite(model, path, tile_shape=(24, 24), scale=2, latency_runs=1)
    network = networks.TFLiteNetwork(path)
    assert (network.tile_shape, network.scale, network.batch_size) == ((24, 24), 2, 1)
    assert network.context == models.receptive_field(model) + 3  # from the model card
    image = rng.uniform(0, 1, (61, 53, 1)).astype("float32")
    np.testing.assert_allclose(inference.tiled_run(image, network), _whole(model, image, 2), atol=1e-5)
    small = image[:10, :15]  # smaller than the exported tile: the interpreter is resized
    np.testing.assert_allclose(inference.tiled_run(small, network), _whole(model, small, 2), atol=1e-5)


def test_tflite_without_card_needs_an_explicit_overlap(built, tmp_path, rng):
    path = tmp_path / "espcn.tflite"
    path.write_bytes(export.convert(built["espcn"], (20, 20)))
    network = networks.TFLiteNetwork(path)
    image = rng.uniform(0, 1, (30, 30, 1)).astype("float32")
    with pytest.raises(ValueError, match="overlap"):
        inference.tiled_run(image, network)
    card = path.with_name(path.name + ".card.json")
    card.write_text("{not json")
    with pytest.raises(ValueError, match=r"espcn.tflite.card.json is not valid JSON"):
        networks.TFLiteNetwork(path)
    card.unlink()
    with pytest.raises(ValueError, match="tile"):
        inference.tiled_run(image, network, tile=(16, 16), overlap=4)
    np.testing.assert_allclose(inference.tiled_run(image, network, overlap=4), _whole(built["espcn"], image, 3),
                               atol=1e-5)


# --- Files and video ----------------------------------------------------------------------------------


def test_upscale_file_rgb_grey_rgba(built, tmp_path, rng):
    checkpoint = tmp_path / "espcn.keras"
    built["espcn"].save(checkpoint)
    rgb = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
    for mode, array in (("RGB", rgb), ("L", rgb[..., 0]), ("RGBA", np.dstack([rgb, rgb[..., :1]]))):
        source, target = tmp_path / f"{mode}.png", tmp_path / f"{mode}_x3.png"
        Image.fromarray(array, mode).save(source)
        assert inference.upscale_file(source, target, 3, checkpoint=checkpoint, tile=16) == target
        result = images.read_image(target)
        assert result.shape == (60, 72, 1 if mode == "L" else 3)  # alpha is dropped
    np.testing.assert_array_equal(images.read_image(tmp_path / "RGB_x3.png"),
                                  inference.upscale_image(rgb, built["espcn"], tile=16))
    # Alpha dropped means the RGBA file upscales as its RGB; grey runs the Y model on the grey values.
    np.testing.assert_array_equal(images.read_image(tmp_path / "RGBA_x3.png"),
                                  images.read_image(tmp_path / "RGB_x3.png"))
    np.testing.assert_array_equal(images.read_image(tmp_path / "L_x3.png"),
                                  inference.upscale_image(rgb[..., :1], built["espcn"], tile=16))


def test_upscale_file_weights_fir_and_refusals(built, tmp_path, rng):
    source = tmp_path / "in.png"
    Image.fromarray(rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)).save(source)
    weights = tmp_path / "sp.weights.h5"
    built["sp_vdsr"].save_weights(weights)
    inference.upscale_file(source, tmp_path / "sp.png", 2, model="sp_vdsr", checkpoint=weights)
    inference.upscale_file(source, tmp_path / "bicubic.png", 2, method="bicubic")
    rgb = images.read_image(source)
    np.testing.assert_array_equal(images.read_image(tmp_path / "sp.png"),  # the weights file's network ran
                                  inference.upscale_image(rgb, built["sp_vdsr"], scale=2))
    np.testing.assert_array_equal(images.read_image(tmp_path / "bicubic.png"), imresize(rgb, scale=2))
    with pytest.raises(ValueError, match="overwrite"):
        inference.upscale_file(source, source, 2, method="bicubic")
    with pytest.raises(ValueError, match="checkpoint"):
        inference.upscale_file(source, tmp_path / "out.png", 2, model="espcn")
    with pytest.raises(ValueError, match="x3"):
        inference.upscale_file(source, tmp_path / "out.png", 2, model=built["espcn"])


def _write_clip(path, rng, frames):
    """A 40x32 mp4v video of random frames."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (40, 32))
    for _ in range(frames):
        writer.write(rng.integers(0, 256, (32, 40, 3), dtype=np.uint8))
    writer.release()
    return path


def test_upscale_video_refuses_a_folder_and_publishes_no_empty_video(tmp_path, rng, monkeypatch):
    import cv2

    source = _write_clip(tmp_path / "clip.mp4", rng, frames=3)
    (tmp_path / "out").mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        inference.upscale_video(source, tmp_path / "out", 2, method="bicubic", progress=False)

    opencv_capture = cv2.VideoCapture

    class Undecodable:  # opens and reports a frame size, then decodes nothing (an unsupported codec)
        def __init__(self, path):
            self.capture = opencv_capture(path)

        def __getattr__(self, name):
            return getattr(self.capture, name)

        def read(self):
            return False, None

    target = tmp_path / "x2.mp4"
    target.write_bytes(b"an earlier result")
    monkeypatch.setattr(cv2, "VideoCapture", Undecodable)
    with pytest.raises(ValueError, match="decoded no frames"):
        inference.upscale_video(source, target, 2, method="bicubic", progress=False)
    assert target.read_bytes() == b"an earlier result"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["clip.mp4", "out", "x2.mp4"]


def test_upscale_video(built, tmp_path, rng):
    import cv2

    source = _write_clip(tmp_path / "clip.mp4", rng, frames=5)
    target = tmp_path / "clip_x3.mp4"
    assert inference.upscale_video(source, target, 3, built["espcn"], tile=16, progress=False) == 5
    capture = cv2.VideoCapture(str(target))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    assert len(frames) == 5 and frames[0].shape == (96, 120, 3)
    # Content and order, with plain bicubic (the random ESPCN's output looks like nothing):
    # each output frame is closest to the upscaled source frame of the same index.
    bicubic_target = tmp_path / "clip_bicubic.mp4"
    assert inference.upscale_video(source, bicubic_target, 3, method="bicubic", progress=False) == 5
    captures = cv2.VideoCapture(str(source)), cv2.VideoCapture(str(bicubic_target))
    pairs = [(cv2.resize(captures[0].read()[1], (120, 96), interpolation=cv2.INTER_CUBIC).astype(float),
              captures[1].read()[1].astype(float)) for _ in range(5)]
    for capture in captures:
        capture.release()
    for index, (_, upscaled) in enumerate(pairs):
        assert int(np.argmin([np.abs(upscaled - expected).mean() for expected, _ in pairs])) == index
    assert not list(tmp_path.glob(".clip_x3-*"))  # the temporary file was renamed
    with pytest.raises(ValueError, match="overwrite"):
        inference.upscale_video(source, source, 3, built["espcn"], progress=False)
    not_a_video = tmp_path / "notes.mp4"
    not_a_video.write_text("not a video")
    with pytest.raises(ValueError, match="notes.mp4: (not a readable video|OpenCV cannot read)"):
        inference.upscale_video(not_a_video, tmp_path / "out.mp4", 3, built["espcn"], progress=False)
    assert not (tmp_path / "out.mp4").exists()


def test_4k_frame_peak_memory_under_2_gb(tmp_path):
    # 3840x2160 RGB x2 with SP-VDSR (Y model, Lanczos-3 chroma): TensorFlow alone is ~600 MB resident.
    # The peak is the child's VmHWM: getrusage's ru_maxrss survives execve, so in a child of a
    # large pytest worker it would report the worker's peak (about 2 GB late in `make test`).
    script = textwrap.dedent("""
        import time
        import numpy as np, keras
        from srlib import inference, models
        keras.utils.set_random_seed(0)
        frame = np.random.default_rng(0).integers(0, 256, (2160, 3840, 3), dtype=np.uint8)
        start = time.perf_counter()
        out = inference.upscale_image(frame, models.build("sp_vdsr", 2))
        assert out.shape == (4320, 7680, 3) and out.dtype == np.uint8
        status = open("/proc/self/status").read()
        peak_kb = int(status.split("VmHWM:")[1].split()[0])
        print(peak_kb / 1024, time.perf_counter() - start)
    """)
    # The timeout only guards against a hang: this test measures memory, and a slow CPU may take minutes.
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    peak_mb, seconds = map(float, result.stdout.split()[-2:])
    print(f"4K x2 SP-VDSR: peak RSS {peak_mb:.0f} MB, {seconds:.1f} s")
    assert peak_mb < 2048


def test_load_network_says_where_each_kind_of_file_goes():
    with pytest.raises(ValueError, match=r"holds weights only: pass it as `checkpoint` with the model name"):
        inference.load_network("espcn_x3.weights.h5")
    with pytest.raises(ValueError, match=r"Model name 'espcn' needs `checkpoint`"):
        inference.load_network("espcn")


def test_an_interpolation_method_is_refused_for_a_network_that_takes_the_lr_image(built):
    with pytest.raises(ValueError, match="this network takes the LR image itself. Received: method='lanczos3'"):
        inference.TiledUpscaler(built["espcn"], method="lanczos3")
    assert inference.TiledUpscaler(built["vdsr"], scale=2, method="lanczos3").method == "lanczos3"


def test_callable_network_tiles_any_function(rng):
    def nearest_x2(batch):
        return np.repeat(np.repeat(batch, 2, axis=1), 2, axis=2)

    image = rng.integers(0, 256, (37, 45, 3), dtype=np.uint8)
    network = networks.CallableNetwork(nearest_x2, scale=2, channels=3, context=0)
    upscaled = inference.TiledUpscaler(network, 2, tile=16)(image)
    np.testing.assert_array_equal(upscaled, np.repeat(np.repeat(image, 2, axis=0), 2, axis=1))
    unknown_context = networks.CallableNetwork(nearest_x2, scale=2, channels=3)
    with pytest.raises(ValueError, match="overlap='auto' needs the network's receptive field"):
        inference.TiledUpscaler(unknown_context, 2, tile=16)(image)
    np.testing.assert_array_equal(inference.TiledUpscaler(unknown_context, 2, tile=16, overlap=0)(image), upscaled)


def test_a_callable_network_of_scale_one_refines_the_interpolated_image(rng):
    image = rng.integers(0, 256, (21, 17, 1), dtype=np.uint8)
    identity = networks.CallableNetwork(lambda batch: batch, scale=1, channels=1, context=0)
    upscaled = inference.TiledUpscaler(identity, 2, tile=8, method="lanczos3")(image)
    np.testing.assert_array_equal(upscaled, inference.TiledUpscaler(None, 2, method="lanczos3")(image))


@pytest.mark.parametrize("method", ["nearest", "bilinear", "bicubic", "lanczos2", "lanczos3"])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_interpolation_support_is_how_far_an_lr_pixel_reaches(method, scale):
    base = np.full((1, 40), 0.5, np.float32)
    bumped = base.copy()
    bumped[0, 20] = 0.9
    difference = imresize(bumped, scale=(1, scale), method=method) - imresize(base, scale=(1, scale), method=method)
    changed = np.nonzero(np.abs(difference[0]) > 1e-7)[0]
    assert max(abs(index // scale - 20) for index in changed) == networks.interpolation_support(scale, method)
