# %% [markdown]
# # 02 · SRCNN: three convolutions on a bicubic-upsampled image
#
# **Goal.** The first convolutional super-resolution network, built, costed and trained with
# `model.fit` under the evaluation protocol of notebook 01, then compared with bicubic and with
# the paper, number for number and crop for crop.
#
# **The claim we check.** Dong, Loy, He and Tang, *Learning a Deep Convolutional Network for
# Image Super-Resolution* (ECCV 2014; extended in TPAMI 2016): three convolutions on the
# bicubic-upsampled image beat bicubic by a wide margin. The table row every later paper copies
# is the 9-5-5 network trained on ImageNet: **Set5 ×3 32.75 dB** against 30.39 for bicubic
# (Set14 ×3 29.28 against 27.55). The base 9-1-5 network trained on the 91 images (part of ours)
# reaches about 32.39 dB on Set5 ×3, after hundreds of millions of backpropagations on a GPU (the
# paper's convergence curves count them in units of 10⁸). All on Y, MATLAB bicubic LR, 3 pixels
# shaved.
#
# **What is new here.** A *pre-upsampling* network: MATLAB bicubic first brings the LR image to
# HR size, and the network only restores detail, at HR resolution (input and output have the
# same size). Training pairs, model, optimizer, protocol validation, resumable checkpoints and
# evaluation all come from `srlib`; every step is a visible cell.
#
# **Time.** Quick mode (`SRLIB_QUICK=1`, used by the test suite): about a minute on 2 CPU
# cores, with a few training steps whose PSNR means nothing. Full settings: one hour of training
# (the CPU recipe) plus a few minutes.

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
from srlib import data, datasets, evaluate, models, plots, train, training, zoo
from srlib.checkpoint import CheckpointSaver

QUICK = os.environ.get("SRLIB_QUICK") == "1"
SCALE = 3
print(f"srlib {srlib.__version__}, TensorFlow {tf.__version__}, Keras {keras.__version__}, "
      f"NumPy {np.__version__}, quick mode: {QUICK}")
for dataset_name in ["T91", "BSD200", "Set5", "Set14"]:
    print(datasets.describe(dataset_name))
for dataset_name in ["Set5", "Set14"]:
    print(f"published x{SCALE} on {dataset_name}: SRCNN {evaluate.published_psnr('srcnn', dataset_name, SCALE)} dB, "
          f"bicubic {evaluate.published_psnr('bicubic', dataset_name, SCALE)} dB")

# %% [markdown]
# ## 1. The training pairs: bicubic-upsampled LR and HR
# `data.training_dataset` cuts random HR patches, makes their LR with the protocol's MATLAB
# bicubic (rounded to 8 bits), keeps the luma Y (BT.601, in [16/255, 235/255]) and, with
# `upsampled_input=True`, brings the LR back to HR size with bicubic again: the input SRCNN
# sees. Every batch is a pure function of `(seed, epoch, batch index)`, which is what lets a
# resumed training see the batches it would have seen. Four 36×36 patches of the SRCNN recipe,
# from the embedded photos (no download):

# %%
recipe = train.RECIPES["srcnn"]
print(recipe)
example_batches = data.training_dataset("embedded", SCALE, recipe.hr_patch_size, batch_size=4,
                                        upsampled_input=True, seed=1)
upsampled_patches, hr_patches = [tensor.numpy() for tensor in next(iter(example_batches))]
print(f"input {upsampled_patches.shape}, target {hr_patches.shape}, "
      f"values in [{hr_patches.min():.3f}, {hr_patches.max():.3f}]")

figure, axes = plt.subplots(2, 4, figsize=(10, 5.5), layout="constrained")
for column in range(4):
    patch_psnr = 10 * np.log10(1 / np.mean((upsampled_patches[column] - hr_patches[column]) ** 2))
    axes[0, column].imshow(upsampled_patches[column, ..., 0], cmap="gray", vmin=0, vmax=1)
    axes[0, column].set_title(f"input: bicubic x{SCALE}\n{patch_psnr:.1f} dB (patch, Y, no shave)", fontsize=9)
    axes[1, column].imshow(hr_patches[column, ..., 0], cmap="gray", vmin=0, vmax=1)
    axes[1, column].set_title("target: HR", fontsize=9)
for axis in axes.flat:
    axis.axis("off")
