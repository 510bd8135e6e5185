"""Command line: ``python -m srlib <command>``.

Commands:
    evaluate   mean Y-PSNR/SSIM of a method or model on a dataset under the paper protocol
    demo       every FIR filter on the embedded photos: a table and a comparison figure
    datasets   the registered datasets and where they resolve
    train      train (or resume) a model from its CPU recipe, with checkpoints
    train-gan  SRGAN's adversarial phase from a trained SRResNet run (resumable)
    publish    copy a run's weights to checkpoints/ with a manifest entry
    annotate   add a dated note to a manifest entry (weights and results unchanged)
    remeasure  measure shipped weights again under the current protocol (weights unchanged)
    upscale    upscale an image file (FIR method or model), tiled
    upscale-video  upscale every frame of a video
    export     TFLite export for a fixed tile shape, with a model card
    check-gpu  offline TFLite GPU-delegate compatibility check of a .tflite file
    reproduce  every FIR baseline and shipped checkpoint under the protocol: RESULTS.md, results.json
"""

import argparse
import json
import math
import shlex
import sys
from pathlib import Path

from srlib.evaluate import FIR_METHODS


def _load_model(arguments):
    """The Keras model named by --model / --checkpoint (published weights by default)."""
    from srlib import models, train, zoo

    path = Path(arguments.checkpoint) if arguments.checkpoint else None
    if path and not path.exists():
        raise FileNotFoundError(f"--checkpoint {path}: no such file or folder")
    if getattr(arguments, "model_argument", None) and not (
            path and (path.is_dir() or path.name.endswith(".weights.h5"))):
        # Shipped weights and .keras files carry their own architecture; the arguments would be ignored.
        source = f"--checkpoint {path}" if path else f"the shipped {arguments.model} weights"
        raise ValueError(f"--model-argument applies to a --checkpoint .weights.h5 file or training run folder; "
                         f"{source} holds its own architecture: drop --model-argument")
    if arguments.checkpoint:
        import zipfile

        import keras

        if path.suffix == ".keras":
            try:
                model = keras.models.load_model(path, compile=False)
            except (ValueError, OSError, KeyError, zipfile.BadZipFile) as error:
                raise ValueError(f"--checkpoint {path}: not a readable .keras model ({error})") from error
            if arguments.model:  # the file holds its own architecture: --model can only confirm it
                expected = models.build(arguments.model, arguments.scale).name.split("_x")[0]
                if model.name.split("_x")[0] != expected:
                    raise ValueError(f"--checkpoint {path} holds a model named {model.name!r}, not --model "
                                     f"{arguments.model} ({expected}_x...); drop --model or pass the right file")
            return model
        if arguments.model and path.is_dir():
            from srlib.checkpoint import CheckpointSaver
            run = train.read_run(path, arguments.model) if (path / "run.json").is_file() else None
            model = train.restorable_model(arguments.model, arguments.scale, run, _model_arguments(arguments, run))
            if CheckpointSaver(path, model).restore() is None:
                raise FileNotFoundError(f"--checkpoint {path}: no checkpoint in this folder")
            return model
        if arguments.model and path.name.endswith(".weights.h5"):
            entry = next((entry for entry in zoo.read_manifest(path.parent)["models"].values()
                          if entry["weights"] == path.name), None)
            if entry is not None and entry["model"] != arguments.model:
                raise ValueError(f"--checkpoint {path}: its manifest says these are {entry['model']} weights, "
                                 f"not --model {arguments.model}")
            model_arguments = _model_arguments(arguments, entry)
            model = models.build(arguments.model, arguments.scale, **model_arguments)
            try:
                model.load_weights(path)
            except OSError as error:  # h5py: not an HDF5 file
                raise ValueError(f"--checkpoint {path}: not a readable .weights.h5 file ({error})") from error
            except ValueError as error:
                raise ValueError(f"--checkpoint {path} does not fit --model {arguments.model} built with "
                                 f"{model_arguments or 'its default arguments'}: pass the "
                                 f"arguments it was trained with as --model-argument NAME=VALUE ({error})") from None
            return model
        raise ValueError(f"--checkpoint {path}: expected a .keras file, or a .weights.h5 file or a "
                         "training run folder together with --model NAME")
    manifest = zoo.read_manifest()
    candidates = [key for key, entry in sorted(manifest["models"].items())
                  if entry["model"] == arguments.model and arguments.scale in entry["scales"]]
    if not candidates:
        raise ValueError(f"--model {arguments.model} --scale {arguments.scale}: no published weights in "
                         f"checkpoints/manifest.json (available: {sorted(manifest['models'])}); "
                         "train and publish them, or pass --checkpoint")
    return zoo.load_published(candidates[0])[0]


