# %% [markdown]
# # 06 · SP-VDSR: a VDSR body at low resolution, its claims tested on our data
#
# **Goal.** Take VDSR's global residual (notebook 05), run the convolutions on the LR image and
# upscale the residual with one sub-pixel convolution (notebook 04), and add it to an in-graph
# interpolation of the input. Then test, one by one, the claims made for that design, on our
# data and our CPU, and say where they hold.
#
# **The claims we check.** Chrisostomo, *SP-VDSR* (a sub-pixel VDSR for line art, ×2, Y; trained
# and evaluated on a line-art set, not on photos; our reference notes give no year or venue). With the same depth and width (5 layers of 8
# filters):
#
# 1. an FIR ranking at ×2 on that set: **Lanczos 40.58 > Catmull-Rom 39.91 > Mitchell 39.01 >
#    bilinear 38.48 > box 37.32 dB**;
# 2. moving the body to LR resolution makes an **epoch about 3× faster (1 s against 3 s)**;
# 3. for equal training time (about an hour) it reaches a **higher PSNR: 44.86 against 41.50 dB**
#    for the same-size VDSR;
# 4. a Lanczos-interpolated base beats a bilinear one by **0.364 dB**.
#
# We add a fifth question the design invites: which training loss (MSE, gradient-sensitive,
# SSIM, L1 + MS-SSIM) does best under the PSNR/SSIM protocol. Our data: the 91 images for
# training, Set5 and Set14 for evaluation, ×2, Y, under the protocol of notebook 01.
#
# **Time.** Quick mode (`SRLIB_QUICK=1`, used by the test suite): about two minutes on 2 CPU
# cores. **Every training in quick mode lasts seconds: its numbers only prove the cells run and
# are not evidence for or against any claim.** Full settings: 55 minutes of training (10 minutes
# for each of the two networks of section 4, 5 for each of the seven runs of sections 5 and 6),
# a little over an hour with validation and evaluation; re-running resumes.

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
from srlib import data, datasets, evaluate, losses, models, plots, resize, train, training, zoo
from srlib.checkpoint import CheckpointSaver

QUICK = os.environ.get("SRLIB_QUICK") == "1"
SCALE = 2
CLAIMS = evaluate.published_table()["sp_vdsr_claims"]
print(f"srlib {srlib.__version__}, TensorFlow {tf.__version__}, Keras {keras.__version__}, "
      f"NumPy {np.__version__}, quick mode: {QUICK}")
for dataset_name in ["T91", "Set5", "Set14"]:
    print(datasets.describe(dataset_name))
print(f"claims (line-art set, x{SCALE}): {CLAIMS}")

# %% [markdown]
# ## 1. The network
# `models.sp_vdsr(2)`: four 3×3 convolutions of 8 filters (leaky ReLU) on the LR image, a fifth
# to `scale² = 4` maps turned into the HR residual by `depth_to_space` (a `SubPixelConv2D` with
# ICNR, notebook 04), added to an interpolation of the input and clipped to [0, 1]. The same-size
# VDSR, `models.vdsr(depth=5, filters=8)`, has the same five convolutions, all at HR resolution on
# the bicubic-upsampled image, its last to one map.
#
# The interpolation is part of the model (`FIRUpsample`), so the app feeds only the LR image. It
# is the protocol's `imresize`, written as per-phase convolutions:

# %%
lr_luma, hr_luma = data.validation_images("Set5", SCALE)[2]  # butterfly, Y in [0, 1]
in_graph = models.FIRUpsample(SCALE, "lanczos3")(lr_luma[None]).numpy()[0]
reference = resize.imresize(lr_luma, scale=SCALE, method="lanczos3")
print(f"FIRUpsample(2, 'lanczos3') vs imresize: max |difference| {np.abs(in_graph - reference).max():.1e} "
      f"on a {lr_luma.shape[1]}x{lr_luma.shape[0]} image")

# %%
keras.utils.set_random_seed(0)
sp_vdsr_model = models.sp_vdsr(SCALE)
same_size_vdsr = models.vdsr(depth=5, filters=8)
print(f"{'network':<22} {'parameters':>10} {'MACs/output px':>15} {'receptive field (HR px)':>24}")
network_costs = {}
for label, network, input_size, pixels_per_input_pixel in [
        ("SP-VDSR 5x8", sp_vdsr_model, (48, 48), SCALE), ("VDSR 5x8 (same size)", same_size_vdsr, (96, 96), 1)]:
    network_costs[label] = models.model_cost(network, input_size)
    side = (2 * models.receptive_field(network) + 1) * pixels_per_input_pixel
    print(f"{label:<22} {network_costs[label].parameters:>10,} {network_costs[label].macs_per_output_pixel:>15,.1f} "
          f"{side:>20}x{side}")