figure.suptitle(f"SRCNN training pairs (Y, {recipe.hr_patch_size}x{recipe.hr_patch_size}): "
                "same size in and out, the network only adds detail")
plt.show()

# %% [markdown]
# The pipeline can also make training harder than the protocol, as real photos are: each
# augmentation or degradation of `data.Augmentations` is optional, with a probability and a range.
# Geometric and photometric ones change the HR target (the LR follows), blur acts before the
# downscale (optics), noise and JPEG act on the LR (sensor, codec). The paper trained on clean
# bicubic pairs, and so does the SRCNN recipe: this figure only shows what each one does
# (`data.augmentation_examples`, RGB, ×2, LR shown at HR size with nearest-neighbour).

# %%
examples = data.augmentation_examples(datasets.load_images("embedded")[0][1], scale=2, hr_patch_size=96)
figure, axes = plt.subplots(2, len(examples), figsize=(1.5 * len(examples), 3.6), layout="constrained")
for column, (augmentation_name, (lr_example, hr_example)) in enumerate(examples.items()):
    axes[0, column].imshow(hr_example)
    axes[0, column].set_title(augmentation_name, fontsize=8)
    axes[1, column].imshow(np.repeat(np.repeat(lr_example, 2, axis=0), 2, axis=1))
for axis in axes.flat:
    axis.set_xticks([]); axis.set_yticks([])
axes[0, 0].set_ylabel("HR target"); axes[1, 0].set_ylabel("LR input")
figure.suptitle("Augmentations and degradations of srlib.data (one at a time)")
plt.show()

# %% [markdown]
# ## 2. The network: patch extraction, non-linear mapping, reconstruction
# The paper reads its three layers as a sparse-coding pipeline: `f1 = 9` convolution with 64
# filters (patch extraction), `f2` with 32 filters (mapping; 1×1 in the base model, 5×5 in the
# best one), `f3 = 5` with one filter (reconstruction), ReLU after the first two. Here every
# convolution is 'same' padded (zeros) so the output has the input's size. The paper trained
# without padding ('valid' convolutions, smaller outputs); its released test code filters the
# whole image with replicated borders (MATLAB `imfilter(..., 'same', 'replicate')`), so the two
# differ only within the receptive-field radius, 8 pixels, of the border.

# %%
model = models.build("srcnn")
model.summary()

# %% [markdown]
# Cost and receptive field, measured on the model itself: `models.model_cost` sums the
# multiply-accumulates (MACs) of every convolution in the traced graph; `models.receptive_field`
# finds the input pixels an output pixel depends on from a gradient. For a pre-upsampling
# network both are in HR pixels, and the MACs per output pixel do not depend on the scale.

# %%
print(f"{'variant':<8} {'parameters':>10} {'MACs/output pixel':>18} {'receptive field (HR px)':>24}")
for kernel_sizes in [(9, 1, 5), (9, 3, 5), (9, 5, 5)]:
    variant = models.srcnn(kernel_sizes=kernel_sizes)
    cost = models.model_cost(variant, (96, 96))
    radius = models.receptive_field(variant)
    print(f"{'-'.join(map(str, kernel_sizes)):<8} {cost.parameters:>10,} {cost.macs_per_output_pixel:>18,.0f} "
          f"{2 * radius + 1:>20}x{2 * radius + 1}")

full_hd = models.model_cost(model, (1080, 1920))
print(f"\n9-5-5 on a 1920x1080 output: {full_hd.macs / 1e9:.0f} GMACs per frame, whatever the scale: the network "
      f"runs at HR resolution, so at x{SCALE} it does {SCALE ** 2}x the work of the same layers on the LR image")

