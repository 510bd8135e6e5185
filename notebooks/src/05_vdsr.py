# %% [markdown]
# # 05 · VDSR: twenty layers, a global residual, one model for every scale
#
# **Goal.** Go deep at last: twenty 3×3 convolutions on the bicubic-upsampled image. See why
# predicting the *residual* (HR minus bicubic) instead of the image makes that trainable, why a
# high learning rate needs gradient clipping, and how one network learns ×2, ×3 and ×4 together.
# Train it with `model.fit`, evaluate it at every scale against bicubic and the paper.
#
# **The claim we check.** Kim, Lee and Lee, *Accurate Image Super-Resolution Using Very Deep
# Convolutional Networks* (CVPR 2016): a 20-layer network (64 filters, 3×3, ReLU) that learns
# the residual of a bicubic upscale, trained with a learning rate of 0.1 held in check by
# *adjustable gradient clipping*, one model for ×2, ×3 and ×4 trained on 291 images (the 91
# images plus 200 from BSD): **Set5 37.53 / 33.66 / 31.35 dB** at ×2 / ×3 / ×4, against
# 36.66 / 32.75 / 30.48 for SRCNN (ImageNet) and 33.66 / 30.39 / 28.42 for bicubic (Y-PSNR, MATLAB
# bicubic LR, `scale` pixels shaved).
#
# **Time.** Quick mode (`SRLIB_QUICK=1`, used by the test suite): about two minutes on 2 CPU
# cores, with a *small* VDSR (6 layers of 32 filters) trained for a few steps (shipped weights,
# when present, are evaluated on all of Set5, and on all of Set14 in full settings). Full
# settings: one hour of training of the 20-layer network plus evaluation; the CPU recipe is three hours.

# %% [markdown]
# ## Setup
# On Colab, or anywhere `srlib` is not importable, the next cell installs the repository's
# pinned runtime requirements and srlib itself: from the checkout this notebook sits in, else
# from a clone (once per runtime, a few minutes). Set `SRLIB_REPOSITORY` to your fork's URL if
# you use one.

# %% include _setup_cell.py

# %%
import dataclasses
import tempfile
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

import srlib
from srlib import data, datasets, evaluate, models, plots, train, zoo

QUICK = os.environ.get("SRLIB_QUICK") == "1"
SCALES = [2, 3, 4]
print(f"srlib {srlib.__version__}, TensorFlow {tf.__version__}, Keras {keras.__version__}, "
      f"NumPy {np.__version__}, quick mode: {QUICK}")
for dataset_name in ["T91", "BSD200", "Set5", "Set14"]:
    print(datasets.describe(dataset_name))
for method in ["vdsr", "srcnn", "bicubic"]:
    print(f"published Set5 {' / '.join(f'x{scale}' for scale in SCALES)}, {method}: "
          + " / ".join(f"{evaluate.published_psnr(method, 'Set5', scale):.2f}" for scale in SCALES) + " dB")

# %% [markdown]
# ## 1. Learn the residual, not the image
# VDSR's input is the bicubic-upsampled LR image, as SRCNN's. Its output is `input + f(input)`:
# the network predicts only the *residual* `HR − bicubic`, the detail bicubic could not restore.
# Below, on the butterfly of Set5 (Y): the residual at each scale, and its histogram against
# the HR image's. The image spreads over the whole range; the residual is centred on zero, mostly
# tiny, and large only along edges. A network that must output the image has to carry all of it
# through twenty layers of ReLUs (the identity is not easy for them); one that outputs the
# residual starts from bicubic and spends its capacity on the part that is missing. The paper
# found that residual learning converged much faster and reached higher PSNR (exercise 1).

# %%
butterfly_index = 2  # butterfly, as in notebooks 02 and 04
residuals = {}
for scale in SCALES:
    upsampled_luma, hr_luma = data.validation_images("Set5", scale, upsampled_input=True)[butterfly_index]
    residuals[scale] = hr_luma[..., 0] - upsampled_luma[..., 0]

