# %% [markdown]
# # 08 · TFLite on an Arm Mali GPU: fixed tiles, builtin ops, float16 weights, no seams
#
# **Goal.** Take the networks of notebooks 02–07 to a phone or a single-board computer with an
# Arm Mali GPU, through the TensorFlow Lite (LiteRT) GPU delegate: export them, check offline that
# every op will run on the delegate, measure what the export costs in accuracy, and run frames of
# any size as tiles without seams.
#
# **The claim we check.** A super-resolution network exported as a `.tflite` file with
#
# 1. a **fixed tile shape** and **batch 1** (static shapes everywhere),
# 2. **builtin ops only**, within the op versions the delegate parses (no rank-5/6 pixel shuffle,
#    no transposed convolution with a fused activation, no bicubic resize, no dynamic batch),
# 3. **float16 weights**
#
# runs entirely on the GPU delegate, and frames larger than a tile can be processed tile by tile,
# with tiles overlapping by the model's receptive-field radius, **with the same output as a
# whole-frame run**. What a laptop can measure is measured here: the offline delegate check, Keras
# vs TFLite parity, the seams, CPU latency. What it cannot, the speed on a Mali GPU, is not: the
# throughput section says which numbers are assumptions, and section 8 lists the commands that
# measure them on a board.
#
# **What is new here.** `srlib.export` (`export_tflite`, model cards, `parity_psnr`),
# `srlib.gpu_check` (the delegate's acceptance rules, re-implemented on the flatbuffer: TensorFlow
# 2.21's own `Analyzer(gpu_compatibility=True)` no longer checks anything) and `srlib.inference`
# (`tile_spans`, `TiledUpscaler`, `TFLiteNetwork`).
#
# **Time.** Quick mode (`SRLIB_QUICK=1`, used by the test suite): about a minute on 2 CPU cores
# (three models: the first in four modes, the other two in float16; files in a temporary folder).
# Full settings: every model in every mode, written to `outputs/tflite/` beside the notebook, two to six minutes
# (measured on two kinds of 2-core AMD EPYC: `notebooks/README.md`).

# %% [markdown]
# ## Setup
# On Colab, or anywhere `srlib` is not importable, the next cell installs the repository's
# pinned runtime requirements and srlib itself: from the checkout this notebook sits in, else
# from a clone (once per runtime, a few minutes). Set `SRLIB_REPOSITORY` to your fork's URL if
# you use one.

# %% include _setup_cell.py

# %%
import collections
import contextlib
import importlib.metadata
import io
import math
import tempfile
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # the converter logs every step of every export otherwise
import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

import srlib
from srlib import data, datasets, export, gpu_check, images, inference, models, networks, plots, resize, train, zoo

QUICK = os.environ.get("SRLIB_QUICK") == "1"
TILE = (64, 64)  # the demo export's and section 6's tile: 64x64 LR in, 192x192 out at x3
# (pre-upsampling models take HR-sized tiles, which must hold whole LR pixels: 63x63 at x3)
OUTPUT_DIR = Path(tempfile.mkdtemp(prefix="notebook_tflite_quick_")) if QUICK else Path("outputs/tflite")
OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
LATENCY_RUNS = 10 if QUICK else 30
print(f"srlib {srlib.__version__}, TensorFlow {tf.__version__}, Keras {keras.__version__}, "
      f"ai-edge-litert {importlib.metadata.version('ai-edge-litert')}, NumPy {np.__version__}, quick mode: {QUICK}")
print(f"exports go to {OUTPUT_DIR}")


@contextlib.contextmanager
def quiet_converter():
    """The TFLite converter prints the signature of every SavedModel it writes, and warns that the
    int8 model's float input has no statistics (it needs none): hidden here, errors still raise."""
    logger, level = tf.get_logger(), tf.get_logger().level
    logger.setLevel("ERROR")
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Statistics for quantized inputs were expected")
            yield
    finally:
        logger.setLevel(level)

# %% [markdown]
# ## 1. What the GPU delegate accepts
# The delegate compiles the graph into GPU programs (OpenCL kernels or OpenGL ES compute shaders)
# once, when the interpreter is created. It therefore needs everything known up front, and it only
# knows a fixed list of ops:
#
# * **static shapes, batch 1**: no `-1` in any shape signature, one batch size everywhere. srlib's
#   models are fully convolutional (`(None, None, C)` inputs), so `export_tflite` rebuilds each on
#   `keras.Input((h, w, C), batch_size=1)` first: a file serves one tile shape;
# * **builtin ops only**, each up to the version its parser accepts
#   (`model_builder.cc`, `CheckMaxSupportedOpVersion`); custom and Flex (`SELECT_TF_OPS`) ops stay on
#   the CPU;
# * **rank ≤ 4**, float32 or float16 activations (int8 only on the delegate's quantized path);
# * **float16 weights** are folded: the `DEQUANTIZE` ops of a float16 export disappear before the
#   delegate parses the graph, and the file is half the size.
#
# One unsupported op in the middle of a network splits it: by default only the largest supported
# partition runs on the GPU, the rest on the CPU, with copies between them. `gpu_check.MAX_OP_VERSIONS`
# holds the version limits; the ops super-resolution networks use:

# %%
sr_ops = ["CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "DEPTH_TO_SPACE", "PRELU", "LEAKY_RELU", "TANH",
          "RELU", "ADD", "MUL", "CONCATENATION", "STRIDED_SLICE", "RESIZE_BILINEAR", "RESHAPE", "TRANSPOSE",
          "DEQUANTIZE", "RESIZE_BICUBIC", "BATCH_TO_SPACE_ND"]
