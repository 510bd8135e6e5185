"""The shipped weights in ``checkpoints/`` and the manifest that says how each was made.

Every file in ``checkpoints/`` was trained by srlib's own code (:func:`srlib.train.publish`
and :func:`srlib.train_gan.publish_gan` write it here). Its entry in ``manifest.json`` records
the model and its arguments, the weights' SHA-256, the run's command, data, recipe,
optimizer steps, wall time and machine, which epoch was chosen and why, and the Y-PSNR/SSIM
measured under the paper protocol when it was published. :func:`load_published` builds
the model and refuses weights whose checksum differs; notebooks evaluate shipped weights
where they exist and their own run's otherwise (:func:`shipped_or_trained`).
"""

import dataclasses
import datetime
import os
import platform
import tempfile
from pathlib import Path

import keras
import tensorflow as tf

from srlib import evaluate, files, models, resize, training

CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"


def read_manifest(directory=CHECKPOINTS):
    path = Path(directory) / "manifest.json"
    if not path.is_file():
        return {"models": {}}
    return files.read_json(path, f"; restore it (e.g. `git checkout {path}`) before publishing or loading weights")


LAST_EPOCH = "the last epoch: chosen without looking at any evaluation set"


def write_published(key, model, run, recipe, state, last, selection, directory=CHECKPOINTS,
                    datasets_to_report=("Set5", "Set14"), command=None, extra_training=None):
    """Evaluates ``model`` under the protocol, saves its weights as ``<key>.weights.h5`` in
    ``directory`` and records them in its ``manifest.json`` (both files written atomically).

    Args:
        key: the manifest key, ``<model>_x<scales>``.
        model: the model, holding the weights of ``state``.
        run: the run's ``run.json`` (model, scales, model_arguments, data, quick, seed, command).
        recipe: the recipe as a dict.
        state: the :class:`srlib.checkpoint.CheckpointState` of the published weights.
        last: the run's newest state (steps and time of the whole run).
        selection: one line on why these weights (which epoch).
        extra_training: further items for the entry's ``training`` record.

    Returns:
        The manifest entry.
    """
    scales = run["scales"]
    results = measure(model, run["model"], scales, datasets_to_report)
    directory = Path(directory)
    directory.mkdir(exist_ok=True)
    manifest = read_manifest(directory)  # first: an unreadable manifest stops us before any file changes
    weights_file = directory / f"{key}.weights.h5"
    with tempfile.TemporaryDirectory(dir=directory) as scratch:
        temporary = Path(scratch) / weights_file.name
        # A fresh, uncompiled copy: the file carries the network only, not Adam's slots
        # (which would triple its size and mean nothing to someone running inference).
        inference_model = models.build(run["model"], scales[0], **run["model_arguments"])
        inference_model.set_weights(model.get_weights())
        inference_model.save_weights(temporary)
        entry = _manifest_entry(model, run, recipe, state, last, selection, command, extra_training,
                                weights_file.name, files.sha256(temporary), results)
        manifest["protocol"] = evaluate.PROTOCOL
        manifest["models"][key] = entry
        # Serialised and written beside the new weights before anything is replaced: a value
        # JSON cannot hold fails here and leaves the old weights and manifest matching.
        new_manifest = Path(scratch) / "manifest.json"
        files.write_text(new_manifest, files.json_text(manifest))  # with an ordinary file's permissions
        # Everything is written: only two renames remain, weights then manifest, the only
        # moment the manifest's checksum can disagree with the weights.
        os.replace(temporary, weights_file)
        os.replace(new_manifest, directory / "manifest.json")
    return entry


def measure(model, method_name, scales, datasets_to_report=("Set5", "Set14")):
    """A manifest entry's ``results``: ``{"Set5_x3": {"psnr_y", "ssim_y", "images"}, ...}``,
    measured on whole datasets (these numbers go into tables) under the protocol."""
    results = {}
    for dataset_name in datasets_to_report:
        for each_scale in scales:
            result = evaluate.evaluate(models.upscaler(model, each_scale), dataset_name, each_scale,
                                       method_name=method_name)
            results[f"{dataset_name}_x{each_scale}"] = {"psnr_y": round(result.psnr_y, 3),
                                                        "ssim_y": round(result.ssim_y, 4), "images": result.images}
    return results


