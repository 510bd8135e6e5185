"""Tests of srlib.gan: SRGAN fit logs every term, trains both networks, resumes bit for bit.

The exact-resume test runs tests/gan_worker.py in two subprocesses (op determinism
stays out of this process); the rest use a one-block, 8-filter SRResNet and a 24x24
discriminator on the bundled "embedded" images.
"""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from srlib import data
from srlib.checkpoint import CheckpointSaver
from srlib.gan import SRGAN, TEST_METRICS, TRAIN_METRICS
from srlib.losses import MSELoss, PerceptualLoss
from srlib.models.srresnet import discriminator, srresnet

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gan_worker.py")
PATCH = 24


def dataset(steps=2, epoch=0):
    return data.training_dataset("embedded", 2, PATCH, batch_size=2, steps_per_epoch=steps, epoch=epoch,
                                 channels="rgb")


def small_gan(kind="bce", content_loss=None, patch=PATCH):
    keras.utils.set_random_seed(0)
    gan = SRGAN(srresnet(scale=2, channels=3, num_blocks=1, filters=8), discriminator((patch, patch, 3)))
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), content_loss=content_loss or MSELoss(),
                adversarial_kind=kind, adversarial_weight=1e-2, pixel_weight=0.5)
    return gan


def values(variables):
    return [variable.numpy().copy() for variable in variables]


def test_fit_logs_every_term_and_trains_both_networks():
    gan = small_gan()
    lr, hr = next(iter(dataset()))
    assert tuple(hr.shape[1:]) == tuple(gan.discriminator.input_shape[1:]) == (PATCH, PATCH, 3)
    assert tuple(lr.shape[1:]) == (PATCH // 2, PATCH // 2, 3)
    generator_before = values(gan.generator.trainable_variables)
    discriminator_before = values(gan.discriminator.trainable_variables)
    history = gan.fit(dataset(), epochs=2, steps_per_epoch=2, validation_data=dataset(steps=1),
                      validation_steps=1, verbose=0).history
    assert set(history) == set(TRAIN_METRICS) | {f"val_{name}" for name in TEST_METRICS}
    for name, series in history.items():
        assert len(series) == 2 and np.isfinite(series).all(), (name, series)
    for name in ("d_real", "d_fake"):
        assert all(0.0 <= value <= 1.0 for value in history[name])
    for before, network in ((generator_before, gan.generator), (discriminator_before, gan.discriminator)):
        after = values(network.trainable_variables)
        assert all(not np.array_equal(old, new) for old, new in zip(before, after)), network.name
    # Each optimizer holds the state of its own network only; iterations count training steps.
    assert int(gan.optimizer.iterations.numpy()) == int(gan.d_optimizer.iterations.numpy()) == 4
    assert gan.optimizer is gan.g_optimizer
    assert len(gan.g_optimizer.variables) == 2 + 2 * len(gan.generator.trainable_variables)
    assert len(gan.d_optimizer.variables) == 2 + 2 * len(gan.discriminator.trainable_variables)


def test_call_is_the_generator():
    gan = small_gan()
    lr = np.random.default_rng(0).random((1, 12, 12, 3), dtype=np.float32)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(gan(lr)),
                                  keras.ops.convert_to_numpy(gan.generator(lr, training=False)))


@pytest.mark.parametrize("kind", ["lsgan", "relativistic"])
def test_other_adversarial_kinds_train(kind):
    gan = small_gan(kind)
    before = [weights.copy() for weights in gan.generator.get_weights() + gan.discriminator.get_weights()]
    logs = gan.fit(dataset(steps=1), epochs=1, steps_per_epoch=1, verbose=0).history
    assert all(np.isfinite(series).all() for series in logs.values())
    after = gan.generator.get_weights() + gan.discriminator.get_weights()
    generator_count = len(gan.generator.get_weights())
    moved = [not np.array_equal(old, new) for old, new in zip(before, after)]
    assert any(moved[:generator_count]) and any(moved[generator_count:])  # both players took a step


def test_relativistic_outputs_do_not_move_with_a_constant_on_every_logit():
    gan, shifted = small_gan("relativistic"), small_gan("relativistic")
    shifted.discriminator.set_weights(gan.discriminator.get_weights())
    bias = shifted.discriminator.layers[-1].bias
    bias.assign(bias + 5.0)  # every logit moved by +5: RaGAN's loss cannot tell
    lr, hr = next(iter(dataset(steps=1)))
    sr = gan.generator(lr)
    logs, shifted_logs = gan._discriminator_step(hr, sr), shifted._discriminator_step(hr, sr)
    for name in ("d_real", "d_fake"):
        assert float(shifted_logs[name]) == pytest.approx(float(logs[name]), abs=1e-3)


def test_perceptual_content_loss_trains():
    gan = small_gan(content_loss=PerceptualLoss(layer="block2_conv2", weights=None))
    before = [weights.copy() for weights in gan.generator.get_weights()]
    history = gan.fit(dataset(steps=1), epochs=1, steps_per_epoch=1, verbose=0).history
    assert np.isfinite(history["content_loss"]).all() and history["content_loss"][0] > 0
    assert any(not np.array_equal(old, new) for old, new in zip(before, gan.generator.get_weights()))