for op in sr_ops:
    limit = gpu_check.MAX_OP_VERSIONS.get(op, "absent")
    text = ("not on the delegate" if limit == "absent" else "any version" if limit is None else f"version <= {limit}")
    print(f"{op:<20} {text}")
print(f"fused activations the delegate accepts: {', '.join(gpu_check.GPU_FUSED_ACTIVATIONS)}")

# %% [markdown]
# `RESIZE_BICUBIC` is not even a TFLite builtin, so the bicubic upsampling that SRCNN and VDSR start
# from stays outside the network (or becomes a convolution, as SP-VDSR's in-graph Lanczos-3 does).
# `TRANSPOSE_CONV` is accepted up to version 3; a fused activation makes it version 4.

# %% [markdown]
# ## 2. The models and their weights
# Shipped weights, when `checkpoints/manifest.json` lists them, are exported as they are. Without
# them, ESPCN ×3, FSRCNN ×3 and SP-VDSR ×2 are **quickly initialised**: a few Adam steps
# (100 in quick mode, 500 otherwise) of their CPU recipe on patches of the five embedded photos,
# enough to make their outputs look like images, far from trained models (notebooks 02–07 train
# them; `python -m srlib train` and `publish` ship them). Everything this notebook measures except
# image quality (the delegate check, the file sizes, the cost, the seams, the latency) depends on
# the graph and the shapes, not on how well the weights were trained; parity and int8 calibration
# depend on the weights somewhat. Quick mode keeps the first three models only (ESPCN ×3 first):
# it exports the first in all four modes and the other two in float16 only.

# %%
WEIGHTS_DIRECTORY = zoo.CHECKPOINTS
FALLBACK_MODELS = [("espcn", 3), ("fsrcnn", 3), ("sp_vdsr", 2)]
Exported = collections.namedtuple("Exported", "model scale name weights")
manifest = zoo.read_manifest(WEIGHTS_DIRECTORY)
shipped_keys = sorted(manifest["models"], key=lambda key: key != "espcn_x3")  # ESPCN x3 first, if shipped
if QUICK:
    shipped_keys = shipped_keys[:3]

exported_models = {}  # label -> Exported
if shipped_keys:
    for key in shipped_keys:
        model, entry = zoo.load_published(key, WEIGHTS_DIRECTORY)
        record = entry["training"]
        weights = (f"shipped weights {entry['weights']}, {record['optimizer_steps']:,} steps on "
                   f"{'+'.join(record['data'])}" + (" (quick mode: a smoke test)" if record["quick_mode"] else ""))
        exported_models[key] = Exported(model, entry["scales"][0], entry["model"], weights)
else:
    INITIALISATION_STEPS = 100 if QUICK else 500
    for name, scale in FALLBACK_MODELS:
        keras.utils.set_random_seed(0)
        recipe = train.RECIPES[name]
        model = train.compiled_model(name, scale, recipe)  # Adam, MSE, as in the model's notebook
        batches = data.training_dataset("embedded", scale, recipe.hr_patch_size, batch_size=recipe.batch_size,
                                        steps_per_epoch=INITIALISATION_STEPS, seed=0)
        model.fit(batches, epochs=1, steps_per_epoch=INITIALISATION_STEPS, verbose=0, shuffle=False)
        exported_models[f"{name}_x{scale}"] = Exported(
            model, scale, name, f"quickly initialised, {INITIALISATION_STEPS} steps on the embedded photos "
                                "(no shipped weights)")
# The model that is exported in every mode and tiled in section 6: the first with a single LR input.
demo_label = next(label for label, each in exported_models.items() if models.MODELS[each.name].input == "lr")
exported_models = {demo_label: exported_models[demo_label], **exported_models}
labels = list(exported_models)
for label, each in exported_models.items():
    print(f"{label:<14} {each.model.count_params():>9,} parameters  {each.weights}")

# %% [markdown]
# ## 3. Export: four modes and a model card per file
# `export.export_tflite(model, path, tile_shape, mode)` converts with
# `TFLiteConverter.from_keras_model` restricted to `TFLITE_BUILTINS` (an op without a builtin fails
# the conversion instead of silently becoming a Flex op) and writes `PATH.card.json` next to the
# file. The modes:
#
# * `float32`: the reference;
# * `float16`: float16 weights, **the Mali mode**: half the file, the delegate folds the weights and
#   computes in fp16 when the app allows precision loss (`benchmark_model` allows it by default);
# * `dynamic_int8`: int8 weights, float activations: a CPU mode (hybrid kernels mix int8 weights with
#   float activations);
# * `int8`: int8 weights and activations, calibrated on 64 crops of the embedded photos, float32 in and
#   out (`QUANTIZE`/`DEQUANTIZE` at the ends): for CPUs and NPUs. The GPU delegate takes it on its
#   quantized path, on by default, where it computes in floating point on dequantized values: int8
#   saves file size there, not arithmetic.
#
# One export first, to read a card: the size of the file, the tile, the cost, the receptive field
# (the overlap tiles need, and the share of each tile that overlap wastes), the CPU latency per tile
# measured here (ai_edge_litert, XNNPACK, 2 threads) and the multiply-accumulates per second a
# target needs for 720p→1440p and 1080p→2160p video at 30 frames per second.

# %%
demo = exported_models[demo_label]
with quiet_converter():
    card = export.export_tflite(demo.model, OUTPUT_DIR / f"{demo_label}_float16.tflite", tile_shape=TILE,
                                mode="float16", scale=demo.scale, name=demo_label, latency_runs=LATENCY_RUNS)
print(export.format_model_card(card))

