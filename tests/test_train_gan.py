"""SRGAN's adversarial phase as a command: start from an SRResNet run, resume, publish.

(Bitwise-identical resumption of SRGAN fits in a fresh process: tests/test_gan.py.)
"""

import dataclasses
import json

import numpy as np
import pytest

from srlib import cli, losses, train, train_gan, zoo
from srlib.checkpoint import CheckpointSaver

TINY_GENERATOR = {"num_blocks": 1, "filters": 8}
SRRESNET_RECIPE = train.Recipe(hr_patch_size=24, batch_size=2, loss="mse")
GAN_RECIPE = train_gan.GanRecipe(hr_patch_size=32, batch_size=2, content="mse")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("gan_runs")
    train.train("srresnet", 4, minutes=5, run_dir=root / "srresnet_x4", quick=True, recipe=SRRESNET_RECIPE,
                model_arguments=TINY_GENERATOR)
    train_gan.train_gan(4, pretrained_run=root / "srresnet_x4", minutes=5, run_dir=root / "srgan_x4", quick=True,
                        recipe=GAN_RECIPE, command="python -m srlib train-gan --quick")
    return root


def _srresnet_checkpoint(run_dir, checkpoint=None):
    model = train.compiled_model("srresnet", 4, SRRESNET_RECIPE, **TINY_GENERATOR)
    CheckpointSaver(run_dir, model).restore(checkpoint)
    return model


def test_run_records_the_pretrained_checkpoint_and_logs_every_term(runs):
    recorded = json.loads((runs / "srgan_x4" / "run.json").read_text())
    assert recorded["model"] == "srgan" and recorded["model_arguments"] == TINY_GENERATOR
    assert recorded["pretrained"]["checkpoint"] == "ckpt-000002" and recorded["pretrained"]["epoch"] == 2
    assert recorded["recipe"]["content"] == "mse" and recorded["vgg_weights"] is None  # no VGG in an MSE run
    history = json.loads(sorted((runs / "srgan_x4").glob("ckpt-*.json"))[-1].read_text())["history"]
    for name in ("d_loss", "g_loss", "adversarial_loss", "d_real", "d_fake", "val_psnr"):
        assert len(history[name]) == 2 and all(np.isfinite(history[name]))


def test_generator_starts_from_the_pretrained_weights(runs, tmp_path):
    frozen = dataclasses.replace(GAN_RECIPE, learning_rate=0.0)  # the generator keeps its starting weights
    gan, _ = train_gan.train_gan(4, pretrained_run=runs / "srresnet_x4", minutes=5, run_dir=tmp_path / "frozen",
                                 quick=True, recipe=frozen)
    srresnet = _srresnet_checkpoint(runs / "srresnet_x4")
    for started, pretrained in zip(gan.generator.trainable_weights, srresnet.trainable_weights):
        np.testing.assert_array_equal(started.numpy(), pretrained.numpy())


def test_resume_continues_without_reloading_the_start(runs, tmp_path, monkeypatch):
    run_dir = tmp_path / "srgan_x4"
    arguments = dict(pretrained_run=runs / "srresnet_x4", run_dir=run_dir, quick=True, recipe=GAN_RECIPE)
    train_gan.train_gan(4, minutes=5, **arguments)
    monkeypatch.setattr(train_gan, "_load_pretrained", lambda *_: pytest.fail("a resumed run reloaded its start"))
    _, saver = train_gan.train_gan(4, minutes=5, **arguments)
    assert saver.epoch == 4 and len(saver.history["d_loss"]) == 4
    _, saver = train_gan.train_gan(4, minutes=1e-6, **arguments)  # budget spent: no further epoch
    assert saver.epoch == 4
    with pytest.raises(ValueError, match="recipe.adversarial_weight: 0.001 recorded, 0.01 requested"):
        train_gan.train_gan(4, minutes=5, **{**arguments, "recipe": dataclasses.replace(GAN_RECIPE,
                                                                                         adversarial_weight=1e-2)})
    with pytest.raises(ValueError, match="pretrained_run"):
        train_gan.train_gan(4, minutes=5, **{**arguments, "pretrained_run": tmp_path / "another_srresnet"})


def test_publish_gan_records_both_phases_and_loads(runs, tmp_path):
    train.publish("srresnet", 4, run_dir=runs / "srresnet_x4", directory=tmp_path, datasets_to_report=("embedded",))
    entry = train_gan.publish_gan(4, run_dir=runs / "srgan_x4", directory=tmp_path, datasets_to_report=("embedded",))
    assert entry["model"] == "srgan" and entry["training"]["selection"] == zoo.LAST_EPOCH
    assert entry["training"]["pretrained"]["checkpoint"] == "ckpt-000002"
    assert entry["training"]["pretrained"]["run_dir"] == "srresnet_x4"  # not this machine's absolute path
    assert entry["training"]["command"] == "python -m srlib train-gan --quick"
    model, loaded = zoo.load_published("srgan_x4", tmp_path)
    assert loaded == json.loads(json.dumps(entry)) and model.count_params() == entry["parameters"]
    srresnet, _ = zoo.load_published("srresnet_x4", tmp_path)  # both kept, under their own names
    assert any(not np.array_equal(a, b) for a, b in zip(model.get_weights(), srresnet.get_weights()))
    assert "starting from the srresnet_x4 run's" in zoo.describe_published(entry)