mac_ratio = (network_costs["VDSR 5x8 (same size)"].macs_per_output_pixel
             / network_costs["SP-VDSR 5x8"].macs_per_output_pixel)
print(f"VDSR / SP-VDSR: {mac_ratio:.2f}x the MACs per output pixel")
untrained = {label: evaluate.evaluate(models.upscaler(network), "Set5", SCALE, limit=2).psnr_y
             for label, network in [("SP-VDSR", sp_vdsr_model), ("VDSR", same_size_vdsr)]}
print(f"untrained (random weights), Y-PSNR x{SCALE} on the first 2 images of Set5 ({SCALE} pixels shaved): "
      f"SP-VDSR {untrained['SP-VDSR']:.2f} dB, "
      f"VDSR {untrained['VDSR']:.2f} dB; their bases alone: Lanczos-3 "
      f"{evaluate.evaluate('lanczos3', 'Set5', SCALE, limit=2).psnr_y:.2f}, bicubic "
      f"{evaluate.evaluate('bicubic', 'Set5', SCALE, limit=2).psnr_y:.2f} dB")

# %% [markdown]
# The four hidden layers cost `scale² = 4` times less at LR; the sub-pixel layer has four times
# the outputs of VDSR's last one, and the Lanczos-3 base adds 17.5 MACs per pixel, hence a
# ratio of about 3.5 rather than 4. At equal depth SP-VDSR also *sees* twice as far in HR pixels.
# Neither starts at its base: an untrained network adds a random residual to it (the untrained
# PSNRs above, far below either base), so the first epochs of training are spent removing it.
#
# ## 2. Claim 1: the FIR ranking at ×2
# Cheap, so full Set5 and Set14 in both modes. The claim's Catmull-Rom is Keys' cubic with
# `a = −0.5`, i.e. MATLAB's (and our) `bicubic`; the box filter upscales like nearest neighbour.

# %%
FIR_FILTERS = {"lanczos3": "Lanczos-3", "bicubic": "Catmull-Rom (bicubic)", "mitchell": "Mitchell",
               "bilinear": "bilinear", "box": "box"}
fir_results = {(dataset_name, method): evaluate.evaluate(method, dataset_name, SCALE)
               for dataset_name in ["Set5", "Set14"] for method in FIR_FILTERS}
print(evaluate.PROTOCOL)
print(evaluate.format_table(fir_results.values(), published=False))


def ranks(values):
    """Rank of each value, 1 for the largest."""
    order = np.argsort(-np.asarray(values))
    positions = np.empty(len(values), int)
    positions[order] = np.arange(1, len(values) + 1)
    return positions


claimed_fir = [CLAIMS["fir_x2_psnr"][method] for method in FIR_FILTERS]
ours_fir = {dataset_name: [fir_results[dataset_name, method].psnr_y for method in FIR_FILTERS]
            for dataset_name in ["Set5", "Set14"]}
print(f"\n{'filter':<22} {'claimed (line art)':>18} {'rank':>5} {'Set5':>7} {'rank':>5} {'Set14':>7} {'rank':>5}")
for index, (method, label) in enumerate(FIR_FILTERS.items()):
    print(f"{label:<22} {claimed_fir[index]:>18.2f} {ranks(claimed_fir)[index]:>5} "
          f"{ours_fir['Set5'][index]:>7.2f} {ranks(ours_fir['Set5'])[index]:>5} "
          f"{ours_fir['Set14'][index]:>7.2f} {ranks(ours_fir['Set14'])[index]:>5}")
same_ranking = {dataset_name: bool(np.array_equal(ranks(values), ranks(claimed_fir)))
                for dataset_name, values in ours_fir.items()}
print("same order as claimed:", same_ranking)

# %% [markdown]
# ## Settings
# Every budget of sections 3–6 in one cell. The full setting is the study; quick mode runs the
# same cells for seconds.
#
# * **Training (sections 4–6):** the CPU recipe `train.RECIPES["sp_vdsr"]` for every network, the
#   same-size VDSR included: Adam at 10⁻³ (halved every 60,000 steps), MSE unless section 6 says
#   otherwise, batches of 16 random 48×48 HR patches (Y) from the 91 images, 500 steps per epoch
#   (validation on Set5 after each), each run stopped after a budget of **training time**
#   (section 4 explains the clock). Full: **10 minutes** for each of the two networks of section
#   4, **5 minutes** for each run of sections 5 and 6. The claimed comparison used about an hour
#   each, on line art, on another machine.
# * **Quick mode:** the embedded photos, 50-step epochs, seconds per run, one validation and
#   evaluation image per set.
# * **Evaluation:** the last weights of each run (equal training time, not the best epoch), on
#   all of Set5 and Set14 in the full setting.
#
# Runs live in `RUN_ROOT/<name>`; re-running a training cell resumes each run, and a run whose
# budget is spent is not trained further (raise the budget to continue it).