# %% [markdown]
# Every model in every mode (quick mode: the first three models, the first in all four modes, the
# other two in float16). The file name says the model and the mode. Each model gets its default tile,
# `export.default_tile_shape(model, scale)`: 64×64, or four times the context when that is larger
# (so that at least half of each tile's side is kept), in whole LR pixels for the pre-upsampling
# models, whose tiles are HR-sized: 63×63 for SRCNN at ×3, 96×96 for VDSR at ×2 and for the
# 8-block SRResNet and SRGAN at ×4.

# %%
cards = {}
for label, each in exported_models.items():
    modes = export.EXPORT_MODES if (label == demo_label or not QUICK) else ("float16",)
    for mode in modes:
        if (label, mode) == (demo_label, "float16"):
            cards[label, mode] = card  # exported above
            continue
        with quiet_converter():  # tile_shape=None: export.default_tile_shape (see the markdown above)
            cards[label, mode] = export.export_tflite(each.model, OUTPUT_DIR / f"{label}_{mode}.tflite",
                                                      tile_shape=None, mode=mode, scale=each.scale, name=label,
                                                      latency_runs=LATENCY_RUNS)
        print(export.format_model_card(cards[label, mode]), end="\n\n")

# %% [markdown]
# ## 4. The offline GPU check
# `gpu_check.check_gpu_compatibility(path)` reads the flatbuffer and applies the delegate's rules to
# every op and tensor: the allowlist and op versions, the per-op rules of `gpu_compatibility.cc`
# (fused activations, `DEPTH_TO_SPACE` block size, constant paddings...), rank, type, static shape,
# batch 1. `run_check_gpu` is the same check as `python -m srlib check-gpu FILE`: one line per
# violation, a summary, exit code 0 or 1. On the float16 export of the first model:

# %%
exit_code = gpu_check.run_check_gpu(cards[demo_label, "float16"].path)
print("exit code:", exit_code)

# %% [markdown]
# All exports. `int8` files fail the float path by construction (int8 activations,
# `QUANTIZE`/`DEQUANTIZE`); the last column applies the quantized path's rules instead
# (`quantized_ok=True`). `TfLiteGpuDelegateOptionsV2Default()` sets
# `TFLITE_GPU_EXPERIMENTAL_FLAGS_ENABLE_QUANT`, so the quantized path is what an app gets unless it
# clears that flag; the check defaults to the float path because it is the stricter of the two: a
# file that passes it runs either way.
# `dynamic_int8` files pass: their activations are float and their int8 weights constants; the
# board (section 8) has the last word on those.

# %%
check_results = {}
print(f"{'file':<31} {'ops':>4} {'violations (float path)':>24} {'(quantized path)':>17}  first violation")
for key, each in cards.items():
    violations = gpu_check.check_gpu_compatibility(each.path)
    quantized = gpu_check.check_gpu_compatibility(each.path, quantized_ok=True)
    check_results[key] = violations
    first = str(violations[0])[:70] if violations else "-"
    print(f"{Path(each.path).name:<31} {len(each.ops):>4} {len(violations):>24} {len(quantized):>17}  {first}")

# %% [markdown]
# ### What breaks delegation
# The same ESPCN-like head, with its pixel shuffle written the way PyTorch code often writes it:
# reshape to `(N, H, W, s, s, C)`, transpose, reshape back. It computes exactly what
# `depth_to_space` computes, and converts to builtin ops, but through a **rank-6** tensor, and the
# converter gives the 6-D `TRANSPOSE` a version (6) the delegate does not parse.

# %%
class ReshapePixelShuffle(keras.layers.Layer):
    """Pixel shuffle through a rank-6 tensor (the PyTorch-style `view` + `permute`)."""

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, features):
        scale = self.scale
        _, height, width, channels = keras.ops.shape(features)
        output_channels = channels // (scale * scale)
        features = keras.ops.reshape(features, (-1, height, width, scale, scale, output_channels))  # rank 6
        features = keras.ops.transpose(features, (0, 1, 3, 2, 4, 5))  # (N, H, scale, W, scale, C)
        return keras.ops.reshape(features, (-1, height * scale, width * scale, output_channels))


probe = np.random.default_rng(0).uniform(size=(1, 5, 7, 9)).astype("float32")
print("max |rank-6 shuffle - depth_to_space|:",
      float(np.abs(keras.ops.convert_to_numpy(ReshapePixelShuffle(3)(probe)) - tf.nn.depth_to_space(probe, 3)).max()))

keras.utils.set_random_seed(0)
lr_input = keras.Input((None, None, 1))
features = keras.layers.Conv2D(32, 5, padding="same", activation="tanh")(lr_input)
phases = keras.layers.Conv2D(9, 3, padding="same")(features)
naive_espcn = keras.Model(lr_input, ReshapePixelShuffle(3)(phases), name="espcn_rank6_shuffle")
naive_path = OUTPUT_DIR / "espcn_rank6_shuffle_float16.tflite"
with quiet_converter():
    naive_path.write_bytes(export.convert(naive_espcn, TILE, "float16"))
naive_ops = gpu_check.op_list(gpu_check.read_tflite(naive_path))
print("ops:", ", ".join(f"{name} v{version}" for name, version in naive_ops))
naive_exit_code = gpu_check.run_check_gpu(naive_path)

# %% [markdown]
# Two more, in one cell: a bicubic resize has no builtin at all (the converter refuses it when only
# builtins are allowed; with `SELECT_TF_OPS` it becomes a Flex op, which never runs on the delegate),
# and a model converted with its batch left free (`keras.Input((64, 64, 1))`, no `batch_size`) has a
# `-1` in every shape signature. The fourth classic, a transposed convolution with a fused
# activation, is exercise 1.

# %%
class BicubicUpsample(keras.layers.Layer):
    def call(self, x):
        return tf.image.resize(x, (3 * TILE[0], 3 * TILE[1]), method="bicubic")


