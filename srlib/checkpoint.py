"""Crash-safe training checkpoints that resume bit for bit: weights, optimizers, RNGs, history.

Keras' weight files drop the optimizer state (Adam's moments and its step count), so
a run resumed from them is a different run; long CPU trainings span several killed
sessions, and notebook cells get re-run. :class:`CheckpointSaver` keeps everything a
run needs to continue exactly: the variables of any number of models and optimizers
(a GAN has two of each), epoch and step, the best monitored metric, the training
history and the state of every random number generator.

With ``model.fit`` (re-running the cell continues from the newest checkpoint)::

    saver = CheckpointSaver("checkpoints/edsr", model, monitor="val_psnr")
    initial_epoch = saver.restore_or_initialize()  # 0 on the first run
    order = np.concatenate([epoch_permutation(num_examples, seed, epoch)
                            for epoch in range(initial_epoch, epochs)])
    train = tf.data.Dataset.from_tensor_slices(order).map(load_pair).batch(16)
    model.fit(train, epochs=epochs, steps_per_epoch=num_examples // 16,
              initial_epoch=initial_epoch, validation_data=valid,
              callbacks=[saver.callback()])

From a custom training loop::

    saver = CheckpointSaver("checkpoints/srgan",
                            models={"generator": g, "discriminator": d},
                            optimizers={"generator": g_opt, "discriminator": d_opt},
                            random_generators={"noise": noise_generator},
                            keep_last=3, monitor="val_psnr", mode="max")
    state = saver.restore()  # None on the first run
    for epoch in range(state.epoch if state else 0, epochs):
        ...
        saver.save(epoch=epoch + 1, step=step, metrics={"g_loss": g_loss, "val_psnr": psnr})

On disk, checkpoint number 12 in ``directory`` is two files::

    ckpt-000012.npz   every array: "models/<name>/0000", ... (one per variable, in the
                      order of `model.variables`), "optimizers/<name>/0000", ...,
                      "rng/python", "rng/numpy", "rng/tensorflow", "rng/keras",
                      "rng/generators/<name>" (Keras and TensorFlow generators)
    ckpt-000012.json  epoch, step, metrics, best, history, the `variable.path` of every
                      saved variable, the scalar part of the RNG states, the whole state
                      of each ``np.random.Generator`` (its bit generator's ``state`` dict,
                      arrays as lists), and the size and SHA-256 of the .npz

Each file is written under a ``.tmp`` name, fsync'ed and renamed with ``os.replace``,
the .npz before the .json: a checkpoint exists once its JSON does, so ``kill -9`` in
the middle of a save leaves the previous checkpoints whole. A checkpoint whose JSON
does not parse or whose .npz fails the size or hash check is reported with
``warnings.warn`` and :meth:`CheckpointSaver.restore` falls back to the one before.
Non-finite losses or weights are refused (:class:`NonFiniteLossError`) before anything
is written, so the last good checkpoint stays the latest.

One process writes to a directory at a time. Variables are matched by position, not by name: Keras numbers auto-generated names
per process (``conv2d`` becomes ``conv2d_1`` when a notebook cell builds the model
again), so names only appear in error messages. Shapes must match exactly.

Bitwise-identical resume needs, besides this module:

* ``tf.config.experimental.enable_op_determinism()`` and
  ``keras.utils.set_random_seed(seed)`` before the models are built;
* a data order that depends on ``(seed, epoch)`` alone, because a resumed process
  starts its input pipeline afresh: ``tf.data``'s ``shuffle(seed=seed,
  reshuffle_each_iteration=True)`` gives epoch 5 of a fresh process the order of
  epoch 0. Build the pipeline for the epochs still to run from
  :func:`epoch_permutation`, as above, after restoring;
* randomness drawn only from the generators saved here (by :mod:`srlib.random_state`):
  Python's ``random``, NumPy's global generator, TensorFlow's global
  ``tf.random.Generator``, Keras' global ``SeedGenerator`` (``keras.random.*`` with
  ``seed=None``), ``SeedGenerator`` s owned by layers such as ``Dropout`` (they are model
  variables), and the generators passed as ``random_generators``. Stateful TF ops without a
  generator (``tf.random.normal`` with no seed) draw from a per-process op-seed counter that
  cannot be saved.

Saves the callback makes in the middle of an epoch (``save_every_steps``, or the end of
an epoch cut short by ``model.stop_training`` or by data running out) record that
epoch as not completed, and resume at its start: they bound the work a killed session
loses but are not bitwise resumes. The batches of that epoch done before the save are
trained again, while ``optimizer.iterations`` is restored as saved (it already counts
them): the step count ends that many steps above an uninterrupted run's, and a
step-based learning-rate schedule runs that many steps ahead from then on.
"""