# %%
recipe = train.RECIPES["sp_vdsr"]
TRAINING_IMAGES = "embedded" if QUICK else "T91"
STEPS_PER_EPOCH = 50 if QUICK else recipe.steps_per_epoch  # steps between validations (the recipe: 500)
RACE_MINUTES = 0.1 if QUICK else 10  # section 4: SP-VDSR and the same-size VDSR, training time each
STUDY_MINUTES = 0.02 if QUICK else 5  # sections 5 and 6: each interpolation and each loss
VALIDATION_LIMIT = 1 if QUICK else None  # first images of Set5 validated after every epoch; None: all five
validation_label = "Set5" if VALIDATION_LIMIT is None else f"first {VALIDATION_LIMIT} image(s) of Set5"
EVALUATION_LIMIT = 1 if QUICK else None  # first images of Set5 and Set14 in the final tables; None: all
TIMING_STEPS, TIMING_ROUNDS = (10, 3) if QUICK else (25, 7)  # section 3
RUN_ROOT = (Path(tempfile.mkdtemp(prefix="notebook_sp_vdsr_quick_")) if QUICK
            else train.run_directory("notebook_sp_vdsr", 2))  # runs/ in this folder, or $SRLIB_RUNS
SEED = 0
print(recipe)

# %% [markdown]
# ## 3. Claim 2: the time per epoch
# `benchmarks/sp_vdsr.py` trains both networks on the same batch of 16 HR patches of 48×48 (the
# recipe's), alternating rounds of `model.fit` steps so that a background load hits both alike,
# and reports the median time per step (what an epoch of many steps costs per step) and the mean
# (every stall included). The input pipeline is left out here; section 4 times whole epochs with
# it. We import its `measure` function:

# %%
benchmark_path = Path(srlib.__file__).resolve().parents[1] / "benchmarks" / "sp_vdsr.py"
benchmark_spec = importlib.util.spec_from_file_location("sp_vdsr_benchmark", benchmark_path)
sp_vdsr_benchmark = importlib.util.module_from_spec(benchmark_spec)
benchmark_spec.loader.exec_module(sp_vdsr_benchmark)
print(sp_vdsr_benchmark.measure.__doc__.splitlines()[0])

# %%
timing = sp_vdsr_benchmark.measure(SCALE, depth=5, filters=8, batch_size=recipe.batch_size,
                                   hr_patch_size=recipe.hr_patch_size, steps=TIMING_STEPS, rounds=TIMING_ROUNDS)
print(timing["machine"])
print(sp_vdsr_benchmark.report(timing))

# %% [markdown]
# ## 4. Claim 3: PSNR for equal training time
# Both networks, same recipe, same patches (VDSR gets them bicubic-upsampled by the input
# pipeline, SP-VDSR makes its Lanczos-3 base in the graph), the same budget. The comparison is of
# the two designs as published, so it includes their bases (Lanczos-3 against bicubic, about
# 0.6 dB apart on Set5 on their own); section 5 measures the base alone. The budget counts
# **training time only**: from the end of the first step of each `fit` call (that step traces
# the graph) to the end of each epoch, input pipeline included, validation excluded (VDSR's
# validation is slower, and it is not training). `training.WallClockBudget` counts everything,
# so `training.TrainingClock` keeps this clock; it logs `train_time_s` into the history the saver
# keeps, and the budget continues over resumed runs as `WallClockBudget.resuming` does.

# %%
def compiled(name, loss=None, **model_arguments):
    """`train.compiled_model(name, SCALE, recipe)`, with any loss (None: the recipe's MSE)."""
    keras.utils.set_random_seed(SEED)  # the same initial weights for every run of the same network
    return train.compiled_model(name, SCALE, recipe, loss=loss, **model_arguments)


def train_for(run_name, network, minutes, upsampled_input=False):
    """Trains (or resumes) `network` in RUN_ROOT/run_name for `minutes` of training time; returns the saver."""
    saver = CheckpointSaver(RUN_ROOT / run_name, network, monitor="val_psnr", keep_last=1)
    initial_epoch = saver.restore_or_initialize()  # 0 on a fresh run, else the epoch to resume at
    spent = training.last_recorded(saver.history, "train_time_s")
    if spent < 60 * minutes:
        batches = data.training_dataset(
            TRAINING_IMAGES, SCALE, recipe.hr_patch_size, batch_size=recipe.batch_size,
            steps_per_epoch=STEPS_PER_EPOCH, seed=SEED, epoch=initial_epoch, upsampled_input=upsampled_input)
        callbacks = [training.TrainingClock(minutes, saver.history),  # first: its epoch end comes before validation
                     training.ProtocolValidation("Set5", SCALE, limit=VALIDATION_LIMIT),
                     training.WallClockBudget.resuming(None, saver.history),  # records wall time, no limit
                     saver.callback()]
        network.fit(batches, epochs=10_000, steps_per_epoch=STEPS_PER_EPOCH, initial_epoch=initial_epoch,
                    callbacks=callbacks, verbose=0, shuffle=False)
    history = saver.history
    print(f"{run_name}: {len(history['loss'])} epochs, {saver.step:,} steps in {history['train_time_s'][-1]:.0f} s "
          f"of training ({saver.step / history['train_time_s'][-1]:.1f} steps/s), "
          f"{history['wall_time_s'][-1]:.0f} s wall; last val_psnr {history['val_psnr'][-1]:.2f} dB "
          f"(Y-PSNR x{SCALE}, {validation_label}, {SCALE} pixels shaved)")
    return saver


