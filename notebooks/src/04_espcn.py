# %% [markdown]
# # 04 · ESPCN: convolutions at low resolution, one sub-pixel convolution to upscale
#
# **Goal.** The efficient sub-pixel convolution: compute `s²` output phases per LR pixel with an
# ordinary convolution, then rearrange them into the HR image (pixel shuffle, `depth_to_space`).
# Build it, start it right (ICNR), cost it for 1080p video, train it with `model.fit` and compare
# it with bicubic and with the paper.
#
# **The claim we check.** Shi, Caballero, Huszár, Totz, Aitken, Bishop, Rueckert and Wang,
# *Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel Convolutional
# Neural Network* (CVPR 2016): upscaling at the very end, by a learned sub-pixel convolution,
# makes a network fast enough for **1080p video in real time** (on a K2 GPU) and better than
# SRCNN trained on the same 91 images, at a fraction of its cost. Trained on the 91 images:
# **Set5 ×3 32.55 dB** (against 30.39 for bicubic). The often-quoted 33.13 dB came from training
# on ImageNet; the SRCNN figure printed below (32.75 dB) is SRCNN trained on ImageNet, which the
# 91-image ESPCN does not beat.
#
# **What is new here.** `srlib.layers.DepthToSpace` (the pixel shuffle, one TFLite op) and
# `SubPixelConv2D` with its ICNR initialisation (Aitken et al. 2017), which makes the layer start
# as a nearest-neighbour upscale instead of `s²` unrelated filters on interleaved grids.
#
# **Time.** Quick mode (`SRLIB_QUICK=1`, used by the test suite): about a minute on 2 CPU
# cores, with a few training steps (shipped weights, when present, are evaluated on the
# full sets in every mode). Full settings: one hour of training (the CPU recipe) plus a few minutes.

# %% [markdown]
# ## Setup
# On Colab, or anywhere `srlib` is not importable, the next cell installs the repository's
# pinned runtime requirements and srlib itself: from the checkout this notebook sits in, else
# from a clone (once per runtime, a few minutes). Set `SRLIB_REPOSITORY` to your fork's URL if
# you use one.

# %% include _setup_cell.py

# %%
import tempfile
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

import srlib
from srlib import data, datasets, evaluate, layers, models, plots, train, zoo

QUICK = os.environ.get("SRLIB_QUICK") == "1"
SCALE = 3
print(f"srlib {srlib.__version__}, TensorFlow {tf.__version__}, Keras {keras.__version__}, "
      f"NumPy {np.__version__}, quick mode: {QUICK}")
for dataset_name in ["T91", "BSD200", "Set5", "Set14"]:
    print(datasets.describe(dataset_name))
print(f"published Set5 x{SCALE}: ESPCN {evaluate.published_psnr('espcn', 'Set5', SCALE)} dB (91 images), "
      f"SRCNN {evaluate.published_psnr('srcnn', 'Set5', SCALE)} dB (ImageNet), "
      f"bicubic {evaluate.published_psnr('bicubic', 'Set5', SCALE)} dB")

# %% [markdown]
# ## 1. The pixel shuffle
# `DepthToSpace(s)` turns `(H, W, C·s²)` into `(H·s, W·s, C)`: the `s²` channels of each LR pixel
# become the `s×s` block of HR pixels above it, row by row (TensorFlow's "DCR" order: channel
# `(i·s + j)·C + c` goes to position `(i, j)` of the block). One LR pixel with channels 0…8:

# %%
shuffle = layers.DepthToSpace(SCALE)
one_pixel = np.arange(9, dtype="float32").reshape(1, 1, 1, 9)
print(shuffle(one_pixel).numpy()[0, ..., 0])

# %% [markdown]
# Four LR pixels; LR pixel `p` (row-major) carries the values `10·p + channel`, so the tens digit
# says where each HR pixel came from and the units digit which channel:

