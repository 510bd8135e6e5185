"""The command line, end to end: upscale, export, check-gpu, and their errors."""

import subprocess
import sys
import zipfile

import numpy as np
import pytest

from srlib import images, models


def _run(*arguments, cwd=None):
    return subprocess.run([sys.executable, "-m", "srlib", *map(str, arguments)], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


@pytest.fixture
def photo(tmp_path, rng):
    path = tmp_path / "photo.png"
    images.write_image(path, rng.integers(0, 256, (30, 40, 3), dtype=np.uint8))
    return path


def test_upscale_with_fir_method(photo, tmp_path):
    completed = _run("upscale", photo, tmp_path / "big.png", "--scale", 3, "--method", "lanczos3")
    assert completed.returncode == 0, completed.stderr
    assert images.read_image(tmp_path / "big.png").shape == (90, 120, 3)


def test_upscale_refuses_to_overwrite_its_input(photo):
    before = photo.read_bytes()
    completed = _run("upscale", photo, photo, "--scale", 2)
    assert completed.returncode == 2 and "overwrite" in completed.stderr
    assert photo.read_bytes() == before


def test_export_and_check_gpu_from_a_keras_file(photo, tmp_path):
    model_path = tmp_path / "espcn.keras"
    models.espcn(3).save(model_path)
    tflite = tmp_path / "espcn.tflite"
    completed = _run("export", "--model", "espcn", "--scale", 3, "--checkpoint", model_path,
                     "--tile", 32, 32, "--mode", "float16", "--output", tflite)
    assert completed.returncode == 0, completed.stderr
    assert "MACs/output pixel" in completed.stdout and tflite.is_file()
    completed = _run("check-gpu", tflite)
    assert completed.returncode == 0 and "all supported" in completed.stdout
    completed = _run("upscale", photo, tmp_path / "sr.png", "--scale", 3, "--checkpoint", tflite)
    assert completed.returncode == 0, completed.stderr
    assert images.read_image(tmp_path / "sr.png").shape == (90, 120, 3)


def test_bad_inputs_name_the_problem(tmp_path):
    completed = _run("check-gpu", tmp_path / "missing.tflite")
    assert completed.returncode == 2 and "missing.tflite" in completed.stderr
    completed = _run("evaluate", "--model", "espcn", "--scale", 7, "--dataset", "embedded")
    assert completed.returncode == 2 and "no published weights" in completed.stderr


def test_bad_files_and_arguments_are_named_before_any_work(photo, tmp_path, capsys):
    from srlib import cli

    def error_of(*arguments):
        assert cli.main([str(argument) for argument in arguments]) == 2
        return capsys.readouterr().err

    not_a_model = tmp_path / "bad.keras"
    not_a_model.write_text("not a zip")
    not_weights = tmp_path / "bad.weights.h5"
    not_weights.write_text("not hdf5")
    espcn_file = tmp_path / "espcn3.keras"
    models.espcn(3).save(espcn_file)
    zip_without_config = tmp_path / "other.keras"
    with zipfile.ZipFile(zip_without_config, "w") as archive:
        archive.writestr("notes.txt", "not a Keras model")
    cases = {
        ("evaluate", "--checkpoint", zip_without_config, "--scale", 3, "--dataset", "embedded"):
            "other.keras: not a readable .keras",
        ("evaluate", "--model", "espcn", "--scale", 3, "--model-argument", "filters=8,4", "--dataset", "embedded"):
            "--model-argument applies to a --checkpoint .weights.h5 file or training run folder; the shipped espcn",
        ("evaluate", "--checkpoint", espcn_file, "--scale", 3, "--model-argument", "filters=8,4", "--dataset",
         "embedded"): "espcn3.keras holds its own architecture: drop --model-argument",
        ("upscale", photo, tmp_path / "out.psd", "--scale", 2): "unknown image suffix '.psd'",
        ("upscale", photo, tmp_path, "--scale", 2): "is a folder",
        ("upscale", photo, tmp_path / "missing" / "o.png", "--scale", 2): "output folder does not exist",
        ("evaluate", "--checkpoint", not_a_model, "--scale", 3, "--dataset", "embedded"): "not a readable .keras",
        ("evaluate", "--checkpoint", tmp_path / "none.keras", "--scale", 3, "--dataset", "embedded"):
            "none.keras: no such file",
        ("evaluate", "--model", "espcn", "--checkpoint", not_weights, "--scale", 3, "--dataset", "embedded"):
            "not a readable .weights.h5",
        ("evaluate", "--model", "srcnn", "--checkpoint", espcn_file, "--scale", 3, "--dataset", "embedded"):
            "named 'espcn_x3', not --model srcnn",
        ("evaluate", "--checkpoint", espcn_file, "--scale", 2, "--dataset", "embedded"): "upscales x3",
        ("demo", "--output", photo): "is a file; expected a folder",
        ("upscale", photo, tmp_path / "o.png", "--scale", 3, "--model", "espcn", "--checkpoint",
         tmp_path / "espcn.tflite"): "is a TFLite file, which holds its own network: drop --model",
    }
    for arguments, message in cases.items():
        assert message in error_of(*arguments), arguments
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["photo.png", "bad.keras", "bad.weights.h5", "espcn3.keras", "other.keras"])  # nothing written