def remeasure_published(key, directory=CHECKPOINTS, date=None):
    """Measures the weights of entry ``key`` again under the current protocol, on the datasets
    its results list, for a protocol that changed after they were published.

    The weights and their checksum stay as they are. Changed figures replace the recorded ones,
    and a dated note keeps the earlier ones; the manifest's protocol statement becomes
    :data:`srlib.evaluate.PROTOCOL` (re-measure every entry before relying on it).

    Args:
        key: manifest key, like ``"espcn_x3"``.
        directory: the folder holding ``manifest.json``. Default ``checkpoints/``.
        date: ``datetime.date`` of the note. Default: today.

    Returns:
        ``{result key: (earlier Y-PSNR, new Y-PSNR)}`` for the figures that changed.
    """
    model, entry = load_published(key, directory)
    dataset_names = list(dict.fromkeys(name.rsplit("_x", 1)[0] for name in entry["results"]))
    results = measure(model, entry["model"], entry["scales"], dataset_names)
    changed = {name: (entry["results"].get(name, {}).get("psnr_y"), value["psnr_y"]) for name, value in results.items()
               if entry["results"].get(name) != value}
    manifest = read_manifest(directory)  # read again after the evaluation: written from this copy
    entry = published_entry(manifest, key, directory)
    if changed:
        earlier = ", ".join(f"{name} {entry['results'][name]['psnr_y']} dB SSIM {entry['results'][name]['ssim_y']}"
                            for name in sorted(changed) if name in entry["results"])
        entry["results"] = results
        _add_note(entry, f"Results re-measured under the protocol now stated in this manifest; earlier: {earlier}.",
                  date)
    manifest["protocol"] = evaluate.PROTOCOL
    files.write_json(Path(directory) / "manifest.json", manifest)
    return changed


def _manifest_entry(model, run, recipe, state, last, selection, command, extra_training, weights_name, sha256, results):
    """The manifest record of published weights (see :func:`write_published`)."""
    history = state.history or {}
    start = run.get("start")  # the published weights the run started from, if any
    before_steps, before_minutes = (start["optimizer_steps"], start["wall_time_minutes"]) if start else (0, 0.0)
    return {
        "model": run["model"], "scales": run["scales"], "model_arguments": run["model_arguments"],
        "weights": weights_name, "sha256": sha256,
        "parameters": int(model.count_params()),
        "training": {"data": run["data"], "quick_mode": run["quick"], "seed": run["seed"],
                     "recipe": recipe,
                     "optimizer_steps": before_steps + int(state.step or 0), "epochs": int(state.epoch),
                     "run_optimizer_steps": int(last.step or 0),
                     "run_wall_time_minutes": round(training.last_recorded(last.history, "wall_time_s") / 60, 1),
                     "checkpoint": Path(state.path).name, "selection": selection,
                     "wall_time_minutes": round(before_minutes + training.last_recorded(history, "wall_time_s") / 60,
                                                1),
                     **({"started_from": start} if start else {}),
                     "machine": machine_description(),
                     "command": command or run.get("command"),
                     **({"resumed_commands": run["resumed_commands"]} if run.get("resumed_commands") else {}),
                     **(extra_training or {})},
        "results": results,
        "published": datetime.date.today().isoformat(),
    }


def machine_description(cpuinfo="/proc/cpuinfo"):
    """This machine in one line, as manifests and ``results.json`` record it, e.g.
    ``"x86_64 2 cores (AMD EPYC, AVX2, oneDNN off), TensorFlow 2.21.0, CPU"`` (``GPU`` where
    TensorFlow sees one).

    The CPU's widest vector instructions, its bfloat16 ones and whether TensorFlow runs oneDNN
    change its speed several times over (an ESPCN training step on one Zen 3: 40 ms without
    oneDNN, 17 ms with it), so a training budget means little without them. The parentheses
    are left out where ``cpuinfo`` does not exist (not Linux).
    """
    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    return f"{platform.machine()} {os.cpu_count()} cores{_cpu_details(cpuinfo)}, TensorFlow {tf.__version__}, {device}"