figure, axes = plt.subplots(1, 5, figsize=(20, 4), layout="constrained")
axes[0].imshow(hr_luma[..., 0], cmap="gray", vmin=0, vmax=1)
axes[0].set_title("HR (Y)")
residual_range = 0.25  # colour scale: +-0.25 of the 0-1 range
for axis, scale in zip(axes[1:4], SCALES):
    shown = axis.imshow(residuals[scale], cmap="RdBu_r", vmin=-residual_range, vmax=residual_range)
    axis.set_title(f"residual HR - bicubic, x{scale}")
for axis in axes[:4]:
    axis.axis("off")
figure.colorbar(shown, ax=axes[3], fraction=0.046, label="Y difference (0-1 scale)")
bins = np.linspace(-1, 1, 201)
axes[4].hist(hr_luma.ravel(), bins=bins, density=True, alpha=0.6, label="HR values")
for scale in SCALES:
    axes[4].hist(residuals[scale].ravel(), bins=bins, density=True, histtype="step", linewidth=1.5,
                 label=f"residual x{scale}")
axes[4].set(title="Histograms (log scale)", xlabel="value (0-1 scale)", ylabel="density", yscale="log", xlim=(-0.6, 1))
axes[4].legend(fontsize=8)
plt.show()

print(f"{'signal':<14} {'mean':>6} {'std':>6} {'share within 2/255 of the mean':>31}")
for label, values in [("HR (Y)", hr_luma[..., 0])] + [(f"residual x{scale}", residuals[scale]) for scale in SCALES]:
    print(f"{label:<14} {values.mean():>+6.3f} {values.std():>6.3f} "
          f"{np.mean(np.abs(values - values.mean()) < 2 / 255):>31.1%}")

# %% [markdown]
# The residual grows with the scale (more detail is lost at ×4 than at ×2) but keeps its shape:
# edges on a flat background. That is also why one network can serve all three scales: the
# three inputs differ in how blurred they are, not in what the network must add.
#
# ## 2. The network and what it costs
# `models.vdsr()`: 20 convolutions, 3×3, 64 filters, ReLU after all but the last, 'same'
# zero padding (the paper pads too, so that border pixels are predicted), the last one to one
# map, plus the input. Every layer runs at HR resolution.

# %%
model = models.vdsr()
print(f"{len(model.layers) - 2} convolutions, output = input + residual ({model.layers[-1].name})")
vdsr_cost = models.model_cost(model, (96, 96))
srcnn_cost = models.model_cost(models.srcnn(), (96, 96))
radius = models.receptive_field(model)
print(f"VDSR-20: {vdsr_cost.parameters:,} parameters, {vdsr_cost.macs_per_output_pixel:,.0f} MACs per output pixel "
      f"({vdsr_cost.macs_per_output_pixel / srcnn_cost.macs_per_output_pixel:.0f}x SRCNN 9-5-5), receptive field "
      f"{2 * radius + 1}x{2 * radius + 1} HR pixels")
full_hd = vdsr_cost.macs_per_output_pixel * 1920 * 1080
print(f"a 1920x1080 output: {full_hd / 1e12:.2f} TMACs per frame, at every scale")

# %% [markdown]
# The receptive field, 41×41 HR pixels, is what depth buys: SRCNN 9-5-5 sees 17×17. The price:
# every one of the 20 layers pays at HR resolution, about twelve times SRCNN's MACs; notebook 06
# moves such a body to LR resolution.
#
# ## 3. A high learning rate and gradient clipping
# The paper trains with SGD (momentum 0.9) at a learning rate of 0.1, 10⁴ times SRCNN's, to
# converge in a few hours. A deep plain network's gradients then explode. Clipping each
# gradient component to `[−θ, θ]` would fix that but makes the step `lr·θ` vanish as the learning
# rate is lowered; the paper's *adjustable* clipping clips to `[−θ/γ, θ/γ]`, `γ` being the current
# learning rate, so the gradient term of each update, `γ` times the clipped gradient, is at most
# `θ` per parameter whatever `γ` (momentum 0.9 can still add up to about ten such terms). At a
# constant rate it is Keras' `clipvalue=θ / γ`.
#
# Below: the same 20-layer network (16 filters here, to keep the cell short), the same
# multi-scale batches, three optimizers: plain SGD at 0.1, SGD at 0.1 with adjustable clipping
# (`θ = 0.01`, our choice), and what our CPU recipe uses instead: **Adam at 10⁻³ with `clipnorm`**
# (each variable's gradient rescaled to a norm of at most 0.4, one variable at a time; Adam's steps are already bounded
# by its learning rate, the clipping guards the first steps). Training loss per step (the
# running mean over the steps so far, as `fit` reports it):