def test_overlap_must_be_auto_or_a_non_negative_integer(capsys):
    from srlib import cli

    assert cli.build_parser().parse_args(["upscale", "a.png", "b.png", "--scale", "2", "--overlap", "3"]).overlap == 3
    for bad in ["abc", "-1"]:
        with pytest.raises(SystemExit):
            cli.build_parser().parse_args(["upscale", "a.png", "b.png", "--scale", "2", "--overlap", bad])
        assert f"expected 'auto' or a non-negative integer, got '{bad}'" in capsys.readouterr().err


def test_train_model_arguments_are_parsed_and_checked(tmp_path, capsys):
    from srlib import cli

    parsed = cli.build_parser().parse_args(
        ["train", "--model", "srresnet", "--scale", "4", "--model-argument", "num_blocks=8",
         "--model-argument", "filters=0.5", "--model-argument", "interpolation=lanczos3",
         "--model-argument", "kernel_sizes=9,5,5", "--model-argument", "use_bias=false"])
    assert parsed.model_argument == [("num_blocks", 8), ("filters", 0.5), ("interpolation", "lanczos3"),
                                     ("kernel_sizes", (9, 5, 5)), ("use_bias", False)]
    parsed = cli.build_parser().parse_args(["train", "--model", "vdsr", "--scale", "2", "--recipe-argument",
                                            "clipnorm=none"])
    assert parsed.recipe_argument == [("clipnorm", None)]  # clipping off
    completed = _run("train", "--model", "srresnet", "--scale", 4, "--model-argument", "blocks=8",
                     "--run-dir", tmp_path / "run")
    assert completed.returncode == 2 and "takes no argument blocks" in completed.stderr
    assert not (tmp_path / "run").exists()  # nothing written for a run that cannot start
    assert cli.main(["train-gan", "--scale", "0", "--run-dir", str(tmp_path / "gan")]) == 2  # was a ZeroDivisionError
    assert "`scale` must be" in capsys.readouterr().err and not (tmp_path / "gan").exists()
    for bad, message in [("8", "expected NAME=VALUE"), ("depth=nan", "depth: expected a finite number"),
                         ("depth=1,inf", "depth: expected a finite number")]:
        with pytest.raises(SystemExit):
            cli.build_parser().parse_args(["train", "--model", "srresnet", "--scale", "4", "--model-argument", bad])
        assert message in capsys.readouterr().err


def test_datasets_lists_every_registered_set_and_where_it_resolves(capsys):
    from srlib import cli, datasets

    assert cli.main(["datasets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"data directory: {datasets.data_dir()}"
    described = {line.strip().split(":")[0]: line for line in lines[2:]}
    assert list(described) == list(datasets.DATASETS)
    try:
        location = datasets.resolve("Set5", download=False)
    except datasets.DatasetNotFoundError:
        assert "not available locally" in described["Set5"]
    else:
        assert str(location) in described["Set5"] and "images match the published digest" in described["Set5"]


def test_check_gpu_quantized_ok_accepts_an_int8_file_the_float_path_refuses(tmp_path, capsys):
    from srlib import cli, export

    path = tmp_path / "espcn_int8.tflite"
    path.write_bytes(export.convert(models.espcn(3), (16, 16), "int8"))
    assert cli.main(["check-gpu", str(path)]) == 1
    assert "belongs to a quantized model" in capsys.readouterr().out
    assert cli.main(["check-gpu", str(path), "--quantized-ok"]) == 0
    assert "all supported" in capsys.readouterr().out


def test_upscale_with_a_shipped_model_name_uses_its_published_weights(photo, tmp_path):
    from srlib import cli, inference, zoo

    output = tmp_path / "sr.png"
    assert cli.main(["upscale", str(photo), str(output), "--scale", "3", "--model", "espcn"]) == 0
    published, _ = zoo.load_published("espcn_x3")
    expected = inference.upscale_image(images.read_image(photo), published, scale=3)
    np.testing.assert_array_equal(images.read_image(output), expected)
