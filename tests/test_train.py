"""Training recipes, protocol validation, wall-clock budget, publishing and loading weights."""

import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from srlib import models, train, training, zoo


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "espcn_x3"
    train.train("espcn", 3, minutes=5, run_dir=run_dir, quick=True, command="python -m srlib train --quick")
    return run_dir


@pytest.fixture
def own_quick_run(quick_run, tmp_path):
    """A copy of the module's quick run (two epochs), for a test that trains it further or edits it:
    the shared one then stays as every other test expects it, in any order."""
    return Path(shutil.copytree(quick_run, tmp_path / "espcn_x3"))


def test_quick_run_checkpoints_and_records_settings(quick_run):
    recorded = json.loads((quick_run / "run.json").read_text())
    assert recorded["model"] == "espcn" and recorded["data"] == ["embedded"] and recorded["quick"] is True
    assert sorted(p.name for p in quick_run.glob("ckpt-*.json"))


def test_resume_continues_from_the_last_epoch(own_quick_run):
    model, saver = train.train("espcn", 3, minutes=5, run_dir=own_quick_run, quick=True)
    assert saver.epoch == 4  # two quick epochs, twice
    assert len(saver.history["loss"]) == 4 and saver.history["wall_time_s"][-1] > saver.history["wall_time_s"][1]


def test_resuming_command_is_recorded_and_published(tmp_path):
    run_dir = tmp_path / "espcn_x3"
    train.train("espcn", 3, minutes=5, run_dir=run_dir, quick=True, command="python -m srlib train --minutes 5")
    train.train("espcn", 3, minutes=9, run_dir=run_dir, quick=True, command="python -m srlib train --minutes 9")
    train.train("espcn", 3, minutes=9, run_dir=run_dir, quick=True, command="python -m srlib train --minutes 9")
    recorded = json.loads((run_dir / "run.json").read_text())
    assert recorded["command"].endswith("--minutes 5")
    assert recorded["resumed_commands"] == ["python -m srlib train --minutes 9"]  # once, though resumed twice
    entry = train.publish("espcn", 3, run_dir=run_dir, directory=tmp_path / "published",
                          datasets_to_report=("embedded",))
    assert entry["training"]["resumed_commands"] == ["python -m srlib train --minutes 9"]


def test_resume_with_other_settings_is_refused(quick_run):
    with pytest.raises(ValueError, match="records a different training .seed: 0 recorded, 7 requested"):
        train.train("espcn", 3, minutes=5, run_dir=quick_run, quick=True, seed=7)


@pytest.mark.parametrize("name, scale, message", [
    ("espcn", [2, 3], r"`scale`: espcn upsamples inside the network.*Received: scale=\[2, 3\]"),
    ("srresnet", 5, r"`scale`: srresnet supports scales \[2, 3, 4, 8\]. Received: scale=5"),
    ("vdsr", [2, 1.5], r"`scale`.*Received: scale=1\.5"),
])
def test_scales_a_model_cannot_train_are_refused_before_anything_is_written(tmp_path, name, scale, message):
    with pytest.raises(ValueError, match=message):
        train.train(name, scale, run_dir=tmp_path / "run", quick=True)
    assert not (tmp_path / "run").exists()


def test_a_refused_recipe_leaves_no_run_json_to_refuse_the_corrected_command(tmp_path, monkeypatch):
    run_dir = tmp_path / "espcn_x3"
    with pytest.raises(ValueError, match=r"hr_patch_size.*multiple of every scale.*hr_patch_size=50, scale=3"):
        train.train("espcn", 3, run_dir=run_dir, quick=True, recipe=train.recipe_with("espcn", hr_patch_size=50))
    with pytest.raises(ValueError, match="unknown dataset 'T19'"):
        train.train("espcn", 3, run_dir=run_dir, recipe=train.recipe_with("espcn", data="T19"))
    with pytest.raises(ValueError, match="unknown dataset 'Sett5'"):  # it failed after a whole epoch
        train.train("espcn", 3, run_dir=run_dir, quick=True, validation="Sett5")
    with pytest.raises(ValueError, match="unknown dataset 'None'"):
        train.train("espcn", 3, run_dir=run_dir, quick=True, validation=None)
    assert not (run_dir / "run.json").exists()
    monkeypatch.setattr(keras.Model, "fit", lambda model, *args, **kwargs: None)
    train.train("espcn", 3, run_dir=run_dir, quick=True, recipe=train.recipe_with("espcn", hr_patch_size=51))
    assert json.loads((run_dir / "run.json").read_text())["recipe"]["hr_patch_size"] == 51


