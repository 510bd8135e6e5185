"""Callbacks that make ``model.fit`` speak the super-resolution protocol.

* :class:`ProtocolValidation`: whole-image Y-PSNR/SSIM under the paper protocol
  (MATLAB bicubic LR, Y, ``scale`` pixels shaved) as ``val_psnr`` / ``val_ssim`` in
  the logs, so that the checkpoint saver can keep the best epoch by the number the
  paper tables report, not by a patch loss.
* :class:`WallClockBudget`: stops training after a time budget counted across
  resumed runs, and records the cumulative ``wall_time_s`` in the history (the
  checkpoint manifest reports it).
* :class:`SampleImages`: SR / bicubic / HR crops to TensorBoard every few epochs.
* :func:`step_decay`: the step learning-rate schedule of the classic papers.

Put :class:`ProtocolValidation` before the checkpoint callback in ``callbacks``:
Keras calls them in order, and the saver must see ``val_psnr`` in the logs.
"""

import time

import keras
import numpy as np
import tensorflow as tf

from srlib import datasets, evaluate
from srlib.resize import degrade
from srlib.validation import positive_int, positive_number, scale_factor


def last_recorded(history, name, default=0.0):
    """The last value of ``history[name]`` that an epoch recorded (epochs that did not log it hold None)."""
    return next((value for value in reversed((history or {}).get(name) or []) if value is not None), default)


class ProtocolValidation(keras.callbacks.Callback):
    """Mean Y-PSNR/SSIM on whole images under the paper protocol, every ``every`` epochs.

    Args:
        dataset: registered dataset name or folder. Default ``"Set5"``.
        scales: one int or a list (a multi-scale model such as VDSR); with several,
            the logs get ``val_psnr_x2`` ... and ``val_psnr`` is their mean.
        limit: evaluate only the first ``limit`` images (quick mode). Default all.
        every: validate every ``every`` epochs (and always on the last, including one a
            budget stops: put :class:`WallClockBudget` or :class:`TrainingClock` before this
            callback, so that ``stop_training`` is set when it looks). The other epochs log
            no ``val_*`` values; a :class:`srlib.checkpoint.CheckpointCallback` records None
            for them, and :func:`srlib.plots.learning_curves` skips them. Default 1.
        upscaler_factory: ``factory(model, scale) -> upscale(lr_uint8, scale)``;
            default :func:`srlib.models.upscaler`.
    """

    def __init__(self, dataset="Set5", scales=3, limit=None, every=1, upscaler_factory=None):
        super().__init__()
        self.scales = [scales] if np.ndim(scales) == 0 else list(scales)
        if not self.scales:
            raise ValueError(f"`scales` must be an integer >= 2 or a non-empty list of them. Received: scales={scales!r}")
        self.scales = [scale_factor(scale, "scales") for scale in self.scales]
        self.every = positive_int(every, "every")
        self.limit = None if limit is None else positive_int(limit, "limit")
        self.dataset = datasets.check_name(dataset)
        self.upscaler_factory = upscaler_factory
        self._pairs = {}  # scale -> [(hr_cropped, lr)], degraded once, on the first validation

    def _factory(self):
        if self.upscaler_factory is not None:
            return self.upscaler_factory
        from srlib import models
        return lambda model, scale: models.upscaler(model, scale)

    def measure(self):
        """Runs the protocol now; returns ``{"val_psnr": ..., "val_ssim": ..., per-scale keys}``."""
        if not self._pairs:
            images = datasets.load_images(self.dataset, limit=self.limit)
            self._pairs = {scale: [degrade(hr, scale) for _, hr in images] for scale in self.scales}
        values = {}
        for scale in self.scales:
            upscale = self._factory()(self.model, scale)
            results = [evaluate.evaluate_pair(hr, lr, upscale, scale)[:2] for hr, lr in self._pairs[scale]]
            values[f"val_psnr_x{scale}"] = float(np.mean([psnr for psnr, _ in results]))
            values[f"val_ssim_x{scale}"] = float(np.mean([ssim for _, ssim in results]))
        values["val_psnr"] = float(np.mean([values[f"val_psnr_x{s}"] for s in self.scales]))
        values["val_ssim"] = float(np.mean([values[f"val_ssim_x{s}"] for s in self.scales]))
        if len(self.scales) == 1:
            del values[f"val_psnr_x{self.scales[0]}"], values[f"val_ssim_x{self.scales[0]}"]
        return values

    def on_epoch_end(self, epoch, logs=None):
        last_epoch = self.params.get("epochs") == epoch + 1 if self.params else False
        if logs is not None and ((epoch + 1) % self.every == 0 or last_epoch or self.model.stop_training):
            logs.update(self.measure())


