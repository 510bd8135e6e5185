"""Keras vs TFLite (XNNPACK) tiled inference speed for 1080p output, against the machine's matmul peak.

    python benchmarks/inference.py [--repeats 5] [--tile 128] [--threads 2]

Two Y-channel models, each tiled with the same tile shape in both runtimes
(srlib.inference.tiled_run, overlap = receptive-field radius):

* ESPCN x3: LR 640x360 -> 1920x1080;
* SP-VDSR x2 (in-graph Lanczos-3): LR 960x540 -> 1920x1080.

Keras runs batches of 8 tiles through one tf.function; TFLite runs the float32,
float16-weight and full-int8 exports (srlib.export) at that tile, batch 1, tile by
tile, with ai_edge_litert, XNNPACK and ``--threads`` threads. The weights are the
shipped ones (checkpoints/) where they exist, else untrained: speed does not depend
on them, but int8 parity only means something for trained weights.

Prints, per run: median milliseconds per frame, frames per second, the achieved
GFLOP/s (2 x MACs of the tiles actually run, overlap included, per second), that as
a fraction of the float32 matmul GFLOP/s measured in the same process (NumPy
2048x2048 @ 2048x2048; int8 can pass 100%: its kernels are not float), and the PSNR of
the frame against Keras' (parity); then the
TFLite/Keras speed ratio per model and export (target: at least 1.5).
"""

import argparse
import os
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from srlib import datasets, export, inference, models, networks, zoo
from srlib.models.analysis import median_seconds

CASES = (("ESPCN x3", "espcn", 3, (360, 640)), ("SP-VDSR x2", "sp_vdsr", 2, (540, 960)))
EXPORTS = ("float32", "float16", "int8")


def model_and_weights(name, scale):
    """The shipped model if the manifest has it, else an untrained one; and which it is."""
    try:
        model, _ = zoo.load_published(f"{name}_x{scale}")
        return model, "shipped"
    except ValueError:
        keras.utils.set_random_seed(0)
        return models.build(name, scale), "untrained"


def test_frame(frame_shape):
    """A real photo (the embedded set's first) cropped or tiled to ``frame_shape``, Y in [0, 1]."""
    from srlib import color

    _, image = datasets.load_images("embedded")[0]
    luma = color.rgb_to_y(image.astype(np.float32) / 255.0)
    reps = [-(-frame_shape[0] // luma.shape[0]), -(-frame_shape[1] // luma.shape[1]), 1]
    return np.ascontiguousarray(np.tile(luma, reps)[:frame_shape[0], :frame_shape[1]])


def psnr(a, b):
    return 10 * np.log10(1.0 / max(float(np.mean((np.clip(a, 0, 1) - np.clip(b, 0, 1)) ** 2)), 1e-20))


def matmul_gflops(size=2048, repeats=5):
    rng = np.random.default_rng(0)
    a, b = rng.random((size, size), dtype=np.float32), rng.random((size, size), dtype=np.float32)
    return 2 * size**3 / median_seconds(lambda: a @ b, repeats) / 1e9


def tiles_per_frame(frame_shape, tile, overlap):
    rows = inference.tile_spans(frame_shape[0], tile[0], overlap)
    cols = inference.tile_spans(frame_shape[1], tile[1], overlap)
    return len(rows) * len(cols)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tile", type=int, default=128, help="square LR tile side, both runtimes")
    parser.add_argument("--threads", type=int, default=2, help="TFLite interpreter threads")
    arguments = parser.parse_args()
    tile = (arguments.tile, arguments.tile)

    peak = matmul_gflops()
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPUs; "
          f"float32 matmul 2048^3: {peak:.1f} GFLOP/s (NumPy)")
    print("tile {}x{} LR, overlap = receptive-field radius\n".format(*tile))
    header = (f"{'model':<12}{'runtime':<22}{'tiles':>6}{'ms/frame':>10}{'FPS':>8}{'GFLOP/s':>9}"
              f"{'of peak':>9}{'PSNR vs Keras':>15}")
    print(header)
    print("-" * len(header))
    ratios = {}
    with tempfile.TemporaryDirectory() as folder:
        for label, name, scale, frame_shape in CASES:
            model, weights = model_and_weights(name, scale)
            frame = test_frame(frame_shape)
            runs = {"Keras (batch 8)": networks.KerasNetwork(model, batch_size=8)}
            for mode in EXPORTS:
                path = Path(folder) / f"{name}_{mode}.tflite"
                export.export_tflite(model, path, tile, mode=mode, latency_runs=1, num_threads=arguments.threads)
                runs[f"TFLite {mode} ({arguments.threads} thr)"] = networks.TFLiteNetwork(path, arguments.threads)
            overlap = models.receptive_field(model)
            count = tiles_per_frame(frame_shape, tile, overlap)
            flops = 2 * count * models.model_cost(model, tile).macs
            seconds, outputs = {}, {}
            for runtime, network in runs.items():
                outputs[runtime] = inference.tiled_run(frame, network, tile, overlap)
                seconds[runtime] = median_seconds(lambda: inference.tiled_run(frame, network, tile, overlap),
                                                  arguments.repeats)
                gflops = flops / seconds[runtime] / 1e9
                parity = "" if runtime.startswith("Keras") else f"{psnr(outputs[runtime], outputs['Keras (batch 8)']):.1f} dB"
                print(f"{label:<12}{runtime:<22}{count:>6}{1e3 * seconds[runtime]:>10.1f}"
                      f"{1 / seconds[runtime]:>8.2f}{gflops:>9.1f}{gflops / peak:>9.1%}{parity:>15}")
            print(f"{'':<12}({weights} weights)")
            keras_seconds = seconds.pop("Keras (batch 8)")
            for runtime, tflite_seconds in seconds.items():
                ratios[f"{label} {runtime.split()[1]}"] = keras_seconds / tflite_seconds
    print()
    for label, ratio in ratios.items():
        verdict = "meets" if ratio >= 1.5 else "misses"
        print(f"{label}: TFLite/Keras speed = {ratio:.2f}x ({verdict} the 1.5x target)")


if __name__ == "__main__":
    main()
