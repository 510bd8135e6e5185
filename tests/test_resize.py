"""srlib.resize against resize-right (a NumPy implementation of MATLAB imresize).

resize-right aligns pixel centres, MATLAB aligns the image edges; the two agree
whenever ``size * scale`` is an integer, which is every case the protocol uses
(HR is cropped to a multiple of the scale). Non-integer output sizes are checked
against MATLAB's output-size rule and the polyphase/gather equivalence instead.
"""

import warnings

import numpy as np
import pytest
import tensorflow as tf

from srlib import resize

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # "No PyTorch found": NumPy is all we use
    from resize_right import interp_methods, resize as resize_right

ORACLE_KERNELS = {"bicubic": interp_methods.cubic, "bilinear": interp_methods.linear,
                  "lanczos2": interp_methods.lanczos2, "lanczos3": interp_methods.lanczos3}
SCALES = [2, 3, 4, 1 / 2, 1 / 3, 1 / 4, 3 / 4, 4 / 3, 3 / 2, 5 / 2]
SHAPES = [(36, 48, 3), (45, 63, 1), (60, 84, 3), (17, 13, 1), (5, 7, 3)]


def _exact_cases():
    for shape in SHAPES:
        for scale in SCALES:
            if all(abs(d * scale - round(d * scale)) < 1e-9 for d in shape[:2]):
                yield shape, scale


@pytest.mark.parametrize("shape,scale", list(_exact_cases()))
@pytest.mark.parametrize("method", sorted(ORACLE_KERNELS))
def test_matches_matlab_oracle(shape, scale, method, rng):
    image = rng.random(shape)
    ours = resize.imresize(image.astype(np.float32), scale=scale, method=method)
    reference = resize_right(image, scale_factors=[scale, scale, 1], interp_method=ORACLE_KERNELS[method],
                             antialiasing=True, pad_mode="symmetric")
    assert ours.shape == reference.shape
    assert np.abs(ours - reference).max() <= 1e-4


def test_cases_cover_the_issue_list():
    covered = {scale for _, scale in _exact_cases()}
    assert {2, 3, 4, 1 / 2, 1 / 3, 1 / 4}.issubset(covered)
    assert any(scale != round(scale) and scale > 1 for scale in covered)  # non-integer up
    assert any(shape[0] % 2 for shape, _ in _exact_cases())  # odd sizes


@pytest.mark.parametrize("scale", [1 / 3, 0.7, 2.5, 1 / 2, 3 / 4, 4 / 3, 4, 1 / 4])
@pytest.mark.parametrize("axis", [1, 2])
@pytest.mark.parametrize("method", ["bicubic", "lanczos3"])
def test_polyphase_equals_gather_path(scale, axis, method, rng):
    """The strided path (interior windows on the image, border windows on mirrored strips)
    against explicit gathering, along rows and columns."""
    image = tf.constant(rng.random((2, 37, 41, 3)), tf.float32)
    kernel, width, _ = resize.resolve_method(method)
    length = image.shape[axis]
    out_length = resize.output_size((length, length), (scale, scale))[0]
    left, weights, indices = resize.contributions(length, out_length, scale, kernel, width, True)
    gathered = resize._resize_axis_gather(image, axis, weights, indices)
    structure = resize._polyphase(left, weights)
    if structure is None:
        pytest.skip("no periodic structure at this scale")
    fast = resize._resize_axis_polyphase(image, axis, length, out_length, left, weights, *structure)
    np.testing.assert_allclose(fast.numpy(), gathered.numpy(), atol=1e-6)


def test_non_integer_output_size_follows_matlab_rule(rng):
    image = rng.random((37, 41)).astype(np.float32)
    assert resize.imresize(image, scale=0.5).shape == (19, 21)  # ceil(37 / 2), ceil(41 / 2)
    assert resize.imresize(image, size=(20, 30)).shape == (20, 30)


