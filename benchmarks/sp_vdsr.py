"""SP-VDSR vs a VDSR of the same depth and width: training time per step, and MACs.

    python benchmarks/sp_vdsr.py [--steps 25] [--rounds 5] [--batch 16] [--patch 48 96]

The timing claim of SP-VDSR (Chrisostomo; ``sp_vdsr_claims`` in
``srlib/resources/published.json``): with the same depth and width, moving the
body to LR resolution and upscaling with a sub-pixel output makes an epoch about
3x faster (1 s against 3 s).

Two Y-channel x2 models of the same depth and width:

* ``models.sp_vdsr(2)``: 4 convolutions of 8 filters at LR, a sub-pixel
  convolution to ``scale**2`` maps, ``depth_to_space``, plus an in-graph Lanczos-3
  upscale of the input (the global residual);
* ``models.vdsr(depth=5, filters=8)``: the same 4 convolutions of 8 filters and a
  convolution to one map, all at HR on the bicubic-upsampled input, plus the input
  (the global residual). Its hidden activation is ReLU, SP-VDSR's leaky ReLU: the
  same cost.

Both train on the same batch of HR patches (``--batch`` x ``--patch``^2, made once
by ``srlib.data.training_dataset`` from the embedded photos, MATLAB-bicubic LR; VDSR
gets it bicubic-upsampled): Adam 1e-3, MSE, ``model.fit`` on that one batch
repeated, so the time is the network's step (forward, backward, Adam update) and
not the input pipeline's. After one warm-up ``fit`` per model, the rounds alternate
the two models (a background load affects both alike); each round is one ``fit`` of
``--steps`` steps, each step timed by a callback. Per model: the median over rounds
of each round's median step ("ms/step"; what a long epoch costs per step), and of
each ``fit`` call's wall time over its steps ("mean ms/step"; an epoch, stalls and call
overhead included). Then the ratio VDSR / SP-VDSR, and MACs per output pixel from
``models.model_cost`` (all of SP-VDSR, its learned body alone, and VDSR) with their
ratios: about ``scale**2`` = 4 for the body. Each ``--patch`` size is a separate
measurement: the default 48 is the training recipe's patch, 96 shows how the ratio
moves when a step holds four times more pixels.

Import :func:`measure` (and :func:`report`) to run the same measurement from a notebook.
"""

import argparse
import os
import platform
import time

import keras
import numpy as np
import tensorflow as tf

from srlib import data, models

LABELS = ("SP-VDSR", "VDSR")


def machine_description():
    """CPU count, affinity, TensorFlow thread pools and load: what the timings ran on."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    intra = tf.config.threading.get_intra_op_parallelism_threads() or "default"
    inter = tf.config.threading.get_inter_op_parallelism_threads() or "default"
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (f"{platform.machine()} {platform.processor() or ''}".strip()
            + f", {os.cpu_count()} CPUs ({available} available), TensorFlow {tf.__version__} "
            f"(intra-op threads {intra}, inter-op {inter}), Keras {keras.__version__}, "
            f"load average {load} (1, 5, 15 min)")


def build_pair(scale=2, depth=5, filters=8, seed=0):
    """``{"SP-VDSR": model, "VDSR": model}``, compiled with Adam 1e-3 and MSE."""
    keras.utils.set_random_seed(seed)
    pair = {"SP-VDSR": models.sp_vdsr(scale, depth=depth, filters=filters),
            "VDSR": models.vdsr(depth=depth, filters=filters)}
    for model in pair.values():
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    return pair


def fixed_batches(scale=2, batch_size=16, hr_patch_size=48, seed=0, images="embedded"):
    """One batch of HR patches as ``{"SP-VDSR": (lr, hr), "VDSR": (upsampled, hr)}`` tensors."""
    batches = {}
    for label, upsampled in zip(LABELS, (False, True)):
        dataset = data.training_dataset(images, scale, hr_patch_size, batch_size=batch_size, steps_per_epoch=1,
                                        seed=seed, epochs=1, upsampled_input=upsampled)
        batches[label] = next(iter(dataset))
    assert np.array_equal(batches["SP-VDSR"][1].numpy(), batches["VDSR"][1].numpy())  # the same HR targets
    return batches


def costs(pair, scale=2, hr_patch_size=48):
    """MACs per output pixel: ``{"SP-VDSR": all, "SP-VDSR body": learned convolutions, "VDSR": all}``."""
    lr_size = (hr_patch_size // scale,) * 2
    sp_cost = models.model_cost(pair["SP-VDSR"], lr_size)
    vdsr_cost = models.model_cost(pair["VDSR"], (hr_patch_size,) * 2)
    output_pixels = sp_cost.output_size[0] * sp_cost.output_size[1]
    body = sum(macs for name, macs in sp_cost.macs_by_op.items() if "interpolation" not in name)
    return {"SP-VDSR": sp_cost.macs_per_output_pixel, "SP-VDSR body": body / output_pixels,
            "VDSR": vdsr_cost.macs_per_output_pixel,
            "parameters": {"SP-VDSR": sp_cost.parameters, "VDSR": vdsr_cost.parameters}}


class _StepTimer(keras.callbacks.Callback):
    """Wall time of every training step (``train_function``: next batch, forward, backward, update)."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def measure(scale=2, depth=5, filters=8, batch_size=16, hr_patch_size=48, steps=25, rounds=5, seed=0,
            verbose=True):
    """Median training seconds per step of SP-VDSR and the same-size VDSR, and their MACs.

    Args:
        scale, depth, filters: the two architectures (SP-VDSR 5x8 at x2 by default).
        batch_size, hr_patch_size: the batch, the same HR pixels for both models.
        steps: steps per timed ``fit`` call.
        rounds: timed calls per model, alternating the two models.
        seed: seed of the weights and of the batch.
        verbose: print each round.

    Returns:
        A dict: ``seconds_per_step`` (per model, the median over rounds of each round's
        median step), ``fit_seconds_per_step`` (median over rounds of a whole ``fit``
        call's time over its steps: what a short epoch costs, call overhead included),
        ``rounds`` (every round's median step), ``ratio`` and ``fit_ratio`` (VDSR /
        SP-VDSR), ``macs_per_output_pixel``, ``parameters``, ``settings``, ``machine``.
    """
    pair = build_pair(scale, depth, filters, seed)
    batches = fixed_batches(scale, batch_size, hr_patch_size, seed)
    datasets = {label: tf.data.Dataset.from_tensors(batches[label]).repeat() for label in LABELS}

    def fit(label, count):
        timer = _StepTimer()
        start = time.perf_counter()
        pair[label].fit(datasets[label], epochs=1, steps_per_epoch=count, verbose=0, shuffle=False,
                        callbacks=[timer])
        return float(np.median(timer.seconds)), (time.perf_counter() - start) / count

    for label in LABELS:  # warm-up: traces the train function, allocates, starts thread pools
        fit(label, 3)
    timings = {label: [] for label in LABELS}
    fit_timings = {label: [] for label in LABELS}
    for index in range(rounds):
        for label in (LABELS if index % 2 == 0 else LABELS[::-1]):
            step_seconds, fit_seconds = fit(label, steps)
            timings[label].append(step_seconds)
            fit_timings[label].append(fit_seconds)
        if verbose:
            print(f"  round {index + 1}/{rounds}: " + ", ".join(
                f"{label} {1000 * timings[label][-1]:.1f} ms/step" for label in LABELS), flush=True)
    medians = {label: float(np.median(values)) for label, values in timings.items()}
    fit_medians = {label: float(np.median(values)) for label, values in fit_timings.items()}
    cost = costs(pair, scale, hr_patch_size)
    return {"seconds_per_step": medians, "fit_seconds_per_step": fit_medians, "rounds": timings,
            "ratio": medians["VDSR"] / medians["SP-VDSR"],
            "fit_ratio": fit_medians["VDSR"] / fit_medians["SP-VDSR"],
            "macs_per_output_pixel": {key: value for key, value in cost.items() if key != "parameters"},
            "parameters": cost["parameters"],
            "settings": {"scale": scale, "depth": depth, "filters": filters, "batch_size": batch_size,
                         "hr_patch_size": hr_patch_size, "steps": steps, "rounds": rounds},
            "machine": machine_description()}