def _model_arguments(arguments, record):
    """Constructor arguments: those a run.json or manifest entry recorded, then --model-argument."""
    return {**((record or {}).get("model_arguments") or {}), **dict(getattr(arguments, "model_argument", []))}


def _model_upscaler(arguments):
    """An upscale function for --model / --checkpoint, and its label."""
    from srlib import models

    label = arguments.model or Path(arguments.checkpoint).stem
    return models.upscaler(_load_model(arguments), arguments.scale), label


def _evaluate(arguments):
    from srlib import evaluate

    if arguments.model or arguments.checkpoint:
        upscale, label = _model_upscaler(arguments)
    else:
        upscale, label = arguments.method, arguments.method
    result = evaluate.evaluate(upscale, arguments.dataset, arguments.scale, method_name=label,
                               progress=not arguments.json, limit=arguments.limit)
    if arguments.json:
        print(json.dumps({**result.to_dict(), "protocol": evaluate.PROTOCOL}, indent=2))
    else:
        print(evaluate.PROTOCOL)
        print(evaluate.format_table([result]))
    return 0


def _overlap(text):
    if text == "auto":
        return text
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 'auto' or a non-negative integer, got {text!r}")
    return value


def _upscale(arguments):
    from srlib import inference

    tflite = arguments.checkpoint and arguments.checkpoint.endswith(".tflite")
    if tflite and (arguments.model or arguments.model_argument):
        raise ValueError(f"--checkpoint {arguments.checkpoint} is a TFLite file, which holds its own network: "
                         f"drop --model and --model-argument")
    model = _load_model(arguments) if (arguments.model or arguments.checkpoint) and not tflite else None
    common = dict(model=model, checkpoint=arguments.checkpoint if tflite else None, tile=arguments.tile,
                  overlap=arguments.overlap, method=arguments.method)
    if arguments.command == "upscale":
        written = inference.upscale_file(arguments.input, arguments.output, arguments.scale, **common)
        print(f"wrote {written}")
    else:
        frames = inference.upscale_video(arguments.input, arguments.output, arguments.scale, **common)
        print(f"wrote {arguments.output} ({frames} frames)")
    return 0


def _export(arguments):
    from srlib import export

    model = _load_model(arguments)
    card = export.export_tflite(model, arguments.output, tile_shape=arguments.tile and tuple(arguments.tile),
                                mode=arguments.mode, scale=arguments.scale, name=arguments.model)
    print(export.format_model_card(card))
    return 0


def _check_gpu(arguments):
    from srlib import gpu_check

    return gpu_check.run_check_gpu(arguments.tflite, quantized_ok=arguments.quantized_ok)


def _reproduce(arguments):
    from srlib import reproduce

    if arguments.check:
        return reproduce.main_check()
    return reproduce.main(datasets=tuple(arguments.datasets), scales=tuple(arguments.scales),
                          allow_partial=arguments.allow_partial)


def _train(arguments):
    from srlib import train

    scale = arguments.scale if len(arguments.scale) > 1 else arguments.scale[0]
    train.train(arguments.model, scale, minutes=arguments.minutes, run_dir=arguments.run_dir,
                seed=arguments.seed, quick=arguments.quick, command=arguments.command_line,
                model_arguments=dict(arguments.model_argument), initial_weights=arguments.initial_weights,
                recipe=train.recipe_with(arguments.model, **dict(arguments.recipe_argument))
                if arguments.recipe_argument else None)
    return 0


def _train_gan(arguments):
    from srlib import train_gan

    recipe = train_gan.GanRecipe(content=arguments.content, adversarial_kind=arguments.adversarial_kind,
                                 adversarial_weight=arguments.adversarial_weight)
    train_gan.train_gan(arguments.scale, pretrained_run=arguments.pretrained_run, minutes=arguments.minutes,
                        run_dir=arguments.run_dir, seed=arguments.seed, quick=arguments.quick, recipe=recipe,
                        vgg_weights=arguments.vgg_weights, command=arguments.command_line)
    return 0


CHECKPOINT_HELP = ("a .keras file; or with --model, a .weights.h5 file (built with the arguments its manifest.json "
                   "records) or a training run folder (its last epoch, built as its run.json records)")
MODEL_ARGUMENT_HELP = ("a model constructor argument for --checkpoint weights, e.g. num_blocks=8 (repeatable; "
                       "overrides what a manifest or run.json records)")