def test_box_downscale_is_block_mean_and_nearest_upscale_repeats(rng):
    image = rng.random((12, 18, 3)).astype(np.float32)
    block_mean = image.reshape(4, 3, 6, 3, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(resize.imresize(image, scale=1 / 3, method="box"), block_mean, atol=1e-6)
    repeated = np.repeat(np.repeat(image, 2, axis=0), 2, axis=1)
    np.testing.assert_array_equal(resize.imresize(image, scale=2, method="nearest"), repeated)


@pytest.mark.parametrize("method", ["bicubic", "mitchell", "lanczos3", "bilinear", ("bc", 0.0, 0.5)])
def test_constant_image_stays_constant(method):
    image = np.full((20, 24, 3), 0.3, np.float32)
    for scale in (3, 1 / 2, 0.7):
        np.testing.assert_allclose(resize.imresize(image, scale=scale, method=method), 0.3, atol=1e-6)


def test_keys_cubic_is_the_bc_family_member():
    distances = np.linspace(-2.5, 2.5, 101)
    np.testing.assert_allclose(resize.cubic_kernel(distances), resize.bc_cubic_kernel(0, 0.5)(distances),
                               atol=1e-12)


@pytest.mark.parametrize("scale", [2, 3, 1 / 2, 1 / 4])
def test_uint8_is_the_oracle_rounded_half_away_from_zero(scale, rng):
    # MATLAB filters the integer values in double precision and rounds once at the end.
    image = rng.integers(0, 256, (48, 60, 3), dtype=np.uint8)
    ours = resize.imresize(image, scale=scale)
    reference = resize_right(image.astype(np.float64), scale_factors=[scale, scale, 1],
                             interp_method=interp_methods.cubic, antialiasing=True, pad_mode="symmetric")
    assert ours.dtype == np.uint8
    np.testing.assert_array_equal(ours, np.clip(np.floor(reference + 0.5), 0, 255))


def test_uint8_step_edge_halved_rounds_its_exact_tie_up():
    # [lo]*7 + [high]*9 halved: output column 3 is (lo + high) / 2 exactly. Filtered in float32
    # after scaling by 1/255, 569 of these 3,328 pairs came out one level low.
    pairs = [(low, high) for low in range(0, 256, 5) for high in range(low + 1, 256, 2)]
    edges = np.array([[[low] * 7 + [high] * 9] * 4 for low, high in pairs], np.uint8)[..., None]
    ours = resize.imresize(edges, scale=1 / 2)[:, 0, 3, 0]
    np.testing.assert_array_equal(ours, [(low + high + 1) // 2 for low, high in pairs])


def test_layouts_and_tensors(rng):
    batch = rng.random((2, 12, 15, 3)).astype(np.float32)
    batched = resize.imresize(tf.constant(batch), scale=2)
    assert tf.is_tensor(batched) and batched.shape == (2, 24, 30, 3)
    np.testing.assert_allclose(batched[1].numpy(), resize.imresize(batch[1], scale=2), atol=1e-6)
    assert resize.imresize(batch[0, ..., 0], scale=3).shape == (36, 45)


def test_runs_inside_tf_data(rng):
    images = rng.random((4, 12, 12, 3)).astype(np.float32)
    dataset = tf.data.Dataset.from_tensor_slices(images).map(
        lambda image: resize.imresize(image, scale=1 / 2), num_parallel_calls=tf.data.AUTOTUNE)
    first = next(iter(dataset))
    np.testing.assert_allclose(first.numpy(), resize.imresize(images[0], scale=1 / 2), atol=1e-6)


def test_degrade_crops_to_multiple(rng):
    hr = rng.integers(0, 256, (31, 35, 3), dtype=np.uint8)
    cropped, lr = resize.degrade(hr, 3)
    assert cropped.shape == (30, 33, 3) and lr.shape == (10, 11, 3)


@pytest.mark.parametrize("kwargs,message", [
    ({"scale": 2, "size": (4, 4)}, "exactly one"),
    ({}, "exactly one"),
    ({"scale": 0}, "positive"),
    ({"scale": float("nan")}, "positive"),
    ({"scale": "2"}, "positive"),
    ({"scale": 2, "method": "bicubicc"}, "method must be one of"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        resize.imresize(np.zeros((8, 8, 3), np.float32), **kwargs)


def test_bad_dtype_and_rank():
    with pytest.raises(ValueError, match="uint8 or floating"):
        resize.imresize(np.zeros((8, 8), np.int32), scale=2)
    with pytest.raises(ValueError, match="shape"):
        resize.imresize(np.zeros((1, 2, 8, 8, 3), np.float32), scale=2)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("scale", [1 / 2, 2, 3 / 2, 1 / 3])
def test_repeated_shape_runs_as_graph_with_the_same_result(dtype, scale, rng, monkeypatch):
    """Bit for bit: a result must not depend on whether its shape was seen before (the
    graph optimiser once rewrote the uint8 scaling and flipped roundings)."""
    monkeypatch.setattr(resize, "_GRAPHS", type(resize._GRAPHS)())  # every shape new, also on a rerun
    image = (rng.random((1, 30, 42, 3)) * (255 if dtype == np.uint8 else 1)).astype(dtype)
    eager = resize.imresize(image, scale=scale, method="lanczos3")  # first call with this key: eager
    key = next(reversed(resize._GRAPHS))
    assert resize._GRAPHS[key] is None
    graph = resize.imresize(image, scale=scale, method="lanczos3")  # second call: traced
    assert resize._GRAPHS[key] is not None
    np.testing.assert_array_equal(graph, eager)


def test_graph_cache_is_bounded(rng):
    for width in range(8, 8 + 2 * resize._GRAPHS_KEPT):
        resize.imresize(rng.random((6, width)).astype(np.float32), scale=2)
    assert len(resize._GRAPHS) == resize._GRAPHS_KEPT


@pytest.mark.parametrize("scale", [3 / 4, 3 / 10, 2 / 3, 1 / 4])
@pytest.mark.parametrize("channels", [1, 3])
def test_batches_of_one_channel_at_rational_factors_eager_and_graph(scale, channels, rng):
    """Border strips of a single window once hit a oneDNN bug (garbage from a strided
    convolution with one output column, batch > 1, one channel): each shape twice, so that
    the traced graph runs too, against per-image gathering."""
    images = rng.random((2, 64, 64, channels)).astype(np.float32)
    for _ in range(2):
        batched = resize.imresize(images, scale=scale)
        for image, resized in zip(images, batched):
            kernel, width, _ = resize.resolve_method("bicubic")
            reference = image[None]
            for axis in (1, 2):
                out_length = resize.output_size((64, 64), (scale, scale))[0]
                _, weights, indices = resize.contributions(64, out_length, scale, kernel, width, True)
                reference = resize._resize_axis_gather(tf.constant(reference), axis, weights, indices).numpy()
            np.testing.assert_allclose(resized, reference[0], atol=1e-5)


@pytest.mark.parametrize("channels", [2, 5, 16])
@pytest.mark.parametrize("scale", [2, 1 / 3])
def test_any_channel_count_filters_each_channel_alone(channels, scale, rng):
    # Up to 8 channels the width pass is one block matrix product (without oneDNN), beyond
    # that a transposed row filter: either must leave the channels independent.
    image = rng.random((18, 24, channels)).astype(np.float32)
    together = resize.imresize(image, scale=scale)
    apart = np.concatenate([resize.imresize(image[..., [c]], scale=scale) for c in range(channels)], axis=-1)
    np.testing.assert_allclose(together, apart, atol=1e-6)


def test_numpy_scalar_scale_and_size(rng):
    image = rng.random((12, 9)).astype(np.float32)
    np.testing.assert_array_equal(resize.imresize(image, scale=np.int64(2)), resize.imresize(image, scale=2))
    np.testing.assert_array_equal(resize.imresize(image, size=(np.int64(24), np.int32(18))),
                                  resize.imresize(image, scale=2))



# In a fresh process (TensorFlow chooses its kernels at start-up): check that the setting took
# effect, then run there the tests that exercise the kernels: the MATLAB oracle, polyphase against
# gather, batches of one channel (the oneDNN strided-convolution bug), traced against eager for
# uint8 (float32 results of oneDNN forced on a CPU without AVX-512 differ between eager and traced
# by one float32 ulp, 2.4e-7 at x2, which the rounding to 8 bits must not turn into a level).
_KERNEL_TESTS = ("(test_matches_matlab_oracle and not onednn) or test_polyphase_equals_gather_path"
                 " or test_batches_of_one_channel or (test_repeated_shape_runs_as_graph and uint8)"
                 " or test_uint8_step_edge or test_any_channel_count")
_ORACLE_TESTS_IN_A_FRESH_PROCESS = f"""
import os, sys, pytest
from srlib import resize
expected = os.environ["TF_ENABLE_ONEDNN_OPTS"] == "1"
if resize._onednn_enabled() != expected:
    sys.exit(f"oneDNN is {{resize._onednn_enabled()}}, TF_ENABLE_ONEDNN_OPTS asked for {{expected}}")
sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "-p", "no:xdist", sys.argv[1], "-k", {_KERNEL_TESTS!r}]))
"""


@pytest.mark.parametrize("onednn", ["0", "1"])
def test_matches_matlab_oracle_with_and_without_onednn(onednn):
    """TensorFlow picks its CPU kernels by the CPU (oneDNN only with AVX-512-class instructions),
    and the two sets accept different convolutions: TensorFlow's own depthwise kernel refuses
    unequal strides, which once broke every downscale on CPUs without oneDNN, and oneDNN once
    returned garbage for batches of one channel. Both run here, whatever this machine's default."""
    import os
    import subprocess
    import sys

    environment = dict(os.environ, TF_ENABLE_ONEDNN_OPTS=onednn, TF_CPP_MIN_LOG_LEVEL="2")
    completed = subprocess.run([sys.executable, "-c", _ORACLE_TESTS_IN_A_FRESH_PROCESS, __file__], env=environment,
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]


def test_unknown_channels_and_fractional_sizes_are_named():
    unknown_channels = tf.function(lambda image: resize.imresize(image, scale=0.5),
                                   input_signature=[tf.TensorSpec([12, 12, None], tf.float32)])
    with pytest.raises(ValueError, match=r"static spatial sizes and channels \(got \(1, 12, 12, None\)\)"):
        unknown_channels.get_concrete_function()
    for size in [(2.9, 2), (0.5, 2)]:
        with pytest.raises(ValueError, match="size must be a pair of whole numbers of pixels"):
            resize.imresize(np.zeros((4, 4)), size=size)