def _cpu_details(cpuinfo):
    path = Path(cpuinfo)
    if not path.is_file():
        return ""
    lines = path.read_text().splitlines()
    model_name = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), None)
    flags = {flag for line in lines if line.startswith("flags") for flag in line.split(":", 1)[1].split()}
    widest = next((name for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX")) if flag in flags),
                  None)
    bfloat16 = "bfloat16" if models.cpu_bfloat16_flags(cpuinfo) else None
    onednn = f"oneDNN {'on' if resize._onednn_enabled() else 'off'}"
    return " (" + ", ".join(part for part in (model_name, widest, bfloat16, onednn) if part) + ")"


def published_name(entry):
    """The ``published.json`` method a manifest entry compares with (see :func:`published_method`)."""
    return published_method(entry["model"], entry["training"].get("recipe", {}).get("content"))


def published_method(model, content=None):
    """The ``published.json`` method a model trained with ``content`` loss compares with: the
    model's own, except for an SRGAN generator trained with another content loss than VGG54,
    which compares with that variant of the paper's Table 1 (``srgan_mse``)."""
    if model == "srgan" and content not in (None, "vgg54"):
        return f"srgan_{content}"
    return model


def published_entry(manifest, key, directory=CHECKPOINTS, argument=None):
    """``manifest``'s entry ``key``, or a ValueError naming the keys it has.

    Args:
        manifest: the manifest read from ``directory``.
        key: the entry's key, like ``"espcn_x3"``.
        directory: where ``manifest.json`` is, for the message. Default ``checkpoints/``.
        argument: the caller's parameter that named ``key``, for the message. Default: None.
    """
    if key not in manifest["models"]:
        what = f"`{argument}` {key!r} is not in" if argument else f"no published weights {key!r} in"
        raise ValueError(f"{what} {Path(directory) / 'manifest.json'}; available: {sorted(manifest['models'])}")
    return manifest["models"][key]


def load_published(key, directory=CHECKPOINTS):
    """Builds the model of a manifest entry and loads its weights (``key`` like ``"espcn_x3"``)."""
    entry = published_entry(read_manifest(directory), key, directory)
    weights = Path(directory) / entry["weights"]
    if not weights.is_file() or files.sha256(weights) != entry["sha256"]:
        raise ValueError(f"{weights} is missing or does not match its manifest checksum")
    model = models.build(entry["model"], entry["scales"][0], **entry.get("model_arguments", {}))
    model.load_weights(weights)
    return model, entry


@dataclasses.dataclass(frozen=True)
class EvaluatedWeights:
    """The weights a notebook evaluates, and where they come from.

    Attributes:
        model: the model holding them.
        description: one line saying how they were made, for printing next to the results.
        limit: images per dataset to evaluate: None (all) for shipped weights; 2 for a quick-mode run.
        shipped: True for weights from ``checkpoints/``, False for the best epoch of the notebook's run.
        entry: the manifest entry of shipped weights; None otherwise.
        steps: optimizer steps the weights were trained for.
    """

    model: keras.Model
    description: str
    limit: int = None
    shipped: bool = False
    entry: dict = None
    steps: int = 0

    @property
    def source(self):
        """``"shipped"`` or ``"trained"``, for tables."""
        return "shipped" if self.shipped else "trained"


def annotate_published(key, note, directory=CHECKPOINTS, date=None):
    """Adds a dated note to the manifest entry ``key``: what its fields cannot say (a choice made
    between whole runs, say). The weights, their checksum and the measured results stay as they are.

    Args:
        key: manifest key, like ``"espcn_x3"``.
        note: str, one or two sentences.
        directory: the folder holding ``manifest.json``. Default ``checkpoints/``.
        date: ``datetime.date`` of the note. Default: today.

    Returns:
        The updated entry (the manifest is rewritten atomically).
    """
    if not isinstance(note, str) or not note.strip():
        raise ValueError(f"`note` must be a non-empty string. Received: note={note!r}")
    manifest = read_manifest(directory)
    entry = published_entry(manifest, key, directory)
    _add_note(entry, note.strip(), date)
    files.write_json(Path(directory) / "manifest.json", manifest)
    return entry


def _add_note(entry, text, date=None):
    """Appends ``{"date", "note"}`` to a manifest entry's notes (``date`` default: today)."""
    entry.setdefault("notes", []).append({"date": (date or datetime.date.today()).isoformat(), "note": text})


def describe_published(entry):
    """One line on how the weights of a manifest entry were made (command, data, steps, time, machine)."""
    record = entry["training"]
    resumed = "".join(f", resumed by `{command}`" for command in record.get("resumed_commands", []))
    which = "last" if record.get("selection") == LAST_EPOCH else "best"
    pretrained = record.get("pretrained")
    start = (f", starting from the {pretrained['run_dir']} run's {pretrained['step']:,} steps "
             f"({pretrained['wall_time_minutes']} minutes)" if pretrained else "")
    earlier = record.get("started_from")
    if earlier:
        made_by = f"`{earlier['command']}`" if earlier.get("command") else "a run whose command was not recorded"
        start += (f", continuing the {earlier['key']} weights of {made_by} ({'+'.join(earlier['data'])}, "
                  f"{earlier['optimizer_steps']:,} steps, {earlier['wall_time_minutes']} minutes; "
                  f"counted in the totals)")
    return (f"shipped weights {entry['weights']}, trained by `{record['command']}`{resumed}: "
            f"{'+'.join(record['data'])}, {record['optimizer_steps']:,} steps ({which} epoch, {record['epochs']}), "
            f"{record['wall_time_minutes']} minutes on {record['machine']}{start}"
            + (" (quick mode: a smoke test, not a real training)" if record["quick_mode"] else "")
            + "".join(f"; note of {note['date']}: {note['note']}" for note in entry.get("notes", [])))


def shipped_weights(key, directory=CHECKPOINTS):
    """The published weights ``key`` (like ``"espcn_x3"``) as :class:`EvaluatedWeights`, or None if not published."""
    if key not in read_manifest(directory)["models"]:
        return None
    model, entry = load_published(key, directory)
    return EvaluatedWeights(model, describe_published(entry), limit=None, shipped=True, entry=entry,
                            steps=int(entry["training"]["optimizer_steps"]))


def shipped_or_trained(key, saver, model, quick, training_data, directory=CHECKPOINTS, model_label="model",
                       recipe_minutes=None):
    """The shipped weights ``key`` if the manifest lists them, else the best epoch of a notebook's run.

    Args:
        key: manifest key, like ``"srcnn_x3"``.
        saver: the run's :class:`srlib.checkpoint.CheckpointSaver`, its history loaded (after training).
        model: the model ``saver`` checkpoints; without shipped weights its best epoch is restored into it.
        quick: quick mode: the run is a smoke test, evaluated on two images per dataset.
        training_data: what the run trained on, for the description: a dataset name
            (``"T91"``) or a list of them (joined with ``+``).
        directory: the folder holding ``manifest.json``. Default ``checkpoints/``.
        model_label: what was trained, as in "the <model_label> trained above". Default ``"model"``.
        recipe_minutes: the CLI recipe's budget; a full-mode run shorter than this says so.

    Returns:
        :class:`EvaluatedWeights`.
    """
    shipped = shipped_weights(key, directory)
    if shipped is not None:
        return shipped
    if not isinstance(training_data, str):
        training_data = "+".join(map(str, training_data))
    history = saver.history  # the whole run's: restoring the best epoch replaces it with that epoch's
    best = saver.restore("best")  # the best epoch by the saver's monitor, not the last
    minutes = training.last_recorded(history, "wall_time_s") / 60
    shorter = recipe_minutes and not quick and minutes < recipe_minutes
    short = f" (the recipe is {recipe_minutes} minutes)" if shorter else ""
    description = (f"no shipped weights ({key} is not in {Path(directory) / 'manifest.json'}): the {model_label} "
                   f"trained above, a {'quick-mode' if quick else 'CPU-recipe'} run of {len(history['loss'])} epochs, "
                   f"{minutes:.1f} minutes{short} on {training_data}, best epoch {best.epoch} ({best.step:,} steps)")
    return EvaluatedWeights(model, description, limit=2 if quick else None, shipped=False, entry=None,
                            steps=int(best.step))
