"""Mixed precision for training: bfloat16 arithmetic, float32 weights and outputs.

On a CPU with AVX512_BF16 (or a GPU/TPU), convolutions in bfloat16 run about twice
as fast as in float32 for a 64-filter network such as VDSR-20 (measured on this
project's 2-core training machine: 417 vs 202 ms per step); the small models (ESPCN,
FSRCNN) gain 4-11 %, because their time goes elsewhere.

bfloat16 keeps 8 bits of mantissa: a value near 1 is rounded by up to 2^-9, a noise
floor near 59 dB PSNR. That is harmless inside the network but not on the image it
returns, so the output layer (the last layer with weights) and every layer after it
(the global residual add, depth-to-space, clipping) stay float32. The weights stay
float32 too (Keras' ``mixed_bfloat16`` policy keeps variables in float32), so the
checkpoints and published weights of a mixed-precision run load into the float32
model unchanged.
"""

import keras

PRECISIONS = ("float32", "mixed_bfloat16")


def with_precision(model, precision):
    """``model`` rebuilt to compute in ``precision``, with the same (float32) weights.

    Args:
        model: a functional ``keras.Model`` built in float32 (as :func:`srlib.models.build`).
        precision: ``"float32"`` (returns ``model`` itself) or ``"mixed_bfloat16"``:
            every layer before the output layer computes in bfloat16; the output layer
            and the layers after it compute in float32.

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
    weighted = [index for index, layer in enumerate(model.layers) if layer.weights]
    if not weighted:
        raise ValueError(f"model {model.name!r} has no weights: nothing to compute in {precision}")
    # model.layers is in topological order, so the layers after the last weighted one are the
    # output's tail: residual adds, depth-to-space, clipping.
    float32_tail = {layer.name for layer in model.layers[weighted[-1]:]}

    def clone_layer(layer):
        config = layer.get_config()
        config["dtype"] = "float32" if layer.name in float32_tail else precision
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone_layer)
    copy.set_weights(model.get_weights())
    return copy