def test_a_corrupt_run_json_is_named(tmp_path):
    (tmp_path / "run.json").write_text('{"model": "espcn",')
    for call in (lambda: train.read_run(tmp_path, "espcn"),
                 lambda: train.train("espcn", 3, run_dir=tmp_path, quick=True)):
        with pytest.raises(ValueError, match=r"run\.json is not valid JSON \(Expecting"):
            call()


def test_resume_with_the_budget_spent_trains_nothing(own_quick_run, capsys):
    _, saver = train.train("espcn", 3, minutes=1e-6, run_dir=own_quick_run, quick=True)
    assert saver.epoch == 2 and "budget of 1e-06 minutes is spent" in capsys.readouterr().out


def test_publish_and_load(quick_run, tmp_path):
    entry = train.publish("espcn", 3, run_dir=quick_run, directory=tmp_path, datasets_to_report=("embedded",))
    assert entry["training"]["data"] == ["embedded"] and entry["training"]["quick_mode"] is True
    assert entry["training"]["command"] == "python -m srlib train --quick"
    assert entry["training"]["run_optimizer_steps"] >= entry["training"]["optimizer_steps"] > 0
    assert entry["results"]["embedded_x3"]["images"] == 5
    model, loaded_entry = zoo.load_published("espcn_x3", directory=tmp_path)
    assert loaded_entry["sha256"] == entry["sha256"]
    # the published weights are the last checkpoint's: evaluating them reproduces the manifest
    from srlib import evaluate
    result = evaluate.evaluate(models.upscaler(model, 3), "embedded", 3)
    assert result.psnr_y == pytest.approx(entry["results"]["embedded_x3"]["psnr_y"], abs=1e-3)
    assert entry["training"]["optimizer_steps"] == \
        entry["training"]["run_optimizer_steps"]
    assert entry["training"]["selection"].startswith("the last epoch")
    import h5py
    with h5py.File(tmp_path / entry["weights"]) as weights:  # the network only, no optimizer slots
        assert "optimizer" not in weights


def test_publish_best_epoch_says_where_it_was_chosen(quick_run, tmp_path):
    entry = train.publish("espcn", 3, run_dir=quick_run, directory=tmp_path, datasets_to_report=("embedded",),
                          select="best")
    assert "best epoch by validation Y-PSNR on Set5" in entry["training"]["selection"]
    model, saver = _saver_of(quick_run)
    saver.restore("best")
    published, _ = zoo.load_published("espcn_x3", tmp_path)
    for chosen, shipped in zip(model.get_weights(), published.get_weights()):
        np.testing.assert_array_equal(chosen, shipped)  # what was published is the best epoch's weights
    with pytest.raises(ValueError, match="select"):
        train.publish("espcn", 3, run_dir=quick_run, directory=tmp_path, select="median")


def test_publish_into_a_broken_manifest_changes_nothing(quick_run, tmp_path):
    entry = train.publish("espcn", 3, run_dir=quick_run, directory=tmp_path, datasets_to_report=("embedded",))
    weights_before = (tmp_path / entry["weights"]).read_bytes()
    (tmp_path / "manifest.json").write_text('{"models": {')  # e.g. an unresolved merge
    with pytest.raises(ValueError, match="manifest.json is not valid JSON"):
        train.publish("espcn", 3, run_dir=quick_run, directory=tmp_path, datasets_to_report=("embedded",),
                      select="best")
    assert (tmp_path / entry["weights"]).read_bytes() == weights_before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["espcn_x3.weights.h5", "manifest.json"]


def test_publish_failing_to_serialise_the_manifest_changes_nothing(quick_run, tmp_path):
    (tmp_path / "espcn_x3.weights.h5").write_bytes(b"old weights")
    (tmp_path / "manifest.json").write_text('{"models": {"espcn_x3": {"sha256": "of the old weights"}}}')
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    with pytest.raises(TypeError, match="not JSON serializable"):
        train.publish("espcn", 3, run_dir=quick_run, directory=tmp_path, datasets_to_report=("embedded",),
                      command={"a set"})  # a value json cannot write into the manifest
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


def test_load_published_detects_tampering(quick_run, tmp_path):
    entry = train.publish("espcn", 3, run_dir=quick_run, directory=tmp_path, datasets_to_report=("embedded",))
    weights = tmp_path / entry["weights"]
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(ValueError, match="checksum"):
        zoo.load_published("espcn_x3", directory=tmp_path)
    with pytest.raises(ValueError, match="no published weights"):
        zoo.load_published("srcnn_x9", directory=tmp_path)