# %%
four_pixels = (10 * np.arange(4)[:, None] + np.arange(9)[None, :]).astype("float32").reshape(1, 2, 2, 9)
print(shuffle(four_pixels).numpy()[0, ..., 0].astype(int))

# %% [markdown]
# ## 2. ICNR: start as a nearest-neighbour upscale
# A convolution to `s²` channels followed by the shuffle is `s²` independent filters, each
# producing one phase of the HR grid. Initialised at random, neighbouring HR pixels come from
# unrelated filters: a checkerboard the network must first unlearn. ICNR draws one filter and
# copies it to all `s²` phases, so at initialisation every `s×s` block is constant: the layer is
# a convolution followed by a nearest-neighbour upscale. Below, the same `SubPixelConv2D` on the
# LR butterfly (Y), with and without ICNR: the spread is the largest max − min inside any block.

# %%
lr_luma, hr_luma = data.validation_images("Set5", SCALE)[2]  # butterfly, Y in [0, 1], protocol LR
figure, axes = plt.subplots(1, 3, figsize=(12, 4.3), layout="constrained")
crop = (slice(60, 150), slice(60, 150))  # HR pixels: a 30x30 LR window, zoomed
axes[0].imshow(hr_luma[crop][..., 0], cmap="gray", vmin=0, vmax=1)
axes[0].set(title="HR (Y)", xlabel="HR column", ylabel="HR row")
for axis, use_icnr in zip(axes[1:], [True, False]):
    keras.utils.set_random_seed(0)
    sub_pixel = layers.SubPixelConv2D(SCALE, 1, kernel_size=3, use_icnr=use_icnr)
    output = sub_pixel(lr_luma[None]).numpy()[0, ..., 0]
    height, width = lr_luma.shape[:2]
    blocks = output.reshape(height, SCALE, width, SCALE)  # (LR row, phase row, LR column, phase column)
    spread = (blocks.max(axis=(1, 3)) - blocks.min(axis=(1, 3))).max()
    axis.imshow(output[crop], cmap="gray")
    axis.set(title=f"untrained, ICNR {'on' if use_icnr else 'off'}: spread {spread:.2g}", xlabel="HR column",
             ylabel="HR row")
figure.suptitle(f"A sub-pixel convolution at initialisation (x{SCALE}, 3x3 kernel, random weights)")
plt.show()

# %% [markdown]
# ## 3. The network and what it costs
# `models.espcn(scale)`: `conv 5×5, 64` – tanh – `conv 3×3, 32` – tanh – `conv 3×3, s²` – shuffle,
# all at LR resolution. The paper found tanh better than ReLU for this network (exercise 1).

# %%
model = models.build("espcn", SCALE)
model.summary()
print(f"receptive field: {2 * models.receptive_field(model) + 1} x {2 * models.receptive_field(model) + 1} LR pixels")

# %% [markdown]
# What real time means: a 1920×1080 frame at ×3 comes from a 640×360 LR frame. MACs per output
# pixel from the traced graph (`models.model_cost`), next to SRCNN's and FSRCNN's, and the time
# per frame on this machine (`predict_on_batch`, median of three; a CPU that may be shared with
# other work, not the paper's GPU).

# %%
lr_frame = np.random.default_rng(0).uniform(0, 1, (1, 360, 640, 1)).astype("float32")
print(f"{'network':<12} {'parameters':>10} {'MACs/output px':>15} {'GMACs per 1080p frame':>22} {'ms per frame':>13}")
frame_costs, frame_timings = {}, {}
for label, network in [("SRCNN 9-5-5", models.srcnn()), ("FSRCNN", models.fsrcnn(SCALE)), ("ESPCN", model)]:
    input_size = (1080, 1920) if label.startswith("SRCNN") else (360, 640)  # SRCNN takes the upsampled frame
    frame_costs[label] = models.model_cost(network, input_size)
    frame_timings[label] = None if label.startswith("SRCNN") else models.forward_seconds(network, lr_frame, repeats=3)
    timed = "-" if frame_timings[label] is None else f"{1000 * frame_timings[label]:.0f}"
    print(f"{label:<12} {frame_costs[label].parameters:>10,} {frame_costs[label].macs_per_output_pixel:>15,.0f} "
          f"{frame_costs[label].macs / 1e9:>22.1f} {timed:>13}")
