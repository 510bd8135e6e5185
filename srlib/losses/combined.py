"""WeightedSum: a weighted sum of named losses that reports each component.

Conventions: see :mod:`srlib.losses`.
"""

import keras
from keras import ops

from srlib.losses._common import PACKAGE, mean_per_image
from srlib.validation import non_negative_number


@keras.saving.register_keras_serializable(package=PACKAGE)
class WeightedSum(keras.losses.Loss):
    """Weighted sum of losses, ``sum_i weight_i * loss_i``, with per-component values.

    Example:

    ```python
    # PerceptualLoss() already scales VGG features by 1/12.75, SRGAN's 0.006 on the MSE: weight 1.
    loss = WeightedSum({"l1": (1.0, L1Loss()), "perceptual": (1.0, PerceptualLoss())})
    total, components = loss.compute_components(hr, sr)  # log each component
    ```

    Each component's ``call`` gives per-image values (averaged to ``(N,)``
    if it returns more axes); this loss's ``reduction`` and ``sample_weight``
    then apply once to the weighted sum, and the components' own reductions
    are not used. Serializable when every component is.

    Args:
        components: dict ``{name: (weight, keras.losses.Loss instance)}``,
            in the order to report them; weights are finite and >= 0.
    """

    def __init__(self, components, name=None, reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if not isinstance(components, dict) or not components:
            raise ValueError(
                "`components` must be a non-empty dict {name: (weight, loss)}. "
                f"Received: components={components!r}"
            )
        self.components = {}
        for component_name, entry in components.items():
            if not (isinstance(entry, (tuple, list)) and len(entry) == 2 and isinstance(entry[1], keras.losses.Loss)):
                raise ValueError(
                    f"`components[{component_name!r}]` must be a (weight, keras.losses.Loss) pair. Received: {entry!r}"
                )
            weight = non_negative_number(entry[0], f"components[{component_name!r}][0]")
            self.components[str(component_name)] = (weight, entry[1])

    def _per_image_components(self, y_true, y_pred):
        return {name: mean_per_image(loss.call(y_true, y_pred)) for name, (_, loss) in self.components.items()}

    def call(self, y_true, y_pred):
        values = self._per_image_components(y_true, y_pred)
        return sum(weight * values[name] for name, (weight, _) in self.components.items())

    def compute_components(self, y_true, y_pred, sample_weight=None):
        """Total loss and unweighted component values in one pass.

        Returns:
            ``(total, {name: value})`` where ``total`` equals
            ``self(y_true, y_pred, sample_weight)`` for the batch-averaging
            reductions and each value is the component reduced the same way,
            before its weight.
        """
        y_true = ops.convert_to_tensor(y_true, self.dtype)
        y_pred = ops.convert_to_tensor(y_pred, self.dtype)
        per_image = self._per_image_components(y_true, y_pred)
        values = {name: self._reduce(value, sample_weight) for name, value in per_image.items()}
        total = sum(weight * values[name] for name, (weight, _) in self.components.items())
        return total, values

    def _reduce(self, values, sample_weight):
        if sample_weight is not None:
            sample_weight = ops.reshape(ops.convert_to_tensor(sample_weight, values.dtype), (-1,))
            values = values * sample_weight
        if self.reduction in (None, "none"):
            return values
        if self.reduction == "sum":
            return ops.sum(values)
        if self.reduction == "mean_with_sample_weight" and sample_weight is not None:
            return ops.sum(values) / ops.sum(sample_weight)
        return ops.mean(values)

    def get_config(self):
        components = {
            name: {"weight": weight, "loss": keras.losses.serialize(loss)}
            for name, (weight, loss) in self.components.items()
        }
        return {**super().get_config(), "components": components}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["components"] = {
            name: (entry["weight"], keras.losses.deserialize(entry["loss"]))
            for name, entry in config["components"].items()
        }
        return cls(**config)
