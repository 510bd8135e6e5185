"""Is the training pipeline ever the bottleneck? srlib.data batches/s against an ESPCN train step.

    python benchmarks/pipeline.py [--dataset T91] [--batch-size 32] [--hr-patch-size 48]
                                  [--batches 200] [--steps 50] [--rounds 5]

ESPCN at x3 on Y, by default with the shipped recipe's batches (32 HR patches of 48x48;
``--batch-size 16 --hr-patch-size 51`` is the paper's 17x17 LR setting). Measures, in one
run and in interleaved rounds, the pipeline alone under four augmentation settings and
train steps of an ESPCN-sized model (conv5x5 64 -> conv3x3 32 -> conv3x3 9 ->
depth_to_space 3) on a cached batch, so that the model time has no input cost. A train
step is the median of the steps' own times (``fit``'s set-up per call is not a step's
cost); pipeline batches are timed over ``--batches`` batches. Prints medians and ratios.
Target (issue "data pipeline"): the pipeline at least 5x faster than a train step.
"""

import argparse
import dataclasses
import time

import keras
import numpy as np
import tensorflow as tf

from sp_vdsr import _StepTimer
from srlib import data, datasets, models, train

SCALE = 3


def measure(run, count):
    """``(batches per second, CPU milliseconds per batch)`` of ``run(count)``, which
    processes ``count`` batches. CPU time counts every thread of this process."""
    start, start_cpu = time.perf_counter(), time.process_time()
    run(count)
    return count / (time.perf_counter() - start), 1e3 * (time.process_time() - start_cpu) / count


def pipeline_runner(iterator):
    def run(count):
        for _ in range(count):
            next(iterator)
    return run


def training_runner(batch, timer):
    """``model.fit`` for ``count`` steps on a cached batch, so that the model time has no input
    cost; ``timer`` collects each step's time."""
    model = models.espcn(SCALE)  # what train.py trains: 5-3-3, 64/32 filters, tanh, sub-pixel output
    model.compile(keras.optimizers.Adam(1e-3), "mse")
    cached = tf.data.Dataset.from_tensors(batch).repeat()
    model.fit(cached, epochs=1, steps_per_epoch=10, shuffle=False, verbose=0)  # warm-up: tracing

    def run(count):
        model.fit(cached, epochs=1, steps_per_epoch=count, shuffle=False, verbose=0, callbacks=[timer])
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    recipe = train.RECIPES["espcn"]
    parser.add_argument("--dataset", default="T91", help="training set; 'embedded' needs no files")
    parser.add_argument("--batch-size", type=int, default=recipe.batch_size)
    parser.add_argument("--hr-patch-size", type=int, default=recipe.hr_patch_size, help="a multiple of 3")
    parser.add_argument("--batches", type=int, default=200,
                        help="pipeline batches per round; many, so that what prefetch buffered between rounds "
                             "is a small part")
    parser.add_argument("--steps", type=int, default=50, help="train steps per round")
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()

    try:
        images = datasets.load_images(arguments.dataset, download=False)
    except datasets.DatasetNotFoundError:
        print(f"{arguments.dataset} not available locally; using the embedded photos")
        images = datasets.load_images("embedded")
    batch_size, hr_patch_size = arguments.batch_size, arguments.hr_patch_size
    print(f"TensorFlow {tf.__version__}, {len(images)} images, x{SCALE}, HR {hr_patch_size} "
          f"(LR {hr_patch_size // SCALE}), batch {batch_size}, Y")

    settings = {
        "plain": data.Augmentations(),
        "flip + rotate90": data.Augmentations(flip=True, rotate90=True),
        "blur + noise + JPEG": data.Augmentations(flip=True, rotate90=True, blur_sigma=(0.2, 2.0),
                                                  gaussian_noise_sigma=(0.0, 0.03), jpeg_quality=(30, 95)),
        "every augmentation, p=0.5": dataclasses.replace(data.EXAMPLE_AUGMENTATIONS, probability=0.5),
    }
    runners = {}
    for name, augmentations in settings.items():
        iterator = iter(data.training_dataset(images, SCALE, hr_patch_size, batch_size, steps_per_epoch=1000,
                                              augmentations=augmentations))
        for _ in range(10):  # warm-up: tracing, thread pools
            next(iterator)
        runners[name] = pipeline_runner(iterator)
    timer = _StepTimer()
    runners["model"] = training_runner(next(iter(data.training_dataset(images, SCALE, hr_patch_size, batch_size))),
                                       timer)

    # Interleaved rounds and medians, because other processes sharing the CPU slow the
    # measurements unevenly; CPU time per batch is the load-independent cost.
    results = {name: [] for name in runners}
    for _ in range(arguments.rounds):
        for name, run in runners.items():
            results[name].append(measure(run, arguments.steps if name == "model" else arguments.batches))
    medians = {name: np.median(np.array(values), axis=0) for name, values in results.items()}
    fit_rate, step_cpu = medians.pop("model")
    step_rate = 1 / float(np.median(timer.seconds))
    # CPU time is only known per fit call: the step's CPU column includes fit's set-up.
    print(f"{'':<36} {'per second':>10} {'wall ms':>8} {'CPU ms':>7}  ratio to a train step: wall, "
          f"CPU (whole fit calls)")
    print(f"{'ESPCN train step (median step)':<36} {step_rate:10.1f} {1e3 / step_rate:8.2f} {step_cpu:7.2f}"
          f"  (whole fit calls: {1e3 / fit_rate:.2f} ms a step)")
    for name, (value, cpu) in medians.items():
        print(f"{'pipeline, ' + name:<36} {value:10.1f} {1e3 / value:8.2f} {cpu:7.2f}  "
              f"{value / step_rate:5.1f}x, {step_cpu / cpu:5.1f}x (target >= 5x)")


if __name__ == "__main__":
    main()