def _model_argument(text):
    """``NAME=VALUE`` from the command line. VALUE: an int, a finite float, true/false, none
    (None), a comma-separated list of those (a tuple, e.g. ``filters=64,32``), or else text."""
    name, separator, value = text.partition("=")
    if not separator or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE (e.g. num_blocks=8), got {text!r}")
    if "," in value:
        return name, tuple(_argument_value(name, part) for part in value.split(","))
    return name, _argument_value(name, value)


def _argument_value(name, text):
    for parse in (int, float):
        try:
            value = parse(text)
        except ValueError:
            continue
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{name}: expected a finite number, got {text!r}")
        return value
    return {"true": True, "false": False, "none": None}.get(text.lower(), text)  # none: clipnorm=none


def _publish(arguments):
    from srlib import train

    scale = arguments.scale if len(arguments.scale) > 1 else arguments.scale[0]
    if arguments.model == "srgan":
        from srlib import train_gan

        if arguments.select != "last":
            raise ValueError(f"--select {arguments.select}: --model srgan publishes the last epoch only (a GAN's "
                             "best validation PSNR is the epoch closest to SRResNet)")
        if len(arguments.scale) > 1:
            raise ValueError(f"--scale {' '.join(map(str, arguments.scale))}: --model srgan takes one scale")
        entry = train_gan.publish_gan(scale, run_dir=arguments.run_dir, directory=arguments.directory)
        print(json.dumps(entry, indent=2))
        return 0
    entry = train.publish(arguments.model, scale, run_dir=arguments.run_dir, directory=arguments.directory,
                          select=arguments.select)
    print(json.dumps(entry, indent=2))
    return 0


def _annotate(arguments):
    from srlib import zoo

    entry = zoo.annotate_published(arguments.key, arguments.note, directory=arguments.directory or zoo.CHECKPOINTS)
    print(zoo.describe_published(entry))
    return 0


def _remeasure(arguments):
    from srlib import zoo

    from srlib.evaluate import PROTOCOL

    directory = arguments.directory or zoo.CHECKPOINTS
    print(PROTOCOL)
    for key in arguments.keys or sorted(zoo.read_manifest(directory)["models"]):
        changed = zoo.remeasure_published(key, directory=directory)
        print(f"{key}: " + (", ".join(f"{name} {old} -> {new} dB" for name, (old, new) in sorted(changed.items()))
                            or "unchanged"))
    return 0


def _demo(arguments):
    import matplotlib
    matplotlib.use("Agg")
    from srlib import evaluate, files, plots

    output = Path(arguments.output)
    if output.exists() and not output.is_dir():
        raise ValueError(f"--output {output} is a file; expected a folder (created if missing)")
    results = []
    for scale in arguments.scales:
        for method in FIR_METHODS:
            results.append(evaluate.evaluate(method, "embedded", scale))
    print(f"FIR filters on the embedded scikit-image photos ({', '.join(evaluate.datasets.EMBEDDED_IMAGES)}).")
    print(evaluate.PROTOCOL)
    print(evaluate.format_table(results, published=False))
    print("(box equals nearest when upscaling: the box kernel is only widened, i.e. averages, when downscaling)")
    output.mkdir(parents=True, exist_ok=True)
    figure_path = output / "fir_comparison.png"
    figure = plots.fir_comparison_figure("embedded", image_index=0, scale=max(arguments.scales),
                                         methods=FIR_METHODS)
    files.atomic_write(figure_path, lambda handle: figure.savefig(handle, format="png", dpi=100, bbox_inches="tight"))
    print(f"wrote {figure_path}")
    return 0