def evaluate_network(network, method_name):
    """Y-PSNR/SSIM of `network` on Set5 and Set14 under the protocol."""
    return {dataset_name: evaluate.evaluate(models.upscaler(network), dataset_name, SCALE, method_name=method_name,
                                            limit=EVALUATION_LIMIT)
            for dataset_name in ["Set5", "Set14"]}

# %%
race_networks = {"SP-VDSR 5x8": compiled("sp_vdsr"), "VDSR 5x8": compiled("vdsr", depth=5, filters=8)}
race_savers = {label: train_for(label.split()[0].lower().replace("-", "_"), network, RACE_MINUTES,
                                upsampled_input=label.startswith("VDSR"))
               for label, network in race_networks.items()}
race_results = {label: evaluate_network(network, label.split()[0]) for label, network in race_networks.items()}
print(evaluate.PROTOCOL)
print(evaluate.format_table([result for by_set in race_results.values() for result in by_set.values()],
                            published=False))

# %%
figure, (time_axis, step_axis) = plt.subplots(1, 2, figsize=(13, 4.2), layout="constrained")
for label, saver in race_savers.items():
    history = saver.history
    steps = STEPS_PER_EPOCH * np.arange(1, len(history["val_psnr"]) + 1)
    time_axis.plot(np.array(history["train_time_s"]) / 60, history["val_psnr"], marker=".", label=label)
    step_axis.plot(steps, history["val_psnr"], marker=".", label=label)
for axis in (time_axis, step_axis):
    for method, style in [("bicubic", "--"), ("lanczos3", ":")]:
        reference_psnr = evaluate.evaluate(method, "Set5", SCALE, limit=VALIDATION_LIMIT).psnr_y
        axis.axhline(reference_psnr, color="gray", linestyle=style, label=f"{method}, same images")
    axis.set(ylabel="Y-PSNR (dB)", title=f"Validation x{SCALE} on {validation_label}")
time_axis.set_xlabel("training time (minutes)")
step_axis.set_xlabel("optimizer steps (batches of 16)")
time_axis.legend(fontsize=8)
plt.show()

# %% [markdown]
# Left, the claim's axis: PSNR against training time. Right, the same runs against steps: where
# the curves are close per step and far apart per minute, the difference is speed; where they
# differ per step, it is what each architecture learns from a batch.
#
# ## 5. Claim 4: which interpolation under the residual
# Four SP-VDSR variants, the same recipe and the same training-time budget each: the base is
# Lanczos-3, bicubic, bilinear (`FIRUpsample` in the graph) or nearest neighbour (pixel repetition,
# `interpolation_input="nearest"`). With a weaker base the residual must also learn what a better
# interpolation would have added. Beside each, the base filter alone.

# %%
BASES = ["lanczos3", "bicubic", "bilinear", "nearest"]
base_networks = {base: (compiled("sp_vdsr_nearest") if base == "nearest" else compiled("sp_vdsr", interpolation=base))
                 for base in BASES}
base_savers = {base: train_for(f"base_{base}", network, STUDY_MINUTES) for base, network in base_networks.items()}
base_results = {base: evaluate_network(network, f"sp_vdsr+{base}") for base, network in base_networks.items()}
filter_alone = {(dataset_name, base): evaluate.evaluate(base, dataset_name, SCALE, limit=EVALUATION_LIMIT)
                for dataset_name in ["Set5", "Set14"] for base in BASES}
print(evaluate.PROTOCOL)
print(f"{'base':<10} " + " ".join(f"{dataset_name + ' filter':>13} {dataset_name + ' SP-VDSR':>14} {'gain':>6}"
                                   for dataset_name in ["Set5", "Set14"]))
for base in BASES:
    print(f"{base:<10} " + " ".join(
        f"{filter_alone[dataset_name, base].psnr_y:>13.2f} {base_results[base][dataset_name].psnr_y:>14.2f} "
        f"{base_results[base][dataset_name].psnr_y - filter_alone[dataset_name, base].psnr_y:>+6.2f}"
        for dataset_name in ["Set5", "Set14"]))