def test_checkpoint_callback_saves_both_networks_and_optimizers(tmp_path):
    gan = small_gan()
    saver = CheckpointSaver(tmp_path, models={"generator": gan.generator, "discriminator": gan.discriminator},
                            optimizers={"generator": gan.g_optimizer, "discriminator": gan.d_optimizer})
    gan.fit(dataset(), epochs=1, steps_per_epoch=2, callbacks=[saver.callback()], verbose=0)
    state = CheckpointSaver(tmp_path, models={"generator": gan.generator, "discriminator": gan.discriminator},
                            optimizers={"generator": gan.g_optimizer, "discriminator": gan.d_optimizer}).restore()
    assert (state.epoch, state.step) == (1, 2)
    assert set(state.metrics) == set(TRAIN_METRICS)


@pytest.mark.parametrize("arguments, message", [
    ({"adversarial_kind": "wgan"}, "adversarial_kind"),
    ({"adversarial_weight": -1.0}, "adversarial_weight"),
    ({"pixel_weight": float("nan")}, "pixel_weight"),
    ({"content_loss": "vgg"}, "content_loss"),
    ({"loss": "mse"}, "loss"),
])
def test_bad_compile_arguments_raise(arguments, message):
    gan = SRGAN(srresnet(scale=2, num_blocks=1, filters=8), discriminator((PATCH, PATCH, 3)))
    arguments = {"content_loss": MSELoss(), **arguments}
    with pytest.raises(ValueError, match=message):
        gan.compile(keras.optimizers.Adam(), keras.optimizers.Adam(), **arguments)


def test_shared_optimizer_and_bad_networks_raise():
    generator = srresnet(scale=2, num_blocks=1, filters=8)
    gan = SRGAN(generator, discriminator((PATCH, PATCH, 3)))
    optimizer = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="two different optimizer"):
        gan.compile(optimizer, optimizer, content_loss=MSELoss())
    with pytest.raises(ValueError, match="discriminator"):
        SRGAN(generator, "not a model")


def test_hr_that_does_not_fit_the_discriminator_raises():
    gan = small_gan(patch=32)
    with pytest.raises(ValueError, match="do not fit the discriminator"):
        gan.fit(dataset(steps=1), epochs=1, steps_per_epoch=1, verbose=0)


def run_worker(*arguments):
    completed = subprocess.run([sys.executable, WORKER, *map(str, arguments)], capture_output=True, text=True,
                               env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), timeout=300)
    assert completed.returncode == 0, completed.stderr[-4000:]


def test_resume_in_a_fresh_process_is_bitwise_identical(tmp_path):
    """2 epochs in one fit == 1 epoch, checkpoint, fresh process, restore, 1 more epoch."""
    run_worker("first", tmp_path / "checkpoints", tmp_path / "first.npz")
    run_worker("second", tmp_path / "checkpoints", tmp_path / "second.npz")
    with np.load(tmp_path / "first.npz") as first, np.load(tmp_path / "second.npz") as second:
        runs = {**first, **second}

    def run(name):
        return {key.split("/", 1)[1]: value for key, value in runs.items() if key.startswith(f"{name}/")}

    reference, half, resumed = run("reference"), run("half"), run("resumed")
    assert reference and reference.keys() == half.keys() == resumed.keys()
    assert any(not np.array_equal(half[key], reference[key]) for key in reference)
    assert [key for key in reference if not np.array_equal(reference[key], resumed[key])] == []


def test_generator_loss_is_the_weighted_sum_of_its_terms_and_psnr_is_measured_on_clipped_output():
    from srlib.gan import batch_psnr, generator_adversarial_loss

    gan = small_gan()
    lr, hr = next(iter(dataset()))
    sr = gan.generator(lr, training=False)
    total, logs = gan._generator_losses(hr, sr)
    squared_error = float(np.mean((hr.numpy() - sr.numpy()) ** 2))
    assert float(logs["pixel_loss"]) == pytest.approx(squared_error, rel=1e-5)
    assert float(logs["content_loss"]) == pytest.approx(squared_error, rel=1e-5)  # MSELoss content here
    expected_adversarial = generator_adversarial_loss(None, gan.discriminator(sr, training=True), "bce")
    assert float(logs["adversarial_loss"]) == pytest.approx(float(expected_adversarial), rel=1e-5)
    assert float(total) == pytest.approx(float(logs["content_loss"]) + 1e-2 * float(logs["adversarial_loss"])
                                         + 0.5 * float(logs["pixel_loss"]), rel=1e-6)
    clipped = np.clip(sr.numpy(), 0, 1)
    per_image = [10 * np.log10(1 / np.mean((h - s) ** 2)) for h, s in zip(hr.numpy(), clipped)]
    assert float(batch_psnr(hr, sr)) == pytest.approx(np.mean(per_image), abs=1e-3)


def test_without_adversarial_and_pixel_terms_the_generator_trains_as_on_its_content_loss_alone():
    gan = small_gan()
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), content_loss=MSELoss(),
                adversarial_weight=0.0, pixel_weight=0.0)
    keras.utils.set_random_seed(0)
    plain = srresnet(scale=2, channels=3, num_blocks=1, filters=8)  # the same initial weights as small_gan's
    for ours, theirs in zip(gan.generator.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    plain.compile(keras.optimizers.Adam(1e-3), loss=MSELoss())
    lr, hr = next(iter(dataset(steps=1)))
    gan.train_on_batch(lr, hr)
    plain.train_on_batch(lr, hr)
    for ours, theirs in zip(gan.generator.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(ours, theirs, atol=1e-6)
