"""Keras vs TFLite (XNNPACK) tiled inference speed for 1080p output, against the machine's matmul peak.

    python benchmarks/inference.py [--repeats 5] [--tile 128] [--threads 2]

Two Y-channel models, each tiled with the same tile shape in both runtimes
(srlib.inference.tiled_run, overlap = receptive-field radius):

* ESPCN x3: LR 640x360 -> 1920x1080;
* SP-VDSR x2 (in-graph Lanczos-3): LR 960x540 -> 1920x1080.

Keras runs batches of 8 tiles through one tf.function; TFLite is the float32
export (srlib.export) at that tile, batch 1, run tile by tile by
ai_edge_litert with XNNPACK and ``--threads`` threads. Weights are untrained
(random): speed does not depend on them.

Prints, per run: median milliseconds per frame, frames per second, the
achieved GFLOP/s (2 x MACs of the tiles actually run, overlap included, per
second) and that as a fraction of the float32 matmul GFLOP/s measured in the
same process (NumPy 2048x2048 @ 2048x2048); then the TFLite/Keras speed ratio
per model (target: at least 1.5).
"""

import argparse
import os
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from srlib import export, inference, models
from timing import median_seconds

CASES = (("ESPCN x3", "espcn", 3, (360, 640)), ("SP-VDSR x2", "sp_vdsr", 2, (540, 960)))


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
    print("untrained (random) weights; tile {}x{} LR, overlap = receptive-field radius\n".format(*tile))
    header = (f"{'model':<12}{'runtime':<16}{'tiles':>6}{'ms/frame':>10}{'FPS':>8}{'GFLOP/s':>9}"
              f"{'of peak':>9}")
    print(header)
    print("-" * len(header))
    ratios = {}
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        for label, name, scale, frame_shape in CASES:
            keras.utils.set_random_seed(0)
            model = models.build(name, scale)
            frame = rng.uniform(0, 1, (*frame_shape, 1)).astype(np.float32)
            path = Path(folder) / f"{name}.tflite"
            export.export_tflite(model, path, tile, latency_runs=1, num_threads=arguments.threads)
            runs = {"Keras (batch 8)": inference.KerasNetwork(model, batch_size=8),
                    f"TFLite ({arguments.threads} thr)": inference.TFLiteNetwork(path, arguments.threads)}
            overlap = models.receptive_field(model)
            count = tiles_per_frame(frame_shape, tile, overlap)
            flops = 2 * count * models.model_cost(model, tile).macs
            fps = {}
            for runtime, network in runs.items():
                seconds = median_seconds(lambda: inference.tiled_run(frame, network, tile, overlap),
                                         arguments.repeats)
                fps[runtime] = 1 / seconds
                gflops = flops / seconds / 1e9
                print(f"{label:<12}{runtime:<16}{count:>6}{1e3 * seconds:>10.1f}{1 / seconds:>8.2f}"
                      f"{gflops:>9.1f}{gflops / peak:>9.1%}")
            keras_fps, tflite_fps = fps.values()
            ratios[label] = tflite_fps / keras_fps
    print()
    for label, ratio in ratios.items():
        verdict = "meets" if ratio >= 1.5 else "misses"
        print(f"{label}: TFLite/Keras = {ratio:.2f}x ({verdict} the 1.5x target)")


if __name__ == "__main__":
    main()