lanczos_over_bilinear = {dataset_name: base_results["lanczos3"][dataset_name].psnr_y
                         - base_results["bilinear"][dataset_name].psnr_y for dataset_name in ["Set5", "Set14"]}
print(f"Lanczos-3 over bilinear base: Set5 {lanczos_over_bilinear['Set5']:+.3f} dB, "
      f"Set14 {lanczos_over_bilinear['Set14']:+.3f} dB (claimed {CLAIMS['lanczos_over_bilinear_input_db']:+.3f})")

# %% [markdown]
# ## 6. Which loss
# SP-VDSR with a Lanczos-3 base trained with four losses from `srlib.losses`, equal training
# time each: MSE (what PSNR measures), `GradientSensitiveLoss` (MSE split into edge and flat parts
# by a Sobel mask `M` of the target, both weighted 1), `SSIMLoss` (1 − SSIM, 11×11 Gaussian window)
# and `MixL1MSSSIMLoss` (0.84 · (1 − MS-SSIM) + 0.16 · L1, Zhao et al. 2017). The MSE run is
# section 5's Lanczos-3 run.
#
# With both weights 1 the gradient-sensitive loss is `mean((M² + (1 − M)²) · error²)`: MSE with
# each pixel's squared error weighted between 0.5 (mid-strength edges, `M = 0.5`) and 1 (flat
# areas and the strongest edges). At these weights it is a mildly reweighted MSE and should land
# near it; favouring edges takes `edge_weight > 1` (exercise 4).
#
# MS-SSIM compares the images on a pyramid of 2×2 average poolings, and its coarsest level must
# still hold one 11×11 window: `11 · 2^(levels − 1)` pixels, 176 for the standard five levels.
# Our 48×48 patches allow three levels (44 pixels), as the loss tells us:

# %%
patch_pair = tf.random.stateless_uniform((2, 1, recipe.hr_patch_size, recipe.hr_patch_size, 1), seed=(0, 1))
try:
    losses.MixL1MSSSIMLoss()(patch_pair[0], patch_pair[1])
except ValueError as error:
    print("five levels:", error)
three_levels = losses.MixL1MSSSIMLoss(power_factors=losses.MS_SSIM_WEIGHTS[:3])
print(f"three levels {losses.MS_SSIM_WEIGHTS[:3]}: loss {float(three_levels(patch_pair[0], patch_pair[1])):.4f}")

# %%
LOSSES = {"MSE": losses.MSELoss(), "gradient-sensitive": losses.GradientSensitiveLoss(),
          "SSIM": losses.SSIMLoss(), "L1 + MS-SSIM (3 levels)": three_levels}
# MSE with a Lanczos-3 base is section 5's first run (same loss, recipe and budget): reused, not trained again.
loss_networks = {"MSE": base_networks["lanczos3"]}
loss_savers = {"MSE": base_savers["lanczos3"]}
loss_results = {"MSE": base_results["lanczos3"]}
for label, loss in list(LOSSES.items())[1:]:
    loss_networks[label] = compiled("sp_vdsr", loss=loss)
    loss_savers[label] = train_for("loss_" + label.split()[0].lower().replace("-", "_"), loss_networks[label],
                                   STUDY_MINUTES)
    loss_results[label] = evaluate_network(loss_networks[label], label.split()[0])
print(evaluate.PROTOCOL)
print(f"{'loss':<25} {'steps':>6} " + " ".join(f"{dataset_name + ' PSNR':>11} {dataset_name + ' SSIM':>11}"
                                                for dataset_name in ["Set5", "Set14"]))
for label in LOSSES:
    print(f"{label:<25} {loss_savers[label].step:>6,} " + " ".join(
        f"{loss_results[label][dataset_name].psnr_y:>11.2f} {loss_results[label][dataset_name].ssim_y:>11.4f}"
        for dataset_name in ["Set5", "Set14"]))

# %%
figure, axes = plt.subplots(1, 2, figsize=(13, 4), layout="constrained")
for axis, (title, savers) in zip(axes, [("interpolation base (section 5)", base_savers),
                                        ("training loss (section 6)", loss_savers)]):
    for label, saver in savers.items():
        axis.plot(np.array(saver.history["train_time_s"]) / 60, saver.history["val_psnr"], marker=".", label=label)
    axis.set(title=f"SP-VDSR, {title}", xlabel="training time (minutes)",
             ylabel=f"Y-PSNR x{SCALE}, {validation_label} (dB)")
    axis.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 7. What it changes: zoomed crops
# The butterfly of Set5 at ×2: Lanczos-3 alone, the same-size VDSR and SP-VDSR of section 4 (equal
# training time), and HR.

# %%
name, hr_image = datasets.load_images("Set5")[2]  # butterfly
figure, _ = plots.protocol_crops(hr_image, SCALE, {"Lanczos-3": evaluate.fir_upscaler("lanczos3"),
                                                  "VDSR-5x8": models.upscaler(race_networks["VDSR 5x8"]),
                                                  "SP-VDSR": models.upscaler(race_networks["SP-VDSR 5x8"])},
                                 name, crop_size=48)