def _datasets(arguments):
    from srlib import datasets

    print(f"data directory: {datasets.data_dir()}")
    print(f"mirrors: {', '.join(map(str, datasets.mirror_dirs())) or '(none)'}")
    for name in datasets.DATASETS:
        print("  " + datasets.describe(name))
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m srlib", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    evaluate_parser = commands.add_parser("evaluate", help="Y-PSNR/SSIM of a method under the paper protocol")
    evaluate_parser.add_argument("--method", default="bicubic", help=f"FIR method: {', '.join(FIR_METHODS)}")
    evaluate_parser.add_argument("--model", help="a model name with published weights in checkpoints/")
    evaluate_parser.add_argument("--checkpoint", help=CHECKPOINT_HELP)
    evaluate_parser.add_argument("--model-argument", type=_model_argument, action="append", default=[],
                                 metavar="NAME=VALUE", help=MODEL_ARGUMENT_HELP)
    evaluate_parser.add_argument("--dataset", default="Set5", help="registered name or a folder of images")
    evaluate_parser.add_argument("--scale", type=int, default=2, choices=range(2, 9), metavar="{2..8}")
    evaluate_parser.add_argument("--limit", type=int, default=None, help="only the first N images")
    evaluate_parser.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate_parser.set_defaults(handler=_evaluate)

    demo_parser = commands.add_parser("demo", help="FIR filters on the embedded photos")
    demo_parser.add_argument("--scales", type=int, nargs="+", default=[2, 3, 4])
    demo_parser.add_argument("--output", default="outputs/demo", help="folder for the figure")
    demo_parser.set_defaults(handler=_demo)

    datasets_parser = commands.add_parser("datasets", help="registered datasets and where they resolve")
    datasets_parser.set_defaults(handler=_datasets)

    annotate_parser = commands.add_parser("annotate", help="add a dated note to a manifest entry")
    annotate_parser.add_argument("--key", required=True, help="manifest key, e.g. espcn_x3")
    annotate_parser.add_argument("--note", required=True, help="what the entry's fields cannot say")
    annotate_parser.add_argument("--directory", default=None, help="folder of manifest.json (default checkpoints/)")
    annotate_parser.set_defaults(handler=_annotate)
    remeasure_parser = commands.add_parser("remeasure", help="measure shipped weights again under the current "
                                                             "protocol (weights unchanged)")
    remeasure_parser.add_argument("keys", nargs="*", help="manifest keys (default: every entry)")
    remeasure_parser.add_argument("--directory", default=None, help="folder of manifest.json (default checkpoints/)")
    remeasure_parser.set_defaults(handler=_remeasure)

    for command in ("upscale", "upscale-video"):
        sub = commands.add_parser(command, help=f"{command} a file with an FIR method or a model, tiled")
        sub.add_argument("input")
        sub.add_argument("output")
        sub.add_argument("--scale", type=int, required=True)
        sub.add_argument("--method", default=None, help=f"FIR method ({', '.join(FIR_METHODS)}); "
                         "with a model: its input interpolation")
        sub.add_argument("--model", help="model name (published weights, or --checkpoint)")
        sub.add_argument("--checkpoint", help="a .tflite file (its model card gives the scale and context); "
                         + CHECKPOINT_HELP)
        sub.add_argument("--model-argument", type=_model_argument, action="append", default=[],
                         metavar="NAME=VALUE", help=MODEL_ARGUMENT_HELP)
        sub.add_argument("--tile", type=int, default=None, help="LR tile size (default: model's)")
        sub.add_argument("--overlap", default="auto", type=_overlap,
                         help="tile overlap in LR pixels, or 'auto' (the receptive-field radius)")
        sub.set_defaults(handler=_upscale)

    export_parser = commands.add_parser("export", help="TFLite export for a fixed tile, with a model card")
    export_parser.add_argument("--model", required=True)
    export_parser.add_argument("--scale", type=int, required=True)
    export_parser.add_argument("--checkpoint", help="weights to export (default: published); " + CHECKPOINT_HELP)
    export_parser.add_argument("--model-argument", type=_model_argument, action="append", default=[],
                               metavar="NAME=VALUE", help=MODEL_ARGUMENT_HELP)
    export_parser.add_argument("--tile", type=int, nargs=2, default=None, metavar=("H", "W"),
                               help="input tile (default: 64 64, or four times the tiles' context when larger; "
                                    "rounded down to a multiple of --scale for pre-upsampling models, 63 63 for "
                                    "SRCNN x3)")
    export_parser.add_argument("--mode", default="float16", choices=["float32", "float16", "dynamic_int8", "int8"],
                               help="precision of the file (default: float16 weights, the Mali practice; the GPU "
                                    "delegate folds their DEQUANTIZE nodes)")
    export_parser.add_argument("--output", required=True, help="the .tflite file to write")
    export_parser.set_defaults(handler=_export)

    check_parser = commands.add_parser("check-gpu", help="offline TFLite GPU-delegate compatibility check")
    check_parser.add_argument("tflite")
    check_parser.add_argument("--quantized-ok", action="store_true", help="accept int8 activations")
    check_parser.set_defaults(handler=_check_gpu)

    reproduce_parser = commands.add_parser("reproduce", help="the paper tables: RESULTS.md and results.json")
    reproduce_parser.add_argument("--datasets", nargs="+", default=["Set5", "Set14"])
    reproduce_parser.add_argument("--scales", type=int, nargs="+", default=[2, 3, 4])
    reproduce_parser.add_argument("--allow-partial", action="store_true",
                                  help="write results.json even if it drops the rows of a dataset not available here")
    reproduce_parser.add_argument("--check", action="store_true",
                                  help="only check that RESULTS.md/results.json match checkpoints/manifest.json")
    reproduce_parser.set_defaults(handler=_reproduce)

    from srlib import train, zoo

    for command, handler, text in [("train", _train, "train or resume a model from its CPU recipe"),
                                   ("publish", _publish, "publish a run's weights (the last epoch, or the best "
                                                         "with --select best) to checkpoints/")]:
        sub = commands.add_parser(command, help=text)
        sub.add_argument("--model", required=True, help="a model name from srlib.models.MODELS")
        sub.add_argument("--scale", type=int, nargs="+", required=True, help="one scale, or several (VDSR)")
        sub.add_argument("--run-dir", default=None,
                         help="checkpoint folder (default $SRLIB_RUNS/<model>_x<scale>; SRLIB_RUNS defaults to runs)")
        if command == "train":
            sub.add_argument("--minutes", type=float, default=60, help="wall-clock budget over all resumed runs")
            sub.add_argument("--seed", type=int, default=0)
            sub.add_argument("--quick", action="store_true", help="tiny data and steps (smoke test)")
            sub.add_argument("--model-argument", type=_model_argument, action="append", default=[],
                             metavar="NAME=VALUE", help="a model constructor argument, e.g. num_blocks=8 "
                                                        "(repeatable; recorded in the run's run.json)")
            sub.add_argument("--recipe-argument", type=_model_argument, action="append", default=[],
                             metavar="NAME=VALUE", help="a field of the model's recipe (srlib.train.RECIPES), e.g. "
                                                        "learning_rate=2.5e-4 (repeatable; recorded in run.json)")
            sub.add_argument("--initial-weights", default=None, metavar="KEY",
                             help="start a new run from the published weights KEY in checkpoints/ (e.g. "
                                  "vdsr_x234) instead of random ones: fine-tuning, or continuing a training whose "
                                  "run folder is gone; publish counts their steps and minutes in the totals")
        else:
            sub.add_argument("--directory", default=str(zoo.CHECKPOINTS), help="where weights and manifest go")
            sub.add_argument("--select", choices=train.SELECTIONS, default="last",
                             help="which epoch: the last (default), or the best by validation PSNR")
        sub.set_defaults(handler=handler)

    from srlib import train_gan

    gan_parser = commands.add_parser("train-gan", help="SRGAN's adversarial phase from a trained SRResNet run")
    gan_parser.add_argument("--scale", type=int, required=True)
    gan_parser.add_argument("--pretrained-run", default=None,
                            help="the SRResNet run folder (default $SRLIB_RUNS/srresnet_x<scale>); first run only")
    gan_parser.add_argument("--run-dir", default=None,
                            help="checkpoint folder (default $SRLIB_RUNS/srgan_x<scale>; SRLIB_RUNS defaults to runs)")
    gan_parser.add_argument("--minutes", type=float, default=45, help="wall-clock budget over all resumed runs")
    gan_parser.add_argument("--content", choices=train_gan.CONTENT_LOSSES, default=train_gan.GAN_RECIPE.content,
                            help="content loss: vgg54 (SRGAN; needs the ImageNet VGG19 file), vgg22, or mse "
                                 "(the paper's SRGAN-MSE)")
    gan_parser.add_argument("--vgg-weights", default="imagenet",
                            help="VGG19 weights of a VGG content loss: 'imagenet' (the Keras cache, never "
                                 "downloaded) or a .h5 file")
    gan_parser.add_argument("--adversarial-kind", choices=train_gan.ADVERSARIAL_KINDS,
                            default=train_gan.GAN_RECIPE.adversarial_kind, help="relativistic: ESRGAN's")
    gan_parser.add_argument("--adversarial-weight", type=float, default=train_gan.GAN_RECIPE.adversarial_weight)
    gan_parser.add_argument("--seed", type=int, default=0)
    gan_parser.add_argument("--quick", action="store_true", help="tiny data and steps (smoke test)")
    gan_parser.set_defaults(handler=_train_gan)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    arguments = build_parser().parse_args(argv)
    arguments.command_line = shlex.join(["python", "-m", "srlib", *argv])  # what train records for the manifest
    try:
        return arguments.handler(arguments)
    except (ValueError, OSError) as error:  # bad input, missing or unreadable files: a message, not a traceback
        print(f"error: {error}", file=sys.stderr)
        return 2
