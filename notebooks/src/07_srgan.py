# %% [markdown]
# # 07 · SRGAN: a residual generator, then a discriminator and a VGG feature loss
#
# **Goal.** Train SRResNet (residual blocks at LR, two sub-pixel ×2 stages) on a pixel loss,
# then fine-tune it as the generator of a GAN whose loss is a distance between VGG19 features
# plus a small adversarial term. Watch both players while they train, and measure what the
# fine-tuning does to PSNR.
#
# **The claim we check.** Ledig, Theis, Huszár, Caballero, Cunningham, Acosta, Aitken, Tejani,
# Totz, Wang and Shi, *Photo-Realistic Single Image Super-Resolution Using a Generative
# Adversarial Network* (CVPR 2017): at ×4, **SRResNet reaches Set5 32.05 dB** (MSE, the best PSNR
# of its time) while **SRGAN scores 29.40 dB**, barely above bicubic's 28.42, yet SRGAN wins the
# **mean opinion score** by a wide margin: raters preferred its sharp, invented textures to
# SRResNet's smooth averages. PSNR falls because the losses ask for something else: the MSE
# optimum is the mean of all plausible HR images (blurred), while the VGG54 feature loss and the
# discriminator reward an image that *looks* like one of them, with detail in the wrong place
# costing pixel error. Projects that re-trained SRGAN saw it end below bicubic in PSNR after
# 100 epochs; a PSNR under SRResNet's is the expected outcome here, not a bug.
#
# **What is new here.** `srlib.gan.SRGAN`, a `keras.Model` whose `train_step` updates a
# discriminator and then the generator, so `fit`, callbacks and `CheckpointSaver` work as for
# any model; `srlib.losses.PerceptualLoss` (VGG19 features); RGB training data.
#
# **Time.** Quick mode (`SRLIB_QUICK=1`, used by the test suite): about two minutes on 2 CPU
# cores, with tiny networks and a few steps per phase; its pictures and numbers show that the
# pipeline runs, not what the method does. Full settings: 60 minutes of SRResNet pretraining
# and 60 minutes of GAN fine-tuning on CPU, a small fraction of the paper's budget (below).
# No SRResNet or SRGAN weights are shipped yet (`checkpoints/manifest.json` lists none).

# %% [markdown]
# ## Setup
# On Colab, or anywhere `srlib` is not importable, the next cell clones the repository and
# installs its pinned requirements (once per runtime, a few minutes). Set `SRLIB_REPOSITORY`
# to your fork's URL if you use one.

# %%
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("srlib") is None:
    repository = os.environ.get("SRLIB_REPOSITORY", "https://github.com/srlib-notebooks/srlib.git")
    subprocess.run(["git", "clone", "--depth", "1", repository, "srlib-repo"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", "srlib-repo/requirements.txt"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", "srlib-repo"], check=True)
    import site
    site.main()  # pick up the editable install without restarting the kernel

# %%
import tempfile
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

import srlib
from srlib import data, datasets, evaluate, models, plots, train, training
from srlib.checkpoint import CheckpointSaver
from srlib.gan import SRGAN
from srlib.losses import (MSELoss, PerceptualLoss, PretrainedWeightsNotFoundError, discriminator_adversarial_loss,
                          vgg19_feature_extractor)

QUICK = os.environ.get("SRLIB_QUICK") == "1"
SCALE = 4
print(f"srlib {srlib.__version__}, TensorFlow {tf.__version__}, Keras {keras.__version__}, "
      f"NumPy {np.__version__}, quick mode: {QUICK}")
for dataset_name in ["T91", "BSD200", "Set5", "Set14"]:
    print(datasets.describe(dataset_name))
print(f"published Set5 x{SCALE}: SRResNet {evaluate.published_psnr('srresnet', 'Set5', SCALE)} dB, "
      f"SRGAN {evaluate.published_psnr('srgan', 'Set5', SCALE)} dB, "
      f"bicubic {evaluate.published_psnr('bicubic', 'Set5', SCALE)} dB")
print("shipped weights:", sorted(train.read_manifest()["models"]), "(no srresnet or srgan entry yet)")

# %% [markdown]
# ## Settings
# Every size and budget of this notebook, quick and full values side by side. The paper trained
# SRResNet for 10⁶ steps and SRGAN for 2·10⁵ (batches of 16 random 96×96 HR patches from 350,000
# ImageNet images, on a GPU); the full setting here is one CPU hour per phase on T91 + BSD200
# (291 images), so expect a clear gap to both published numbers.

