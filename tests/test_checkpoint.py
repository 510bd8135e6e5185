"""Tests of srlib.checkpoint: bitwise resume across processes, kill -9, corruption, NaN, retention, errors.

The exact-resume and kill tests run tests/checkpoint_worker.py in subprocesses (about
5 s each to import TensorFlow), so that op determinism stays out of this process.
"""

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from srlib.checkpoint import CheckpointSaver, CorruptCheckpointError, NonFiniteLossError

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "checkpoint_worker.py")
WORKER_ENVIRONMENT = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")


def worker_command(*arguments):
    return [sys.executable, WORKER, *map(str, arguments)]


def run_worker(*arguments):
    completed = subprocess.run(worker_command(*arguments), env=WORKER_ENVIRONMENT, capture_output=True, text=True,
                               timeout=300)
    assert completed.returncode == 0, completed.stderr[-4000:]


def small_model(filters=4, extra_layer=False):
    layers = [keras.Input((4, 4, 1)), keras.layers.Conv2D(filters, 3, padding="same"),
              keras.layers.Conv2D(1, 3, padding="same")]
    if extra_layer:
        layers.append(keras.layers.Conv2D(1, 1))
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


def fill(variables, value):
    for variable in variables:
        variable.assign(np.full(variable.shape, value, dtype=variable.dtype))


def values(variables):
    return [variable.numpy() for variable in variables]


def small_data(count=8):
    inputs = np.random.default_rng(0).random((count, 4, 4, 1), dtype=np.float32)
    return inputs, inputs ** 2


def directory_snapshot(directory):
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def checkpoint_names(directory):
    return sorted(name for name in os.listdir(directory) if name.endswith(".json"))


# ------------------------------------------------------------------ exact resume

@pytest.fixture(scope="module")
def resumed_runs(tmp_path_factory):
    """Weights of uninterrupted runs, first halves, and second halves resumed in a fresh process."""
    directory = tmp_path_factory.mktemp("resume")
    run_worker("first", directory, directory / "first.npz")
    run_worker("second", directory, directory / "second.npz")
    with np.load(directory / "first.npz") as first, np.load(directory / "second.npz") as second:
        return {**first, **second}


@pytest.mark.parametrize("kind", ["supervised", "gan"])
def test_resume_in_a_fresh_process_is_bitwise_identical(resumed_runs, kind):
    def run(name):
        prefix = f"{kind}_{name}/"
        return {key[len(prefix):]: value for key, value in resumed_runs.items() if key.startswith(prefix)}

    reference, half, resumed = run("reference"), run("half"), run("resumed")
    assert reference and reference.keys() == half.keys() == resumed.keys()
    # The second half changed the weights, so equality below is not the trivial kind.
    assert any(not np.array_equal(half[key], reference[key]) for key in reference)
    assert [key for key in reference if not np.array_equal(reference[key], resumed[key])] == []


def test_restore_builds_the_optimizer_and_restores_its_slots(tmp_path):
    inputs, targets = small_data()
    model = small_model()
    model.train_on_batch(inputs, targets)
    model.train_on_batch(inputs, targets)
    CheckpointSaver(tmp_path, model).save(epoch=1, step=2)

    fresh = small_model()
    assert not fresh.optimizer.built
    state = CheckpointSaver(tmp_path, fresh).restore()
    assert fresh.optimizer.built and int(fresh.optimizer.iterations) == 2 and state.step == 2
    for saved, restored in zip(values(model.variables + model.optimizer.variables),
                               values(fresh.variables + fresh.optimizer.variables)):
        np.testing.assert_array_equal(saved, restored)


def test_every_random_generator_is_restored(tmp_path):
    generators = {"tf": tf.random.Generator.from_seed(1), "keras": keras.random.SeedGenerator(2),
                  "numpy": np.random.default_rng(3)}
    keras.random.normal((1,))  # make sure Keras' global SeedGenerator exists

    def draw():
        return [random.random(), np.random.random(), float(tf.random.get_global_generator().normal(())),
                float(keras.random.normal(())), float(generators["tf"].normal(())),
                float(keras.random.normal((), seed=generators["keras"])), generators["numpy"].random()]

    saver = CheckpointSaver(tmp_path, small_model(), random_generators=generators)
    saver.save(epoch=0)
    first = draw()
    saver.restore()
    assert draw() == first


