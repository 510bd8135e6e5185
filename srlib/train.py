"""Training recipes that survive killed sessions, and the weights they publish.

``python -m srlib train --model espcn --scale 3 --minutes 60`` trains with
``model.fit`` from a :class:`Recipe`, validates under the paper protocol every
epoch, checkpoints everything (:class:`srlib.checkpoint.CheckpointSaver`) into a
run folder, and stops at a wall-clock budget summed over resumed runs. Run the
same command again and it continues from the last checkpoint with the same weights,
optimizer state, data order and wall-clock count (bit for bit only with
``tf.config.experimental.enable_op_determinism()``, as :mod:`srlib.checkpoint` explains).
``python -m srlib publish`` then evaluates the run's weights on Set5/Set14, copies its weights
to ``checkpoints/`` and records how they were made in ``checkpoints/manifest.json``
(:mod:`srlib.zoo` reads and writes that manifest).

The recipes are CPU recipes (2 cores, about an hour): Adam instead of the papers'
SGD, which needs days. Each says how it differs from the paper.
"""

import dataclasses
import json
import math
import os
import warnings
from pathlib import Path

import keras
import tensorflow as tf

from srlib import checkpoint, data, datasets, files, models, training, zoo
from srlib.validation import positive_int, positive_number, scale_factor


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How one model is trained on CPU.

    Attributes:
        hr_patch_size: HR patch side (a multiple of every scale).
        batch_size: patches per step.
        learning_rate: Adam's initial rate; multiplied by 0.5 every ``decay_every_steps``.
        decay_every_steps: steps between halvings.
        steps_per_epoch: steps between validations and checkpoints.
        loss: ``"mse"`` (the papers') or ``"l1"``.
        data: training set name(s).
        clipnorm: Keras' ``clipnorm``: each variable's gradient is rescaled to at most this
            norm, separately (not one global norm); VDSR's high learning rate needs it.
        precision: ``"float32"`` or ``"mixed_bfloat16"`` (bfloat16 arithmetic, float32 weights
            and output: :func:`srlib.models.with_precision`); checkpoints are float32 either way.
            The per-epoch validation measures the mixed-precision model being trained;
            :func:`publish` and ``evaluate --checkpoint RUN`` measure the float32 one.
        note: how this differs from the paper.
    """

    hr_patch_size: int
    batch_size: int = 16
    learning_rate: float = 1e-3
    decay_every_steps: int = 20_000
    steps_per_epoch: int = 500
    loss: str = "mse"
    data: tuple = ("T91",)
    clipnorm: float = None
    precision: str = "float32"
    note: str = ""


RECIPES = {
    # SRCNN runs at HR resolution (57k MACs per pixel, 23x ESPCN's at x3): the shipped srcnn_x3 ran
    # 129,500 steps of 16 36x36 patches in its hour (28 ms each), so the rate halved four times.
    "srcnn": Recipe(hr_patch_size=36, decay_every_steps=30_000, data=("T91", "BSD200"),
                    note="Adam 1e-3 (as ESPCN and FSRCNN) on T91+BSD200 36x36 HR patches instead of SGD "
                         "1e-4/1e-5 on ImageNet 33x33 sub-images for 10^8 steps"),
    # Halving every 60k steps: FSRCNN runs about 66 steps/s here (218,500 steps in the shipped
    # weights' 55-minute run, about 4 halvings an hour); halving every 20k (the first recipes) left
    # the last 40 minutes at a rate too small to learn anything (ESPCN x3 stopped at 32.3 dB).
    "fsrcnn": Recipe(hr_patch_size=48, decay_every_steps=60_000, data=("T91", "BSD200"),
                     note="Adam 1e-3 on T91+BSD200 (291 images) 48x48 HR patches; the paper: T91 then General-100"),
    "fsrcnn_s": Recipe(hr_patch_size=48, decay_every_steps=60_000, data=("T91", "BSD200"), note="as fsrcnn"),
    # ESPCN is so small that a batch of 16 leaves the two cores half idle: a batch of 32 took 9 ms
    # instead of 6 (1.34x the patches per second) and an hour holds about 385k steps, hence the
    # halving every 75k. It reached 32.41 dB on Set5 x3 where batch 16 reached 32.33.
    "espcn": Recipe(hr_patch_size=48, batch_size=32, decay_every_steps=75_000, data=("T91", "BSD200"),
                    note="Adam 1e-3 on T91+BSD200 (291 images), batches of 32; the paper: 17x17 LR patches "
                         "from ImageNet"),
    # VDSR-20 ran about 6,500 float32 steps an hour on 2 cores (9,500 steps in 86.5 and in 78
    # minutes: about 0.5 s per batch of 16 48x48 patches with the per-epoch validation; the bare
    # step is 0.38 s in benchmarks/mixed_precision.py). Halving every 4,000 steps (the 3-hour recipe before
    # this one) left Set5 x2 swinging +-0.3 dB between epochs at 2.5e-4 after 10k steps: Adam needs a
    # smaller rate to settle a plain 20-layer network. Every 2,000 steps takes it to ~6e-5 by 9k steps
    # (a 90-minute run, one session) and to ~4e-6 by 17k (three hours); the paper divides by 10 three times.
    "vdsr": Recipe(hr_patch_size=48, batch_size=16, learning_rate=1e-3, decay_every_steps=2_000, clipnorm=0.4,
                   data=("T91", "BSD200"),
                   note="Adam 1e-3 halved every 2,000 steps, with clipnorm, instead of SGD 0.1 with adjustable "
                        "clipping; 291 images"),
    "sp_vdsr": Recipe(hr_patch_size=48, decay_every_steps=60_000, note="Adam 1e-3 on T91, x2, Y"),
    "sp_vdsr_nearest": Recipe(hr_patch_size=48, decay_every_steps=60_000, note="as sp_vdsr"),
    "srresnet": Recipe(hr_patch_size=96, batch_size=16, learning_rate=2e-4, decay_every_steps=60_000, loss="mse",
                       data=("T91", "BSD200"),
                       note="RGB; Adam 2e-4 (BasicSR's MSRResNet rate; the paper: 1e-4 for 10^6 steps on ImageNet); "
                            "fewer blocks than the paper's 16, and an interpolation skip, where the run's model "
                            "arguments say"),
}


def recipe_with(name, **overrides):
    """``RECIPES[name]`` with some fields replaced, e.g. ``recipe_with("vdsr", learning_rate=2.5e-4)``.

    The recipe's ``note`` gains the overrides, so that a run's ``run.json`` and a manifest
    entry say how the recipe was changed.

    Raises:
        ValueError: an unknown model or field, or a value of the wrong kind.
    """
    if name not in RECIPES:
        raise ValueError(f"no training recipe for {name!r}; expected one of {sorted(RECIPES)}")
    fields = {field.name for field in dataclasses.fields(Recipe)} - {"note"}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ValueError(f"unknown recipe field(s) {unknown}; a Recipe has {sorted(fields)}")
    for field in ("hr_patch_size", "batch_size", "decay_every_steps", "steps_per_epoch"):
        if field in overrides:
            positive_int(overrides[field], field)
    if "learning_rate" in overrides:
        positive_number(overrides["learning_rate"], "learning_rate")
    if overrides.get("clipnorm") is not None:  # None: no clipping
        positive_number(overrides["clipnorm"], "clipnorm")
    if "loss" in overrides:
        _loss(overrides["loss"])
    if overrides.get("precision", "float32") not in models.PRECISIONS:
        raise ValueError(f"`precision` must be one of {models.PRECISIONS}. "
                         f"Received: precision={overrides['precision']!r}")
    if "data" in overrides:
        overrides["data"] = (overrides["data"],) if isinstance(overrides["data"], str) else tuple(overrides["data"])
    recipe = RECIPES[name]
    if not overrides:
        return recipe
    changes = ", ".join(f"{field}={value!r}" for field, value in sorted(overrides.items()))
    return dataclasses.replace(recipe, **overrides, note=f"{recipe.note} [overridden: {changes}]")


def _loss(name):
    losses = {"mse": keras.losses.MeanSquaredError(), "l1": keras.losses.MeanAbsoluteError()}
    if name not in losses:
        raise ValueError(f"loss must be one of {sorted(losses)}, got {name!r}")
    return losses[name]


def compiled_model(name, scale, recipe, loss=None, **model_arguments):
    """The model compiled with its recipe's optimizer and precision: the variables a run's checkpoints hold.

    ``loss`` (a Keras loss) replaces the recipe's, for studies of the loss alone. Warns when the
    recipe asks for mixed bfloat16 on a machine with neither a GPU nor a CPU with bfloat16
    instructions, where it is many times slower than float32.
    """
    if (recipe.precision == "mixed_bfloat16" and not tf.config.list_physical_devices("GPU")
            and not models.cpu_bfloat16_flags()):
        warnings.warn(f"{name}: precision='mixed_bfloat16' on a CPU without bfloat16 instructions (no avx512_bf16 "
                      f"or amx_bf16 in /proc/cpuinfo) is many times slower than float32 (13.4x for VDSR-20 on one "
                      f"such machine); run benchmarks/mixed_precision.py, or train in float32", stacklevel=2)
    model = models.with_precision(models.build(name, scale, **model_arguments), recipe.precision)
    schedule = training.step_decay(recipe.learning_rate, 0.5, recipe.decay_every_steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=recipe.clipnorm),
                  loss=_loss(recipe.loss) if loss is None else loss)
    return model


def run_directory(name, scale, root=None):
    """``$SRLIB_RUNS/<name>_x<scale>`` (default ``runs/``): keep long runs outside a checkout
    that may be re-cloned between sessions by pointing ``SRLIB_RUNS`` elsewhere."""
    return Path(root or os.environ.get("SRLIB_RUNS", "runs")) / f"{name}_x{scale}"


def train(name, scale, minutes=60, run_dir=None, seed=0, quick=False, validation="Set5", max_epochs=10_000,
          recipe=None, command=None, model_arguments=None, initial_weights=None, checkpoints_dir=zoo.CHECKPOINTS):
    """Trains (or resumes) ``name`` at ``scale`` for a wall-clock budget.

    Args:
        name: a key of :data:`srlib.models.MODELS` with a recipe.
        scale: int, or a list for multi-scale models (VDSR).
        minutes: total training budget over all resumed runs. Default 60.
        run_dir: checkpoint folder. Default ``$SRLIB_RUNS/<name>_x<scale>`` (:func:`run_directory`).
        seed: seed of the data order and initialisation. Default 0.
        quick: tiny data and steps (tests, quick mode). Default False.
        validation: dataset for the per-epoch protocol validation. Default Set5.
        max_epochs: upper bound besides the budget.
        recipe: a :class:`Recipe` overriding ``RECIPES[name]``.
        command: the command line that started the run, recorded for the manifest.
        model_arguments: dict of model constructor arguments (``{"num_blocks": 8}``),
            recorded in ``run.json``. Default None (the constructor's defaults).
        initial_weights: a manifest key in ``checkpoints_dir`` (``"vdsr_x234"``) whose
            weights a new run starts from instead of a random initialisation, with a fresh
            optimizer and the recipe's rate schedule from its start (a warm restart). For
            fine-tuning shipped weights, or for continuing a training whose run folder is gone
            (run folders do not survive a re-cloned machine; a manifest entry does). The entry's
            steps and minutes are recorded in ``run.json``, and :func:`publish` adds them to the
            totals. A resumed run must be given the same key. Default None.
        checkpoints_dir: the folder holding ``manifest.json`` for ``initial_weights``.

    Returns:
        ``(model, saver)`` with the last (not the best) weights loaded.

    Raises:
        ValueError: ``initial_weights`` is not in the manifest, or is another model or
            architecture than the one trained; several scales for a model that upscales
            inside the network, or a scale it does not support; a recipe whose
            ``hr_patch_size`` is not a multiple of every scale; an unknown training set
            (all checked before ``run.json`` is written).
    """
    if name == "srgan":
        raise ValueError("srgan is trained in two phases: `train --model srresnet`, then `train-gan` "
                         "(srlib.train_gan)")
    default_recipe = recipe_with(name)  # also refuses a model without a recipe, custom recipe or not
    recipe = recipe or default_recipe
    spec = models.MODELS[name]
    scales = list(scale) if isinstance(scale, (list, tuple)) else [scale]
    data_names = ["embedded"] if quick else list(recipe.data)
    # Before anything is written: run.json, once there, refuses the corrected command.
    _check_training(name, spec, scale, scales, recipe, data_names)
    datasets.check_name(validation)  # resolved at the first epoch's end: a typo would lock run.json
    if minutes is not None:
        positive_number(minutes, "minutes")
    check_seed(seed)
    run_dir = Path(run_dir or run_directory(name, "".join(map(str, scales))))
    model_arguments = dict(model_arguments or {})
    start = None if initial_weights is None else _initial_weights_record(initial_weights, name, model_arguments,
                                                                         checkpoints_dir)
    keras.utils.set_random_seed(seed)
    model = compiled_model(name, scales[0], recipe, **model_arguments)
    saver = checkpoint.CheckpointSaver(run_dir, model, monitor="val_psnr", keep_last=2)
    settings = {"model": name, "scales": scales, "seed": seed, "quick": quick, "data": data_names,
                "recipe": dataclasses.asdict(recipe), "model_arguments": model_arguments, "validation": validation}
    if initial_weights is not None:
        settings["initial_weights"] = initial_weights
    record_run(run_dir, settings, command, start)
    initial_epoch = saver.restore_or_initialize()
    budget = training.WallClockBudget.resuming(minutes, saver.history)  # counts the set-up below too
    if budget_spent(budget, minutes, run_dir):
        return model, saver
    if initial_epoch == 0 and start is not None:
        published_model, _ = zoo.load_published(initial_weights, checkpoints_dir)
        model.set_weights(published_model.get_weights())  # the network only: Adam starts afresh
    steps = 5 if quick else recipe.steps_per_epoch
    dataset = data.training_dataset(
        data_names, scales if len(scales) > 1 else scales[0], recipe.hr_patch_size, batch_size=recipe.batch_size,
        steps_per_epoch=steps, seed=seed, epoch=initial_epoch,
        channels="y" if model.inputs[0].shape[-1] == 1 else "rgb", upsampled_input=spec.input == "upsampled")
    # The budget first: ProtocolValidation(every > 1) then sees the epoch the budget stops as the last;
    # its recorder last before the saver: the saved time includes the validation.
    callbacks = [budget, training.ProtocolValidation(validation, scales, limit=2 if quick else None),
                 budget.recorder(), saver.callback()]
    model.fit(dataset, epochs=initial_epoch + 2 if quick else max_epochs, steps_per_epoch=steps,
              initial_epoch=initial_epoch, callbacks=callbacks, verbose=2, shuffle=False)
    return model, saver


def check_seed(seed):
    """``seed`` if ``keras.utils.set_random_seed`` takes it (an integer in [0, 2**32)), else a ValueError
    naming it (NumPy's own message does not)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ValueError(f"`seed` must be an integer in [0, 2**32). Received: seed={seed!r}")
    return seed


def _check_training(name, spec, scale, scales, recipe, data_names):
    """ValueError for the scales, recipe and data of a run that :func:`train` could not train."""
    if not scales:
        raise ValueError("`scale` must be an integer or a non-empty list of them. Received: scale=[]")
    for value in scales:
        scale_factor(value, "scale")
    if spec.takes_scale and len(scales) > 1:
        raise ValueError(f"`scale`: {name} upsamples inside the network, so one model serves one scale; train "
                         f"each scale in its own run. Received: scale={scale!r}")
    if spec.scales is not None and any(value not in spec.scales for value in scales):
        raise ValueError(f"`scale`: {name} supports scales {list(spec.scales)}. Received: scale={scale!r}")
    if any(recipe.hr_patch_size % value for value in scales):
        raise ValueError(f"`hr_patch_size` must be a multiple of every scale ({math.lcm(*scales)}). "
                         f"Received: hr_patch_size={recipe.hr_patch_size}, scale={scale!r}")
    for data_name in data_names:
        datasets.check_name(data_name)  # ValueError naming the registered datasets


def _initial_weights_record(key, name, model_arguments, directory):
    """What a run started from ``key``'s published weights records of them (checked to fit the model)."""
    entry = zoo.published_entry(zoo.read_manifest(directory), key, directory, argument="initial_weights")
    if entry["model"] != name or entry.get("model_arguments", {}) != model_arguments:
        raise ValueError(f"`initial_weights` {key!r} are {entry['model']} weights with arguments "
                         f"{entry.get('model_arguments', {})}; this run trains {name} with {model_arguments}")
    record = entry["training"]
    return {"key": key, "sha256": entry["sha256"], "optimizer_steps": int(record["optimizer_steps"]),
            "wall_time_minutes": float(record["wall_time_minutes"]), "data": record["data"],
            "command": record.get("command"), "machine": record.get("machine")}


def budget_spent(budget, minutes, run_dir):
    """Says so and returns True when a resumed run has no time left (``fit`` would add an epoch anyway,
    and a notebook re-run would then evaluate weights other than those a later phase started from)."""
    if not budget.exhausted:
        return False
    print(f"{run_dir}: the budget of {minutes:g} minutes is spent ({budget.previous_seconds / 60:.1f} minutes "
          "trained); nothing to do. Raise the minutes to train on.")
    return True


def record_run(run_dir, settings, command=None, start=None):
    """Writes ``run.json`` on the first run; a resumed run must use the same settings.

    ``command`` (the command line that started the run) is kept for the manifest; a
    resuming command that differs (a larger ``--minutes``) is appended to
    ``resumed_commands``, so the manifest shows every command the weights came from.
    ``start`` (the published weights a run starts from) is recorded by the first run only:
    the entry it describes may have been republished since.
    """
    path = Path(run_dir) / "run.json"
    if path.is_file():
        recorded = files.read_json(path)
        first_command = recorded.pop("command", None)
        resumed_commands = recorded.pop("resumed_commands", [])
        recorded.pop("start", None)
        recorded.setdefault("validation", "Set5")  # runs recorded before it was: always Set5
        if "precision" in settings.get("recipe", {}):  # a Recipe's, not a GanRecipe's
            recorded.get("recipe", {}).setdefault("precision", "float32")  # runs recorded before it was
        differences = _differences(recorded, json.loads(json.dumps(settings)))
        if differences:
            raise ValueError(f"{path} records a different training ({'; '.join(differences)}); "
                             f"use another --run-dir or delete {run_dir} to start over")
        if command and command not in [first_command, *resumed_commands]:
            updated = files.read_json(path)
            files.write_json(path, {**updated, "resumed_commands": [*resumed_commands, command]})
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    files.write_json(path, {**settings, **({"command": command} if command else {}),
                            **({"start": start} if start else {})})


def _differences(recorded, settings, prefix=""):
    """``"key: recorded -> requested"`` for every setting that differs; a recipe's ``note`` is prose, not a setting."""
    differences = []
    for key in sorted(set(recorded) | set(settings)):
        old, new = recorded.get(key), settings.get(key)
        if key == "note" or old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            differences += _differences(old, new, f"{prefix}{key}.")
        else:
            differences.append(f"{prefix}{key}: {old!r} recorded, {new!r} requested")
    return differences


SELECTIONS = ("last", "best")


def publish(name, scale, run_dir=None, directory=zoo.CHECKPOINTS, datasets_to_report=("Set5", "Set14"), command=None,
            select="last"):
    """Copies a run's weights to ``directory`` and records them in its manifest.

    The manifest entry says what the weights are and how they were made: model,
    scale, recipe, training data, optimizer steps, epochs, cumulative wall time,
    machine, which epoch and why, and the Y-PSNR/SSIM measured now on each dataset
    under the protocol.

    Args:
        select: ``"last"`` (default): the run's final weights, chosen without looking at
            any evaluation set. ``"best"``: the epoch with the best validation PSNR; the
            validation set (Set5 by default) then also appears in the reported results,
            and its number there is optimistic by the selection (the manifest says so).
    """
    if select not in SELECTIONS:
        raise ValueError(f"`select` must be one of {SELECTIONS}. Received: select={select!r}")
    scales = list(scale) if isinstance(scale, (list, tuple)) else [scale]
    key = f"{name}_x{''.join(map(str, scales))}"
    run_dir = Path(run_dir or run_directory(name, "".join(map(str, scales))))
    run = read_run(run_dir, name, scales)
    recipe = recipe_of_run(run)
    model = restorable_model(name, scales[0], run)
    saver = checkpoint.CheckpointSaver(run_dir, model, monitor="val_psnr")
    last = saver.restore()
    if last is None:
        raise FileNotFoundError(f"no checkpoint in {run_dir}: train first")
    state = saver.restore("best") if select == "best" else last
    validation = run.get("validation", "Set5")
    selection = (zoo.LAST_EPOCH if select == "last" else
                 f"the best epoch by validation Y-PSNR on {validation}: the {validation} result is optimistic "
                 f"by that choice")
    return zoo.write_published(key, model, run, dataclasses.asdict(recipe), state, last, selection, directory,
                           datasets_to_report, command)


def read_run(run_dir, name, scales=None):
    """The ``run.json`` of a run folder, checked to be a run of ``name`` at ``scales`` (a list;
    None: any scales)."""
    run_file = Path(run_dir) / "run.json"
    if not run_file.is_file():
        raise FileNotFoundError(f"{run_file} not found: train first (python -m srlib train ...)")
    run = files.read_json(run_file)
    if run["model"] != name or scales is not None and run["scales"] != scales:
        wanted = name if scales is None else f"{name} x{scales}"
        raise ValueError(f"{run_file} is a run of {run['model']} x{run['scales']}, not {wanted}")
    return run


def recipe_of_run(run):
    """The :class:`Recipe` recorded in a run's ``run.json`` (a dict)."""
    return Recipe(**{**run["recipe"], "data": tuple(run["recipe"]["data"])})


def restorable_model(name, scale, run=None, model_arguments=None):
    """The compiled float32 model that a run's checkpoints restore into.

    Built with the run's recipe (its optimizer's variables) and model arguments. A
    mixed-precision run's variables are float32, so its checkpoints restore here too, and
    evaluate as the published weights will run.

    Args:
        run: a ``run.json`` dict (:func:`read_run`); None: ``RECIPES[name]``.
        model_arguments: constructor arguments; default the run's (``{}`` without a run).
    """
    recipe = recipe_of_run(run) if run else RECIPES[name]
    if model_arguments is None:
        model_arguments = run["model_arguments"] if run else {}
    return compiled_model(name, scale, dataclasses.replace(recipe, precision="float32"), **model_arguments)