# %% [markdown]
# That last line is what notebooks 03 and 04 attack: FSRCNN and ESPCN run their convolutions on
# the LR image and upscale at the end.
#
# ## 3. Training with `model.fit`
# Three recipes, clearly apart:
#
# * **Quick mode (tests):** the five embedded photos, 5 steps × 2 epochs, a temporary run folder
#   (so a quick run never resumes from or pollutes a real one). The network trained here barely
#   leaves its initialisation: its curves only prove the cells run. Section 5 evaluates the shipped
#   weights instead when `checkpoints/` has them, so its numbers are real ones in quick mode too.
# * **CPU recipe, this notebook's full setting:** `train.RECIPES["srcnn"]`: Adam, learning rate
#   10⁻³ halved every 30,000 steps, MSE, batches of 16 random 36×36 HR patches (Y) from the 91
#   images and BSD200 (291 images, as notebooks 03 and 04), 500 steps per epoch, one hour of
#   wall-clock time on 2 CPU cores. The same recipe from a shell: `python -m srlib train --model srcnn --scale 3 --minutes 60`, then
#   `python -m srlib publish --model srcnn --scale 3` copies the last epoch to `checkpoints/`
#   (the shipped weights section 5 uses when they exist).
# * **Paper recipe (GPU, not run here):** SGD with momentum 0.9, learning rate 10⁻⁴ for the
#   first two layers and 10⁻⁵ for the last, Gaussian initialisation (σ = 0.001), MSE, 33×33
#   sub-images ('valid' convolutions: 21×21 outputs for 9-1-5, 17×17 for 9-5-5), 91 images (9-1-5)
#   or ImageNet (9-5-5), hundreds of millions of backpropagations: days on a GPU.
#
# All settings are in the next cell; re-running the training cell resumes from the newest
# checkpoint in `RUN_DIR` (weights, Adam's moments, step count, history), and the time budget
# counts over all resumed runs: raise `MINUTES` to train longer. (With shipped weights and no wish
# to train, set `MINUTES = 1`: the evaluation below uses the shipped weights either way.)

# %%
TRAINING_IMAGES = "embedded" if QUICK else list(recipe.data)  # the recipe's: T91 and BSD200
STEPS_PER_EPOCH = 5 if QUICK else recipe.steps_per_epoch
EPOCHS = 2 if QUICK else 10_000  # an upper bound in the full setting: the time budget stops first
MINUTES = 0.5 if QUICK else 60
VALIDATION_LIMIT = 2 if QUICK else None  # first images of Set5 validated after every epoch; None: all five
RUN_DIR = (Path(tempfile.mkdtemp(prefix="notebook_srcnn_quick_")) if QUICK
           else train.run_directory("notebook_srcnn", SCALE))  # runs/ in this folder, or $SRLIB_RUNS
SEED = 0

# %%
keras.utils.set_random_seed(SEED)  # the same initial weights on every fresh run
model = train.compiled_model("srcnn", SCALE, recipe)  # Adam with the recipe's step decay, MSE loss
saver = CheckpointSaver(RUN_DIR, model, monitor="val_psnr", keep_last=2)
initial_epoch = saver.restore_or_initialize()  # 0 on a fresh run, else the epoch to resume at
budget = training.WallClockBudget.resuming(MINUTES, saver.history)  # stops at MINUTES summed over resumed runs
training_batches = data.training_dataset(
    TRAINING_IMAGES, SCALE, recipe.hr_patch_size, batch_size=recipe.batch_size, steps_per_epoch=STEPS_PER_EPOCH,
    seed=SEED, epoch=initial_epoch, upsampled_input=True)  # starts at the resumed epoch's batches
callbacks = [
    training.ProtocolValidation("Set5", SCALE, limit=VALIDATION_LIMIT),  # val_psnr: before the saver needs it
    budget,
    saver.callback(),  # checkpoint every epoch, keep the last two and the best by val_psnr
]
print(f"run folder {RUN_DIR}, starting at epoch {initial_epoch}")
if not train.budget_spent(budget, MINUTES, RUN_DIR):  # spent: `fit` would still train one more epoch
    model.fit(training_batches, epochs=EPOCHS, steps_per_epoch=STEPS_PER_EPOCH, initial_epoch=initial_epoch,
              callbacks=callbacks, verbose=2, shuffle=False)  # shuffle=False: the batches are already random
print(f"stopped at epoch {saver.epoch} ({saver.step:,} steps), "
      f"{saver.history['wall_time_s'][-1] / 60:.1f} minutes in all")

# %% [markdown]
# ## 4. Learning curves
# The saver's history holds every epoch's logs, across resumed runs: the training loss (MSE on
# patches, in [0, 1] units) and the protocol Y-PSNR on Set5 after each epoch, against epochs and
# against wall-clock time.