print(f"(SRCNN not timed: {frame_costs['SRCNN 9-5-5'].macs / frame_costs['ESPCN'].macs:.0f}x ESPCN's MACs per frame)")
print(f"ESPCN on this machine: {1 / frame_timings['ESPCN']:.1f} frames per second of 1080p output (Y only)")

# %% [markdown]
# ## 4. Training with `model.fit`
# Three recipes, clearly apart:
#
# * **Quick mode (tests):** the five embedded photos, 5 steps × 2 epochs, a temporary run folder
#   (so a quick run never resumes from or pollutes a real one). The network trained here barely
#   leaves its initialisation: its curves only prove the cells run. Section 6 evaluates the shipped
#   weights instead when `checkpoints/` has them, so its numbers are real ones in quick mode too.
# * **CPU recipe, this notebook's full setting:** `train.RECIPES["espcn"]`: Adam, learning rate
#   10⁻³ halved every 75,000 steps, MSE, batches of 32 random 48×48 HR patches (16×16 LR, Y) from
#   the 291 images (T91 + BSD200: more than the paper's 91, fewer than its ImageNet model's),
#   500 steps per epoch, one hour on 2 CPU cores (about 385,000 steps; batches of 16 keep the
#   two cores half idle and reached 0.08 dB less on Set5 ×3 in the same hour, Y-PSNR under the
#   protocol). The same recipe from a shell:
#   `python -m srlib train --model espcn --scale 3 --minutes 60`, then
#   `python -m srlib publish --model espcn --scale 3` copies the last epoch to `checkpoints/`
#   (the shipped weights section 6 uses when they exist).
# * **Paper recipe (GPU, not run here):** 17×17 LR sub-images (51×51 HR at ×3) from the 91 images,
#   MSE, learning rate from 0.01 down to 0.0001, lowered whenever the cost stops improving by
#   more than a threshold, stopped after 100 epochs without improvement: about three hours on a
#   K2 GPU (seven days for the ImageNet model).
#
# Re-running the training cell resumes from the newest checkpoint in `RUN_DIR`; the time budget
# counts over all resumed runs: raise `MINUTES` to train longer. (With shipped weights and no wish
# to train, set `MINUTES = 1`: the evaluation below uses the shipped weights either way.)

# %%
recipe = train.RECIPES["espcn"]
# The next two lines and VALIDATION_LIMIT state what train.train does in each mode, for the text
# below; to change them, change the recipe (train.recipe_with), as notebook 05 does.
TRAINING_IMAGES = "embedded" if QUICK else list(recipe.data)  # full: the recipe's, T91 + BSD200
STEPS_PER_EPOCH = 5 if QUICK else recipe.steps_per_epoch
MINUTES = 0.5 if QUICK else 60
VALIDATION_LIMIT = 2 if QUICK else None  # first images of Set5 validated after every epoch; None: all five
RUN_DIR = (Path(tempfile.mkdtemp(prefix="notebook_espcn_quick_")) if QUICK
           else train.run_directory("notebook_espcn", SCALE))  # runs/ in this folder, or $SRLIB_RUNS
SEED = 0
print(recipe)

# %% [markdown]
# The training loop is notebook 02's section 3 (seeded initial weights, `train.compiled_model`,
# a `CheckpointSaver` that resumes, batches that start at the resumed epoch, protocol validation,
# the time budget, `model.fit`), packaged as `train.train`: the function behind
# `python -m srlib train`, so that this notebook and the command line train the same way.