class WallClockBudget(keras.callbacks.Callback):
    """Stops ``fit`` once the wall-clock time, summed over resumed runs, reaches a budget.

    The clock runs from the budget's creation: make it before loading the training data
    and that set-up counts too. Its epoch end logs ``wall_time_s`` (cumulative) and stops
    ``fit`` when the budget is spent. Placed before :class:`ProtocolValidation` (which a
    validation every few epochs needs, to know the last epoch), it logs the time before
    that epoch's validation; :meth:`recorder`, placed just before the checkpoint callback,
    logs it again there, so that the saved time, from which a resumed run continues,
    includes the validation.

    Args:
        minutes: the budget, a positive number; None records time without stopping.
        previous_seconds: time spent by earlier runs of the same training (take it
            from the restored history: its last recorded ``wall_time_s``). Default 0.
    """

    def __init__(self, minutes=None, previous_seconds=0.0):
        super().__init__()
        if minutes is not None:
            minutes = positive_number(minutes, "minutes")  # NaN would never stop
        self.budget_seconds = None if minutes is None else 60.0 * minutes
        self.previous_seconds = float(previous_seconds)
        self._start = time.perf_counter()

    @classmethod
    def resuming(cls, minutes, history):
        """A budget that continues from a restored checkpoint history (or none)."""
        return cls(minutes, previous_seconds=last_recorded(history, "wall_time_s"))

    @property
    def elapsed_seconds(self):
        return self.previous_seconds + time.perf_counter() - self._start

    @property
    def exhausted(self):
        """True when earlier runs already spent the budget: ``fit`` would still run one epoch."""
        return self.budget_seconds is not None and self.previous_seconds >= self.budget_seconds

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["wall_time_s"] = self.elapsed_seconds
        if self.budget_seconds is not None and self.elapsed_seconds >= self.budget_seconds:
            self.model.stop_training = True

    def recorder(self):
        """A callback that logs this budget's ``wall_time_s`` again at its own epoch end."""
        return _WallTimeRecorder(self)


class _WallTimeRecorder(keras.callbacks.Callback):
    def __init__(self, budget):
        super().__init__()
        self.budget = budget

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["wall_time_s"] = self.budget.elapsed_seconds


class TrainingClock(keras.callbacks.Callback):
    """Stops ``fit`` after ``minutes`` of *training* time, summed over resumed runs.

    :class:`WallClockBudget` counts everything; this clock counts from the end of the
    first step of each ``fit`` call (that step traces the graph) to the end of each
    epoch, input pipeline included. Put it first in the callback list, so that its
    epoch end comes before validation, which it then does not count: comparisons of
    training speed (notebook 06) should not charge a slower validation to a model.

    Args:
        minutes: the budget; None records time without stopping.
        history: a restored checkpoint history; its last ``train_time_s`` is where
            the clock resumes. Default None (a fresh run).

    Adds ``train_time_s`` (cumulative) to every epoch's logs.
    """

    def __init__(self, minutes=None, history=None):
        super().__init__()
        if minutes is not None:
            minutes = positive_number(minutes, "minutes")
        self.budget_seconds = None if minutes is None else 60.0 * minutes
        self.seconds = last_recorded(history, "train_time_s")
        self._first_step, self._start = True, None

    def on_train_begin(self, logs=None):
        self._first_step, self._start = True, time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if self._first_step:  # the end of the first step of a fit call: tracing done
            self._first_step = False
            self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds += time.perf_counter() - self._start
        if logs is not None:
            logs["train_time_s"] = self.seconds
        if self.budget_seconds is not None and self.seconds >= self.budget_seconds:
            self.model.stop_training = True


class SampleImages(keras.callbacks.Callback):
    """Writes ``[bicubic | SR | HR]`` crops of a few images to TensorBoard.

    Args:
        log_dir: TensorBoard folder.
        dataset, scale: where the images come from and the scale.
        crop_size: side of the HR crop shown. Default 128.
        count: number of images. Default 2.
        every: epochs between writes. Default 5.
    """

    def __init__(self, log_dir, dataset="Set5", scale=3, crop_size=128, count=2, every=5):
        super().__init__()
        self.dataset, self.scale = datasets.check_name(dataset), scale_factor(scale)
        self.crop_size, self.count = positive_int(crop_size, "crop_size"), positive_int(count, "count")
        self.every = positive_int(every, "every")
        self.writer = tf.summary.create_file_writer(str(log_dir))

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        from srlib import models
        upscale = models.upscaler(self.model, self.scale)
        bicubic = evaluate.fir_upscaler("bicubic")
        panels = []
        for _, hr in datasets.load_images(self.dataset, limit=self.count):
            _, _, hr_cropped, lr, sr = evaluate.evaluate_image(hr, upscale, self.scale)
            size = min(self.crop_size, *hr_cropped.shape[:2])
            top, left = (hr_cropped.shape[0] - size) // 2, (hr_cropped.shape[1] - size) // 2
            window = (slice(top, top + size), slice(left, left + size))
            row = [bicubic(lr, self.scale)[window], sr[window], hr_cropped[window]]
            panels.append(np.concatenate([np.broadcast_to(p, p.shape[:2] + (3,)) for p in row], axis=1))
        with self.writer.as_default():
            for index, panel in enumerate(panels):
                tf.summary.image(f"bicubic_sr_hr/{index}", panel[None], step=epoch + 1)


def step_decay(initial_learning_rate, decay_factor=0.1, decay_every_steps=100_000):
    """Piecewise-constant decay: ``lr * decay_factor ** floor(step / decay_every_steps)``."""
    positive_number(initial_learning_rate, "initial_learning_rate")
    if not 0 < decay_factor <= 1:
        raise ValueError(f"`decay_factor` must be in (0, 1]. Received: decay_factor={decay_factor!r}")
    decay_every_steps = positive_int(decay_every_steps, "decay_every_steps")
    return keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate, decay_steps=decay_every_steps, decay_rate=decay_factor, staircase=True)