# %%
figure = plots.learning_curves(
    saver.history, "SRCNN", STEPS_PER_EPOCH, SCALE, validation_limit=VALIDATION_LIMIT,
    bicubic_psnr=evaluate.evaluate("bicubic", "Set5", SCALE, limit=VALIDATION_LIMIT).psnr_y,  # on the same images
    published_psnr=evaluate.published_psnr("srcnn", "Set5", SCALE))  # on all of Set5
plt.show()

# %% [markdown]
# ## 5. Evaluation under the protocol
# Shipped weights, when `checkpoints/manifest.json` lists them, were made by the CPU recipe and
# are evaluated on all of Set5 and Set14 (cheap for a model this small). Without them, the
# model trained above is evaluated: its best epoch by validation PSNR (chosen on Set5, so its
# Set5 number is slightly optimistic; Set14 played no part), on two images per set in quick mode.
# `zoo.shipped_or_trained` makes that choice and describes the weights it chose.
#
# The network outputs Y only, and is scored on that Y rounded to 8 bits, as the paper's MATLAB
# code scores it; the RGB picture shown below (its Y with bicubic chroma) has a slightly different
# Y wherever colours fall outside the RGB cube and are clipped (up to 17 levels on saturated edges).

# %%
evaluation = zoo.shipped_or_trained(f"srcnn_x{SCALE}", saver, model, QUICK, TRAINING_IMAGES)
evaluated_model, model_description, evaluation_limit = evaluation.model, evaluation.description, evaluation.limit
print("Evaluating", model_description)

results = {}
for dataset_name in ["Set5", "Set14"]:
    results[dataset_name, "srcnn"] = evaluate.evaluate(models.upscaler(evaluated_model), dataset_name, SCALE,
                                                       method_name="srcnn", limit=evaluation_limit)
    results[dataset_name, "bicubic"] = evaluate.evaluate("bicubic", dataset_name, SCALE, limit=evaluation_limit)
print(evaluate.PROTOCOL)
print(evaluate.format_table(results.values()))

# %% [markdown]
# ## 6. What it changes: zoomed crops
# The butterfly of Set5, whose wing edges are where bicubic blurs most. The network upscales Y;
# the chroma is bicubic (`models.upscaler`), as in the paper, so colour fringes are not its doing.

# %%
name, hr_image = datasets.load_images("Set5")[2]  # butterfly
figure, crop_psnr = plots.protocol_crops(hr_image, SCALE, {"bicubic": evaluate.fir_upscaler("bicubic"),
                                                           "SRCNN": models.upscaler(evaluated_model)}, name)
plt.show()

# %% [markdown]
# The first layer's 64 filters, of the weights evaluated above (the shipped ones when the
# manifest lists them, else this run's). After long training the paper shows edge, blob and
# Laplacian-like detectors (its Fig. 5); a short run's filters are still close to their random
# initialisation.

# %%
first_layer = evaluated_model.get_layer("patch_extraction").get_weights()[0][:, :, 0, :]  # (9, 9, 64)
figure, axes = plt.subplots(4, 16, figsize=(13, 3.6))
for index, axis in enumerate(axes.flat):
    axis.imshow(first_layer[..., index], cmap="gray")
    axis.axis("off")
figure.suptitle("SRCNN first-layer filters (9x9, one per feature map; grey levels scaled per filter)")
plt.show()

# %% [markdown]
# ## Published vs ours
# The paper's row next to ours and bicubic's, measured under the same protocol. "images" says
# whether a row covers the whole set: a mean over two images is not comparable with a table.

# %%
print(evaluate.PROTOCOL)
print(f"Ours: {model_description}")
print(evaluate.published_vs_ours("srcnn", [(results[dataset_name, "srcnn"], results[dataset_name, "bicubic"],
                                           evaluation.source) for dataset_name in ["Set5", "Set14"]]))

# %% [markdown]
# ## Conclusions
# The next cell states what this run measured; the points below hold in every mode.
#
# * SRCNN 9-5-5 has 57,281 parameters and costs 57,184 MACs per output pixel at every scale,
#   because it runs at HR resolution on the bicubic-upsampled image; its receptive field is
#   17×17 HR pixels. The 9-1-5 base model costs a seventh of that.
# * How far ours gets from bicubic depends on the training it had. The paper's row comes from
#   hundreds of millions of backpropagations with SGD (the 9-5-5 row on ImageNet); the CPU
#   recipe runs one hour of Adam on 291 images. A gap to the published row is expected from
#   that budget alone. The 9-5-5 ImageNet row is also a high reference for training on few images: the
#   paper's base model trained on the 91 images (9-1-5, about 32.39 dB) is 0.36 dB below it.
# * Our convolutions are 'same' padded with zeros: output pixels within 8 pixels of the border see
#   zero padding, and the protocol shaves only 3. The paper's test code pads by replicating the
#   border pixels instead.