fixed_input = keras.Input((*TILE, 1), batch_size=1)
bicubic_model = keras.Model(fixed_input, keras.layers.Conv2D(1, 3, padding="same")(BicubicUpsample()(fixed_input)))
try:
    with quiet_converter():
        export.convert(bicubic_model, TILE, "float32")
except Exception as error:  # tensorflow.lite's ConverterError
    print("builtins only:", [line for line in str(error).splitlines() if line.startswith("TF Select ops")][0])
converter = tf.lite.TFLiteConverter.from_keras_model(bicubic_model)
converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]
bicubic_path = OUTPUT_DIR / "bicubic_flex.tflite"
with quiet_converter():
    bicubic_path.write_bytes(converter.convert())
gpu_check.run_check_gpu(bicubic_path)

free_batch_input = keras.Input((*TILE, 1))  # batch None
converter = tf.lite.TFLiteConverter.from_keras_model(keras.Model(free_batch_input, models.espcn(3)(free_batch_input)))
dynamic_path = OUTPUT_DIR / "dynamic_batch.tflite"
with quiet_converter():
    dynamic_path.write_bytes(converter.convert())
dynamic_violations = gpu_check.check_gpu_compatibility(dynamic_path)
print(f"\ndynamic batch: {len(dynamic_violations)} violations, e.g.\n  {dynamic_violations[0]}")

# %% [markdown]
# ## 5. Parity: what each mode costs in accuracy
# `export.parity_psnr(model, path, images)` runs the Keras model and the `.tflite` file on the same
# random crops of real images (tile-sized, Y; for SRCNN and VDSR bicubic-downscaled by the scale and
# interpolated back, as their inputs are) and returns the PSNR between the two outputs (data range
# 1, unclipped): the error the export adds, not a quality measure against HR. Eight crops of the
# embedded photos per file.

# %%
parity_images = datasets.load_images("embedded")
parity = {key: export.parity_psnr(exported_models[key[0]].model, each.path, parity_images, count=8,
                                  scale=exported_models[key[0]].scale)
          for key, each in cards.items()}
print(f"{'model':<14}" + "".join(f"{mode:>14}" for mode in export.EXPORT_MODES) + "   (PSNR Keras vs TFLite, dB)")
for label in labels:
    print(f"{label:<14}" + "".join(f"{parity[label, mode]:>14.1f}" if (label, mode) in parity else f"{'-':>14}"
                                   for mode in export.EXPORT_MODES))
for (label, mode), each in cards.items():  # dynamic_int8 quantizes only weight tensors of >= 1,024 elements
    weights = gpu_check.read_tflite(each.path).subgraphs[0].tensors
    if mode == "dynamic_int8" and not any(gpu_check.tensor_type_name(tensor) == "INT8" for tensor in weights):
        print(f"{label} dynamic_int8: no int8 weights at all (every kernel is under 1,024 elements): a float32 file")

# %%
figure, axis = plt.subplots(figsize=(8, 4))
width = 0.8 / len(export.EXPORT_MODES)
for position, mode in enumerate(export.EXPORT_MODES):
    values = [min(parity.get((label, mode), np.nan), 150) for label in labels]
    axis.bar(np.arange(len(labels)) + (position - 1.5) * width, values, width, label=mode)
axis.set_xticks(np.arange(len(labels)), labels)
axis.set(title="Keras vs TFLite on the same tiles (higher: closer to Keras)", xlabel="model",
         ylabel="parity PSNR (dB, capped at 150)")
axis.legend(title="export mode", fontsize=8, loc="upper right")
plt.show()

# %% [markdown]
# ## 6. Why tiles, and why they must overlap
# **Memory and textures.** The delegate keeps every tensor on the GPU, channels in slices of 4, in
# buffers or textures whose sides are limited: OpenGL ES 3.1 guarantees only 2048 texels per
# texture side (what a device really allows is `GL_MAX_TEXTURE_SIZE`, or
# `CL_DEVICE_IMAGE2D_MAX_WIDTH` for OpenCL), and a 2160p output row is 3840 pixels wide. The largest
# activation of each float16 export, read from the file, at its tile and scaled to a whole LR
# frame of 1080p→2160p (fp16, channels padded to a multiple of 4):

# %%
def largest_activation(path):
    """Shape and bytes of the largest 4-D activation of a .tflite file: fp16, channels padded to 4."""
    model = gpu_check.read_tflite(path)
    best = ([], 0)
    for tensor in model.subgraphs[0].tensors:
        shape = [] if tensor.shape is None else [int(size) for size in tensor.shape]
        buffer_data = model.buffers[tensor.buffer].data if tensor.buffer > 0 else None
        if len(shape) != 4 or (buffer_data is not None and len(buffer_data) > 0):
            continue  # weights and other constants
        size = 2 * shape[0] * shape[1] * shape[2] * 4 * math.ceil(shape[3] / 4)
        best = max(best, (shape, size), key=lambda item: item[1])
    return best


FRAME_OUTPUT = (2160, 3840)
activation_mib = {}  # label -> (MiB at the tile, MiB at a whole frame)
print(f"{'model':<14} {'largest tensor, at its tile':>27} {'MiB':>6} {'same tensor, 2160p-output frame':>33} "
      f"{'MiB':>7}")
for label in labels:
    each = cards[label, "float16"]
    shape, size = largest_activation(each.path)
    frame_input = [math.ceil(side / each.scale) for side in FRAME_OUTPUT]  # the network's input for a whole frame
    growth = [frame_side / tile_side for frame_side, tile_side in zip(frame_input, each.tile_shape)]
    frame_shape = [1, round(shape[1] * growth[0]), round(shape[2] * growth[1]), shape[3]]
    activation_mib[label] = (size / 2**20, size * growth[0] * growth[1] / 2**20)
    print(f"{label:<14} {str(shape):>27} {activation_mib[label][0]:>6.2f} {str(frame_shape):>33} "
          f"{activation_mib[label][1]:>7.0f}")