# %%
CLIPPING_STEPS = 10 if QUICK else 40
theta, sgd_rate = 0.01, 0.1
optimizers = {
    "SGD 0.1, no clipping": lambda: keras.optimizers.SGD(sgd_rate, momentum=0.9),
    f"SGD 0.1, adjustable clipping (theta = {theta})": lambda: keras.optimizers.SGD(
        sgd_rate, momentum=0.9, clipvalue=theta / sgd_rate),
    "Adam 1e-3, clipnorm 0.4 (our recipe)": lambda: keras.optimizers.Adam(1e-3, clipnorm=0.4),
}
clipping_batches = data.training_dataset("embedded", SCALES, 48, batch_size=16, steps_per_epoch=CLIPPING_STEPS,
                                         seed=0, upsampled_input=True)


class BatchLosses(keras.callbacks.Callback):
    """Records the loss `fit` reports after every step."""

    def on_train_begin(self, logs=None):
        self.losses = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(float(logs["loss"]))


clipping_losses = {}
plt.figure(figsize=(7, 4))
for label, make_optimizer in optimizers.items():
    keras.utils.set_random_seed(0)  # the same initial weights for all three
    network = models.vdsr(depth=20, filters=16)
    network.compile(optimizer=make_optimizer(), loss="mse")
    recorder = BatchLosses()
    network.fit(clipping_batches, epochs=1, steps_per_epoch=CLIPPING_STEPS, verbose=0, shuffle=False,
                callbacks=[recorder])
    losses = clipping_losses[label] = np.array(recorder.losses)
    finite = np.isfinite(losses) & (losses < 1e3)
    plt.semilogy(np.arange(1, len(losses) + 1)[finite], losses[finite], marker=".", label=label)
    ending = f"{losses[-1]:.4g}" if np.isfinite(losses[-1]) else "not finite (diverged)"
    print(f"{label}: loss after {len(losses)} steps {ending}")
plt.title("VDSR 20 layers x 16 filters: the first steps at a high learning rate")
plt.xlabel("step")
plt.ylabel("MSE, running mean (log scale)")
plt.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 4. One model for ×2, ×3 and ×4
# `data.training_dataset(..., scale=[2, 3, 4], upsampled_input=True)` draws one scale per
# batch, so a batch has one blur level and every batch has the same shapes (the input is at HR
# size). The same HR patch (same seed) as the network sees it at each scale:

# %%
recipe = train.RECIPES["vdsr"]
print(recipe)
figure, axes = plt.subplots(1, 4, figsize=(12, 3.4), layout="constrained")
for axis, scale in zip(axes, SCALES):
    single_scale = data.training_dataset("embedded", scale, recipe.hr_patch_size, batch_size=8, seed=3,
                                         upsampled_input=True)  # the same seed: the same eight crops at every scale
    upsampled_batch, hr_batch = [tensor.numpy()[..., 0] for tensor in next(iter(single_scale))]
    shown_index = int(np.argmax(hr_batch.std(axis=(1, 2))))  # the most textured of the eight
    upsampled_patch, hr_patch = upsampled_batch[shown_index], hr_batch[shown_index]
    patch_psnr = 10 * np.log10(1 / np.mean((upsampled_patch - hr_patch) ** 2))
    axis.imshow(upsampled_patch, cmap="gray", vmin=0, vmax=1)
    axis.set_title(f"input: bicubic x{scale}, {patch_psnr:.1f} dB\n(patch, Y, no shave)", fontsize=9)
axes[3].imshow(hr_patch, cmap="gray", vmin=0, vmax=1)
axes[3].set_title("target: HR", fontsize=9)
for axis in axes:
    axis.axis("off")
figure.suptitle(f"One {recipe.hr_patch_size}x{recipe.hr_patch_size} HR patch at the three training scales")
plt.show()