# %%
print(f"* Evaluated: {model_description}.")
for dataset_name in ["Set5", "Set14"]:
    ours, bicubic = results[dataset_name, "srcnn"], results[dataset_name, "bicubic"]
    published = evaluate.published_psnr("srcnn", dataset_name, SCALE)
    published_gain = published - evaluate.published_psnr("bicubic", dataset_name, SCALE)
    line = (f"* {dataset_name} x{SCALE}: SRCNN {ours.psnr_y:.2f} dB against bicubic {bicubic.psnr_y:.2f} dB "
            f"({ours.psnr_y - bicubic.psnr_y:+.2f} dB; the paper: {published_gain:+.2f} dB over bicubic)")
    if ours.images == datasets.lookup(dataset_name).num_images:
        line += f", {ours.psnr_y - published:+.2f} dB from the published {published:.2f}."
    else:
        line += f", on the first {ours.images} images only: not comparable with the published mean."
    print(line)
print(f"* Butterfly x{SCALE}: SRCNN {crop_psnr['SRCNN']:.2f} dB against bicubic {crop_psnr['bicubic']:.2f} dB.")

# %% [markdown]
# ## Exercises
# 1. **Loss.** Train the same network with L1 (`keras.losses.MeanAbsoluteError()`) or Charbonnier
#    (`srlib.losses.CharbonnierLoss()`) instead of MSE, same budget: recompile with
#    `model.compile(optimizer=..., loss=...)` and a new `RUN_DIR`. Predict first: does Set5 PSNR go
#    up or down, and do the butterfly crops look sharper or softer? (Hint: PSNR is a function of
#    the MSE, which only one of these losses minimises; L1 penalises small errors more.)
# 2. **Cost by hand.** Count the MACs per output pixel of SRCNN 9-1-5 and 9-5-5 (64 and 32
#    filters, Y only) from the kernel sizes: a `k×k` convolution from `C_in` to `C_out` maps costs
#    `k·k·C_in·C_out` per pixel. Check below.
# 3. **One network, every scale.** A pre-upsampling network accepts any bicubic-upsampled image.
#    Evaluate the ×3 model at ×2 and ×4 (`models.upscaler(evaluated_model)` serves both) on Set5.
#    Predict first: does it beat bicubic at each scale? (Hint: the blur it learned to undo is that
#    of ×3; a ×2 input is sharper, a ×4 one blurrier. VDSR, notebook 05, trains on all three.)

# %%
# Check for exercise 2: fill in your two counts and run this cell.
macs_9_1_5, macs_9_5_5 = None, None
if macs_9_1_5 is not None:
    for kernel_sizes, yours in [((9, 1, 5), macs_9_1_5), ((9, 5, 5), macs_9_5_5)]:
        measured = models.model_cost(models.srcnn(kernel_sizes=kernel_sizes), (64, 64)).macs_per_output_pixel
        verdict = "correct" if yours == measured else f"model_cost counts {measured:,.0f}"
        print(f"{'-'.join(map(str, kernel_sizes))}: {verdict}")

# %%
# Check for exercise 3: write True or False for each scale, then run this cell.
beats_bicubic_x2, beats_bicubic_x4 = None, None
if beats_bicubic_x2 is not None:
    for other_scale, prediction in [(2, beats_bicubic_x2), (4, beats_bicubic_x4)]:
        ours = evaluate.evaluate(models.upscaler(evaluated_model), "Set5", other_scale, method_name="srcnn")
        bicubic = evaluate.evaluate("bicubic", "Set5", other_scale)
        outcome = ours.psnr_y > bicubic.psnr_y
        print(f"x{other_scale}: SRCNN {ours.psnr_y:.2f} dB vs bicubic {bicubic.psnr_y:.2f} dB: "
              f"{'as you predicted' if outcome == prediction else 'not what you predicted'}")