# %% [markdown]
# **Seams.** A convolution near a tile edge sees the tile's zero padding instead of the neighbouring
# pixels. `inference.tile_spans(length, tile, overlap)` places the tiles along one axis so that each
# keeps only the pixels whose whole receptive field lies inside it: tiles step by
# `tile − 2·overlap`, the last one is shifted back to end at the border, and the kept ranges
# partition the axis. With `overlap="auto"` the overlap is the model's receptive-field radius
# (`models.receptive_field`, measured from gradients). Along a 130-pixel axis with 64-pixel tiles:

# %%
demo_model, demo_scale = demo.model, demo.scale
radius = models.receptive_field(demo_model)
print(f"{demo_label}: receptive-field radius {radius} LR pixels ({2 * radius + 1}x{2 * radius + 1} field)")
for overlap in [radius, 0]:
    spans = inference.tile_spans(130, TILE[0], overlap)
    print(f"overlap {overlap}: " + ", ".join(f"tile [{start}, {start + TILE[0]}) keeps [{begin}, {end})"
                                             for start, begin, end in spans))

# %% [markdown]
# Now a real image: the protocol LR of Set14's zebra (×3 MATLAB bicubic), upscaled by the first model
# three ways: whole (the reference), in 64×64 tiles with `overlap="auto"`, and in 64×64 tiles with no
# overlap; plus the float16 `.tflite` file, tile by tile as it would run on the GPU
# (`TFLiteNetwork`, overlap from its model card). Y goes through the network, Cb and Cr through
# Lanczos-3 (whose support, 3 LR pixels at ×3, the overlap also covers). Float images in, float out,
# so the differences are not hidden by 8-bit rounding.

# %%
stem, hr_image = next((stem, image) for stem, image in datasets.load_images("Set14") if stem == "zebra")
lr_image = resize.imresize(resize.crop_to_multiple(hr_image, demo_scale).astype(np.float32) / 255,
                           scale=1 / demo_scale)
keras_network = networks.KerasNetwork(demo_model)  # one traced function for every run below
whole = inference.TiledUpscaler(keras_network, tile=lr_image.shape[:2])(lr_image)  # one tile: the whole image
outputs = {
    "overlap auto": inference.TiledUpscaler(keras_network, tile=TILE, overlap="auto")(lr_image),
    "overlap 0": inference.TiledUpscaler(keras_network, tile=TILE, overlap=0)(lr_image),
    "TFLite float16, auto": inference.TiledUpscaler(cards[demo_label, "float16"].path)(lr_image),
}
max_difference = {name: float(np.abs(output - whole).max()) for name, output in outputs.items()}
print(f"'{stem}' LR {lr_image.shape[1]}x{lr_image.shape[0]} -> {whole.shape[1]}x{whole.shape[0]}, "
      f"tiles of {TILE[1]}x{TILE[0]} LR pixels")
for name, value in max_difference.items():
    print(f"  {name:<22} max |tiled - whole| = {value:.2e}  (on a 0-1 scale; 1/255 = {1 / 255:.1e})")

# %%
def tile_edges(length, overlap):
    """HR positions where one tile's kept region ends and the next one's begins."""
    return [begin * demo_scale for _, begin, _ in inference.tile_spans(length, TILE[0], overlap)[1:]]


figure, axes = plt.subplots(1, 3, figsize=(16, 4.2), layout="constrained")
panels = [("overlap 0", 0), ("overlap auto", radius), ("TFLite float16, auto", radius)]
for axis, (name, overlap) in zip(axes, panels):
    difference = np.abs(outputs[name] - whole).max(axis=-1)
    shown = axis.imshow(np.log10(difference + 1e-8), cmap="magma", vmin=-8, vmax=0)
    for edge in tile_edges(lr_image.shape[0], overlap):
        axis.axhline(edge - 0.5, color="cyan", linewidth=0.5, linestyle=":")
    for edge in tile_edges(lr_image.shape[1], overlap):
        axis.axvline(edge - 0.5, color="cyan", linewidth=0.5, linestyle=":")
    axis.set(title=f"{name}: max {max_difference[name]:.1e}", xlabel="HR column", ylabel="HR row")
figure.colorbar(shown, ax=axes, label="log10 |tiled - whole| (RGB, 0-1 scale)")
figure.suptitle(f"{demo_label} on '{stem}': where tiling changes the output (dotted: tile boundaries)")
plt.show()

# %% [markdown]
# Zoomed on a corner where four tiles meet (overlap 0): the seam, and the ×10 difference images.

# %%
corner = (tile_edges(lr_image.shape[0], 0)[0] - 24, tile_edges(lr_image.shape[1], 0)[0] - 24)


figure = plots.compare_crops(
    [images.to_uint8(value) for value in (whole, outputs["overlap 0"], 10 * np.abs(outputs["overlap 0"] - whole),
                                          outputs["overlap auto"], 10 * np.abs(outputs["overlap auto"] - whole))],
    ["whole (reference)", "overlap=0", "diff(overlap=0) x10", "overlap=auto", "diff(auto) x10"],
    crop=corner, crop_size=48, suptitle=f"{demo_label}, {TILE[0]}x{TILE[1]} LR tiles ({demo.weights.split(',')[0]})")
plt.show()