# %% [markdown]
# ## 5. Training with `model.fit`
# Three recipes, clearly apart:
#
# * **Quick mode (tests):** a **small VDSR, 6 layers of 32 filters**, on the five embedded
#   photos, 5 steps × 2 epochs, a temporary run folder (so a quick run never resumes from or
#   pollutes a real one). It barely leaves its initialisation and is not the paper's network:
#   its curves only prove the cells run. Section 7 evaluates the shipped weights instead when
#   `checkpoints/` has them, so its numbers are real ones in quick mode too.
# * **CPU recipe:** `train.RECIPES["vdsr"]`: VDSR-20, Adam, learning rate 10⁻³ halved every
#   2,000 steps (our float32 runs made about 6,500 steps an hour, so four halvings in 90 minutes
#   and nine in three hours; the paper divides its rate by ten three times),
#   each variable's gradient clipped to a norm of 0.4 (Keras' `clipnorm`), MSE, batches of 16 random 48×48 HR
#   patches (Y, one of ×2/×3/×4 per batch) from the 291 images (T91 + BSD200), 500 steps per
#   epoch, **three hours** on 2 CPU cores, which may take several sessions (each run of the same
#   command continues the last):
#   `python -m srlib train --model vdsr --scale 2 3 4 --minutes 180`, then
#   `python -m srlib publish --model vdsr --scale 2 3 4` copies the last epoch to `checkpoints/`
#   (the shipped weights section 7 uses when they exist; the shipped `vdsr_x234` had 130 of the
#   180 minutes in one run in mixed bfloat16, below: 38,500 steps in 130 minutes, about 2.7 times
#   our float32 runs' steps per hour on that CPU (`benchmarks/mixed_precision.py` measures 2.03× for
#   a bare training step), with the rate halved every 5,000 steps instead of 2,000, as its
#   description there says;
#   52 more minutes from those weights gained at most 0.03 dB on Set5 and were not shipped).
#   **This notebook's full setting** runs the
#   same recipe for one hour, with 250-step epochs so that the curves have a few points; raise
#   `MINUTES` to 180 for the whole recipe.
# * **Paper recipe (GPU, not run here):** SGD, momentum 0.9, weight decay 10⁻⁴, learning rate
#   0.1 divided by 10 every 20 epochs, adjustable gradient clipping, batches of 64 patches of
#   41×41, 80 epochs (9,960 iterations), about four hours on a Titan Z GPU.
#
# One step of VDSR-20 on 16 patches of 48×48 costs about 3·16·48²·665k ≈ 74 GMACs (forward and
# backward): 0.38 s on 2 quiet CPU cores in `benchmarks/mixed_precision.py` (about 390 GFLOP/s),
# about 0.5 s with the data pipeline and the per-epoch validation, so an hour is about 6,500 steps of
# 16 patches in float32, against the paper's 9,960 batches of 64. Re-running the training cell resumes from the newest checkpoint in `RUN_DIR`;
# the time budget counts over all resumed runs.
#
# **Mixed precision.** A recipe's `precision="mixed_bfloat16"` (on the command line
# `--recipe-argument precision=mixed_bfloat16`) computes the convolutions in bfloat16 (8 bits of
# mantissa) and keeps the weights, the last convolution and the residual add in float32
# (`models.with_precision`), so the image it returns is not rounded to bfloat16 and its checkpoints
# load into the float32 model. On a CPU with AVX512_BF16 or AMX, such as this project's training
# machine, a VDSR-20 step takes about half the time (`benchmarks/mixed_precision.py` prints it for
# yours); without those instructions bfloat16 is slower than float32, hence float32 by default.

# %%
mixed = models.with_precision(models.build("vdsr", depth=4, filters=16), "mixed_bfloat16")
for layer in mixed.layers[1:]:
    print(f"{layer.name:<16} computes in {layer.compute_dtype:<9} keeps its weights in {layer.variable_dtype}")