import contextlib
import dataclasses
import json
import math
import os
import re
import warnings

import keras
import numpy as np
from srlib import files, random_state
from srlib.validation import positive_int

FORMAT_VERSION = 1
_CHECKPOINT_FILE = re.compile(r"ckpt-(\d+)\.(json|npz)")
_TEMPORARY_SUFFIX = ".tmp"
# mode="auto" maximises metrics whose name contains one of these, minimises the rest.
_HIGHER_IS_BETTER = ("psnr", "ssim", "acc", "auc")


class NonFiniteLossError(FloatingPointError):
    """A metric or weight passed to :meth:`CheckpointSaver.save` is NaN or infinite; nothing was written."""


class CorruptCheckpointError(RuntimeError):
    """A checkpoint failed its integrity check (raised to the caller only when no fallback is left)."""


@dataclasses.dataclass
class CheckpointState:
    """What :meth:`CheckpointSaver.restore` brings back besides the variables.

    Attributes:
        epoch (int): Epochs completed; the ``initial_epoch`` to resume at.
        step (int | None): Global step (optimizer iterations) at the save.
        metrics (dict[str, float]): Metrics passed to the save.
        best (dict | None): ``{"monitor", "mode", "value", "checkpoint"}`` of the best
            checkpoint so far, or None without ``monitor``.
        history (dict[str, list[float]]): Training history up to the save.
        path (str): The checkpoint's JSON file.
    """

    epoch: int
    step: int | None
    metrics: dict
    best: dict | None
    history: dict
    path: str


def epoch_permutation(num_examples, seed, epoch):
    """Order of ``num_examples`` examples in ``epoch``: a function of ``(seed, epoch)`` alone.

    A fresh process therefore sees the same order for epoch 5 as the process that ran
    epochs 0 to 4, which bitwise resume needs.
    """
    return np.random.default_rng([seed, epoch]).permutation(num_examples)


