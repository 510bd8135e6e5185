"""Mixed precision for training: bfloat16 arithmetic, float32 weights and outputs.

On a CPU with AVX512_BF16 or AMX (or a recent GPU), convolutions in bfloat16 run about
twice as fast as in float32 for a 64-filter network such as VDSR-20: on this project's
2-core training machine, a training step on a fixed batch of 16 48x48 patches took 384 ms
in float32 and 190 ms in mixed bfloat16 (``benchmarks/mixed_precision.py`` measures it on
yours). The small models gain little or lose (ESPCN 1.13x, FSRCNN 0.77x in the same run):
their time goes elsewhere than large convolutions.

bfloat16 keeps 8 bits of mantissa: a value near 1 is rounded by up to 2^-9, a noise
floor near 59 dB PSNR. That is harmless inside the network but not on the image it
returns, so the output layer (the last layer with weights), every layer after it (the
global residual add, depth-to-space, clipping) and any branch that bypasses it (SP-VDSR's
Lanczos-3 upscale: rounded to bfloat16 it alone would sit at 48 dB) stay float32. The weights stay
float32 too (Keras' ``mixed_bfloat16`` policy keeps variables in float32), so the
checkpoints and published weights of a mixed-precision run load into the float32
model unchanged.
"""

from pathlib import Path

import keras

PRECISIONS = ("float32", "mixed_bfloat16")


def cpu_bfloat16_flags(cpuinfo="/proc/cpuinfo"):
    """The CPU's bfloat16 instruction flags (``avx512_bf16``, ``amx_bf16``...), sorted.

    Empty where the CPU has none, or where ``cpuinfo`` does not exist (not Linux). Without
    them TensorFlow converts bfloat16 to and from float32 around every operation, and mixed
    bfloat16 is far slower than float32: 13.4x for a VDSR-20 training step on a 2-core AMD EPYC
    without them (17,719 ms against 1,324 in float32, ``benchmarks/mixed_precision.py``, 2026-12-03).
    """
    path = Path(cpuinfo)
    flags = set(path.read_text().split()) if path.is_file() else set()
    return sorted(flag for flag in flags if "bf16" in flag)


def with_precision(model, precision):
    """``model`` rebuilt to compute in ``precision``, with the same (float32) weights.

    Args:
        model: a functional ``keras.Model`` built in float32 (as :func:`srlib.models.build`).
        precision: ``"float32"`` (returns ``model`` itself) or ``"mixed_bfloat16"``:
            the layers that feed the output layer (the last layer with weights) compute in
            bfloat16; the output layer, the layers after it and any branch that bypasses
            it (an interpolated skip) compute in float32.

    Returns:
        A ``keras.Model`` with the same layers, names, weights, inputs and outputs
        (float32 in, float32 out).

    Raises:
        ValueError: an unknown ``precision``, or a model without weights.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"`precision` must be one of {PRECISIONS}. Received: precision={precision!r}")
    if precision == "float32":
        return model
    weighted = [layer for layer in model.layers if layer.weights]
    if not weighted:
        raise ValueError(f"model {model.name!r} has no weights: nothing to compute in {precision}")
    # Only what feeds the output layer computes in bfloat16. Not "the layers before it in
    # model.layers": that order is by depth, and a skip branch from the input (VDSR's is an
    # identity; SP-VDSR's Lanczos upscale, SRResNet's interpolation skip) sits at the depth of the
    # output layer and goes straight into the image.
    body = keras.Model(model.inputs, weighted[-1].input)
    low_precision = {layer.name for layer in body.layers if not isinstance(layer, keras.layers.InputLayer)}

    def clone_layer(layer):
        config = layer.get_config()
        config["dtype"] = precision if layer.name in low_precision else "float32"
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone_layer)
    copy.set_weights(model.get_weights())
    return copy