def report(result):
    """The printed summary of :func:`measure`."""
    settings, seconds, macs = result["settings"], result["seconds_per_step"], result["macs_per_output_pixel"]
    lines = [f"x{settings['scale']}, Y, depth {settings['depth']}, {settings['filters']} filters; batch "
             f"{settings['batch_size']} x {settings['hr_patch_size']}x{settings['hr_patch_size']} HR; "
             f"{settings['rounds']} rounds of {settings['steps']} steps per model, interleaved",
             f"{'model':<10} {'parameters':>10} {'MACs/output px':>15} {'ms/step':>9} {'mean ms/step':>13} "
             f"{'HR Mpx/s':>9}"]
    hr_pixels = settings["batch_size"] * settings["hr_patch_size"] ** 2
    for label in LABELS:
        lines.append(f"{label:<10} {result['parameters'][label]:>10,} {macs[label]:>15,.1f} "
                     f"{1000 * seconds[label]:>9.1f} {1000 * result['fit_seconds_per_step'][label]:>13.1f} "
                     f"{hr_pixels / seconds[label] / 1e6:>9.2f}")
    lines.append(f"time per step  VDSR / SP-VDSR = {result['ratio']:.2f}x "
                 f"(means: {result['fit_ratio']:.2f}x; claim: about 3x, 3 s vs 1 s per epoch)")
    lines.append(f"MACs per px    VDSR / SP-VDSR = {macs['VDSR'] / macs['SP-VDSR']:.2f}x "
                 f"(learned body only: {macs['VDSR'] / macs['SP-VDSR body']:.2f}x; "
                 f"scale^2 = {settings['scale'] ** 2}; SP-VDSR's in-graph Lanczos-3: "
                 f"{macs['SP-VDSR'] - macs['SP-VDSR body']:.1f} MACs/px)")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=2)
    parser.add_argument("--depth", type=int, default=5, help="convolutions, the output one included")
    parser.add_argument("--filters", type=int, default=8)
    parser.add_argument("--batch", type=int, default=16, help="HR patches per step")
    parser.add_argument("--patch", type=int, nargs="+", default=[48, 96], help="HR patch side(s), one run each")
    parser.add_argument("--steps", type=int, default=25, help="steps per timed fit call")
    parser.add_argument("--rounds", type=int, default=5, help="timed fit calls per model, interleaved")
    arguments = parser.parse_args()
    print(machine_description())
    for patch in arguments.patch:
        print(f"\nbatch {arguments.batch} x {patch}x{patch} HR:")
        result = measure(arguments.scale, arguments.depth, arguments.filters, arguments.batch, patch,
                         arguments.steps, arguments.rounds)
        print(report(result))
    print(f"\nafter the runs: {machine_description()}")


if __name__ == "__main__":
    main()
