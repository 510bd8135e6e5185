"""Training step time in float32 and in mixed bfloat16, per model, with each recipe's batch.

    python benchmarks/mixed_precision.py [--models vdsr fsrcnn espcn] [--steps 10] [--rounds 3]

``Recipe.precision = "mixed_bfloat16"`` (:func:`srlib.models.with_precision`) computes the
layers that feed the output layer in bfloat16 and keeps the weights, the output layer, what
follows it and any branch that bypasses the body (an interpolation skip) in float32. Whether that is faster depends on the hardware: a CPU with
AVX512_BF16 or AMX (``bf16 flags`` below) has bfloat16 convolutions in oneDNN; without them
TensorFlow converts back and forth and bfloat16 is slower.

For each model: the float32 and the mixed-bfloat16 copy of the same weights
(:func:`srlib.train.compiled_model` with the model's recipe, precision aside) train with
``model.fit`` on one batch of the recipe's size (made once from the embedded photos by
:func:`srlib.data.training_dataset`, repeated), so the time is the step's (forward,
backward, Adam update), not the input pipeline's. After one warm-up ``fit`` each, the rounds
alternate the two (a background load affects both alike); the figure is the median over
rounds of each round's median step, and the ratio is float32 / mixed bfloat16.
"""

import argparse
import dataclasses

import keras
import numpy as np
import tensorflow as tf

from sp_vdsr import _StepTimer, machine_description
from srlib import data, models, train

SCALES = {"vdsr": 2, "fsrcnn": 3, "espcn": 3, "srcnn": 3, "sp_vdsr": 2}
PRECISIONS = ("float32", "mixed_bfloat16")


def measure(name, steps=10, rounds=3, seed=0, verbose=True):
    """Median seconds per training step of ``name`` in each precision, and their ratio."""
    scale, recipe = SCALES[name], train.RECIPES[name]
    spec = models.MODELS[name]
    batch = next(iter(data.training_dataset("embedded", scale, recipe.hr_patch_size, batch_size=recipe.batch_size,
                                            steps_per_epoch=1, seed=seed, epochs=1,
                                            upsampled_input=spec.input == "upsampled")))
    dataset = tf.data.Dataset.from_tensors(batch).repeat()
    compiled = {}
    for precision in PRECISIONS:
        keras.utils.set_random_seed(seed)  # the same initial weights in both
        compiled[precision] = train.compiled_model(name, scale, dataclasses.replace(recipe, precision=precision))

    def fit(precision, count):
        timer = _StepTimer()
        compiled[precision].fit(dataset, epochs=1, steps_per_epoch=count, verbose=0, shuffle=False,
                                callbacks=[timer])
        return float(np.median(timer.seconds))

    for precision in PRECISIONS:
        fit(precision, 2)  # warm-up: tracing, allocation, thread pools
    timings = {precision: [] for precision in PRECISIONS}
    for index in range(rounds):
        for precision in (PRECISIONS if index % 2 == 0 else PRECISIONS[::-1]):
            timings[precision].append(fit(precision, steps))
        if verbose:
            print(f"  {name} round {index + 1}/{rounds}: " + ", ".join(
                f"{precision} {1000 * timings[precision][-1]:.1f} ms/step" for precision in PRECISIONS), flush=True)
    medians = {precision: float(np.median(values)) for precision, values in timings.items()}
    return {"model": name, "scale": scale, "batch_size": recipe.batch_size, "hr_patch_size": recipe.hr_patch_size,
            "seconds_per_step": medians, "ratio": medians["float32"] / medians["mixed_bfloat16"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["vdsr", "fsrcnn", "espcn"], choices=sorted(SCALES))
    parser.add_argument("--steps", type=int, default=10, help="steps per timed fit call")
    parser.add_argument("--rounds", type=int, default=3, help="timed fit calls per precision, interleaved")
    arguments = parser.parse_args()
    print(machine_description())
    print(f"bf16 flags: {', '.join(models.cpu_bfloat16_flags()) or 'none'}")
    results = [measure(name, arguments.steps, arguments.rounds) for name in arguments.models]
    print(f"\n{'model':<8} {'scale':>5} {'batch':>11} {'float32 ms/step':>16} {'mixed bf16 ms/step':>19} "
          f"{'float32 / bf16':>15}")
    for result in results:
        seconds = result["seconds_per_step"]
        print(f"{result['model']:<8} {'x' + str(result['scale']):>5} "
              f"{str(result['batch_size']) + ' x ' + str(result['hr_patch_size']) + '^2':>11} "
              f"{1000 * seconds['float32']:>16.1f} {1000 * seconds['mixed_bfloat16']:>19.1f} "
              f"{result['ratio']:>14.2f}x")
    print(f"\nafter the runs: {machine_description()}")


if __name__ == "__main__":
    main()