# %%
model, saver = train.train("espcn", SCALE, minutes=MINUTES, run_dir=RUN_DIR, seed=SEED, quick=QUICK)
print(f"stopped at epoch {saver.epoch} ({saver.step:,} steps), "
      f"{saver.history['wall_time_s'][-1] / 60:.1f} minutes in all")

# %% [markdown]
# ## 5. Learning curves
# Training loss (MSE on patches) and the protocol Y-PSNR on Set5 after each epoch, from the
# saver's history (it spans resumed runs), against epochs and against wall-clock time.

# %%
figure = plots.learning_curves(
    saver.history, "ESPCN", STEPS_PER_EPOCH, SCALE, validation_limit=VALIDATION_LIMIT,
    bicubic_psnr=evaluate.evaluate("bicubic", "Set5", SCALE, limit=VALIDATION_LIMIT).psnr_y,  # on the same images
    published_psnr=evaluate.published_psnr("espcn", "Set5", SCALE))  # on all of Set5
plt.show()

# %% [markdown]
# ## 6. Evaluation under the protocol
# Shipped weights, when `checkpoints/manifest.json` lists them, were made by the CPU recipe and
# are evaluated on all of Set5 and Set14 (cheap for a model this small). The shipped ESPCN is the
# better of two whole runs by Set5 (batches of 32 against 16: `checkpoints/README.md`), so its
# Set5 figure is slightly optimistic; Set14 played no part in that choice. Without them, the
# model trained above is evaluated: its best epoch by validation PSNR (chosen on Set5, so its
# Set5 number is slightly optimistic; Set14 played no part), on two images per set in quick mode.
# `zoo.shipped_or_trained` makes that choice and describes the weights it chose.

# %%
evaluation = zoo.shipped_or_trained(f"espcn_x{SCALE}", saver, model, QUICK, TRAINING_IMAGES)
evaluated_model, model_description, evaluation_limit = evaluation.model, evaluation.description, evaluation.limit
print("Evaluating", model_description)

results = {}
for dataset_name in ["Set5", "Set14"]:
    results[dataset_name, "espcn"] = evaluate.evaluate(models.upscaler(evaluated_model), dataset_name, SCALE,
                                                       method_name="espcn", limit=evaluation_limit)
    results[dataset_name, "bicubic"] = evaluate.evaluate("bicubic", dataset_name, SCALE, limit=evaluation_limit)
print(evaluate.PROTOCOL)
print(evaluate.format_table(results.values()))

# %% [markdown]
# ## 7. What it changes: zoomed crops
# The butterfly of Set5 (as in notebook 02, so the crops compare with SRCNN's). The network
# upscales Y; the chroma is bicubic (`models.upscaler`). Look for the blocks of 3×3 pixels that
# an undertrained sub-pixel layer still shows.

# %%
name, hr_image = datasets.load_images("Set5")[2]  # butterfly
figure, crop_psnr = plots.protocol_crops(hr_image, SCALE, {"bicubic": evaluate.fir_upscaler("bicubic"),
                                                           "ESPCN": models.upscaler(evaluated_model)}, name)
plt.show()

# %% [markdown]
# ## Published vs ours
# The paper's 91-image row next to ours and bicubic's, measured under the same protocol.
# "images" says whether a row covers the whole set: a mean over two images is not comparable with
# a table. `published.json` carries no Set14 ×3 figure for the paper's 91-image model.

# %%
print(evaluate.PROTOCOL)
print(f"Ours: {model_description}")
print(evaluate.published_vs_ours("espcn", [(results[dataset_name, "espcn"], results[dataset_name, "bicubic"],
                                           evaluation.source) for dataset_name in ["Set5", "Set14"]]))