figure.suptitle(f"'{name}' x{SCALE} (Y-PSNR), {RACE_MINUTES:g} minutes of training each")
plt.show()

# %% [markdown]
# SP-VDSR computes each of the four output phases with its own filters (the sub-pixel layer);
# VDSR computes every pixel with the same ones. Where the phases disagree, the output carries a
# faint grid of period 2. `srlib.metrics.checkerboard_ratio` measures it in the error spectrum:
# the energy at the grid frequencies over that around them, about 1 for no grid pattern and
# far above 1 for a faint grid (`tests/test_metrics.py` checks that a 2 % modulation of period
# 2 on a photo raises it more than tenfold).

# %%
race_upscalers = {"Lanczos-3": "lanczos3", **{label: models.upscaler(network) for label, network in race_networks.items()}}
for label, upscale in race_upscalers.items():
    ratios = evaluate.checkerboard_ratios(upscale, "Set5", SCALE, limit=EVALUATION_LIMIT)
    print(f"{label:<12} checkerboard ratio x{SCALE}, Set5, median over {len(ratios)} image(s): {np.median(ratios):.1f}")

# %% [markdown]
# ## Published vs ours
# The claims (line art, their machine and budgets) next to what we measured (photos, this
# machine, the budgets of the settings cell). "images" says whether our numbers cover the
# whole sets; absolute PSNRs on line art and on photos are not comparable, differences and
# orders are. Where `checkpoints/` ships `sp_vdsr_x2` (the recipe's 30 minutes on T91), a last row
# gives it on all of Set5 and Set14, in every mode.

# %%
shipped = zoo.shipped_weights(f"sp_vdsr_x{SCALE}")  # None when checkpoints/ has none
shipped_results = None if shipped is None else {
    dataset_name: evaluate.evaluate(models.upscaler(shipped.model, SCALE), dataset_name, SCALE, method_name="sp_vdsr",
                                    limit=shipped.limit) for dataset_name in ["Set5", "Set14"]}
print(evaluate.PROTOCOL)
whole_sets = all(result.images == datasets.lookup(result.dataset).num_images
                 for result in race_results["SP-VDSR 5x8"].values())
evaluated_images = "all of Set5 and Set14" if whole_sets else f"only the first {EVALUATION_LIMIT} image(s) of each set"
print(f"images: {evaluated_images}; "
      f"training: {TRAINING_IMAGES}, {RACE_MINUTES:g} min (section 4), {STUDY_MINUTES:g} min (sections 5, 6)")
print(f"{'claim':<44} {'claimed':>10} {'ours Set5':>10} {'ours Set14':>11}")
for index, (method, label) in enumerate(FIR_FILTERS.items()):
    print(f"{'FIR x2: ' + label:<44} {claimed_fir[index]:>10.2f} {ours_fir['Set5'][index]:>10.2f} "
          f"{ours_fir['Set14'][index]:>11.2f}")
claimed_ratio = CLAIMS["epoch_seconds"]["vdsr"] / CLAIMS["epoch_seconds"]["sp_vdsr"]
print(f"{'time per step VDSR / SP-VDSR (x), this CPU':<44} {claimed_ratio:>10.2f} {timing['ratio']:>10.2f} {'-':>11}")
race_psnr = {dataset_name: {label: race_results[label][dataset_name].psnr_y for label in race_results}
             for dataset_name in ["Set5", "Set14"]}
print(f"{'equal time: SP-VDSR (dB)':<44} {CLAIMS['sp_vdsr_psnr_after_1h']:>10.2f} "
      f"{race_psnr['Set5']['SP-VDSR 5x8']:>10.2f} {race_psnr['Set14']['SP-VDSR 5x8']:>11.2f}")
print(f"{'equal time: same-size VDSR (dB)':<44} {CLAIMS['vdsr_same_size_psnr_after_1h']:>10.2f} "
      f"{race_psnr['Set5']['VDSR 5x8']:>10.2f} {race_psnr['Set14']['VDSR 5x8']:>11.2f}")
race_gain = {dataset_name: values["SP-VDSR 5x8"] - values["VDSR 5x8"] for dataset_name, values in race_psnr.items()}
claimed_gain = CLAIMS["sp_vdsr_psnr_after_1h"] - CLAIMS["vdsr_same_size_psnr_after_1h"]
print(f"{'equal time: SP-VDSR - VDSR (dB)':<44} {claimed_gain:>+10.2f} {race_gain['Set5']:>+10.2f} "
      f"{race_gain['Set14']:>+11.2f}")
print(f"{'Lanczos-3 over bilinear base (dB)':<44} {CLAIMS['lanczos_over_bilinear_input_db']:>+10.3f} "
      f"{lanczos_over_bilinear['Set5']:>+10.3f} {lanczos_over_bilinear['Set14']:>+11.3f}")