# %%
PRECISION = "float32"  # "mixed_bfloat16": about 2x the steps per hour on a CPU with AVX512_BF16
TRAINING_DESCRIPTION = "embedded" if QUICK else "+".join(recipe.data)
MODEL_ARGUMENTS = {"depth": 6, "filters": 32} if QUICK else {}  # quick: a small VDSR; full: the paper's 20 x 64
STEPS_PER_EPOCH = 5 if QUICK else 250  # the CLI recipe: 500
MINUTES = 0.5 if QUICK else 60  # the CLI recipe: 180
VALIDATION_LIMIT = 2 if QUICK else None  # first images of Set5 validated after every epoch; None: all five
RUN_DIR = (Path(tempfile.mkdtemp(prefix="notebook_vdsr_quick_")) if QUICK
           else train.run_directory("notebook_vdsr", "".join(map(str, SCALES))))  # runs/ here, or $SRLIB_RUNS
SEED = 0

# %% [markdown]
# `train.train` is notebook 02's training loop (seeded initial weights, a `CheckpointSaver` that
# resumes, batches that start at the resumed epoch, protocol validation, the time budget,
# `model.fit`), the function behind `python -m srlib train`. Given several scales, it draws one
# per batch and validates at each (`val_psnr_x2` ... and their mean `val_psnr`, which picks the
# best epoch); given one, it logs that scale's PSNR as `val_psnr` alone.

# %%
model, saver = train.train("vdsr", SCALES, minutes=MINUTES, run_dir=RUN_DIR, seed=SEED, quick=QUICK,
                           recipe=dataclasses.replace(recipe, steps_per_epoch=STEPS_PER_EPOCH, precision=PRECISION),
                           model_arguments=MODEL_ARGUMENTS)
print(f"{model.count_params():,} parameters ({len(model.layers) - 2} convolutions)")
print(f"stopped at epoch {saver.epoch} ({saver.step:,} steps), "
      f"{saver.history['wall_time_s'][-1] / 60:.1f} minutes in all")

# %% [markdown]
# ## 6. Learning curves
# Training loss (MSE on patches, all three scales mixed) and the protocol Y-PSNR on Set5 at each
# scale after every epoch, from the saver's history (it spans resumed runs), against epochs and
# against wall-clock time; dashed: bicubic on the same images.

# %%
bicubic_validation = {scale: evaluate.evaluate("bicubic", "Set5", scale, limit=VALIDATION_LIMIT).psnr_y
                      for scale in SCALES}  # on the same images
several = len(SCALES) > 1  # one scale (exercise 2): the history has `val_psnr` only, so pass that scale alone
figure = plots.learning_curves(saver.history, "VDSR", STEPS_PER_EPOCH, SCALES if several else SCALES[0],
                               bicubic_psnr=bicubic_validation if several else bicubic_validation[SCALES[0]],
                               validation_limit=VALIDATION_LIMIT)
plt.show()

# %% [markdown]
# ## 7. Evaluation at every scale
# Shipped weights, when `checkpoints/manifest.json` lists them, were made by a variant of the CPU
# recipe (mixed bfloat16, rate halved every 5,000 steps, 130 minutes: section 5 and the manifest
# give the command) and are evaluated on all of Set5 and Set14 (quick mode: Set14's first two
# images). Without them, the model trained above is evaluated: its best epoch by mean validation
# PSNR (chosen on Set5, so its Set5 numbers are slightly optimistic; Set14 played no part), on
# two images per set in quick mode.
# `zoo.shipped_or_trained` makes that choice and describes the weights it chose.

# %%
architecture = (f"small VDSR ({MODEL_ARGUMENTS['depth']} layers x {MODEL_ARGUMENTS['filters']} filters, "
                "not the paper's)" if QUICK else "VDSR-20")
evaluation = zoo.shipped_or_trained("vdsr_x" + "".join(map(str, SCALES)), saver, model, QUICK,
                                      TRAINING_DESCRIPTION, model_label=architecture, recipe_minutes=180)
evaluated_model, model_description, evaluation_limit = evaluation.model, evaluation.description, evaluation.limit
print("Evaluating", model_description)

# Twenty layers at HR resolution over Set14's 3.2 million pixels take about four minutes per run of
# three scales on 2 CPU cores, so quick mode (a smoke test) keeps Set14 to its first two images.
limits = {"Set5": evaluation_limit, "Set14": 2 if QUICK else evaluation_limit}
vdsr_upscaler = models.upscaler(evaluated_model)  # a pre-upsampling model: one upscaler for every scale
results = {}
for dataset_name, limit in limits.items():
    for scale in SCALES:
        results[dataset_name, scale, "vdsr"] = evaluate.evaluate(vdsr_upscaler, dataset_name, scale,
                                                                 method_name="vdsr", limit=limit)
        results[dataset_name, scale, "bicubic"] = evaluate.evaluate("bicubic", dataset_name, scale, limit=limit)