# %% [markdown]
# ## 7. Latency, and the throughput a Mali would need
# **Measured here:** the CPU latency per tile from each model card (ai_edge_litert with XNNPACK,
# 2 threads, on a CPU shared with other work: expect a large spread between runs), and from it the CPU
# time of a whole frame: tiles per frame (LR frame, each card's tile overlapping by its context) ×
# ms per tile, colour conversion not included: an extrapolation, not a timed frame. **Computed from
# the graph:** the MACs per second 30 frames per second need, tiling overhead included.

# %%
TARGETS = dict(export.TARGET_OUTPUTS)


def tiles_per_frame(each, output_shape):
    lr_shape = [math.ceil(size / each.scale) for size in output_shape]  # scale 1: pre-upsampling, HR tiles
    return (len(inference.tile_spans(lr_shape[0], each.tile_shape[0], each.context))
            * len(inference.tile_spans(lr_shape[1], each.tile_shape[1], each.context)))


print(f"{'file':<31} {'ms/tile':>8} " + "".join(f"{label + ' tiles':>19} {'CPU ms/frame':>13} {'tiled GMAC/s':>13}"
                                                 for label in TARGETS))
for key, each in cards.items():
    row = f"{Path(each.path).name:<31} {each.latency_ms_per_tile:>8.2f} "
    for label, output_shape in TARGETS.items():
        tiles = tiles_per_frame(each, output_shape)
        row += (f"{tiles:>19,} {tiles * each.latency_ms_per_tile:>13,.0f} "
                f"{each.tiling_overhead * each.macs_per_second_needed[label] / 1e9:>13,.0f}")
    print(row)

# %% [markdown]
# **Assumed, not measured: the Mali side.** We have no Mali GPU here. For scale only, a Mali-G610 MC4
# (the GPU of Rockchip RK3588 boards) is often quoted at roughly **0.5–1 TFLOP/s fp16 peak**; that
# figure comes from third-party estimates (cores × lanes × clock), not from an Arm datasheet or a
# measurement, and depends on the board's GPU clock: check your board's datasheet. Convolutions run
# through the delegate reach some fraction of peak that only a benchmark on the board tells (section
# 8). The chart puts the tiled GFLOP/s each model needs (2 FLOPs per MAC) next to that assumed range.

# %%
ASSUMED_MALI_FP16_TFLOPS = (0.5, 1.0)  # ASSUMPTION: often-quoted Mali-G610 MC4 fp16 peak, source unverified
figure, axis = plt.subplots(figsize=(8, 4))
for position, (label, output_shape) in enumerate(TARGETS.items()):
    needed = [2 * cards[name, "float16"].tiling_overhead * cards[name, "float16"].macs_per_second_needed[label] / 1e12
              for name in labels]
    axis.bar(np.arange(len(labels)) + (position - 0.5) * 0.4, needed, 0.4, label=f"{label} @ 30 fps (computed)")
axis.axhspan(*ASSUMED_MALI_FP16_TFLOPS, color="gray", alpha=0.25,
             label="ASSUMED Mali-G610 MC4 fp16 peak (not measured)")
axis.set_xticks(np.arange(len(labels)), labels)
axis.set(title="Throughput needed for real-time video, tiled (float16 exports)", xlabel="model",
         ylabel="TFLOP/s needed (2 FLOPs per MAC)")
axis.legend(fontsize=8)
plt.show()
for label in labels:
    each = cards[label, "float16"]
    needed = [2 * each.tiling_overhead * each.macs_per_second_needed[target] / 1e12 for target in TARGETS]
    low, high = (100 * needed[0] / peak for peak in reversed(ASSUMED_MALI_FP16_TFLOPS))
    print(f"{label:<14} needs "
          + ", ".join(f"{value:.2f} TFLOP/s for {target}" for value, target in zip(needed, TARGETS))
          + f": {low:.0f}-{high:.0f}% of the ASSUMED peak for 720p->1440p")