@pytest.mark.parametrize("bit_generator", [np.random.PCG64, np.random.MT19937, np.random.Philox, np.random.SFC64])
def test_numpy_generators_with_any_bit_generator_continue_after_restore(tmp_path, bit_generator):
    generator = np.random.Generator(bit_generator(5))
    generator.standard_normal(3)
    saver = CheckpointSaver(tmp_path, small_model(), random_generators={"noise": generator})
    saver.save(epoch=0)
    expected = generator.standard_normal(4)
    restored = np.random.Generator(bit_generator(6))  # another seed: only the checkpoint can make them agree
    CheckpointSaver(tmp_path, small_model(), random_generators={"noise": restored}).restore()
    np.testing.assert_array_equal(restored.standard_normal(4), expected)


def test_save_failing_to_write_the_json_leaves_no_file(tmp_path):
    saver = CheckpointSaver(tmp_path, small_model())
    saver.save(epoch=1)
    before = directory_snapshot(tmp_path)
    with pytest.raises(TypeError, match="not JSON serializable"):
        saver.save(epoch=2, history={"loss": [object()]})
    assert directory_snapshot(tmp_path) == before  # no ckpt-000002.npz without its JSON


def test_bfloat16_variables_round_trip(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, dtype="bfloat16")])
    saved = values(model.variables)
    CheckpointSaver(tmp_path, model).save(epoch=1)
    fill(model.variables, 0)
    CheckpointSaver(tmp_path, model).restore()
    for old, new in zip(saved, values(model.variables)):
        assert new.dtype == old.dtype and np.array_equal(old, new)


def test_callback_resumes_by_default_and_keeps_the_history(tmp_path):
    inputs, targets = small_data()
    model = small_model()
    first_saver = CheckpointSaver(tmp_path, model)
    model.fit(inputs, targets, epochs=2, batch_size=4, verbose=0, callbacks=[first_saver.callback()])

    fresh = small_model()
    saver = CheckpointSaver(tmp_path, fresh)
    history = fresh.fit(inputs, targets, epochs=3, batch_size=4, verbose=0, callbacks=[saver.callback()])
    assert history.epoch == [2]  # no initial_epoch passed: the callback restored epoch 2
    assert len(saver.history["loss"]) == 3 and saver.epoch == 3
    assert fresh._initial_epoch is None  # a later fit() without the callback is not redirected
    assert int(fresh.optimizer.iterations) == 3 * 2


def test_callback_saves_every_n_steps(tmp_path):
    inputs, targets = small_data(count=16)
    model = small_model()
    saver = CheckpointSaver(tmp_path, model, keep_last=10)
    model.fit(inputs, targets, epochs=1, batch_size=4, verbose=0, callbacks=[saver.callback(save_every_steps=2)])
    states = [saver.restore(name.removesuffix(".json")) for name in checkpoint_names(tmp_path)]
    # Mid-epoch at step 2; the save due at step 4 is left to the epoch end, which is a better resume point.
    assert [(state.epoch, state.step) for state in states] == [(0, 2), (1, 4)]


class StopAtStep(keras.callbacks.Callback):
    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations) == self.step:
            self.model.stop_training = True


def test_epoch_cut_short_is_saved_as_not_completed_and_resumes_at_its_start(tmp_path):
    inputs, targets = small_data()
    model = small_model()
    saver = CheckpointSaver(tmp_path, model, keep_last=10)
    model.fit(inputs, targets, epochs=3, batch_size=4, verbose=0, callbacks=[StopAtStep(3), saver.callback()])
    states = [saver.restore(name.removesuffix(".json")) for name in checkpoint_names(tmp_path)]
    # Epoch 1 ran one of its two batches: it is not completed, and its logs are not history.
    assert [(state.epoch, state.step) for state in states] == [(1, 2), (1, 3)]
    assert len(states[-1].history["loss"]) == 1

    fresh = small_model()
    history = fresh.fit(inputs, targets, epochs=3, batch_size=4, verbose=0,
                        callbacks=[CheckpointSaver(tmp_path, fresh).callback()])
    assert history.epoch == [1, 2]  # the cut-short epoch runs again, whole
    assert int(fresh.optimizer.iterations) == 3 + 2 * 2