class CheckpointSaver:
    """Saves and restores complete training state in ``directory``, keeping the last few and the best.

    Args:
        directory (str | os.PathLike): Folder of the checkpoints; created if missing.
        models (keras.Layer | dict[str, keras.Layer]): The models to save, by name. A
            single model is saved under the name ``"model"``.
        optimizers (dict[str, keras.optimizers.Optimizer] | None): The optimizers to
            save, by name. Default: None, the optimizer each model was compiled with,
            under the model's name. An optimizer that is not built when restoring is
            built on the trainable variables of its model: the model compiled with it,
            else the model of the same name, else the only model. The learning rate
            is an optimizer variable, so it is restored too.
        random_generators (dict | None): Extra generators to save, by name:
            ``keras.random.SeedGenerator``, ``tf.random.Generator`` or
            ``np.random.Generator`` (any bit generator: PCG64, MT19937, Philox, SFC64...).
            Default: None.
        keep_last (int): How many of the newest checkpoints to keep. Default: 3.
        monitor (str | None): Metric that picks the best checkpoint, which is kept
            besides the last ``keep_last``. Default: None (no best checkpoint).
        mode (str): ``"max"``, ``"min"`` or ``"auto"`` (``"max"`` when ``monitor``
            contains psnr, ssim, acc or auc). Default: ``"auto"``.

    After :meth:`restore` or :meth:`save`, ``epoch``, ``step``, ``best`` and
    ``history`` hold the current state; ``history`` is what the next save stores.
    """

    def __init__(self, directory, models, optimizers=None, random_generators=None,
                 keep_last=3, monitor=None, mode="auto"):
        self.directory = os.fspath(directory)
        if os.path.exists(self.directory) and not os.path.isdir(self.directory):
            raise ValueError(f"`directory` must be a folder for the checkpoints, but {self.directory!r} is a file")
        if isinstance(models, keras.layers.Layer):
            models = {"model": models}
        self.models = _check_named(models, "models", keras.layers.Layer, "Keras model or layer")
        self._optimizers = None if optimizers is None else _check_named(
            optimizers, "optimizers", keras.optimizers.Optimizer, "keras.optimizers.Optimizer")
        self.random_generators = _check_named(
            random_generators or {}, "random_generators", random_state.GENERATOR_TYPES,
            "keras.random.SeedGenerator, tf.random.Generator or np.random.Generator", allow_empty=True)
        keep_last = positive_int(keep_last, "keep_last")
        if monitor is not None and not isinstance(monitor, str):
            raise ValueError(f"`monitor` must be None or the name of a metric, got {monitor!r}")
        if mode == "auto":
            mode = "max" if monitor and any(hint in monitor.lower() for hint in _HIGHER_IS_BETTER) else "min"
        if mode not in ("min", "max"):
            raise ValueError(f"`mode` must be 'min', 'max' or 'auto', got {mode!r}")
        self.keep_last, self.monitor, self.mode = keep_last, monitor, mode
        self._warned_missing_monitor = False
        self._corrupt = set()  # numbers restore() fell back past: not counted among the last keep_last
        self.epoch = self.step = self.best = None
        self.history = {}
        os.makedirs(self.directory, exist_ok=True)

    @property
    def optimizers(self):
        """The optimizers saved, by name (looked up on each use so that a later ``compile`` counts)."""
        if self._optimizers is not None:
            return self._optimizers
        return {name: model.optimizer for name, model in self.models.items()
                if getattr(model, "optimizer", None) is not None}

    def callback(self, save_every_steps=None):
        """A :class:`CheckpointCallback` for ``model.fit`` that saves through this saver."""
        return CheckpointCallback(self, save_every_steps=save_every_steps)

    def checkpoints(self):
        """Paths of the committed checkpoints (their JSON files), oldest first."""
        return [self._path(number, "json") for number in self._numbers("json")]

    # ------------------------------------------------------------------ saving

    def save(self, epoch, step=None, metrics=None, history=None):
        """Writes a new checkpoint atomically, then deletes those no longer kept.

        Args:
            epoch (int): Epochs completed, i.e. the epoch to resume at.
            step (int | None): Global step, for the record. Default: None.
            metrics (dict | None): Scalar metrics of this point of training; they must be
                finite and may contain ``monitor``. Default: None.
            history (dict[str, list] | None): Replaces ``self.history`` if given.
                Default: None (store ``self.history``).

        Returns:
            str: Path of the new checkpoint's JSON file.

        Raises:
            NonFiniteLossError: A metric or a model weight is NaN or infinite; nothing
                is written and the previous checkpoint stays the latest.
        """
        metrics = {name: _to_float(value, f"metrics[{name!r}]") for name, value in (metrics or {}).items()}
        non_finite = _non_finite(metrics)
        if non_finite:
            raise NonFiniteLossError(f"non-finite metrics {non_finite}: nothing was saved, so "
                                     f"{self._latest_name()} is still the latest checkpoint in {self.directory}")
        if self.epoch is None and self._numbers("json"):
            warnings.warn(f"{self.directory} holds checkpoints that this saver did not restore; the new ones will "
                          "push them out. Call restore() or restore_or_initialize() first to continue that run.")
        self._build_optimizers()  # an unbuilt optimizer would be saved without its slots
        arrays, variable_paths = self._capture_variables()
        rng_arrays, rng_record = random_state.capture(self.random_generators)
        arrays.update(rng_arrays)
        history = self.history if history is None else {name: list(values) for name, values in history.items()}

        # Never reuse a number, not even that of an .npz left without its JSON by a crash.
        number = max(self._numbers("json") + self._numbers("npz"), default=0) + 1
        best = self._updated_best(metrics, f"ckpt-{number:06d}")
        record = {"format": FORMAT_VERSION, "epoch": int(epoch), "step": None if step is None else int(step),
                  "metrics": metrics, "best": best, "history": history, "variables": variable_paths,
                  "rng": rng_record}
        json_path = self._write(number, arrays, record)
        self.epoch, self.step, self.best, self.history = record["epoch"], record["step"], best, history
        self._prune()
        return json_path

    def _write(self, number, arrays, record):
        """Writes the .npz, then the JSON that commits it, each atomically; returns the JSON's path."""
        npz_path, json_path = self._path(number, "npz"), self._path(number, "json")
        _atomic_write(npz_path, lambda file: np.savez(file, **arrays))
        try:
            record["arrays"] = {"file": os.path.basename(npz_path), "bytes": os.path.getsize(npz_path),
                                "sha256": files.sha256(npz_path)}
            text = json.dumps(record, indent=1, default=_to_json)
            _atomic_write(json_path, lambda file: file.write(text.encode()))
        except BaseException:
            if not os.path.exists(json_path):  # not committed: its arrays would be left an orphan
                with contextlib.suppress(OSError):
                    os.remove(npz_path)
            raise
        return json_path

    def _capture_variables(self):
        """Every model and optimizer variable as NumPy arrays, refusing non-finite model weights."""
        arrays, variable_paths = {}, {}
        for group, variables in self._variable_groups().items():
            variable_paths[group] = [variable.path for variable in variables]
            for index, variable in enumerate(variables):
                value = variable.numpy()
                if group.startswith("models/") and not np.isfinite(value).all():  # also bfloat16
                    raise NonFiniteLossError(f"{group} variable {variable.path!r} holds NaN or inf: nothing was saved, "
                                             f"so {self._latest_name()} is still the latest checkpoint")
                arrays[f"{group}/{index:04d}"] = value
        return arrays, variable_paths

    def _updated_best(self, metrics, name):
        if self.monitor is None:
            return None
        if self.monitor not in metrics:
            # Once per saver: a validation every few epochs leaves it out of the other epochs.
            if metrics and not self._warned_missing_monitor:
                self._warned_missing_monitor = True
                warnings.warn(f"monitor {self.monitor!r} is not among the metrics passed to save() "
                              f"({sorted(metrics)}), so this checkpoint cannot become the best one (expected on "
                              "epochs a validation every few epochs skips; warned once)")
            return self.best
        value = metrics[self.monitor]
        previous = None if self.best is None else self.best["value"]
        if previous is None or (value > previous if self.mode == "max" else value < previous):
            return {"monitor": self.monitor, "mode": self.mode, "value": value, "checkpoint": name}
        return self.best

    def _prune(self):
        """Deletes checkpoints outside the last `keep_last` and the best, and leftovers of killed saves."""
        # Corrupt ones are not counted: they would push out the intact checkpoint a resume fell back to.
        committed = [number for number in self._numbers("json") if number not in self._corrupt]
        keep = set(committed[-self.keep_last:])
        if self.best is not None:
            keep.add(int(self.best["checkpoint"].split("-")[1]))
        # JSON files first: a checkpoint stops existing before its arrays are deleted.
        for extension in ("json", "npz"):
            for number in self._numbers(extension):
                if number not in keep:
                    os.remove(self._path(number, extension))
        for filename in os.listdir(self.directory):
            if filename.endswith(_TEMPORARY_SUFFIX) and _CHECKPOINT_FILE.fullmatch(filename[:-len(_TEMPORARY_SUFFIX)]):
                os.remove(os.path.join(self.directory, filename))

    # --------------------------------------------------------------- restoring

    def restore(self, checkpoint=None):
        """Loads a checkpoint into the models, optimizers and random generators.

        Args:
            checkpoint (str | None): None for the newest intact checkpoint, falling back
                past corrupt ones with a warning each; ``"best"`` for the best one; or a
                checkpoint name such as ``"ckpt-000012"``. Default: None.

        Returns:
            CheckpointState | None: The restored state, or None when the directory holds
            no checkpoint.

        Raises:
            ValueError: The checkpoint does not fit the models or optimizers (the message
                names the file, the first mismatching variable and both shapes).
            CorruptCheckpointError: Checkpoints exist but none is intact, or the named
                one is not.
        """
        if checkpoint is not None:
            json_path = os.path.join(self.directory, f"{self._resolve(checkpoint)}.json")
            return self._apply(json_path, *_read_checkpoint(json_path))
        candidates = self.checkpoints()
        for json_path in reversed(candidates):
            try:
                record, arrays = _read_checkpoint(json_path)
            except CorruptCheckpointError as error:
                warnings.warn(f"{error}; falling back to the previous checkpoint (the corrupt one is deleted at the "
                              f"next save)", stacklevel=2)
                self._corrupt.add(int(_CHECKPOINT_FILE.fullmatch(os.path.basename(json_path))[1]))
                continue
            return self._apply(json_path, record, arrays)
        if candidates:
            raise CorruptCheckpointError(f"none of the {len(candidates)} checkpoints in {self.directory} is intact")
        return None

    def restore_or_initialize(self):
        """Restores the newest intact checkpoint if any; returns the epoch to resume at (0 for a fresh run)."""
        if self.restore() is None:
            self.epoch, self.step, self.best, self.history = 0, 0, None, {}
        return self.epoch

    def _resolve(self, checkpoint):
        if checkpoint != "best":
            if not os.path.exists(os.path.join(self.directory, f"{checkpoint}.json")):
                names = [os.path.basename(path)[:-len(".json")] for path in self.checkpoints()]
                raise ValueError(f"`checkpoint` must be None, 'best' or one of {names}, got {checkpoint!r}")
            return checkpoint
        best = self.best
        if best is None:  # not restored or saved yet in this process: ask the newest readable checkpoint
            for json_path in reversed(self.checkpoints()):
                with contextlib.suppress(OSError, ValueError, KeyError):
                    with open(json_path, encoding="utf-8") as file:
                        best = json.load(file)["best"]
                    break
        if best is None:
            raise ValueError(f"no best checkpoint is recorded in {self.directory}: monitor {self.monitor!r} "
                             "was never among the metrics passed to save()")
        return best["checkpoint"]

    def _apply(self, json_path, record, arrays):
        """Checks that every array fits before assigning any, so a mismatch changes nothing."""
        self._build_optimizers()
        npz_path = os.path.join(self.directory, record["arrays"]["file"])
        pairs = self._match_variables(record["variables"], arrays, npz_path)
        missing = sorted(set(self.random_generators) - set(record["rng"]["generators"]))
        if missing:
            raise ValueError(f"{json_path} holds no state for random_generators {missing}")
        for variable, value in pairs:
            variable.assign(value)
        random_state.restore(record["rng"], arrays, self.random_generators)
        best = record["best"]
        if best is not None and (best["monitor"], best["mode"]) != (self.monitor, self.mode):
            best = None  # ranked by another metric: it cannot be compared with what this saver monitors
        self.epoch, self.step, self.best, self.history = record["epoch"], record["step"], best, record["history"]
        return CheckpointState(epoch=record["epoch"], step=record["step"], metrics=record["metrics"],
                               best=record["best"], history=record["history"], path=json_path)

    def _build_optimizers(self):
        """Creates the slot variables of unbuilt optimizers, which must exist before they can be assigned."""
        for name, optimizer in self.optimizers.items():
            if not optimizer.built:
                optimizer.build(self._model_trained_by(name, optimizer).trainable_variables)

    def _model_trained_by(self, name, optimizer):
        for model in self.models.values():
            if getattr(model, "optimizer", None) is optimizer:
                return model
        if name in self.models:
            return self.models[name]
        if len(self.models) == 1:
            return next(iter(self.models.values()))
        raise ValueError(f"optimizer {name!r} is not built and no model is compiled with it or named {name!r}; "
                         "give it the name of its model in `optimizers`, or call "
                         "optimizer.build(model.trainable_variables) first")

    def _match_variables(self, saved_paths, arrays, npz_path):
        """Pairs each variable with its array by position; ValueError at the first mismatch."""
        groups = self._variable_groups()
        if set(saved_paths) != set(groups):
            raise ValueError(f"{npz_path} holds {sorted(saved_paths)} but this saver has {sorted(groups)}; "
                             "pass the same `models` and `optimizers` names that saved it")
        pairs = []
        for group, variables in groups.items():
            paths = saved_paths[group]
            for index in range(max(len(variables), len(paths))):
                variable = variables[index] if index < len(variables) else None
                value = arrays[f"{group}/{index:04d}"] if index < len(paths) else None
                if variable is None or value is None or tuple(variable.shape) != value.shape:
                    ours = "missing" if variable is None else f"{variable.path!r} shape {tuple(variable.shape)}"
                    theirs = "missing" if value is None else f"{paths[index]!r} shape {value.shape}"
                    hint = " (build the model, e.g. call it on a batch, before restoring)" if not variables else ""
                    raise ValueError(f"{npz_path} does not fit {group}: variable {index} is {ours} here but "
                                     f"{theirs} in the checkpoint ({len(variables)} vs {len(paths)} variables){hint}")
                if value.dtype.kind == "V":  # np.save stores ml_dtypes such as bfloat16 as raw bytes
                    value = value.view(np.dtype(variable.dtype))
                pairs.append((variable, value))
        return pairs

    # ----------------------------------------------------------------- helpers

    def _variable_groups(self):
        groups = {f"models/{name}": list(model.variables) for name, model in self.models.items()}
        groups.update({f"optimizers/{name}": list(optimizer.variables)
                       for name, optimizer in self.optimizers.items()})
        return groups

    def _numbers(self, extension):
        """Sorted numbers of the checkpoint files with `extension`; temporary files never match."""
        matches = (_CHECKPOINT_FILE.fullmatch(filename) for filename in os.listdir(self.directory))
        return sorted(int(match[1]) for match in matches if match and match[2] == extension)

    def _path(self, number, extension):
        return os.path.join(self.directory, f"ckpt-{number:06d}.{extension}")

    def _latest_name(self):
        committed = self._numbers("json")
        return f"ckpt-{committed[-1]:06d}" if committed else "no checkpoint"