def test_cli_evaluate_with_checkpoint_folder(quick_run):
    completed = subprocess.run([sys.executable, "-m", "srlib", "evaluate", "--model", "espcn", "--scale", "3",
                                "--checkpoint", str(quick_run), "--dataset", "embedded", "--limit", "1", "--json"],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["images"] == 1


def _identity_model():
    inputs = keras.Input((None, None, 1))
    return keras.Model(inputs, keras.layers.Identity()(inputs))


def test_protocol_validation_of_an_identity_model_is_bicubic():
    """A pre-upsampling model that returns its input scores exactly what bicubic scores."""
    from srlib import evaluate

    validation = training.ProtocolValidation("embedded", scales=[2, 3], limit=2)
    validation.set_model(_identity_model())
    values = validation.measure()
    bicubic_x2 = evaluate.evaluate("bicubic", "embedded", 2, limit=2).psnr_y
    assert values["val_psnr_x2"] == pytest.approx(bicubic_x2, abs=0.05)
    assert values["val_psnr"] == pytest.approx((values["val_psnr_x2"] + values["val_psnr_x3"]) / 2)


def test_validation_every_few_epochs_keeps_the_saved_history_aligned(tmp_path):
    from srlib import evaluate
    from srlib.checkpoint import CheckpointCallback, CheckpointSaver

    inputs = keras.Input((None, None, 1))
    model = keras.Model(inputs, keras.layers.Conv2D(1, 1, kernel_initializer="ones")(inputs))  # the identity
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    saver = CheckpointSaver(tmp_path, model, monitor="val_psnr")
    validation = training.ProtocolValidation("embedded", scales=2, limit=1, every=3)
    patches = np.zeros((4, 8, 8, 1), "float32")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(patches, patches, batch_size=2, epochs=5, callbacks=[validation, CheckpointCallback(saver)],
                  verbose=0)
    assert sum("cannot become the best" in str(warning.message) for warning in caught) == 1  # once, not 3 times
    history = CheckpointSaver(tmp_path, model).restore().history
    assert len(history["loss"]) == len(history["val_psnr"]) == 5
    assert [value is None for value in history["val_psnr"]] == [True, True, False, True, False]  # epoch 3, last
    bicubic = evaluate.evaluate("bicubic", "embedded", 2, limit=1).psnr_y  # what the identity scores
    assert history["val_psnr"][2] == pytest.approx(bicubic, abs=0.05)
    assert history["val_psnr"][4] == pytest.approx(history["val_psnr"][2])
    assert CheckpointSaver(tmp_path, model, monitor="val_psnr").restore("best").epoch == 3  # a validated epoch
    # Budgets resume from the last recorded time, not from an epoch that did not record one.
    assert training.WallClockBudget.resuming(1, {"wall_time_s": [10.0, None]}).previous_seconds == 10.0
    assert training.TrainingClock(1, history={"train_time_s": [3.0, None]}).seconds == 3.0
    assert training.last_recorded({}, "train_time_s") == 0.0


def test_wall_clock_budget_counts_previous_runs():
    budget = training.WallClockBudget.resuming(1, {"wall_time_s": [10.0, 70.0]})
    model = _identity_model()
    budget.set_model(model)
    budget.on_train_begin()
    logs = {}
    budget.on_epoch_end(0, logs)
    assert logs["wall_time_s"] >= 70.0 and model.stop_training
    for minutes in (0, -1, float("nan"), "60"):  # NaN never stopped
        with pytest.raises(ValueError, match="`minutes` must be a finite number > 0"):
            training.WallClockBudget(minutes=minutes)


def test_wall_clock_budget_counts_from_its_creation_and_its_recorder_counts_the_validation():
    import time

    budget = training.WallClockBudget(None, previous_seconds=10.0)
    time.sleep(0.05)  # set-up before fit: loading the training data
    logs = {}
    budget.on_epoch_end(0, logs)
    before_validation = logs["wall_time_s"]
    assert before_validation >= 10.05
    time.sleep(0.05)  # the epoch's validation
    budget.recorder().on_epoch_end(0, logs)
    assert logs["wall_time_s"] >= before_validation + 0.05


def test_minutes_and_seed_are_checked_before_anything_is_written(tmp_path):
    for minutes in (0, float("nan")):
        with pytest.raises(ValueError, match="`minutes` must be a finite number > 0"):
            train.train("espcn", 3, minutes=minutes, run_dir=tmp_path / "run", quick=True)
    for seed in (-1, 2**32, 1.5, True):
        with pytest.raises(ValueError, match=r"`seed` must be an integer in \[0, 2\*\*32\)"):
            train.train("espcn", 3, seed=seed, run_dir=tmp_path / "run", quick=True)
    assert not (tmp_path / "run").exists()


def test_training_clock_excludes_the_first_step_and_resumes():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    features, targets = np.zeros((8, 4), np.float32), np.zeros((8, 1), np.float32)
    clock = training.TrainingClock(minutes=1e-9, history={"train_time_s": [3.0, 5.0]})
    history = model.fit(features, targets, batch_size=2, epochs=5, callbacks=[clock], verbose=0)
    assert len(history.history["loss"]) == 1  # the budget was spent before this run began
    assert 5.0 < history.history["train_time_s"][0] < 5.0 + 60  # continued from the last recorded 5 s
    unlimited = training.TrainingClock(None)
    history = model.fit(features, targets, batch_size=2, epochs=3, callbacks=[unlimited], verbose=0)
    assert len(history.history["train_time_s"]) == 3 and np.all(np.diff(history.history["train_time_s"]) >= 0)
    with pytest.raises(ValueError, match="minutes"):
        training.TrainingClock(minutes=-1)


@pytest.mark.parametrize("make, message", [
    (lambda: training.ProtocolValidation("Set55"), "unknown dataset 'Set55'"),
    (lambda: training.ProtocolValidation("embedded", limit=0), "`limit` must be a positive integer"),
    (lambda: training.ProtocolValidation("embedded", every=2.5), "`every` must be a positive integer"),
    (lambda: training.ProtocolValidation("embedded", scales=[2, 1]), "`scales` must be an integer >= 2"),
    (lambda: training.SampleImages("logs", dataset="embedded", every=0), "`every` must be a positive integer"),
    (lambda: training.SampleImages("logs", dataset="embedded", crop_size=-8), "`crop_size` must be a positive"),
    (lambda: training.step_decay(1e-3, 0.5, decay_every_steps=2.5), "`decay_every_steps` must be a positive"),
])
def test_callbacks_check_their_arguments_when_built(make, message):
    # Not at the first epoch's end, after a whole epoch of training.
    with pytest.raises(ValueError, match=message):
        make()


def test_protocol_validation_takes_numpy_scales():
    assert training.ProtocolValidation("embedded", scales=np.int64(3)).scales == [3]


def test_step_decay_halves():
    schedule = training.step_decay(1e-3, 0.5, 100)
    assert np.isclose(float(schedule(0)), 1e-3) and np.isclose(float(schedule(250)), 2.5e-4)


def test_training_runs_unchanged_under_mirrored_strategy():
    """The same recipe, dataset and callbacks on two logical CPU devices (a multi-GPU stand-in)."""
    from pathlib import Path

    worker = Path(__file__).with_name("distributed_worker.py")
    completed = subprocess.run([sys.executable, str(worker)], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    assert all(np.isfinite(report["loss"])) and report["weight_change"] > 0
    assert all(np.isfinite(report["val_psnr"]))


def test_sample_images_writes_tensorboard_images(tmp_path):
    import tensorflow as tf

    callback = training.SampleImages(tmp_path, dataset="embedded", scale=2, crop_size=32, count=1, every=1)
    callback.set_model(_identity_model())
    callback.on_epoch_end(0)
    callback.writer.flush()
    events = list(tmp_path.glob("events.out.tfevents.*"))
    assert events
    tags = {value.tag for record in tf.compat.v1.train.summary_iterator(str(events[0]))
            for value in record.summary.value}
    assert tags == {"bicubic_sr_hr/0"}


def _saver_of(run_dir):
    from srlib.checkpoint import CheckpointSaver

    model = train.compiled_model("espcn", 3, train.RECIPES["espcn"])
    saver = CheckpointSaver(run_dir, model, monitor="val_psnr")
    saver.restore()  # the last epoch and the whole history, as after training in a notebook
    return model, saver


def test_shipped_or_trained_without_shipped_weights_restores_the_best_epoch(quick_run, tmp_path):
    model, saver = _saver_of(quick_run)
    epochs, minutes = len(saver.history["loss"]), saver.history["wall_time_s"][-1] / 60
    chosen = zoo.shipped_or_trained("espcn_x3", saver, model, True, "embedded", directory=tmp_path)
    best = saver.restore("best")
    assert chosen.model is model and not chosen.shipped and chosen.source == "trained" and chosen.entry is None
    assert chosen.limit == 2 and chosen.steps == best.step
    assert chosen.description == (
        f"no shipped weights (espcn_x3 is not in {tmp_path / 'manifest.json'}): the model trained above, a "
        f"quick-mode run of {epochs} epochs, {minutes:.1f} minutes on embedded, best epoch {best.epoch} "
        f"({best.step:,} steps)")
    full = zoo.shipped_or_trained("espcn_x3", saver, model, False, "T91", directory=tmp_path,
                                    model_label="VDSR-20", recipe_minutes=180)
    assert full.limit is None and "the VDSR-20 trained above, a CPU-recipe run" in full.description
    assert "minutes (the recipe is 180 minutes) on T91" in full.description
    listed = zoo.shipped_or_trained("espcn_x3", saver, model, False, ["T91", "BSD200"], directory=tmp_path)
    assert " on T91+BSD200, best epoch" in listed.description


def test_compiled_model_takes_another_loss_with_the_recipe_optimizer():
    from srlib import losses

    recipe = train.RECIPES["espcn"]
    model = train.compiled_model("espcn", 3, recipe, loss=losses.SSIMLoss())
    assert isinstance(model.loss, losses.SSIMLoss)
    assert isinstance(model.optimizer, keras.optimizers.Adam) and model.optimizer.clipnorm == recipe.clipnorm
    assert isinstance(train.compiled_model("espcn", 3, recipe).loss, keras.losses.MeanSquaredError)


def test_shipped_or_trained_prefers_shipped_weights(quick_run, tmp_path):
    entry = train.publish("espcn", 3, run_dir=quick_run, directory=tmp_path, datasets_to_report=("embedded",))
    model, saver = _saver_of(quick_run)
    last_weights = [weight.copy() for weight in model.get_weights()]
    chosen = zoo.shipped_or_trained("espcn_x3", saver, model, True, "embedded", directory=tmp_path)
    assert chosen.shipped and chosen.source == "shipped" and chosen.limit is None
    assert chosen.entry == zoo.read_manifest(tmp_path)["models"]["espcn_x3"]
    assert chosen.model is not model and chosen.steps == entry["training"]["optimizer_steps"]
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), last_weights))  # the run is untouched
    record = entry["training"]
    assert chosen.description == (
        f"shipped weights espcn_x3.weights.h5, trained by `python -m srlib train --quick`: embedded, "
        f"{record['optimizer_steps']:,} steps (last epoch, {record['epochs']}), {record['wall_time_minutes']} minutes "
        f"on {record['machine']} (quick mode: a smoke test, not a real training)")
    assert zoo.describe_published(entry) == chosen.description
    assert zoo.shipped_weights("srcnn_x3", directory=tmp_path) is None