# %% [markdown]
# ## Conclusions
# The next cell states what this run measured; the points below hold in every mode.
#
# * The pixel shuffle is a pure rearrangement: `s²` channels of one LR pixel become its `s×s`
#   HR block. With ICNR the sub-pixel layer starts with every block constant (a spread of zero
#   above); without it, neighbouring HR pixels start from unrelated filters.
# * ESPCN ×3 has 22,729 parameters and costs 2,514 MACs per output pixel, 23 times fewer than
#   SRCNN 9-5-5 and about twice FSRCNN's. A 1080p frame at ×3 is 5.2 GMACs; the frame rate this
#   machine reached is printed in section 3 and below. MACs are not time: the same section times
#   FSRCNN, whose transposed convolution CPU libraries run far less efficiently than ESPCN's
#   plain convolutions and pixel shuffle (notebook 03 measures its share).
# * A gap to the published row is expected from the budget: one CPU hour of Adam on 48×48
#   patches, against the paper's training to convergence (about three GPU hours, with a
#   learning rate lowered on plateaus).

# %%
print(f"* Evaluated: {model_description}.")
for dataset_name in ["Set5", "Set14"]:
    ours, bicubic = results[dataset_name, "espcn"], results[dataset_name, "bicubic"]
    published = evaluate.published_psnr("espcn", dataset_name, SCALE)
    line = (f"* {dataset_name} x{SCALE}: ESPCN {ours.psnr_y:.2f} dB against bicubic {bicubic.psnr_y:.2f} dB "
            f"({ours.psnr_y - bicubic.psnr_y:+.2f} dB)")
    if published is None:
        line += "; no published number to compare with."
    elif ours.images == datasets.lookup(dataset_name).num_images:
        line += f", {ours.psnr_y - published:+.2f} dB from the published {published:.2f}."
    else:
        line += f", on the first {ours.images} images only: not comparable with the published {published:.2f}."
    print(line)
print(f"* Butterfly x{SCALE}: ESPCN {crop_psnr['ESPCN']:.2f} dB against bicubic {crop_psnr['bicubic']:.2f} dB.")
print(f"* 1080p at x{SCALE} on this machine: ESPCN {1000 * frame_timings['ESPCN']:.0f} ms per frame "
      f"({1 / frame_timings['ESPCN']:.1f} fps), FSRCNN {1000 * frame_timings['FSRCNN']:.0f} ms.")

# %% [markdown]
# ## Exercises
# 1. **tanh or ReLU.** Train `train.compiled_model("espcn", 3, recipe, activation="relu")` with the
#    same budget and a new `RUN_DIR`. Predict first: which ends higher on Set5, and which is
#    ahead after the first few epochs? (Hint: the paper reports tanh ahead; ReLU units that go
#    dead stop learning, tanh saturates instead.)
# 2. **Without ICNR.** Build ESPCN with `layers.SubPixelConv2D(3, 1, kernel_size=3, use_icnr=False)`
#    as its last layer (copy `srlib/models/espcn.py`: three lines of Keras) and train it with
#    `model.fit` on `data.training_dataset` batches, as notebook 02's section 3 does
#    (`train.train` builds registered models only).
#    Predict first: is the gap largest at the start or at the end of training? Look at the crops
#    after one epoch.
# 3. **Cost by hand.** Count ESPCN's MACs per LR pixel at ×3 (`k·k·C_in·C_out` per layer, the last
#    one has `s²` outputs), then per output pixel. At which scale would ESPCN cost fewer MACs per
#    output pixel than FSRCNN at ×3? Check the first two below.

# %%
# Check for exercise 3: fill in your two numbers and run this cell.
espcn_macs_per_lr_pixel, espcn_macs_per_output_pixel = None, None
if espcn_macs_per_lr_pixel is not None:
    cost = models.model_cost(models.espcn(3), (32, 32))
    per_lr_pixel = cost.macs / (32 * 32)
    print("per LR pixel:", "correct" if abs(espcn_macs_per_lr_pixel - per_lr_pixel) < 1
          else f"model_cost counts {per_lr_pixel:,.0f}")
    print("per output pixel:", "correct" if abs(espcn_macs_per_output_pixel - cost.macs_per_output_pixel) < 1
          else f"model_cost counts {cost.macs_per_output_pixel:,.1f}")