def _appended(history, logs):
    """``history`` with one more epoch: ``logs``' values, and None for a metric the epoch did not log.

    Every list keeps one entry per epoch, so that a metric measured every few epochs
    (:class:`srlib.training.ProtocolValidation` with ``every > 1``) stays aligned with the
    epochs and with ``wall_time_s``. A history saved before this rule, whose sparse metric
    has fewer entries than epochs, is padded at its end: its old values keep their places.
    """
    logs = logs or {}
    epochs = max((len(values) for values in history.values()), default=0)
    appended = {}
    for name in [*history, *(name for name in logs if name not in history)]:
        values = list(history.get(name, []))
        values += [None] * (epochs - len(values))  # a metric logged for the first time now
        values.append(_to_float(logs[name], f"logs[{name!r}]") if name in logs else None)
        appended[name] = values
    return appended


class CheckpointCallback(keras.callbacks.Callback):
    """Saves through a :class:`CheckpointSaver` during ``model.fit``; resumes by default.

    At the start of training it restores the newest checkpoint unless the saver already
    restored or saved in this process, and makes ``fit`` start at the restored epoch
    (as ``keras.callbacks.BackupAndRestore`` does). Still call
    ``saver.restore_or_initialize()`` first when the input pipeline depends on the
    epoch. Each epoch's logs are appended to ``saver.history`` and saved with it (None
    for a metric an epoch did not log, so every list has one entry per epoch); a NaN or
    infinite value in the logs stops training with a warning and saves nothing.

    An epoch that ends before ``params["steps"]`` batches (another callback set
    ``model.stop_training``, or the data ran out) is saved as a mid-epoch save is: as
    not completed, without its logs. Resuming from such a checkpoint (or from one of
    ``save_every_steps``) starts that epoch again from its first batch with
    ``optimizer.iterations`` as saved, so the batches it had done are trained twice, the
    step count ends that many steps higher than an uninterrupted run's and a step-based
    learning-rate schedule is that many steps ahead.

    Args:
        saver (CheckpointSaver): Where and what to save.
        save_every_steps (int | None): Also save every this many optimizer steps (such a
            checkpoint resumes at the start of its epoch). Default: None (epoch ends only).
    """

    def __init__(self, saver, save_every_steps=None):
        super().__init__()
        if save_every_steps is not None and (isinstance(save_every_steps, bool)
                                             or not isinstance(save_every_steps, int) or save_every_steps < 1):
            raise ValueError(f"`save_every_steps` must be None or an integer >= 1, got {save_every_steps!r}")
        self.saver, self.save_every_steps = saver, save_every_steps
        self.stopped_on_non_finite = False
        self._epoch = 0
        self._batches_done = 0  # in the current epoch: fewer than params["steps"] at its end means cut short
        self._last_saved_step = 0

    def on_train_begin(self, logs=None):
        if self.saver.epoch is None:
            self.saver.restore_or_initialize()
        # fit() reads this private attribute after on_train_begin, in place of `initial_epoch`.
        self.model._initial_epoch = self.saver.epoch or None
        self._last_saved_step = self._step()
        self.stopped_on_non_finite = False

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._batches_done = 0

    def on_train_batch_end(self, batch, logs=None):
        self._batches_done = batch + 1  # `batch` is the last step run (several with steps_per_execution)
        non_finite = _non_finite(logs or {})
        if non_finite:
            self._stop(f"non-finite {non_finite} at epoch {self._epoch + 1}, batch {batch + 1}: nothing was saved, "
                       f"so {self.saver._latest_name()} is still the latest checkpoint in {self.saver.directory}")
            return
        step = self._step()
        epoch_ends_now = batch + 1 == self.params.get("steps")  # on_epoch_end saves a better resume point
        if self.save_every_steps and step - self._last_saved_step >= self.save_every_steps and not epoch_ends_now:
            self._save(epoch=self._epoch, step=step)

    def on_epoch_end(self, epoch, logs=None):
        if self.stopped_on_non_finite:
            return
        steps = self.params.get("steps")
        if steps is not None and self._batches_done < steps:
            # Cut short: saving epoch + 1 would make a resume skip the rest of it. Record it
            # as the mid-epoch saves of on_train_batch_end do (not completed, no logs).
            step = self._step()
            if step != self._last_saved_step:  # else that state is already the latest checkpoint
                self._save(epoch=epoch, step=step)
            return
        self._save(epoch=epoch + 1, step=self._step(), metrics=logs, history=_appended(self.saver.history, logs))

    def on_train_end(self, logs=None):
        self.model._initial_epoch = None  # so that a later fit() without this callback starts where it is told

    def _save(self, **save_arguments):
        try:
            self.saver.save(**save_arguments)
        except NonFiniteLossError as error:  # non-finite epoch logs or weights
            self._stop(str(error))
        else:
            self._last_saved_step = save_arguments["step"]

    def _stop(self, reason):
        self.model.stop_training = self.stopped_on_non_finite = True
        warnings.warn(f"{reason}; training stopped", RuntimeWarning)

    def _step(self):
        optimizer = getattr(self.model, "optimizer", None)
        return int(optimizer.iterations.numpy()) if optimizer is not None else 0