# %% [markdown]
# ## 8. On a Mali board
# Nothing below runs in this notebook. The tool is LiteRT's `benchmark_model`; it reports latency
# and, with the GPU delegate, how much of the graph the delegate took.
#
# ```sh
# # 1. Copy the float16 export (and, on Android, the benchmark binary) to the board.
# adb push espcn_x3_float16.tflite /data/local/tmp/model.tflite        # Android
# adb push android_aarch64_benchmark_model /data/local/tmp/benchmark_model
# scp espcn_x3_float16.tflite board:/tmp/model.tflite                  # Linux board
#
# # 2. On the board (Android: prefix with `adb shell`, paths under /data/local/tmp): the GPU with the
# #    OpenCL backend, then with OpenGL ES compute shaders; fp16 arithmetic allowed (true is the
# #    default, written out here), per-op timings on.
# ./benchmark_model --graph=/tmp/model.tflite --use_gpu=true --gpu_backend=cl \
#     --gpu_precision_loss_allowed=true --enable_op_profiling=true --num_runs=100
# ./benchmark_model --graph=/tmp/model.tflite --use_gpu=true --gpu_backend=gl \
#     --gpu_precision_loss_allowed=true --enable_op_profiling=true --num_runs=100
#
# # 3. For comparison: fp32 arithmetic on the GPU, and the CPU (XNNPACK, 4 threads).
# ./benchmark_model --graph=/tmp/model.tflite --use_gpu=true --gpu_precision_loss_allowed=false
# ./benchmark_model --graph=/tmp/model.tflite --num_threads=4
#
# # 4. Mainline Linux: which kernel driver is loaded, and what the user-space drivers offer.
# lsmod | grep -E 'panfrost|panthor|mali'
# eglinfo | grep -i 'OpenGL ES profile version'
# clinfo | grep -iE 'platform name|device name|image2d'
# ```
#
# **Reading the log.** A fully delegated model logs `Replacing N out of N node(s) with delegate
# (TfLiteGpuDelegateV2) node, yielding 1 partitions`. A partly supported one lists
# `Following operations are not supported by GPU delegate:` with a reason per op, then
# `K operations will run on the GPU, and the remaining M operations will run on the CPU.` (the
# wording varies between versions). With `--enable_op_profiling=true` the per-op table shows which
# nodes ran where.
#
# **The binary.** Android builds of `benchmark_model` include the GPU delegate. On Linux the tool has
# it only if it was built with it; otherwise `--gpu_backend` and `--gpu_precision_loss_allowed` are
# unknown flags and `--use_gpu=true` logs *GPU acceleration is unsupported on this platform*. An
# OpenCL-only build for a 64-bit Arm Linux board, from a TensorFlow checkout (the macro is read in
# `tensorflow/lite/tools/evaluation/utils.h`):
#
# ```sh
# bazel build -c opt --config=elinux_aarch64 --copt=-DCL_DELEGATE_NO_GL \
#     //tensorflow/lite/tools/benchmark:benchmark_model
# ```
#
# **Drivers on mainline Linux.** Panfrost (Mesa) gives OpenGL ES 3.1, with compute shaders, on Mali
# T760 and newer: the `gl` backend (kernel driver `panfrost`, or `panthor` for the newer
# command-stream GPUs such as the G610). OpenCL through Mesa's Rusticl on Panfrost is newer and less proven;
# Arm's proprietary Mali driver (`libmali`, shipped by some board vendors) provides OpenCL for the `cl`
# backend.
#
# **When the delegate falls back.** Read the list of rejected ops in the log, run
# `python -m srlib check-gpu model.tflite` on the same file (it names the op, its index and the rule),
# and fix the graph, not the runtime: `DEPTH_TO_SPACE` instead of a reshape/transpose pixel shuffle,
# the activation after a transposed convolution as its own layer, interpolation in the graph as
# convolutions (or as a second input the app fills), batch 1 and a fixed tile. Then export again,
# check again, and confirm on the board that the log says `N out of N`.

# %% [markdown]
# ## 9. The same from the command line
# `python -m srlib` wraps the same functions (`export` uses the shipped weights of
# `checkpoints/manifest.json`; `--checkpoint` takes another `.keras` or `.weights.h5` file):
#
# ```sh
# python -m srlib export --model espcn --scale 3 --tile 64 64 --mode float16 --output espcn_x3.tflite
# python -m srlib check-gpu espcn_x3.tflite          # exit code 0: every op runs on the delegate
# python -m srlib export --model espcn --scale 3 --tile 64 64 --mode int8 --output espcn_x3_int8.tflite
# python -m srlib check-gpu espcn_x3_int8.tflite --quantized-ok
# python -m srlib upscale in.png out.png --scale 3 --checkpoint espcn_x3.tflite --tile 64
# ```
#
# `export` prints the model card and writes `espcn_x3.tflite.card.json` next to the file; `upscale`
# reads the overlap from that card, so keep the two together.

# %% [markdown]
# ## The claim, checked
# What this run measured, for each float16 export: the offline delegate check, the parity with Keras,
# and, for the first model, whether tiles with the receptive-field overlap reproduce the whole image.

# %%
print(f"{'model':<14} {'weights':<11} {'GPU check (float16)':<22} {'parity fp16 (dB)':>17} {'file (KiB)':>11}")
for label in labels:
    each = cards[label, "float16"]
    violations = check_results[label, "float16"]
    verdict = f"{len(violations)} violations" if violations else "all ops accepted"
    weights = "shipped" if exported_models[label].weights.startswith("shipped") else "quick init"
    print(f"{label:<14} {weights:<11} {verdict:<22} {parity[label, 'float16']:>17.1f} "
          f"{each.file_size_bytes / 1024:>11.1f}")
print(f"tiling ({demo_label}, 64x64 tiles): overlap auto ({radius}) max difference "
      f"{max_difference['overlap auto']:.1e}, overlap 0 {max_difference['overlap 0']:.1e}")

# %% [markdown]
# ## Conclusions
# The next cell states what this run measured; the points below hold in every mode.
#
# * srlib's ESPCN, FSRCNN and SP-VDSR export to batch-1, fixed-tile files of builtin ops that pass
#   every rule of the offline check in float32 and float16 (the test suite checks every srlib model
#   in both): pixel shuffles are `DEPTH_TO_SPACE`, FSRCNN's transposed convolution carries no
#   activation, SP-VDSR's Lanczos-3 is strided slices, a concatenation, convolutions and a `DEPTH_TO_SPACE`. The offline
#   check is not the device: only `benchmark_model` on the board confirms `N out of N` nodes
#   delegated, and only it measures the speed.
# * The same network written with a rank-6 reshape/transpose pixel shuffle converts without complaint
#   and computes the same function, but fails the check (rank 6, `TRANSPOSE` version 6); a bicubic
#   resize has no builtin (Flex op), and a free batch dimension leaves `-1` in every shape signature.
# * int8 files fail the delegate's float path by construction; they are for CPUs, NPUs or the
#   delegate's quantized path (on unless the app clears `TFLITE_GPU_EXPERIMENTAL_FLAGS_ENABLE_QUANT`),
#   where the GPU still computes in floating point.
# * Tiles that overlap by the receptive-field radius reproduce the whole-image output to float
#   rounding; without overlap every tile edge is a seam. The overlap costs compute: the card's tiling
#   overhead.

# %%
fp16_parities = [parity[label, "float16"] for label in labels]
for weights in dict.fromkeys(each.weights for each in exported_models.values()):
    print(f"* {', '.join(label for label in labels if exported_models[label].weights == weights)}: {weights}.")
