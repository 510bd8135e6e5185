"""SRGAN's adversarial phase as a command: start from an SRResNet run, resume, publish.

(Bitwise-identical resumption of SRGAN fits in a fresh process: tests/test_gan.py.)
"""

import json

import numpy as np
import pytest

from srlib import cli, losses, train, train_gan

TINY_GENERATOR = {"num_blocks": 1, "filters": 8}
SRRESNET_RECIPE = train.Recipe(hr_patch_size=24, batch_size=2, loss="mse")
GAN_RECIPE = train_gan.GanRecipe(hr_patch_size=24, batch_size=2, content="mse")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("gan_runs")
    train.train("srresnet", 4, minutes=5, run_dir=root / "srresnet_x4", quick=True, recipe=SRRESNET_RECIPE,
                model_arguments=TINY_GENERATOR)
    train_gan.train_gan(4, pretrained_run=root / "srresnet_x4", minutes=5, run_dir=root / "srgan_x4", quick=True,
                        recipe=GAN_RECIPE, command="python -m srlib train-gan --quick")
    return root


def test_run_records_the_pretrained_checkpoint_and_logs_every_term(runs):
    recorded = json.loads((runs / "srgan_x4" / "run.json").read_text())
    assert recorded["model"] == "srgan" and recorded["model_arguments"] == TINY_GENERATOR
    assert recorded["pretrained"]["checkpoint"] == "ckpt-000002" and recorded["pretrained"]["epoch"] == 2
    assert recorded["recipe"]["content"] == "mse"
    history = json.loads(sorted((runs / "srgan_x4").glob("ckpt-*.json"))[-1].read_text())["history"]
    for name in ("d_loss", "g_loss", "adversarial_loss", "d_real", "d_fake", "val_psnr"):
        assert len(history[name]) == 2 and all(np.isfinite(history[name]))


def test_generator_starts_from_the_pretrained_weights(runs):
    pretrained = json.loads((runs / "srgan_x4" / "run.json").read_text())["pretrained"]
    generator, _, _, _ = train_gan.networks(4, GAN_RECIPE, TINY_GENERATOR, runs / "unused")
    train_gan._load_pretrained(generator, pretrained, 4)
    srresnet = train.compiled_model("srresnet", 4, SRRESNET_RECIPE, **TINY_GENERATOR)
    from srlib.checkpoint import CheckpointSaver
    CheckpointSaver(runs / "srresnet_x4", srresnet).restore()
    for started, trained in zip(generator.get_weights(), srresnet.get_weights()):
        np.testing.assert_array_equal(started, trained)
    gan_generator, _, _, saver = train_gan.networks(4, GAN_RECIPE, TINY_GENERATOR, runs / "srgan_x4")
    saver.restore()
    assert any(not np.array_equal(a, b) for a, b in zip(gan_generator.get_weights(), srresnet.get_weights()))


def test_resume_continues_and_other_settings_are_refused(runs, tmp_path):
    run_dir = tmp_path / "srgan_x4"
    arguments = dict(pretrained_run=runs / "srresnet_x4", run_dir=run_dir, quick=True, recipe=GAN_RECIPE)
    train_gan.train_gan(4, minutes=5, **arguments)
    _, saver = train_gan.train_gan(4, minutes=5, **arguments)
    assert saver.epoch == 4 and len(saver.history["d_loss"]) == 4
    with pytest.raises(ValueError, match="records a different training"):
        train_gan.train_gan(4, minutes=5, **{**arguments, "recipe": train_gan.GanRecipe(
            hr_patch_size=24, batch_size=2, content="mse", adversarial_weight=1e-2)})


def test_publish_gan_records_both_phases_and_loads(runs, tmp_path):
    entry = train_gan.publish_gan(4, run_dir=runs / "srgan_x4", directory=tmp_path, datasets_to_report=("embedded",))
    assert entry["model"] == "srgan" and entry["training"]["selection"] == train.LAST_EPOCH
    assert entry["training"]["pretrained"]["checkpoint"] == "ckpt-000002"
    assert entry["training"]["command"] == "python -m srlib train-gan --quick"
    model, loaded = train.load_published("srgan_x4", tmp_path)
    assert loaded == json.loads(json.dumps(entry)) and model.count_params() == entry["parameters"]
    # the srresnet name still finds no srgan weights: they are published under their own name
    assert json.loads((tmp_path / "manifest.json").read_text())["models"].keys() == {"srgan_x4"}


def test_missing_vgg_file_fails_before_writing_anything(runs, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))
    run_dir = tmp_path / "srgan_vgg"
    with pytest.raises(losses.PretrainedWeightsNotFoundError, match="vgg19"):
        train_gan.train_gan(4, pretrained_run=runs / "srresnet_x4", run_dir=run_dir, quick=True,
                            recipe=train_gan.GanRecipe(hr_patch_size=24, batch_size=2, content="vgg54"))
    assert not (run_dir / "run.json").exists()


def test_bad_arguments_are_refused(runs, tmp_path):
    with pytest.raises(ValueError, match="content"):
        train_gan.GanRecipe(content="vgg99")
    with pytest.raises(ValueError, match="srresnet"):  # a GAN run is not a pretraining run
        train_gan.train_gan(4, pretrained_run=runs / "srgan_x4", run_dir=tmp_path / "x", quick=True, recipe=GAN_RECIPE)
    with pytest.raises(FileNotFoundError, match="run.json"):
        train_gan.train_gan(4, pretrained_run=tmp_path / "nothing", run_dir=tmp_path / "y", quick=True,
                            recipe=GAN_RECIPE)
    with pytest.raises(ValueError, match="adversarial_weight"):
        train_gan.train_gan(4, pretrained_run=runs / "srresnet_x4", run_dir=tmp_path / "z", quick=True,
                            recipe=train_gan.GanRecipe(hr_patch_size=24, batch_size=2, content="mse",
                                                       adversarial_weight=-1.0))
    assert not (tmp_path / "z" / "run.json").exists()


def test_cli_routes_srgan_to_the_gan_phase(runs, tmp_path, capsys):
    assert cli.main(["train", "--model", "srgan", "--scale", "4", "--run-dir", str(tmp_path / "a")]) == 2
    assert "train-gan" in capsys.readouterr().err
    assert cli.main(["publish", "--model", "srgan", "--scale", "4", "--run-dir", str(runs / "srgan_x4"),
                     "--directory", str(tmp_path), "--select", "best"]) == 2
    assert "last epoch" in capsys.readouterr().err