# -------------------------------------------------------------------- kill -9

def wait_for_file_ending_with(directory, suffix, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(name.endswith(suffix) for name in os.listdir(directory)):
            return True
        time.sleep(0.0005)
    return False


def test_kill_9_during_saves_leaves_a_checkpoint_that_restores(tmp_path):
    seed = random.randrange(2**32)
    print(f"kill moments drawn with random.Random({seed})")  # shown on failure, to replay the moments
    chooser = random.Random(seed)
    progress = {"saving": 0, "saved": 0}  # the last save index the worker announced starting / finishing
    # Kill at a random moment (most likely inside a save), then while each file is half written.
    for moment in ("random", ".npz.tmp", ".json.tmp"):
        process = subprocess.Popen(worker_command("save-loop", tmp_path), env=WORKER_ENVIRONMENT,
                                   stdout=subprocess.PIPE, text=True)
        watchdog = threading.Timer(120, process.kill)  # never hang the test session on a stuck worker
        watchdog.start()
        saves_seen, save_seconds = 0, 0.0
        for line in process.stdout:
            event, index = line.split()
            progress[event] = int(index)
            if event == "saving":
                started_at = time.monotonic()
            else:
                saves_seen, save_seconds = saves_seen + 1, time.monotonic() - started_at
            if saves_seen == 2 and event == "saving":
                break
        if moment == "random":
            time.sleep(chooser.uniform(0.0, save_seconds))
        else:  # files are written under a temporary name first; catch one in the act
            assert wait_for_file_ending_with(tmp_path, moment), f"never saw a {moment} file being written"
        process.send_signal(signal.SIGKILL)
        for line in process.stdout.read().splitlines():  # what it printed before dying
            event, index = line.split()
            progress[event] = int(index)
        watchdog.cancel()
        assert process.wait() == -signal.SIGKILL

    # Leftovers of a save killed mid-write look like this; they must never pass for checkpoints.
    (tmp_path / "ckpt-999999.npz.tmp").write_bytes(b"partial")
    (tmp_path / "ckpt-999999.json.tmp").write_bytes(b"{")
    model = keras.Sequential([keras.Input((1024,)), keras.layers.Dense(1024), keras.layers.Dense(1024)])
    optimizer = keras.optimizers.Adam()
    saver = CheckpointSaver(tmp_path, model, optimizers={"model": optimizer}, keep_last=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no checkpoint may look corrupt
        state = saver.restore()
    assert progress["saved"] <= state.epoch <= progress["saving"]
    for value in values(model.variables + optimizer.variables):
        assert np.all(value == state.epoch)
    assert all(re.fullmatch(r"ckpt-\d{6}\.json", os.path.basename(path)) for path in saver.checkpoints())


# ---------------------------------------------------------------- corruption

def truncate(path):
    with open(path, "r+b") as file:
        file.truncate(os.path.getsize(path) // 2)


def flip_byte(path):
    with open(path, "r+b") as file:
        file.seek(os.path.getsize(path) // 2)
        byte = file.read(1)
        file.seek(-1, os.SEEK_CUR)
        file.write(bytes([byte[0] ^ 0xFF]))


def two_checkpoints(directory):
    model = small_model()
    saver = CheckpointSaver(directory, model)
    for epoch in (1, 2):
        fill(model.variables, epoch)
        saver.save(epoch=epoch)
    fill(model.variables, 0)
    return model


@pytest.mark.parametrize("damage, bad_file", [
    (truncate, "ckpt-000002.npz"),
    (flip_byte, "ckpt-000002.npz"),
    (truncate, "ckpt-000002.json"),
    (os.remove, "ckpt-000002.npz"),
])
def test_corrupt_latest_checkpoint_falls_back_to_the_previous_one(tmp_path, damage, bad_file):
    model = two_checkpoints(tmp_path)
    damage(tmp_path / bad_file)
    with pytest.warns(UserWarning, match=re.escape(bad_file)):
        state = CheckpointSaver(tmp_path, model).restore()
    assert state.epoch == 1
    assert all(np.all(value == 1) for value in values(model.variables))


def test_the_checkpoint_a_resume_fell_back_to_survives_the_next_save(tmp_path):
    model = small_model()
    saver = CheckpointSaver(tmp_path, model, keep_last=2)
    for epoch in (1, 2, 3):
        fill(model.variables, epoch)
        saver.save(epoch=epoch)
    truncate(tmp_path / "ckpt-000003.npz")
    resumed = CheckpointSaver(tmp_path, model, keep_last=2)
    with pytest.warns(UserWarning, match="ckpt-000003.*deleted at the next save"):
        assert resumed.restore().epoch == 2
    resumed.save(epoch=3)
    # The corrupt checkpoint does not count among the last two: ckpt-2, the one resumed from, stays.
    assert [Path(path).name for path in resumed.checkpoints()] == ["ckpt-000002.json", "ckpt-000004.json"]
    assert sorted(path.name for path in tmp_path.glob("*.npz")) == ["ckpt-000002.npz", "ckpt-000004.npz"]


def test_no_intact_checkpoint_raises(tmp_path):
    model = two_checkpoints(tmp_path)
    flip_byte(tmp_path / "ckpt-000001.npz")
    flip_byte(tmp_path / "ckpt-000002.npz")
    with pytest.warns(UserWarning, match="ckpt-00000"), pytest.raises(CorruptCheckpointError, match="none of the 2"):
        CheckpointSaver(tmp_path, model).restore()


# ---------------------------------------------------------------- non-finite

def test_callback_stops_on_nan_loss_and_keeps_the_last_checkpoint(tmp_path):
    inputs, targets = small_data()
    model = small_model()
    callback = CheckpointSaver(tmp_path, model).callback()
    model.fit(inputs, targets, epochs=1, batch_size=4, verbose=0, callbacks=[callback])
    before = directory_snapshot(tmp_path)
    assert list(before) == ["ckpt-000001.json", "ckpt-000001.npz"]

    with pytest.warns(RuntimeWarning, match=r"non-finite .*ckpt-000001 is still the latest"):
        history = model.fit(inputs, np.full_like(targets, np.nan), epochs=3, batch_size=4, verbose=0,
                            callbacks=[callback])
    assert model.stop_training and callback.stopped_on_non_finite
    assert history.epoch == [1]  # stopped inside the first epoch it ran
    assert directory_snapshot(tmp_path) == before


@pytest.mark.parametrize("case", ["nan_metric", "inf_metric", "nan_weight"])
def test_save_refuses_non_finite_values_and_writes_nothing(tmp_path, case):
    model = small_model()
    saver = CheckpointSaver(tmp_path, model)
    saver.save(epoch=1, metrics={"loss": 0.5})
    before = directory_snapshot(tmp_path)
    metrics = {"loss": {"nan_metric": np.nan, "inf_metric": np.inf}.get(case, 0.4)}
    if case == "nan_weight":
        model.layers[0].kernel.assign(np.full(model.layers[0].kernel.shape, np.nan, np.float32))
    expected = "kernel" if case == "nan_weight" else "loss"
    with pytest.raises(NonFiniteLossError, match=expected):
        saver.save(epoch=2, metrics=metrics)
    assert directory_snapshot(tmp_path) == before


# ------------------------------------------------------------------ retention

@pytest.mark.parametrize("monitor, keep_last, series, expected, best", [
    ("val_psnr", 2, [30.0, 32.0, 31.0, 29.0, 28.0], [2, 4, 5], 2),  # auto mode maximises PSNR
    ("loss", 2, [1.0, 0.5, 0.7, 0.2, 0.9], [4, 5], 4),  # and minimises a loss; here the best is among the last
    (None, 1, [1.0, 2.0, 3.0, 4.0, 5.0], [5], None),
])
def test_keeps_the_last_checkpoints_and_the_best(tmp_path, monitor, keep_last, series, expected, best):
    model = small_model()
    saver = CheckpointSaver(tmp_path, model, keep_last=keep_last, monitor=monitor)
    for epoch, value in enumerate(series, start=1):
        saver.save(epoch=epoch, metrics={monitor or "loss": value})
    expected_files = sorted(f"ckpt-{number:06d}.{extension}" for number in expected for extension in ("json", "npz"))
    assert sorted(os.listdir(tmp_path)) == expected_files
    if best is not None:  # a fresh saver finds the best through the newest checkpoint
        assert CheckpointSaver(tmp_path, model, monitor=monitor).restore("best").epoch == best


def test_saving_over_checkpoints_that_were_not_restored_warns(tmp_path):
    CheckpointSaver(tmp_path, small_model()).save(epoch=1)
    with pytest.warns(UserWarning, match="did not restore"):
        CheckpointSaver(tmp_path, small_model()).save(epoch=1)


# --------------------------------------------------------------------- errors

@pytest.mark.parametrize("other, message", [
    (lambda: small_model(filters=8),
     r"ckpt-000001\.npz.*kernel' shape \(3, 3, 1, 8\) here but .* shape \(3, 3, 1, 4\)"),
    (lambda: small_model(extra_layer=True), r"ckpt-000001\.npz.*variable 4 is '.*kernel' shape \(1, 1, 1, 1\) here "
                                            r"but missing in the checkpoint"),
], ids=["wider_layer", "extra_layer"])
def test_restoring_into_a_different_model_raises_and_changes_nothing(tmp_path, other, message):
    CheckpointSaver(tmp_path, small_model()).save(epoch=1)
    model = other()
    before = values(model.variables)
    with pytest.raises(ValueError, match=message):
        CheckpointSaver(tmp_path, model).restore()
    for old, new in zip(before, values(model.variables)):
        np.testing.assert_array_equal(old, new)


def test_restoring_with_other_names_raises(tmp_path):
    CheckpointSaver(tmp_path, small_model()).save(epoch=1)
    with pytest.raises(ValueError, match=r"holds .*models/model.* but this saver has .*models/generator"):
        CheckpointSaver(tmp_path, {"generator": small_model()}).restore()


def test_restoring_an_unknown_checkpoint_name_raises(tmp_path):
    CheckpointSaver(tmp_path, small_model()).save(epoch=1)
    with pytest.raises(ValueError, match=r"one of \['ckpt-000001'\], got 'ckpt-000007'"):
        CheckpointSaver(tmp_path, small_model()).restore("ckpt-000007")


def test_unbuilt_optimizer_without_a_model_to_build_on_raises(tmp_path):
    models = {"generator": small_model(), "discriminator": small_model()}
    saver = CheckpointSaver(tmp_path, models, optimizers={"g_opt": keras.optimizers.Adam()})
    with pytest.raises(ValueError, match="optimizer 'g_opt' is not built"):
        saver.save(epoch=1)


def test_directory_that_is_a_file_raises(tmp_path):
    (tmp_path / "checkpoints").write_text("not a folder")
    with pytest.raises(ValueError, match=r"`directory` must be a folder.*checkpoints' is a file"):
        CheckpointSaver(tmp_path / "checkpoints", small_model())


@pytest.mark.parametrize("arguments, message", [
    ({"keep_last": 0}, "keep_last"),
    ({"keep_last": 2.5}, "keep_last"),
    ({"mode": "maximum"}, "mode"),
    ({"monitor": 3}, "monitor"),
    ({"models": {}}, "models"),
    ({"models": "generator"}, "models"),
    ({"optimizers": {"adam": "adam"}}, r"optimizers\['adam'\]"),
    ({"optimizers": {"a/b": keras.optimizers.Adam()}}, "names"),
    ({"random_generators": {"noise": 3}}, r"random_generators\['noise'\]"),
])
def test_bad_arguments_raise_value_error(tmp_path, arguments, message):
    with pytest.raises(ValueError, match=message):
        CheckpointSaver(**{"directory": tmp_path, "models": small_model(), **arguments})


def test_bad_save_every_steps_raises(tmp_path):
    with pytest.raises(ValueError, match="save_every_steps"):
        CheckpointSaver(tmp_path, small_model()).callback(save_every_steps=0)