print(evaluate.PROTOCOL)
print(evaluate.format_table(results.values()))

# %%
figure, axes = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
for axis, dataset_name in zip(axes, ["Set5", "Set14"]):
    for method, style in [("vdsr", "o-"), ("bicubic", "s--")]:
        axis.plot(SCALES, [results[dataset_name, scale, method].psnr_y for scale in SCALES], style,
                  label=f"{method}, ours")
    for method, marker in [("vdsr", "*"), ("bicubic", "x")]:
        axis.plot(SCALES, [evaluate.published_psnr(method, dataset_name, scale) for scale in SCALES], "k" + marker,
                  markersize=10, linestyle="none", label=f"{method}, published (all images)")
    images = results[dataset_name, SCALES[0], "vdsr"].images
    axis.set(title=f"{dataset_name} ({images} images)", xlabel="scale factor", ylabel="Y-PSNR (dB)", xticks=SCALES)
axes[0].legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 8. What it changes: zoomed crops
# The butterfly of Set5 at ×3 (as in notebooks 02–04) and at ×4, the same model for both. The
# network upscales Y; the chroma is bicubic (`models.upscaler`).

# %%
name, hr_image = datasets.load_images("Set5")[butterfly_index]
crop_psnr = {}
for scale in [3, 4]:
    figure, crop_psnr[scale] = plots.protocol_crops(hr_image, scale, {"bicubic": evaluate.fir_upscaler("bicubic"),
                                                                      "VDSR": vdsr_upscaler}, name)
    plt.show()

# %% [markdown]
# ## Published vs ours
# The paper's multi-scale row next to ours and bicubic's, all measured under the same protocol.
# "images" says whether a row covers the whole set: a mean over two images is not comparable
# with a table.

# %%
print(evaluate.PROTOCOL)
print(f"Ours: {model_description}")
print(evaluate.published_vs_ours("vdsr", [(results[dataset_name, scale, "vdsr"], results[dataset_name, scale, "bicubic"],
                                          evaluation.source) for dataset_name in ["Set5", "Set14"] for scale in SCALES]))

# %% [markdown]
# ## Conclusions
# The next cell states what this run measured; the points below hold in every mode.
#
# * The residual HR − bicubic is centred on zero and concentrated on edges; its spread grows
#   with the scale (section 1). VDSR predicts only that, on top of its input.
# * VDSR-20 has 665,921 parameters and costs 664,704 MACs per output pixel at every scale,
#   about twelve times SRCNN 9-5-5, because all twenty layers run at HR resolution; its
#   receptive field is 41×41 HR pixels. A 1080p output costs 1.38 TMACs.
# * Our CPU recipe does not use the paper's SGD at 0.1 with adjustable clipping but Adam at
#   10⁻³ with `clipnorm=0.4`; section 3 shows what each does in the first steps (below).
# * A gap to the published row is expected from the budget: the paper trained on 9,960 batches
#   of 64 patches of 41×41 with SGD; the CPU recipe gets about 6,500 batches of 16 patches of
#   48×48 an hour on 2 CPU cores in float32 (the shipped run made about 17,700 an hour in mixed
#   bfloat16); the count for the evaluated model is below.

# %%
if QUICK and not evaluation.shipped:
    print("QUICK MODE: a small VDSR trained for seconds on five photos. The numbers below only show that the "
          "cells run; they say nothing about VDSR.\n")
elif QUICK:
    print("QUICK MODE: the shipped weights, on all of Set5 and on Set14's first two images; the section 3 and "
          "training lines are from seconds of training.\n")