# %%
TRAINING_IMAGES = "embedded" if QUICK else ["T91", "BSD200"]
HR_PATCH = 48 if QUICK else 96  # HR patch side; the LR patch is HR_PATCH / 4 (12 or 24 pixels)
NUM_BLOCKS = 2 if QUICK else 16  # residual blocks of the generator (the paper's 16)
FILTERS = 16 if QUICK else 64  # feature maps of the generator (the paper's 64)
BATCH_SIZE = 4 if QUICK else 16
PRETRAIN_STEPS_PER_EPOCH = 4 if QUICK else 200
PRETRAIN_EPOCHS = 2 if QUICK else 10_000  # an upper bound in the full setting: the time budget stops first
PRETRAIN_MINUTES = 0.5 if QUICK else 60
GAN_STEPS_PER_EPOCH = 3 if QUICK else 100
GAN_EPOCHS = 2 if QUICK else 10_000
GAN_MINUTES = 0.75 if QUICK else 60
ADVERSARIAL_KIND = "bce"  # SRGAN's; "relativistic" is ESRGAN's (exercise 1)
ADVERSARIAL_WEIGHT = 1e-3  # SRGAN's 10^-3 (exercise 2)
CONTENT_LAYER = "vgg54"  # SRGAN's VGG54 = block5_conv4 (exercise 3)
LEARNING_RATE = 1e-4  # Adam, both phases and both players, as in the paper's first 10^5 GAN steps
VALIDATION_LIMIT = 2 if QUICK else None  # Set5 images validated after each pretraining epoch
EVALUATION_LIMIT = 2 if QUICK else None  # images per set in the final table
EVALUATION_SETS = ["Set5"] if QUICK else ["Set5", "Set14"]
RUN_ROOT = Path(tempfile.mkdtemp(prefix="notebook_srgan_quick_")) if QUICK else Path("../runs/notebook_srgan_x4")
SEED = 0

# %% [markdown]
# ## 1. The generator
# `models.srresnet(scale=4, channels=3, num_blocks, filters)`: `conv 9×9`–PReLU, residual blocks
# (`conv–BN–PReLU–conv–BN` + identity), a long skip, then two `SubPixelConv2D(2)`–PReLU stages
# (initialised with ICNR, see notebook 04) and a `conv 9×9` to RGB. Everything before the
# upscaling runs at LR resolution. The paper's network has 16 blocks of 64 filters (1.55 M
# parameters); quick mode uses a toy one.

# %%
keras.utils.set_random_seed(SEED)
generator = models.srresnet(scale=SCALE, channels=3, num_blocks=NUM_BLOCKS, filters=FILTERS)
print(f"generator: {NUM_BLOCKS} blocks x {FILTERS} filters, {generator.count_params():,} parameters "
      f"(the paper's 16 x 64: {models.srresnet(SCALE).count_params():,})")
