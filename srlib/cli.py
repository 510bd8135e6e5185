"""Command line: ``python -m srlib <command>``.

Commands:
    evaluate   mean Y-PSNR/SSIM of a method or model on a dataset under the paper protocol
    demo       every FIR filter on the embedded photos: a table and a comparison figure
    datasets   the registered datasets and where they resolve
    train      train (or resume) a model from its CPU recipe, with checkpoints
    publish    copy a run's best weights to checkpoints/ with a manifest entry
"""

import argparse
import json
import sys
from pathlib import Path

FIR_METHODS = ("nearest", "box", "bilinear", "bicubic", "mitchell", "lanczos2", "lanczos3")


def _model_upscaler(arguments):
    """An upscale function for --model / --checkpoint, and its label."""
    from srlib import models, train

    if arguments.checkpoint:
        import keras

        path = Path(arguments.checkpoint)
        if path.suffix == ".keras":
            model = keras.models.load_model(path)
        elif arguments.model and (path.is_dir() or path.name.endswith(".weights.h5")):
            if path.is_dir():
                from srlib.checkpoint import CheckpointSaver
                model = train.compiled_model(arguments.model, arguments.scale, train.RECIPES[arguments.model])
                if CheckpointSaver(path, model).restore("best") is None:
                    raise FileNotFoundError(f"--checkpoint {path}: no checkpoint in this folder")
            else:
                model = models.build(arguments.model, arguments.scale)
                model.load_weights(path)
        else:
            raise ValueError(f"--checkpoint {path}: expected a .keras file, or a .weights.h5 file or a "
                             "training run folder together with --model NAME")
        return models.upscaler(model, arguments.scale), arguments.model or path.stem
    key = f"{arguments.model}_x{arguments.scale}"
    manifest = train.read_manifest()
    if key not in manifest["models"]:
        multi = [k for k, e in manifest["models"].items()
                 if e["model"] == arguments.model and arguments.scale in e["scales"]]
        if not multi:
            raise ValueError(f"--model {arguments.model} --scale {arguments.scale}: no published weights; "
                             f"available: {sorted(manifest['models'])}")
        key = multi[0]
    model, _ = train.load_published(key)
    return models.upscaler(model, arguments.scale), arguments.model


def _evaluate(arguments):
    from srlib import evaluate

    if arguments.model or arguments.checkpoint:
        upscale, label = _model_upscaler(arguments)
    else:
        upscale, label = arguments.method, arguments.method
    result = evaluate.evaluate(upscale, arguments.dataset, arguments.scale, method_name=label,
                               progress=not arguments.json, limit=arguments.limit)
    if arguments.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(evaluate.PROTOCOL)
        print(evaluate.format_table([result]))
    return 0


def _train(arguments):
    from srlib import train

    scale = arguments.scale if len(arguments.scale) > 1 else arguments.scale[0]
    train.train(arguments.model, scale, minutes=arguments.minutes, run_dir=arguments.run_dir,
                seed=arguments.seed, quick=arguments.quick)
    return 0


def _publish(arguments):
    from srlib import train

    scale = arguments.scale if len(arguments.scale) > 1 else arguments.scale[0]
    entry = train.publish(arguments.model, scale, run_dir=arguments.run_dir, directory=arguments.directory,
                          command=" ".join(["python -m srlib train"] + sys.argv[2:]))
    print(json.dumps(entry, indent=2))
    return 0


def _demo(arguments):
    import matplotlib
    matplotlib.use("Agg")
    from srlib import evaluate, plots

    results = []
    for scale in arguments.scales:
        for method in FIR_METHODS:
            results.append(evaluate.evaluate(method, "embedded", scale))
    print(f"FIR filters on the embedded scikit-image photos ({', '.join(evaluate.datasets.EMBEDDED_IMAGES)}).")
    print(evaluate.PROTOCOL)
    print(evaluate.format_table(results, published=False))
    print("(box equals nearest when upscaling: the box kernel is only widened, i.e. averages, when downscaling)")
    output = Path(arguments.output)
    output.mkdir(parents=True, exist_ok=True)
    figure_path = output / "fir_comparison.png"
    figure = plots.fir_comparison_figure("embedded", image_index=0, scale=max(arguments.scales),
                                         methods=FIR_METHODS)
    figure.savefig(figure_path, dpi=100, bbox_inches="tight")
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
    evaluate_parser.add_argument("--checkpoint", help="a .keras file, or .weights.h5 / run folder with --model")
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

    from srlib import train

    for command, handler, text in [("train", _train, "train or resume a model from its CPU recipe"),
                                   ("publish", _publish, "publish a run's best weights to checkpoints/")]:
        sub = commands.add_parser(command, help=text)
        sub.add_argument("--model", required=True, help="a model name from srlib.models.MODELS")
        sub.add_argument("--scale", type=int, nargs="+", required=True, help="one scale, or several (VDSR)")
        sub.add_argument("--run-dir", default=None, help="checkpoint folder (default runs/<model>_x<scale>)")
        if command == "train":
            sub.add_argument("--minutes", type=float, default=60, help="wall-clock budget over all resumed runs")
            sub.add_argument("--seed", type=int, default=0)
            sub.add_argument("--quick", action="store_true", help="tiny data and steps (smoke test)")
        else:
            sub.add_argument("--directory", default=str(train.CHECKPOINTS), help="where weights and manifest go")
        sub.set_defaults(handler=handler)
    return parser


def main(argv=None):
    arguments = build_parser().parse_args(argv)
    try:
        return arguments.handler(arguments)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