if shipped is not None:
    print(f"{'shipped SP-VDSR 5x8, all images (dB)':<44} {'-':>10} {shipped_results['Set5'].psnr_y:>10.2f} "
          f"{shipped_results['Set14'].psnr_y:>11.2f}")
    print(f"shipped: {shipped.description}")

# %% [markdown]
# ## Conclusions
# The next cell states what this run measured, claim by claim. Differences we know of between
# the claims' setting and ours, which any disagreement may come from:
#
# * **Data.** Line art (flat regions, hard edges) against natural photos. Absolute PSNRs are
#   not comparable at all (40.58 dB for Lanczos on line art, about 34 on Set5); a filter or a
#   network that wins on one need not win on the other.
# * **Budgets.** The claims compare about an hour of training; the full setting here runs 10
#   minutes (section 4) and 5 minutes (sections 5 and 6) on 2 shared CPU cores, and quick mode
#   seconds. Rankings between runs whose curves are still rising can change with more time.
# * **Machine.** An epoch-time ratio is a property of the hardware and framework as much as of
#   the network: tiny 8-filter convolutions leave a CPU far below its peak, and per-step
#   overheads (Python, the optimizer update, the input pipeline) do not shrink with the MACs.
#   The claim's machine is not known to us. On another 2-core AMD EPYC, one where TensorFlow runs
#   its own kernels instead of oneDNN (no AVX-512), `benchmarks/sp_vdsr.py` measured 3.29× at
#   48×48 and 2.77× at 96×96 (2026-12-03): the claimed 3× there, where the AVX-512 EPYC of the
#   run below (oneDNN on) measured 1.46× and 2.03×.
#
# **One full run of this notebook** (2026-12-02, 2 cores of an AMD EPYC with AVX-512, nothing else
# running, 62 minutes; recorded in `notebooks/README.md`, Full runs on record) printed: the FIR ranking as claimed on Set5 and Set14 (Lanczos-3 34.28 > bicubic
# 33.65 > Mitchell 32.77 > bilinear 32.23 > box 30.84 dB on Set5); VDSR 5×8 at 1.33× SP-VDSR's
# time per step in this run (2.12× by the mean; `benchmarks/sp_vdsr.py`, run on its own the same
# day, measured 1.46×: README, Speed), not 3×, against 3.47× the MACs; after 10 minutes each
# (84,000 against 62,000 steps) SP-VDSR 36.29 / 32.13 dB and VDSR 36.23 / 32.10 dB on Set5 / Set14,
# higher as claimed but by 0.06 dB (Set5) and 0.03 dB (Set14), not 3.36; a Lanczos-3 base +0.262 dB (Set5) and +0.193 dB
# (Set14) over bilinear, claimed +0.364; after 5 minutes each, MSE gave the highest PSNR (36.25 dB
# on Set5) and the SSIM loss the highest SSIM (0.9515). Your run's numbers will differ a little.

# %%
if QUICK:
    print("QUICK MODE: every training above lasted seconds on a few images. The numbers below (the shipped weights' "
          "line excepted) only show that the cells run; they are not evidence for or against any claim. Run with the "
          "full settings for the study.\n")
claimed_order = " > ".join(FIR_FILTERS[method] for method in np.array(list(FIR_FILTERS))[np.argsort(claimed_fir)[::-1]])
print(f"* Claim 1, FIR ranking at x{SCALE}: claimed {claimed_order}.")
for dataset_name, values in ours_fir.items():
    order = " > ".join(f"{FIR_FILTERS[method]} {values[index]:.2f}"
                       for index, method in sorted(enumerate(FIR_FILTERS), key=lambda item: -values[item[0]]))
    print(f"  {dataset_name} (all images): {order}: "
          + ("the same order." if same_ranking[dataset_name] else "a different order."))
fir_spread = {dataset_name: values[0] - values[-1] for dataset_name, values in ours_fir.items()}
print(f"  Lanczos-3 minus box: claimed {claimed_fir[0] - claimed_fir[-1]:.2f} dB, "
      f"ours {fir_spread['Set5']:.2f} (Set5), "
      f"{fir_spread['Set14']:.2f} (Set14).")
print(f"* Claim 2, epoch time: VDSR 5x8 takes {timing['ratio']:.2f}x SP-VDSR's time per training step here "
      f"(median; {timing['fit_ratio']:.2f}x by the mean), "
      f"{'below' if timing['ratio'] < claimed_ratio else 'not below'} the claimed {claimed_ratio:.1f}x; the "
      f"MACs per output pixel differ {mac_ratio:.2f}x. Whole epochs with the input pipeline (section 4): "
      + ", ".join(f"{label} {saver.step / saver.history['train_time_s'][-1]:.1f} steps/s"
                  for label, saver in race_savers.items()) + ".")