lr_probe = np.random.default_rng(0).uniform(0, 1, (1, HR_PATCH // SCALE, HR_PATCH // SCALE, 3)).astype("float32")
print(f"LR {lr_probe.shape[1:]} -> SR {tuple(generator(lr_probe).shape[1:])}")

# %% [markdown]
# ## 2. The discriminator
# `models.discriminator(input_shape)`: eight `conv 3×3` blocks (64 to 512 filters, every second
# one strided, LeakyReLU 0.2, batch norm) shrink the patch 16 times, then `Dense(1024)` and one
# logit, "real" when positive. The dense layer fixes the input size: the discriminator is built
# for the HR patch (96×96 in the paper, 48×48 in quick mode) and never sees whole images.

# %%
discriminator = models.discriminator((HR_PATCH, HR_PATCH, 3))
hr_probe = np.random.default_rng(1).uniform(0, 1, (2, HR_PATCH, HR_PATCH, 3)).astype("float32")
logits = discriminator(hr_probe).numpy()[:, 0]
print(f"discriminator on {HR_PATCH}x{HR_PATCH}x3: {discriminator.count_params():,} parameters, "
      f"last feature map {discriminator.get_layer('flatten').input.shape[1:]}")
print(f"untrained logits on two noise patches: {np.round(logits, 3)}, "
      f"sigmoid (probability 'real'): {np.round(1 / (1 + np.exp(-logits)), 3)}")

# %% [markdown]
# ## 3. The content loss: VGG19 features
# `PerceptualLoss(layer="vgg54")` runs a frozen VGG19 up to `block5_conv4` (after its ReLU) on
# both images and takes the MSE of the features times 1/12.75, SRGAN's rescaling that brings it
# to the size of a pixel loss. The features mean something only with **ImageNet weights**, which
# srlib never downloads: if the file is not in the Keras cache, the next cell prints where to put
# it and falls back to a **random VGG19** (`weights=None`). With that fallback the "perceptual"
# loss is a distance between random convolutional features, not the paper's; everything below
# still runs, but the SRGAN results then say nothing about SRGAN's perceptual loss. A random
# VGG19 (no batch norm) also shrinks its signal layer after layer, so its block-5 features are
# nearly zero and the content loss with them; the fallback therefore adds SRGAN's pixel MSE
# (`pixel_weight=1`, as ESRGAN adds a pixel term) so that the generator stays tied to the image.

# %%
try:
    content_loss = PerceptualLoss(layer=CONTENT_LAYER, weights="imagenet")
    VGG_WEIGHTS = "ImageNet"
except PretrainedWeightsNotFoundError as error:
    print(f"{error}\n")
    print("FALLBACK: weights=None, a RANDOM VGG19. The content loss below is NOT the paper's perceptual loss.")
    content_loss = PerceptualLoss(layer=CONTENT_LAYER, weights=None)
    VGG_WEIGHTS = "random (ImageNet weights not found)"
PIXEL_WEIGHT = 0.0 if VGG_WEIGHTS == "ImageNet" else 1.0  # SRGAN has none; the fallback needs one
print(f"content loss: VGG19 {content_loss.layer}, {VGG_WEIGHTS} weights, features x {content_loss.feature_scale:.4f}, "
      f"pixel_weight {PIXEL_WEIGHT}")

clean = hr_probe[:1]
for label, changed in [("same image", clean), ("+ noise, sigma 0.05", clean + 0.05 * np.random.default_rng(2).normal(
        size=clean.shape).astype("float32")), ("shifted by 1 pixel", np.roll(clean, 1, axis=2))]:
    changed = np.clip(changed, 0, 1)
    print(f"{label:<20} pixel MSE {float(np.mean((changed - clean) ** 2)):.5f}   "
          f"VGG loss {float(content_loss(clean, changed)):.3g}")

# %% [markdown]
# ## 4. One GAN step, term by term
# `SRGAN(generator, discriminator)` runs, in each `train_step`: the generator once; one
# discriminator update on the HR batch against the (gradient-stopped) SR batch; one generator
# update on `content + adversarial_weight · adversarial (+ pixel_weight · MSE)` against the
# updated discriminator. Every term is a logged metric. One step on throwaway copies (so the
# networks trained below start untouched), with a batch from the training data:

# %%
demo_batches = data.training_dataset(TRAINING_IMAGES, SCALE, HR_PATCH, batch_size=2, steps_per_epoch=1, seed=SEED,
                                     channels="rgb")
lr_batch, hr_batch = next(iter(demo_batches))
print(f"a training batch: LR {tuple(lr_batch.shape)}, HR {tuple(hr_batch.shape)}, RGB in [0, 1]")
demo_gan = SRGAN(models.srresnet(SCALE, 3, NUM_BLOCKS, FILTERS), models.discriminator((HR_PATCH, HR_PATCH, 3)))
demo_gan.compile(keras.optimizers.Adam(LEARNING_RATE), keras.optimizers.Adam(LEARNING_RATE), content_loss=content_loss,
                 adversarial_kind=ADVERSARIAL_KIND, adversarial_weight=ADVERSARIAL_WEIGHT, pixel_weight=PIXEL_WEIGHT)
for name, value in demo_gan.train_on_batch(lr_batch, hr_batch, return_dict=True).items():
    print(f"{name:<17} {float(value):9.4f}")
del demo_gan

# %% [markdown]
# `g_loss` is the total the generator minimises; `adversarial_loss` is printed unweighted, so its
# share of `g_loss` is `adversarial_weight` times it. `d_real` and `d_fake` are the
# discriminator's mean probability of "real" on HR and SR patches, before its update: near 0.5
# at the start.
#
# ## 5. Phase 1: SRResNet, MSE
# Plain Keras: compile the generator with Adam 10⁻⁴ and MSE, `fit` on random RGB patches, validate
# on Set5 (protocol Y-PSNR) after each epoch. `CheckpointSaver` keeps the last two epochs and the
# best by `val_psnr` (the right choice for an MSE model); re-running the cell resumes from the
# newest checkpoint, and the time budget counts over resumed runs. Quick mode writes to a
# temporary folder, so it never resumes from or pollutes a real run.

# %%
PRETRAIN_DIR, GAN_DIR = RUN_ROOT / "srresnet", RUN_ROOT / "srgan"
generator.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss=MSELoss())
pretrain_saver = CheckpointSaver(PRETRAIN_DIR, generator, monitor="val_psnr", keep_last=2)
initial_epoch = pretrain_saver.restore_or_initialize()
pretrain_batches = data.training_dataset(TRAINING_IMAGES, SCALE, HR_PATCH, batch_size=BATCH_SIZE,
                                         steps_per_epoch=PRETRAIN_STEPS_PER_EPOCH, seed=SEED, epoch=initial_epoch,
                                         channels="rgb")
print(f"run folder {PRETRAIN_DIR}, starting at epoch {initial_epoch}")
generator.fit(pretrain_batches, epochs=PRETRAIN_EPOCHS, steps_per_epoch=PRETRAIN_STEPS_PER_EPOCH,
              initial_epoch=initial_epoch, verbose=2, shuffle=False,
              callbacks=[training.ProtocolValidation("Set5", SCALE, limit=VALIDATION_LIMIT),
                         training.WallClockBudget.resuming(PRETRAIN_MINUTES, pretrain_saver.history),
                         pretrain_saver.callback()])
print(f"stopped at epoch {pretrain_saver.epoch} ({pretrain_saver.step:,} steps), "
      f"{pretrain_saver.history['wall_time_s'][-1] / 60:.1f} minutes; best val_psnr {pretrain_saver.best['value']:.2f} dB "
      f"at {pretrain_saver.best['checkpoint']}")

# %% [markdown]
# The SRResNet evaluated below is its best epoch by validation PSNR, kept as its own model. The
# GAN's generator is a second copy of the same weights, so fine-tuning it leaves SRResNet as it is.

# %%
pretrain_history = pretrain_saver.history  # the whole run; restoring the best epoch rewinds the saver to it
pretrain_minutes, pretrain_steps = pretrain_history["wall_time_s"][-1] / 60, pretrain_saver.step
best_state = pretrain_saver.restore("best")
srresnet_model = generator
gan_generator = models.srresnet(scale=SCALE, channels=3, num_blocks=NUM_BLOCKS, filters=FILTERS)
gan_generator.set_weights(srresnet_model.get_weights())
print(f"SRResNet weights from epoch {best_state.epoch} of {len(pretrain_history['loss'])}")

# %% [markdown]
# ## 6. Phase 2: SRGAN fine-tuning
# The generator starts from SRResNet, the discriminator from scratch; content loss VGG54/12.75
# (section 3; plus the pixel MSE in the random-VGG fallback), adversarial weight 10⁻³, both
# Adam 10⁻⁴. The saver holds **both networks and both optimizers**: `SRGAN` is not compiled the
# usual way, so the saver cannot find the optimizers itself and they are passed as
# `optimizers=` (as `srlib.gan`'s docstring says).
# It monitors nothing: a GAN's best epoch is not the one with the highest validation PSNR (that
# would pick the epoch closest to SRResNet, the opposite of what the GAN is for), and its losses
# go up and down as the two players trade places. Keep the last checkpoints and judge by eye.

# %%
keras.utils.set_random_seed(SEED + 1)
gan = SRGAN(gan_generator, discriminator)
g_optimizer, d_optimizer = keras.optimizers.Adam(LEARNING_RATE), keras.optimizers.Adam(LEARNING_RATE)
gan.compile(g_optimizer, d_optimizer, content_loss=content_loss, adversarial_kind=ADVERSARIAL_KIND,
            adversarial_weight=ADVERSARIAL_WEIGHT, pixel_weight=PIXEL_WEIGHT)
gan_saver = CheckpointSaver(GAN_DIR, models={"generator": gan_generator, "discriminator": discriminator},
                            optimizers={"generator": g_optimizer, "discriminator": d_optimizer}, keep_last=3)
initial_epoch = gan_saver.restore_or_initialize()
gan_batches = data.training_dataset(TRAINING_IMAGES, SCALE, HR_PATCH, batch_size=BATCH_SIZE,
                                    steps_per_epoch=GAN_STEPS_PER_EPOCH, seed=SEED + 1, epoch=initial_epoch,
                                    channels="rgb")
print(f"run folder {GAN_DIR}, starting at epoch {initial_epoch}")
gan.fit(gan_batches, epochs=GAN_EPOCHS, steps_per_epoch=GAN_STEPS_PER_EPOCH, initial_epoch=initial_epoch, verbose=2,
        shuffle=False, callbacks=[training.WallClockBudget.resuming(GAN_MINUTES, gan_saver.history),
                                  gan_saver.callback()])
print(f"stopped at epoch {gan_saver.epoch} ({gan_saver.step:,} generator steps), "
      f"{gan_saver.history['wall_time_s'][-1] / 60:.1f} minutes")

# %% [markdown]
# ## 7. Training curves of both players
# From the two savers' histories (they span resumed runs). Left: SRResNet's MSE and validation
# PSNR. Middle: the discriminator's and generator's losses. Right: `d_real` and `d_fake`; a
# discriminator that wins outright drives them to 1 and 0 and leaves the generator without a
# useful gradient.

# %%
gan_history = gan_saver.history
figure, axes = plt.subplots(1, 3, figsize=(15, 4.2), layout="constrained")
epochs = np.arange(1, len(pretrain_history["loss"]) + 1)
axes[0].plot(epochs, pretrain_history["loss"], "o-", label="training MSE")
axes[0].set(title="Phase 1: SRResNet (MSE)", xlabel="epoch", ylabel="MSE")
psnr_axis = axes[0].twinx()
psnr_axis.plot(epochs, pretrain_history["val_psnr"], "s--", color="tab:red", label="Set5 val PSNR")
psnr_axis.set_ylabel("Set5 Y-PSNR (dB)")
axes[0].legend(loc="upper left"), psnr_axis.legend(loc="upper right")
epochs = np.arange(1, len(gan_history["d_loss"]) + 1)
for name, style in [("d_loss", "o-"), ("pixel_loss", "o-"), ("content_loss", "o-"), ("g_loss", "x--")]:
    axes[1].plot(epochs, gan_history[name], style, label=name)  # g_loss dashed: it may lie on one of its terms
axes[1].set(title="Phase 2: losses", xlabel="GAN epoch", ylabel="loss (epoch mean, log scale)", yscale="log")
axes[1].legend()
for name in ["d_real", "d_fake"]:
    axes[2].plot(epochs, gan_history[name], "o-", label=name)
axes[2].axhline(0.5, color="grey", lw=0.8, ls=":")
axes[2].set(title="Phase 2: discriminator outputs", xlabel="GAN epoch", ylabel="mean sigmoid(logit)", ylim=(0, 1))
axes[2].legend()
for axis in axes:
    axis.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
figure.suptitle(f"SRGAN x{SCALE} training ({NUM_BLOCKS} blocks x {FILTERS} filters, VGG {VGG_WEIGHTS})")
plt.show()

# %% [markdown]
# ## 8. Evaluation under the protocol
# Y-PSNR and SSIM (the protocol of all the notebooks: bicubic degradation, ×4 border cropped),
# SRResNet and SRGAN next to bicubic. The generators are RGB: `models.upscaler(generator, 4)`
# runs them on the whole RGB image and the protocol measures the Y of the result. Quick mode:
# the first two images of Set5 only.

# %%
upscalers = {"bicubic": "bicubic", "srresnet": models.upscaler(srresnet_model, SCALE),
             "srgan": models.upscaler(gan_generator, SCALE)}
results = {}
for dataset_name in EVALUATION_SETS:
    for method, upscale in upscalers.items():
        results[dataset_name, method] = evaluate.evaluate(upscale, dataset_name, SCALE, method_name=method,
                                                          limit=EVALUATION_LIMIT)
print(evaluate.PROTOCOL)
print(evaluate.format_table(results.values()))

# %% [markdown]
# ## 9. What it changes: zoomed crops
# The baby of Set5 at ×4: bicubic, SRResNet, SRGAN and the ground truth. In the paper SRResNet
# is smooth and SRGAN shows hair-like texture and skin pores (partly invented). In quick mode
# the networks are toys trained for a few steps (batch-norm statistics still near their
# initial values): the pictures show the pipeline, not the method.

# %%
name, hr_image = datasets.load_images("Set5", limit=1)[0]
figure, _ = plots.protocol_crops(hr_image, SCALE, {method: evaluate.fir_upscaler(upscale) if isinstance(upscale, str)
                                                  else upscale for method, upscale in upscalers.items()}, name)
plt.show()

# %% [markdown]
# ## Published vs ours
# The paper's rows next to ours, measured under the same protocol. "images" says whether a row
# covers the whole set: a mean over two images is not comparable with a table.

# %%
print(evaluate.PROTOCOL)
print(f"Ours: {NUM_BLOCKS} blocks x {FILTERS} filters; SRResNet {pretrain_minutes:.1f} "
      f"min, SRGAN {gan_saver.history['wall_time_s'][-1] / 60:.1f} min on {TRAINING_IMAGES}; VGG {VGG_WEIGHTS}")
print(f"{'dataset':<8} {'method':<9} {'images':>6} {'published':>10} {'ours':>7} {'ours SSIM':>10} "
      f"{'ours - bicubic':>15} {'published - bicubic':>20}")
for dataset_name in EVALUATION_SETS:
    bicubic = results[dataset_name, "bicubic"]
    for method in ["srresnet", "srgan"]:
        ours, published = results[dataset_name, method], evaluate.published_psnr(method, dataset_name, SCALE)
        published_bicubic = evaluate.published_psnr("bicubic", dataset_name, SCALE)
        print(f"{dataset_name:<8} {method:<9} {ours.images:>6} {published:>10.2f} {ours.psnr_y:>7.2f} "
              f"{ours.ssim_y:>10.4f} {ours.psnr_y - bicubic.psnr_y:>+15.2f} {published - published_bicubic:>+20.2f}")

# %% [markdown]
# ## GAN failure modes, and the guards in this notebook
# * **Checkerboard artefacts.** Sub-pixel layers with random initial weights produce a different
#   filter per phase of the 2×2 grid, and the adversarial gradient amplifies the pattern.
#   `srlib.layers.SubPixelConv2D` starts from ICNR (every phase the same filter, notebook 04).
# * **The discriminator wins.** With `d_real` → 1 and `d_fake` → 0 the BCE gradient reaching
#   the generator vanishes and training stalls; a discriminator that loses (both near 0.5 for
#   long) teaches nothing either. Both are logged every epoch (section 7); the relativistic loss
#   (exercise 1) keeps a gradient in the first case.
# * **Mode collapse and PSNR collapse.** The generator can find an artefact that fools the current
#   discriminator and paint it everywhere, drifting away from the LR content; PSNR then falls far
#   below bicubic. Guards: pretraining on MSE (the GAN starts from a good image, not noise), a
#   small adversarial weight (10⁻³, so the content loss dominates), and a content loss on deep
#   features that still ties the output to the input.
# * **Picking a checkpoint.** "Best by `val_psnr`" picks the epoch closest to SRResNet, and
#   `g_loss` is not comparable across epochs because the discriminator it is measured against
#   changes. The phase-2 saver therefore monitors nothing; judge the last checkpoints by eye,
#   with PSNR as a guard against collapse, not as the target.

# %% [markdown]
# ## Conclusions
# The next cell states what this run measured; the points below hold in every mode.
#
# * SRGAN is SRResNet plus a different loss: same generator, fine-tuned against a discriminator
#   with a VGG54 feature loss. The paper reports that this costs 2.65 dB on Set5 ×4 (32.05 to
#   29.40) and wins on mean opinion score; PSNR alone cannot show that win.
# * The SRGAN wrapper is an ordinary `keras.Model`: `fit`, `WallClockBudget` and a
#   `CheckpointSaver` holding two networks and two optimizers make phase 2 resumable like phase 1.
# * Without the ImageNet VGG19 file the content loss runs on random features; numbers from such a
#   run are not evidence about SRGAN's perceptual loss.

# %%
print(f"* VGG19 weights: {VGG_WEIGHTS}; pixel_weight {PIXEL_WEIGHT}; "
      f"content loss in the last GAN epoch {gan_history['content_loss'][-1]:.3g}.")
print(f"* Trained: SRResNet {pretrain_steps:,} steps, SRGAN {gan_saver.step:,} generator steps, "
      f"{NUM_BLOCKS} blocks x {FILTERS} filters, batches of {BATCH_SIZE} {HR_PATCH}x{HR_PATCH} HR patches.")
print(f"* Last GAN epoch: d_real {gan_history['d_real'][-1]:.3f}, d_fake {gan_history['d_fake'][-1]:.3f}, "
      f"weighted adversarial share of g_loss "
      f"{ADVERSARIAL_WEIGHT * gan_history['adversarial_loss'][-1] / gan_history['g_loss'][-1]:.2%}.")
for dataset_name in EVALUATION_SETS:
    bicubic, srresnet_result, srgan_result = (results[dataset_name, method] for method in upscalers)
    scope = ("all images" if srgan_result.images == datasets.lookup(dataset_name).num_images
             else f"first {srgan_result.images} images only, not comparable with the published table")
    print(f"* {dataset_name} x{SCALE} ({scope}): bicubic {bicubic.psnr_y:.2f} dB, SRResNet {srresnet_result.psnr_y:.2f} dB, "
          f"SRGAN {srgan_result.psnr_y:.2f} dB (SRGAN - SRResNet {srgan_result.psnr_y - srresnet_result.psnr_y:+.2f} dB; "
          f"published {evaluate.published_psnr('srgan', dataset_name, SCALE) - evaluate.published_psnr('srresnet', dataset_name, SCALE):+.2f}).")

# %% [markdown]
# ## Exercises
# 1. **Relativistic discriminator.** Set `ADVERSARIAL_KIND = "relativistic"` (ESRGAN; Wang et al.
#    use `adversarial_weight=5e-3`) and a new `RUN_ROOT`, and re-run from the settings. Predict
#    first: when the discriminator cannot tell real from fake at all (every logit equal), what is
#    its loss for `"bce"` and for `"relativistic"`? (Hint: `softplus(0) = log 2`; the BCE loss is
#    a sum of two terms, the relativistic one their mean.) Check below.
# 2. **Adversarial weight 10⁻³ → 10⁻².** Predict first: does PSNR on Set5 go up or down, do the
#    crops get more or less texture, and which failure mode of the list above becomes likelier?
#    Then compute from this run's history the share of `g_loss` that the weighted adversarial term
#    had in the last epoch, and check it below.
# 3. **VGG22 or VGG54.** Set `CONTENT_LAYER = "vgg22"` (`block2_conv2`). The paper found VGG22
#    closer to MSE (smoother) and VGG54 better for texture. Predict first: how many times more
#    spatial positions does the `block2_conv2` feature map of a 96×96 patch have than the
#    `block5_conv4` one? (Hint: count the poolings before each layer.) Check below.

# %%
# Check for exercise 1: your two predictions, e.g. 1.0 and 0.5.
bce_loss_prediction, relativistic_loss_prediction = None, None
if bce_loss_prediction is not None:
    equal_logits = np.zeros((8, 1), "float32")
    for kind, prediction in [("bce", bce_loss_prediction), ("relativistic", relativistic_loss_prediction)]:
        value = float(discriminator_adversarial_loss(equal_logits, equal_logits, kind))
        print(f"{kind}: {'correct' if abs(prediction - value) < 1e-3 else f'the loss is {value:.4f}'}")

# %%
# Check for exercise 2: the share of g_loss, a fraction (e.g. 0.25 for a quarter).
adversarial_share = None
if adversarial_share is not None:
    measured = ADVERSARIAL_WEIGHT * gan_history["adversarial_loss"][-1] / gan_history["g_loss"][-1]
    print("correct" if abs(adversarial_share - measured) < 0.01 * max(measured, 1e-3) + 1e-4
          else f"the history gives {measured:.4%} (epoch means of both terms)")

# %%
# Check for exercise 3: how many times more spatial positions at block2_conv2 than at block5_conv4.
positions_ratio = None
if positions_ratio is not None:
    extractor = vgg19_feature_extractor(["vgg22", "vgg54"], weights=None)  # shapes only: random weights suffice
    features = extractor(np.zeros((1, 96, 96, 3), "float32"))
    sizes = {name: int(np.prod(value.shape[1:3])) for name, value in features.items()}
    ratio = sizes["block2_conv2"] / sizes["block5_conv4"]
    print(sizes, "correct" if positions_ratio == ratio else f"the ratio is {ratio:.0f}")