print(f"* Float16 exports: {sum(not check_results[label, 'float16'] for label in labels)} of {len(labels)} pass the "
      f"offline GPU check; parity with Keras {min(fp16_parities):.1f}-{max(fp16_parities):.1f} dB; files "
      + ", ".join(f"{cards[label, 'float16'].file_size_bytes / 1024:.1f}" for label in labels) + " KiB.")
int8_keys = [key for key in cards if key[1] == "int8"]
if int8_keys:
    print("* int8 exports: " + ", ".join(f"{key[0]} {len(check_results[key])} violations on the float path, "
                                         f"parity {parity[key]:.1f} dB" for key in int8_keys) + ".")
print(f"* Rank-6 pixel shuffle: {len(gpu_check.check_gpu_compatibility(naive_path))} violations; dynamic batch: "
      f"{len(dynamic_violations)} violations.")
print(f"* Tiling {demo_label} on '{stem}' in {TILE[0]}x{TILE[1]} LR tiles: max |tiled - whole| "
      f"{max_difference['overlap auto']:.1e} with overlap {radius} (the receptive-field radius), "
      f"{max_difference['overlap 0']:.1e} with overlap 0; the float16 TFLite file, tiled: "
      f"{max_difference['TFLite float16, auto']:.1e}.")
tile_mib, frame_mib = activation_mib[demo_label]
print(f"* Largest activation of {demo_label} (fp16): {tile_mib:.2f} MiB at a {TILE[0]}x{TILE[1]} tile, "
      f"{frame_mib:.0f} MiB for a whole 2160p-output frame.")
each = cards[demo_label, "float16"]
needed = 2 * each.tiling_overhead * each.macs_per_second_needed["720p->1440p"] / 1e12
print(f"* {demo_label} needs {needed:.2f} TFLOP/s for 720p->1440p at 30 fps, tiled (computed); against the "
      f"ASSUMED, unmeasured {ASSUMED_MALI_FP16_TFLOPS[0]}-{ASSUMED_MALI_FP16_TFLOPS[1]} TFLOP/s fp16 peak of a "
      "Mali-G610 MC4 that is "
      f"{100 * needed / ASSUMED_MALI_FP16_TFLOPS[1]:.0f}-{100 * needed / ASSUMED_MALI_FP16_TFLOPS[0]:.0f}% of peak.")
print(f"* {demo_label} float16 on this CPU: {each.latency_ms_per_tile:.2f} ms per {TILE[0]}x{TILE[1]} tile, "
      f"{tiles_per_frame(each, TARGETS['720p->1440p'])} tiles and about "
      f"{tiles_per_frame(each, TARGETS['720p->1440p']) * each.latency_ms_per_tile:,.0f} ms per 720p->1440p frame.")

# %% [markdown]
# ## Exercises
# 1. **A fused activation on the transposed convolution.** Build FSRCNN's last layer as
#    `keras.layers.Conv2DTranspose(1, 9, strides=3, padding="same", activation="relu")`, export it
#    with `export.convert` and check it. Predict first: does TensorFlow 2.21 fuse the ReLU into
#    `TRANSPOSE_CONV`? Then write the same deconvolution as a `tf.function` on a fixed
#    `(1, 64, 64, 56)` input (`tf.nn.conv2d_transpose`, `tf.nn.bias_add`, `tf.nn.relu`), convert it with
#    `tf.lite.TFLiteConverter.from_concrete_functions` and find the violation. (Hint: look at the op
#    versions in `gpu_check.op_list`; the delegate parses `TRANSPOSE_CONV` up to version 3.)
# 2. **The seam as a function of the overlap.** On the Y plane of the zebra LR (a one-channel float
#    image, so Lanczos chroma plays no part), run `inference.TiledUpscaler(demo_model, tile=TILE,
#    overlap=k)` for `k = 0 … 6`, plot the max difference to the whole-image output against `k`, and
#    find the smallest seamless overlap. Predict first from the kernel sizes. Check below.
# 3. **float16 or int8.** Export every model in `int8` (quick mode only exported the first) and
#    compare its parity with float16's. Predict first: how many dB apart, and why? (Hint: float16
#    rounds each weight to 11 significant bits and computes the rest in float32 on the CPU; int8
#    rounds the weights and every activation tensor to 256 levels, each over a range calibrated on
#    64 crops: one large value in calibration coarsens the steps for all the others.) Then map
#    `|Keras − int8|` over one output tile: is the error on edges or everywhere?

# %%
# Check for exercise 1: the path of your fused-ReLU deconvolution file.
fused_deconvolution_path = None
if fused_deconvolution_path is not None:
    found = [v for v in gpu_check.check_gpu_compatibility(fused_deconvolution_path) if v.op_name == "TRANSPOSE_CONV"]
    print("correct: " + str(found[0]) if found and "fused activation" in found[0].reason
          else "no fused-activation TRANSPOSE_CONV in this file: is the ReLU still a separate op?")

# %%
# Check for exercise 2: fill in the smallest overlap whose output equals the whole-image output.
smallest_seamless_overlap = None
if smallest_seamless_overlap is not None:
    expected = models.receptive_field(demo_model)
    luma = lr_image.mean(axis=-1, keepdims=True)  # any one-channel image will do
    reference = inference.TiledUpscaler(keras_network, tile=luma.shape[:2])(luma)
    seamless = [k for k in range(expected + 2) if np.abs(
        inference.TiledUpscaler(keras_network, tile=TILE, overlap=k)(luma) - reference).max() < 1e-5]
    measured = seamless[0] if seamless else None
    print("correct: the receptive-field radius" if smallest_seamless_overlap == expected == measured
          else f"measured here: {measured}; models.receptive_field says {expected}")