race_steps = {label: saver.step for label, saver in race_savers.items()}
for dataset_name in ["Set5", "Set14"]:
    verdict = "higher, as claimed" if race_gain[dataset_name] > 0 else "not higher, unlike the claim"
    print(f"* Claim 3, equal training time ({RACE_MINUTES:g} min each; {race_steps['SP-VDSR 5x8']:,} against "
          f"{race_steps['VDSR 5x8']:,} steps), {dataset_name}: "
          f"SP-VDSR {race_psnr[dataset_name]['SP-VDSR 5x8']:.2f} dB, "
          f"VDSR {race_psnr[dataset_name]['VDSR 5x8']:.2f} dB ({race_gain[dataset_name]:+.2f}; claimed "
          f"{claimed_gain:+.2f} after about an hour on line art): {verdict}.")
if shipped is not None:
    shipped_training = shipped.entry["training"]
    print(f"* Shipped sp_vdsr_x{SCALE} ({shipped.steps:,} steps, {shipped_training['wall_time_minutes']:g} min on "
          f"{'+'.join(shipped_training['data'])}), Y-PSNR on all of Set5 / Set14: {shipped_results['Set5'].psnr_y:.2f} / "
          f"{shipped_results['Set14'].psnr_y:.2f} dB, Lanczos-3 alone {ours_fir['Set5'][0]:.2f} / "
          f"{ours_fir['Set14'][0]:.2f} dB.")
for dataset_name in ["Set5", "Set14"]:
    verdict = "the same sign as" if np.sign(lanczos_over_bilinear[dataset_name]) == 1 else "the opposite sign to"
    ranking = sorted(BASES, key=lambda base: -base_results[base][dataset_name].psnr_y)
    print(f"* Claim 4, base filter, {dataset_name}: Lanczos-3 base {lanczos_over_bilinear[dataset_name]:+.3f} dB over "
          f"bilinear ({verdict} the claimed {CLAIMS['lanczos_over_bilinear_input_db']:+.3f}); order "
          f"{' > '.join(ranking)}.")
for dataset_name in ["Set5", "Set14"]:
    best_psnr = max(LOSSES, key=lambda label: loss_results[label][dataset_name].psnr_y)
    best_ssim = max(LOSSES, key=lambda label: loss_results[label][dataset_name].ssim_y)
    print(f"* Losses, {dataset_name}: highest PSNR with {best_psnr} "
          f"({loss_results[best_psnr][dataset_name].psnr_y:.2f} dB), highest SSIM with {best_ssim} "
          f"({loss_results[best_ssim][dataset_name].ssim_y:.4f}), after {STUDY_MINUTES:g} min each.")

# %% [markdown]
# ## Exercises
# 1. **Where the ratio goes.** Run `sp_vdsr_benchmark.measure(2, hr_patch_size=96)` and `192`
#    (and `filters=32`). Predict first: does the time ratio approach the MAC ratio of about 3.5
#    as a step holds more pixels and more filters? (Hint: the benchmark's docstring says what a
#    step contains that does not scale with the MACs.)
# 2. **Deeper at the same cost.** SP-VDSR's body costs a quarter of VDSR's per layer at ×2. Train
#    `compiled("sp_vdsr", depth=9, filters=16)` against the 5×8 one for the same training time
#    (`train_for` with a new run name). Predict first: which wins after 5 minutes, and after 20?
# 3. **Count the base.** `model_cost` charges the Lanczos-3 base 17.5 MACs per output pixel at ×2.
#    Derive it from `FIRUpsample.build`: at LR resolution, a 7-tap convolution along the rows
#    from 1 channel to 2 (one per row phase), then a 7-tap convolution along the columns from
#    those 2 channels to 4 (its kernel is dense, zeros included), then depth-to-space. Then count
#    the MACs that do work: each Lanczos-3 ×2 phase has 6 non-zero taps per axis. What share of
#    the dense count is multiplications by zero? Check the dense count below.
# 4. **Edges first.** Train `compiled("sp_vdsr", loss=losses.GradientSensitiveLoss(edge_weight=4.0))`
#    for `STUDY_MINUTES` (`train_for` with a new run name) and evaluate it as section 6 does.
#    Predict first: does weighting edges four times raise SSIM, PSNR, both or neither against MSE?

# %%
# Check for exercise 3: fill in your count of MACs per output pixel and run this cell.
lanczos_base_macs = None
if lanczos_base_macs is not None:
    cost = models.model_cost(keras.Sequential([keras.Input((None, None, 1)), models.FIRUpsample(2, "lanczos3")]),
                             (32, 32))
    print("correct" if abs(lanczos_base_macs - cost.macs_per_output_pixel) < 0.01
          else f"model_cost counts {cost.macs_per_output_pixel:.2f}")