print(f"* Evaluated: {model_description}.")
for dataset_name in ["Set5", "Set14"]:
    for scale in SCALES:
        ours, bicubic = results[dataset_name, scale, "vdsr"], results[dataset_name, scale, "bicubic"]
        published = evaluate.published_psnr("vdsr", dataset_name, scale)
        line = (f"* {dataset_name} x{scale}: VDSR {ours.psnr_y:.2f} dB against bicubic {bicubic.psnr_y:.2f} dB "
                f"({ours.psnr_y - bicubic.psnr_y:+.2f} dB)")
        if ours.images == datasets.lookup(dataset_name).num_images:
            line += f", {ours.psnr_y - published:+.2f} dB from the published {published:.2f}."
        else:
            line += f", on the first {ours.images} images only: not comparable with the published {published:.2f}."
        print(line)
gains = [results["Set5", scale, "vdsr"].psnr_y - results["Set5", scale, "bicubic"].psnr_y for scale in SCALES]
print(f"* One model, {len(SCALES)} scale(s): on Set5 it is {', '.join(f'{gain:+.2f}' for gain in gains)} dB from "
      f"bicubic at {', '.join(f'x{scale}' for scale in SCALES)}; it beats bicubic at {sum(gain > 0 for gain in gains)} "
      f"of the {len(SCALES)}.")
for label, losses in clipping_losses.items():
    diverged = np.flatnonzero(~np.isfinite(losses) | (losses > 1e3))
    print(f"* Section 3, {label}: " + (f"diverged at step {diverged[0] + 1}." if diverged.size
                                       else f"finite for {len(losses)} steps, loss {losses[-1]:.4g}."))
evaluated_steps = evaluation.steps
print(f"* Training seen by the evaluated model: {evaluated_steps:,} batches of {recipe.batch_size} patches of "
      f"{recipe.hr_patch_size}x{recipe.hr_patch_size}, {evaluated_steps * recipe.batch_size / (9960 * 64):.2%} of the "
      f"paper's 9,960 x 64 patches of 41x41.")
print(f"* Butterfly: VDSR {crop_psnr[3]['VDSR']:.2f} dB against bicubic {crop_psnr[3]['bicubic']:.2f} dB at x3, "
      f"{crop_psnr[4]['VDSR']:.2f} against {crop_psnr[4]['bicubic']:.2f} at x4.")

# %% [markdown]
# ## Exercises
# 1. **Without the global residual.** Copy `srlib/models/vdsr.py` (twenty lines of Keras), drop
#    the `Add`, so that the last convolution outputs the image itself, and train it with the same
#    recipe (compiled as `train.compiled_model` compiles), budget and a new `RUN_DIR`, with
#    `model.fit` on `data.training_dataset` batches as notebook 02's section 3 does (`train.train`
#    builds registered models only). Predict first: after the same time, how far behind is it,
#    and does it even beat bicubic? (Hint: at initialisation it outputs noise, not bicubic; the
#    paper compares residual and plain networks at several learning rates and finds the residual
#    ones converging much faster.)
# 2. **One scale or three.** Train with `SCALES = [3]` only (same budget; sections 6–8 then
#    validate and evaluate at ×3), then evaluate at ×2, ×3 and ×4 with
#    `evaluate.evaluate(models.upscaler(model), "Set5", scale)`. Predict first: which scales lose against the
#    multi-scale model, and by how much? (Hint: the paper tests single-scale models at the
#    other scales too; a ×2 input is much less blurred than what a ×3 model learned to undo.)
# 3. **Cost by hand.** Count VDSR-20's parameters and its MACs per output pixel (a `k×k`
#    convolution from `C_in` to `C_out` maps: `k·k·C_in·C_out` MACs per pixel, plus `C_out`
#    biases in the parameters), and its receptive field in HR pixels. Check below.

# %%
# Check for exercise 3: fill in your three numbers and run this cell.
vdsr_parameters, vdsr_macs_per_pixel, vdsr_receptive_field_side = None, None, None
if vdsr_parameters is not None:
    reference = models.vdsr()
    cost = models.model_cost(reference, (32, 32))
    side = 2 * models.receptive_field(reference) + 1
    print("parameters:", "correct" if vdsr_parameters == cost.parameters else f"Keras counts {cost.parameters:,}")
    print("MACs per pixel:", "correct" if vdsr_macs_per_pixel == cost.macs_per_output_pixel
          else f"model_cost counts {cost.macs_per_output_pixel:,.0f}")
    print("receptive field:", "correct" if vdsr_receptive_field_side == side else f"measured {side}x{side}")