def test_published_name_picks_the_paper_row_the_weights_were_trained_for():
    def entry(model, content=None):
        return {"model": model, "training": {"recipe": {} if content is None else {"content": content}}}
    assert zoo.published_name(entry("espcn")) == "espcn"
    assert zoo.published_name(entry("srgan", "vgg54")) == "srgan"
    assert zoo.published_name(entry("srgan", "mse")) == "srgan_mse"
    from srlib import evaluate
    assert evaluate.published_psnr("srgan_mse", "Set5", 4) == 30.64  # Ledig et al. Table 1


def test_multi_scale_run_publishes_one_entry_that_serves_every_scale(tmp_path, capsys):
    run_dir, published = tmp_path / "vdsr_x234", tmp_path / "published"
    train.train("vdsr", [2, 3, 4], minutes=5, run_dir=run_dir, quick=True, model_arguments={"depth": 3, "filters": 8})
    entry = train.publish("vdsr", [2, 3, 4], run_dir=run_dir, directory=published, datasets_to_report=("embedded",))
    assert entry["scales"] == [2, 3, 4] and entry["weights"] == "vdsr_x234.weights.h5"
    assert sorted(entry["results"]) == ["embedded_x2", "embedded_x3", "embedded_x4"]
    model, _ = zoo.load_published("vdsr_x234", directory=published)
    assert model.count_params() == entry["parameters"]
    from srlib import cli
    capsys.readouterr()  # the training log
    # a weights file is built with the arguments its manifest records, a run folder with its run.json's
    for checkpoint in (published / entry["weights"], run_dir):
        assert cli.main(["evaluate", "--model", "vdsr", "--checkpoint", str(checkpoint), "--scale", "3",
                         "--dataset", "embedded", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["psnr_y"] == pytest.approx(
            entry["results"]["embedded_x3"]["psnr_y"], abs=1e-3)


def test_checkpoint_that_does_not_fit_the_model_names_the_fix(tmp_path, capsys):
    from srlib import cli
    weights = tmp_path / "small.weights.h5"
    models.build("vdsr", depth=3, filters=8).save_weights(weights)
    assert cli.main(["evaluate", "--model", "vdsr", "--checkpoint", str(weights), "--scale", "2",
                     "--dataset", "embedded"]) == 2
    assert "--model-argument NAME=VALUE" in capsys.readouterr().err
    assert cli.main(["evaluate", "--model", "vdsr", "--checkpoint", str(weights), "--scale", "2", "--dataset",
                     "embedded", "--limit", "1", "--model-argument", "depth=3", "--model-argument", "filters=8"]) == 0
    shipped = Path(zoo.CHECKPOINTS) / "sp_vdsr_x2.weights.h5"
    assert cli.main(["evaluate", "--model", "espcn", "--checkpoint", str(shipped), "--scale", "2",
                     "--dataset", "embedded"]) == 2
    assert "its manifest says these are sp_vdsr weights" in capsys.readouterr().err


def test_a_new_run_starts_from_published_weights(quick_run, tmp_path, monkeypatch):
    published = tmp_path / "published"
    train.publish("espcn", 3, run_dir=quick_run, directory=published, datasets_to_report=("embedded",))
    expected = zoo.load_published("espcn_x3", published)[0].get_weights()
    seen = []
    monkeypatch.setattr(keras.Model, "fit", lambda model, *args, **kwargs: seen.append(model.get_weights()))
    train.train("espcn", 3, minutes=5, run_dir=tmp_path / "continued", quick=True, initial_weights="espcn_x3",
                checkpoints_dir=published)
    assert len(seen) == 1 and all(np.array_equal(a, b) for a, b in zip(seen[0], expected, strict=True))


def test_publish_counts_the_steps_and_minutes_of_the_weights_a_run_started_from(quick_run, tmp_path):
    published = tmp_path / "published"
    before = train.publish("espcn", 3, run_dir=quick_run, directory=published, datasets_to_report=("embedded",))
    run_dir = tmp_path / "continued"
    train.train("espcn", 3, minutes=5, run_dir=run_dir, quick=True, initial_weights="espcn_x3",
                checkpoints_dir=published, command="python -m srlib train --initial-weights espcn_x3")
    after = train.publish("espcn", 3, run_dir=run_dir, directory=published, datasets_to_report=("embedded",))
    record, earlier = after["training"], before["training"]
    assert record["started_from"]["sha256"] == before["sha256"] != after["sha256"]
    assert record["optimizer_steps"] == earlier["optimizer_steps"] + record["run_optimizer_steps"]
    assert record["wall_time_minutes"] == pytest.approx(earlier["wall_time_minutes"] + record["run_wall_time_minutes"],
                                                        abs=0.11)
    assert "continuing the espcn_x3 weights of `python -m srlib train --quick`" in zoo.describe_published(after)
    unrecorded = {**after, "training": {**record, "started_from": {**record["started_from"], "command": None}}}
    assert "weights of a run whose command was not recorded (embedded," in zoo.describe_published(unrecorded)
    # the run resumes with the same key, though the entry it started from has been republished since
    train.train("espcn", 3, minutes=9, run_dir=run_dir, quick=True, initial_weights="espcn_x3",
                checkpoints_dir=published)
    with pytest.raises(ValueError, match="initial_weights: 'espcn_x3' recorded, None requested"):
        train.train("espcn", 3, minutes=9, run_dir=run_dir, quick=True, checkpoints_dir=published)


def test_initial_weights_of_another_model_or_unknown_key_are_refused(quick_run, tmp_path):
    published = tmp_path / "published"
    train.publish("espcn", 3, run_dir=quick_run, directory=published, datasets_to_report=("embedded",))
    with pytest.raises(ValueError, match="'srcnn_x3' is not in .*available: \\['espcn_x3'\\]"):
        train.train("espcn", 3, run_dir=tmp_path / "a", quick=True, initial_weights="srcnn_x3",
                    checkpoints_dir=published)
    with pytest.raises(ValueError, match="are espcn weights .* this run trains fsrcnn"):
        train.train("fsrcnn", 3, run_dir=tmp_path / "b", quick=True, initial_weights="espcn_x3",
                    checkpoints_dir=published)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()  # refused before writing anything


def test_cli_train_names_an_unknown_initial_weights_key(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "srlib", "train", "--model", "espcn", "--scale", "3", "--quick",
                                "--run-dir", str(tmp_path / "run"), "--initial-weights", "espcn_x9"],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 2 and "'espcn_x9' is not in" in completed.stderr
    assert not (tmp_path / "run").exists()


def test_cli_train_records_the_arguments_main_was_given(tmp_path):
    import json
    import shlex

    from srlib import cli

    arguments = ["train", "--model", "espcn", "--scale", "3", "--quick", "--run-dir", str(tmp_path / "my run")]
    assert cli.main(arguments) == 0  # not sys.argv: pytest's, here
    recorded = json.loads((tmp_path / "my run" / "run.json").read_text())["command"]
    assert recorded == shlex.join(["python", "-m", "srlib", *arguments]) and shlex.split(recorded)[3:] == arguments


def test_recipe_with_overrides_fields_and_says_so_in_the_note():
    recipe = train.recipe_with("vdsr", learning_rate=2.5e-4, data="T91")
    assert recipe.learning_rate == 2.5e-4 and recipe.data == ("T91",)
    assert recipe.decay_every_steps == train.RECIPES["vdsr"].decay_every_steps
    assert recipe.note.startswith(train.RECIPES["vdsr"].note) and "learning_rate=0.00025" in recipe.note
    assert train.recipe_with("vdsr") is train.RECIPES["vdsr"]
    for overrides, message in [({"learning_rat": 1e-4}, "unknown recipe field.*learning_rat"),
                               ({"batch_size": 0}, "`batch_size` must be a positive integer"),
                               ({"decay_every_steps": 2.5}, "`decay_every_steps` must be a positive integer"),
                               ({"learning_rate": -1.0}, "`learning_rate` must be a finite number > 0"),
                               ({"loss": "huber"}, "loss must be one of"),
                               ({"precision": "float16"}, "`precision` must be one of")]:
        with pytest.raises(ValueError, match=message):
            train.recipe_with("vdsr", **overrides)
    with pytest.raises(ValueError, match="no training recipe for 'srgan'"):
        train.recipe_with("srgan", learning_rate=1e-4)


def test_mixed_bfloat16_run_checkpoints_float32_weights_and_publishes_them_evaluated_in_float32(tmp_path):
    run_dir, published = tmp_path / "vdsr_x2", tmp_path / "published"
    recipe = train.recipe_with("vdsr", precision="mixed_bfloat16")
    model, saver = train.train("vdsr", 2, minutes=5, run_dir=run_dir, quick=True, recipe=recipe,
                               model_arguments={"depth": 3, "filters": 8})
    assert model.get_layer("conv_1").compute_dtype == "bfloat16" and model.outputs[0].dtype == "float32"
    assert np.isfinite(saver.history["loss"]).all() and saver.epoch == 2
    entry = train.publish("vdsr", 2, run_dir=run_dir, directory=published, datasets_to_report=("embedded",))
    assert entry["training"]["recipe"]["precision"] == "mixed_bfloat16"
    float32_model, _ = zoo.load_published("vdsr_x2", directory=published)
    restored = train.restorable_model("vdsr", 2, train.read_run(run_dir, "vdsr"))  # `evaluate --checkpoint RUN`
    for evaluated in (float32_model, restored):
        assert all(layer.compute_dtype == "float32" for layer in evaluated.layers)
    for ours, theirs in zip(float32_model.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)


def test_a_run_recorded_before_the_precision_field_resumes_in_float32(own_quick_run):
    path = own_quick_run / "run.json"
    recorded = json.loads(path.read_text())
    del recorded["recipe"]["precision"]
    path.write_text(json.dumps(recorded))
    _, saver = train.train("espcn", 3, minutes=5, run_dir=own_quick_run, quick=True)
    assert saver.epoch == 4  # resumed: two more quick epochs
    with pytest.raises(ValueError, match="recipe.precision: 'float32' recorded, 'mixed_bfloat16' requested"):
        train.train("espcn", 3, minutes=5, run_dir=own_quick_run, quick=True,
                    recipe=train.recipe_with("espcn", precision="mixed_bfloat16"))


def test_cli_recipe_argument_is_recorded_in_the_run(tmp_path):
    run_dir = tmp_path / "run"
    completed = subprocess.run([sys.executable, "-m", "srlib", "train", "--model", "espcn", "--scale", "3", "--quick",
                                "--run-dir", str(run_dir), "--recipe-argument", "learning_rate=0.0005"],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    recorded = json.loads((run_dir / "run.json").read_text())
    assert recorded["recipe"]["learning_rate"] == 0.0005 and "overridden" in recorded["recipe"]["note"]
    completed = subprocess.run([sys.executable, "-m", "srlib", "train", "--model", "espcn", "--scale", "3", "--quick",
                                "--run-dir", str(tmp_path / "other"), "--recipe-argument", "batch_size=0"],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 2 and "`batch_size` must be a positive integer" in completed.stderr


def test_mixed_bfloat16_warns_on_a_cpu_without_bfloat16_instructions(monkeypatch):
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    monkeypatch.setattr(models, "cpu_bfloat16_flags", lambda: [])
    with pytest.warns(UserWarning, match="many times slower than float32"):
        train.compiled_model("espcn", 3, train.recipe_with("espcn", precision="mixed_bfloat16"))
    monkeypatch.setattr(models, "cpu_bfloat16_flags", lambda: ["avx512_bf16"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train.compiled_model("espcn", 3, train.recipe_with("espcn", precision="mixed_bfloat16"))
        train.compiled_model("espcn", 3, train.RECIPES["espcn"])


def test_annotate_adds_a_dated_note_and_changes_nothing_else(quick_run, tmp_path):
    import datetime

    from srlib import cli

    train.publish("espcn", 3, run_dir=quick_run, directory=tmp_path, datasets_to_report=("embedded",))
    before = zoo.read_manifest(tmp_path)["models"]["espcn_x3"]
    weights = (tmp_path / before["weights"]).read_bytes()
    entry = zoo.annotate_published("espcn_x3", " chosen over another run by Set5 ", tmp_path,
                                     date=datetime.date(2026, 12, 3))
    assert entry["notes"] == [{"date": "2026-12-03", "note": "chosen over another run by Set5"}]
    after = zoo.read_manifest(tmp_path)["models"]["espcn_x3"]
    assert {key: value for key, value in after.items() if key != "notes"} == before
    assert (tmp_path / before["weights"]).read_bytes() == weights
    assert zoo.describe_published(after).endswith("; note of 2026-12-03: chosen over another run by Set5")
    assert cli.main(["annotate", "--key", "espcn_x3", "--note", "second", "--directory", str(tmp_path)]) == 0
    assert [note["note"] for note in zoo.read_manifest(tmp_path)["models"]["espcn_x3"]["notes"]] == [
        "chosen over another run by Set5", "second"]
    with pytest.raises(ValueError, match="no published weights 'espcn_x4'"):
        zoo.annotate_published("espcn_x4", "a note", tmp_path)
    with pytest.raises(ValueError, match="`note` must be a non-empty string"):
        zoo.annotate_published("espcn_x3", "  ", tmp_path)


def test_remeasure_replaces_results_that_changed_and_keeps_the_earlier_ones_in_a_note(quick_run, tmp_path, capsys):
    import datetime

    from srlib import cli, evaluate, files

    train.publish("espcn", 3, run_dir=quick_run, directory=tmp_path, datasets_to_report=("embedded",))
    manifest = zoo.read_manifest(tmp_path)
    measured = manifest["models"]["espcn_x3"]["results"]["embedded_x3"]
    # As if published under an earlier protocol: another figure, another statement.
    manifest["models"]["espcn_x3"]["results"]["embedded_x3"] = {**measured, "psnr_y": 1.5, "ssim_y": 0.25}
    manifest["protocol"] = "an earlier protocol"
    files.write_json(tmp_path / "manifest.json", manifest)
    weights = (tmp_path / "espcn_x3.weights.h5").read_bytes()

    changed = zoo.remeasure_published("espcn_x3", tmp_path, date=datetime.date(2026, 12, 3))
    assert changed == {"embedded_x3": (1.5, measured["psnr_y"])}
    after = zoo.read_manifest(tmp_path)
    entry = after["models"]["espcn_x3"]
    assert entry["results"]["embedded_x3"] == measured and after["protocol"] == evaluate.PROTOCOL
    assert entry["notes"] == [{"date": "2026-12-03", "note": "Results re-measured under the protocol now stated in "
                                                             "this manifest; earlier: embedded_x3 1.5 dB SSIM 0.25."}]
    assert (tmp_path / "espcn_x3.weights.h5").read_bytes() == weights and entry["sha256"] == manifest["models"][
        "espcn_x3"]["sha256"]
    assert cli.main(["remeasure", "--directory", str(tmp_path)]) == 0  # every entry; nothing changes now
    assert capsys.readouterr().out.strip().endswith("espcn_x3: unchanged")
    assert zoo.read_manifest(tmp_path) == after
