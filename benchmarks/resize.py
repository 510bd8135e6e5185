"""srlib's MATLAB-exact bicubic against OpenCV (fast, not MATLAB-exact) and resize-right
(MATLAB-exact, NumPy), on a 1920x1080 RGB float image, measured in the same run.

    python benchmarks/resize.py [--repeats 15]

Prints the median time of each and the ratios. Targets (issue "Foundation"): srlib at
most 5x OpenCV's time and at least 10x faster than resize-right. Also prints the
largest difference to resize-right, so that speed is never bought with exactness.

srlib is timed four ways, because they cost different things:

* ``graph``: inside a ``tf.function`` traced once for the shape, which is how it runs in
  ``tf.data`` and in models: tensor in, tensor out.
* ``repeat``: ``imresize(tensor)`` called again with a shape it has seen (video frames,
  tiles): srlib runs its cached trace of that shape.
* ``first``: ``imresize(tensor)`` on a shape it has not seen (the cache emptied before each
  call): every op dispatched eagerly from Python.
* ``numpy``: ``imresize(array)`` with a seen shape, NumPy in, NumPy out like OpenCV;
  TensorFlow copies the array in and the result out (about 4 ms and 1 ms here for a 1080p
  float image).

TensorFlow runs its CPU kernels through oneDNN by default only on CPUs with AVX-512-class
instructions; elsewhere its own kernels are several times slower for these convolutions.
The header says which; ``TF_ENABLE_ONEDNN_OPTS=1 python benchmarks/resize.py`` forces oneDNN on.
"""

import argparse
import warnings

import cv2
import numpy as np
import tensorflow as tf

from srlib import resize
from srlib.models.analysis import median_seconds
from srlib.resize import imresize

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from resize_right import interp_methods, resize as resize_right


def median_milliseconds(function, repeats):
    return 1e3 * median_seconds(function, repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    arguments = parser.parse_args()

    rng = np.random.default_rng(0)
    full_hd = rng.random((1080, 1920, 3), dtype=np.float32)
    half = rng.random((540, 960, 3), dtype=np.float32)
    full_hd_tensor, half_tensor = tf.constant(full_hd), tf.constant(half)
    cases = {
        "x1/2 down 1920x1080 -> 960x540": (full_hd, full_hd_tensor, 0.5, (960, 540)),
        "x2 up 960x540 -> 1920x1080": (half, half_tensor, 2.0, (1920, 1080)),
    }
    print(f"TensorFlow {tf.__version__} (oneDNN {'on' if resize._onednn_enabled() else 'off'}), "
          f"OpenCV {cv2.__version__}, threads: TF inter/intra default, OpenCV {cv2.getNumThreads()}")
    print(f"{'case':<32} {'srlib graph/repeat/first/numpy ms':>34} {'cv2 ms':>7} {'resize-right ms':>16} "
          f"{'srlib/cv2 (graph, repeat, first, numpy)':>40} {'rr/srlib (graph, numpy)':>24} "
          f"{'max |srlib - rr|':>17}")
    for label, (array, tensor, scale, cv2_size) in cases.items():
        graph = tf.function(lambda image: imresize(image, scale=scale))

        def first_call():
            resize._GRAPHS.clear()
            return imresize(tensor, scale=scale)

        srlib_ms = [median_milliseconds(run, arguments.repeats) for run in (
            lambda: graph(tensor), lambda: imresize(tensor, scale=scale), first_call,
            lambda: imresize(array, scale=scale))]
        cv2_ms = median_milliseconds(lambda: cv2.resize(array, cv2_size, interpolation=cv2.INTER_CUBIC),
                                     arguments.repeats)
        oracle = lambda: resize_right(array, scale_factors=[scale, scale, 1], interp_method=interp_methods.cubic,
                                      antialiasing=True, pad_mode="symmetric")
        oracle_ms = median_milliseconds(oracle, max(3, arguments.repeats // 5))
        difference = np.abs(imresize(array, scale=scale) - oracle()).max()
        times = " / ".join(f"{ms:.1f}" for ms in srlib_ms)
        ratios = ", ".join(f"{ms / cv2_ms:.1f}x" for ms in srlib_ms)
        faster = f"{oracle_ms / srlib_ms[0]:.1f}x, {oracle_ms / srlib_ms[3]:.1f}x"
        print(f"{label:<32} {times:>34} {cv2_ms:>7.2f} {oracle_ms:>16.1f} {ratios:>40} {faster:>24} "
              f"{difference:>17.2e}")


if __name__ == "__main__":
    main()