def test_missing_vgg_file_fails_before_writing_anything(runs, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))
    run_dir = tmp_path / "srgan_vgg"
    with pytest.raises(losses.PretrainedWeightsNotFoundError, match="vgg19"):
        train_gan.train_gan(4, pretrained_run=runs / "srresnet_x4", run_dir=run_dir, quick=True,
                            recipe=dataclasses.replace(GAN_RECIPE, content="vgg54"))
    assert not (run_dir / "run.json").exists()


@pytest.mark.parametrize("changes, message", [
    ({"content": "vgg99"}, "content"), ({"adversarial_weight": -1.0}, "adversarial_weight"),
    ({"learning_rate": float("nan")}, "learning_rate"), ({"hr_patch_size": 40}, "multiple of 16"),
    ({"adversarial_kind": "wasserstein"}, "adversarial_kind"), ({"mse_value_range": 0}, "mse_value_range")])
def test_bad_recipes_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(GAN_RECIPE, **changes)


def test_bad_runs_are_refused_before_writing(runs, tmp_path):
    with pytest.raises(ValueError, match="srresnet"):  # a GAN run is not a pretraining run
        train_gan.train_gan(4, pretrained_run=runs / "srgan_x4", run_dir=tmp_path / "x", quick=True, recipe=GAN_RECIPE)
    with pytest.raises(FileNotFoundError, match="run.json"):
        train_gan.train_gan(4, pretrained_run=tmp_path / "nothing", run_dir=tmp_path / "y", quick=True,
                            recipe=GAN_RECIPE)
    with pytest.raises(ValueError, match="is a run of srresnet"):  # --run-dir naming the pretraining run
        train_gan.train_gan(4, run_dir=runs / "srresnet_x4", quick=True, recipe=GAN_RECIPE)
    with pytest.raises(ValueError, match="multiple of scale=3"):
        train_gan.train_gan(3, pretrained_run=runs / "srresnet_x4", run_dir=tmp_path / "z", quick=True,
                            recipe=dataclasses.replace(GAN_RECIPE, hr_patch_size=32))
    assert not any((tmp_path / name / "run.json").exists() for name in "xyz")


def test_cli_routes_srgan_to_the_gan_phase(runs, tmp_path, capsys):
    assert cli.main(["train", "--model", "srgan", "--scale", "4", "--run-dir", str(tmp_path / "a")]) == 2
    assert "train-gan" in capsys.readouterr().err
    assert cli.main(["publish", "--model", "srgan", "--scale", "4", "--run-dir", str(runs / "srgan_x4"),
                     "--directory", str(tmp_path), "--select", "best"]) == 2
    assert "--select best" in capsys.readouterr().err


def test_shipped_pair_only_when_paired_and_trained_alike(runs, tmp_path):
    assert train_gan.shipped_pair(4, GAN_RECIPE, tmp_path)[0] is None  # nothing shipped
    train_gan.publish_gan(4, run_dir=runs / "srgan_x4", directory=tmp_path, datasets_to_report=("embedded",))
    pair, reason = train_gan.shipped_pair(4, GAN_RECIPE, tmp_path)
    assert pair is None and reason == "srresnet_x4 not shipped"
    train.publish("srresnet", 4, run_dir=runs / "srresnet_x4", directory=tmp_path, datasets_to_report=("embedded",))
    pair, reason = train_gan.shipped_pair(4, GAN_RECIPE, tmp_path)
    assert set(pair) == {"srresnet", "srgan"} and pair["srgan"].entry["model"] == "srgan"
    pair, reason = train_gan.shipped_pair(4, dataclasses.replace(GAN_RECIPE, adversarial_kind="relativistic"), tmp_path)
    assert pair is None and "relativistic" in reason
    pair, reason = train_gan.shipped_pair(4, dataclasses.replace(GAN_RECIPE, mse_value_range=1.0), tmp_path)
    assert pair is None and "'mse_value_range': 2.0" in reason
    assert train_gan.shipped_pair(4, GAN_RECIPE, tmp_path, model_arguments=TINY_GENERATOR)[0]
    pair, reason = train_gan.shipped_pair(4, GAN_RECIPE, tmp_path, model_arguments={**TINY_GENERATOR, "num_blocks": 2})
    assert pair is None and "built with" in reason
    manifest_path = tmp_path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    arguments = manifest["models"]["srresnet_x4"]["model_arguments"]
    skip = "lanczos3" if arguments.get("interpolation_skip") == "bicubic" else "bicubic"  # adds no weights
    manifest["models"]["srresnet_x4"]["model_arguments"] = {**arguments, "interpolation_skip": skip}
    manifest_path.write_text(json.dumps(manifest))
    pair, reason = train_gan.shipped_pair(4, GAN_RECIPE, tmp_path)
    assert pair is None and f"'interpolation_skip': '{skip}'" in reason and "not a pair" in reason


def test_mse_content_is_measured_on_the_papers_range():
    images = np.full((1, 8, 8, 3), 0.5, "float32")
    loss = train_gan.content_loss("mse")  # Ledig et al. 3.2: MSE on HR images in [-1, 1]
    assert float(loss(images, images + 0.1)) == pytest.approx(4 * 0.01, rel=1e-5)


def test_cli_train_gan_with_a_missing_vgg_file_writes_nothing(runs, tmp_path, capsys):
    assert cli.main(["train-gan", "--scale", "4", "--quick", "--pretrained-run", str(runs / "srresnet_x4"),
                     "--run-dir", str(tmp_path / "gan"), "--vgg-weights", str(tmp_path / "missing.h5")]) == 2
    assert "missing.h5" in capsys.readouterr().err and not (tmp_path / "gan" / "run.json").exists()
