"""Helpers shared by the loss modules."""

from keras import ops

PACKAGE = "srlib"


def mean_per_image(values):
    """Averages every axis but the batch axis: ``(N, ...)`` -> ``(N,)``."""
    axes = tuple(range(1, len(values.shape)))
    return ops.mean(values, axis=axes) if axes else values


def check_images(y_true, y_pred, loss_name):
    # Unknown (None) sizes are compatible with anything: a fully convolutional
    # model has y_pred (None, None, None, C) while the dataset knows y_true's.
    compatible = len(y_true.shape) == len(y_pred.shape) == 4 and all(
        true_size is None or pred_size is None or true_size == pred_size
        for true_size, pred_size in zip(y_true.shape, y_pred.shape)
    )
    if not compatible:
        raise ValueError(
            f"{loss_name} expects y_true and y_pred of the same shape (N, H, W, C). "
            f"Received: y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
        )
