"""Command line: ``python -m srlib <command>``.

Commands:
    evaluate   mean Y-PSNR/SSIM of a method on a dataset under the paper protocol
    demo       every FIR filter on the embedded photos: a table and a comparison figure
    datasets   the registered datasets and where they resolve
"""

import argparse
import json
import sys
from pathlib import Path

FIR_METHODS = ("nearest", "box", "bilinear", "bicubic", "mitchell", "lanczos2", "lanczos3")


def _evaluate(arguments):
    from srlib import evaluate

    result = evaluate.evaluate(arguments.method, arguments.dataset, arguments.scale,
                               progress=not arguments.json, limit=arguments.limit)
    if arguments.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(evaluate.PROTOCOL)
        print(evaluate.format_table([result]))
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
    return parser


def main(argv=None):
    arguments = build_parser().parse_args(argv)
    try:
        return arguments.handler(arguments)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