# ------------------------------------------------------------------- files

def _atomic_write(path, write):
    """Writes `path` through a temporary file in the same folder: it appears whole or not at all."""
    temporary = path + _TEMPORARY_SUFFIX
    try:
        with open(temporary, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise
    if os.name == "posix":  # make the rename itself durable
        directory = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _read_checkpoint(json_path):
    """The JSON record and all arrays of a checkpoint; CorruptCheckpointError naming the bad file."""
    try:
        with open(json_path, encoding="utf-8") as file:
            record = json.load(file)
        npz_path = os.path.join(os.path.dirname(json_path), record["arrays"]["file"])
        expected_bytes, expected_sha256 = record["arrays"]["bytes"], record["arrays"]["sha256"]
        actual_bytes = os.path.getsize(npz_path)
    except (OSError, ValueError, KeyError, TypeError) as error:
        reason = f"{type(error).__name__}: {error}"
        raise CorruptCheckpointError(f"checkpoint {json_path} is unreadable ({reason})") from error
    if record.get("format") != FORMAT_VERSION:
        raise ValueError(f"{json_path} has format {record.get('format')!r}; this srlib reads format {FORMAT_VERSION}")
    if actual_bytes != expected_bytes:
        raise CorruptCheckpointError(f"checkpoint file {npz_path} has {actual_bytes} bytes but {json_path} "
                                     f"records {expected_bytes} (truncated?)")
    if files.sha256(npz_path) != expected_sha256:
        raise CorruptCheckpointError(f"checkpoint file {npz_path} does not match the SHA-256 in {json_path}")
    with np.load(npz_path) as npz:
        return record, {key: npz[key] for key in npz.files}



# ---------------------------------------------------------------- arguments

def _check_named(objects, argument, expected_type, expected_description, allow_empty=False):
    """`objects` as a dict of names to instances of `expected_type`; names become .npz keys."""
    if not isinstance(objects, dict) or (not objects and not allow_empty):
        raise ValueError(f"`{argument}` must be a {'' if allow_empty else 'non-empty '}dict of names to objects, "
                         f"got {objects!r}")
    for name, item in objects.items():
        if not isinstance(name, str) or not re.fullmatch(r"[\w.-]+", name):
            raise ValueError(f"`{argument}` names must be strings of letters, digits, '_', '.' or '-', got {name!r}")
        if not isinstance(item, expected_type):
            raise ValueError(f"`{argument}[{name!r}]` must be a {expected_description}, got {type(item).__name__}")
    return dict(objects)


def _to_float(value, what):
    try:
        return float(np.asarray(value))
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what} must be a scalar number, got {value!r}") from error


def _non_finite(values):
    """The NaN or infinite entries of a dict of scalars (metrics or Keras logs)."""
    scalars = {name: _to_float(value, f"metric {name!r}") for name, value in values.items()}
    return {name: value for name, value in scalars.items() if not math.isfinite(value)}


def _to_json(value):
    """Lets history and metrics hold NumPy scalars and scalar tensors, and the arrays
    of generator states (MT19937's key, Philox's counter; their state setters take lists back)."""
    array = np.asarray(value)
    if array.dtype == object:  # tolist() would hand it back and json would report a circular reference
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
    return array.tolist()
