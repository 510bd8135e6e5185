"""SRGAN's second phase as a resumable command: adversarial fine-tuning of a trained SRResNet.

Paper: Christian Ledig et al. (2017). Photo-Realistic Single Image
Super-Resolution Using a Generative Adversarial Network.

Phase 1 is an ordinary recipe (:mod:`srlib.train`)::

    python -m srlib train --model srresnet --scale 4 --model-argument num_blocks=8 --minutes 90

Phase 2 starts the generator from that run's last checkpoint, adds a discriminator,
and trains both with :class:`srlib.gan.SRGAN` under a wall-clock budget summed over
resumed runs; one :class:`srlib.checkpoint.CheckpointSaver` holds both networks and
both optimizers, so running the command again continues from the last epoch (bit for
bit with TensorFlow's op determinism switched on, see :mod:`srlib.checkpoint`)::

    python -m srlib train-gan --scale 4 --pretrained-run runs/srresnet_x4 --minutes 45
    python -m srlib publish --model srgan --scale 4

The generator is published as ``srgan_x<scale>``, an SRResNet architecture
(``models.build("srgan", ...)``). The content loss is the paper's VGG54 by default,
which needs the ImageNet VGG19 file (never downloaded: the error says where to put
it); ``--content mse`` is the paper's SRGAN-MSE variant and needs nothing.
"""

import dataclasses
import inspect
import os
from pathlib import Path

import keras

from srlib import checkpoint, data, datasets, models, train, training, zoo
from srlib.gan import SRGAN
from srlib.losses import ADVERSARIAL_KINDS, MSELoss, PerceptualLoss
from srlib.validation import non_negative_number, positive_int, positive_number, scale_factor

CONTENT_LOSSES = ("mse", "vgg22", "vgg54")


@dataclasses.dataclass(frozen=True)
class GanRecipe:
    """How SRGAN's adversarial phase is trained on CPU.

    Attributes:
        hr_patch_size: HR patch side; the discriminator is built for it. Default: 96 (the paper's).
        batch_size: patches per step. Default: 16 (the paper's).
        learning_rate: Adam's constant rate for both players. Default: 1e-4 (the
            paper's first 10^5 of 2*10^5 steps).
        steps_per_epoch: steps between validations and checkpoints. Default: 100.
        content: ``"vgg54"`` (SRGAN), ``"vgg22"`` (SRGAN-VGG22) or ``"mse"`` (SRGAN-MSE).
        mse_value_range: with ``content="mse"``, the intensity range width the MSE is
            measured in: 2.0 (default) is the paper's HR images in [-1, 1], 4x the MSE on
            [0, 1], and sets the MSE's balance against ``adversarial_weight``.
        adversarial_kind: ``"bce"`` (SRGAN), ``"lsgan"`` or ``"relativistic"`` (ESRGAN).
        adversarial_weight: weight of the generator's adversarial loss. Default: 1e-3.
        pixel_weight: weight of an extra MSE pixel term. Default: 0 (the paper has none).
        data: training set name(s).
        note: how this differs from the paper.
    """

    hr_patch_size: int = 96
    batch_size: int = 16
    learning_rate: float = 1e-4
    steps_per_epoch: int = 100
    content: str = "vgg54"
    mse_value_range: float = 2.0
    adversarial_kind: str = "bce"
    adversarial_weight: float = 1e-3
    pixel_weight: float = 0.0
    data: tuple = ("T91", "BSD200")
    note: str = ("Adam 1e-4 for both players on T91+BSD200 (291 images) for minutes, not 2*10^5 steps on "
                 "350k ImageNet images; the generator starts from the pretrained run named in run.json")

    def __post_init__(self):
        for name in ("learning_rate", "adversarial_weight", "pixel_weight", "mse_value_range"):
            non_negative_number(getattr(self, name), name)
        if self.mse_value_range == 0:
            raise ValueError("`mse_value_range` must be > 0 (the width of an intensity range). Received: 0")
        for name in ("hr_patch_size", "batch_size", "steps_per_epoch"):
            positive_int(getattr(self, name), name)
        if self.hr_patch_size % 16:
            raise ValueError("`hr_patch_size` must be a multiple of 16 (the discriminator halves it four times). "
                             f"Received: hr_patch_size={self.hr_patch_size}")
        if self.content not in CONTENT_LOSSES:
            raise ValueError(f"`content` must be one of {CONTENT_LOSSES}. Received: content={self.content!r}")
        if self.adversarial_kind not in ADVERSARIAL_KINDS:
            raise ValueError(f"`adversarial_kind` must be one of {ADVERSARIAL_KINDS}. "
                             f"Received: adversarial_kind={self.adversarial_kind!r}")


GAN_RECIPE = GanRecipe()


def content_loss(name, vgg_weights="imagenet", mse_value_range=2.0):
    """The generator's content loss: ``MSELoss(mse_value_range)`` or a VGG19 ``PerceptualLoss``
    (VGG22 / VGG54). Ledig et al. section 3.2: "The MSE loss was thus calculated on images of
    intensity range [-1, 1]" (``mse_value_range=2.0``, the default).

    Raises:
        srlib.losses.PretrainedWeightsNotFoundError: a VGG loss with ``vgg_weights="imagenet"``
            and no ImageNet file in the Keras cache (the message says what to download and where).
    """
    if name not in CONTENT_LOSSES:
        raise ValueError(f"`content` must be one of {CONTENT_LOSSES}. Received: content={name!r}")
    return MSELoss(value_range=mse_value_range) if name == "mse" else PerceptualLoss(layer=name, weights=vgg_weights)


def pretrained_state(pretrained_run, scale):
    """Where the generator starts: the newest checkpoint of an SRResNet run at ``scale``.

    Returns:
        ``{"run_dir", "checkpoint", "epoch", "step", "wall_time_minutes", "model_arguments"}``.
    """
    run = train.read_run(pretrained_run, "srresnet", [scale])
    model = train.restorable_model("srresnet", scale, run)
    state = checkpoint.CheckpointSaver(pretrained_run, model).restore()
    if state is None:
        raise FileNotFoundError(f"no checkpoint in {pretrained_run}: train SRResNet first "
                                f"(python -m srlib train --model srresnet --scale {scale})")
    return {"run_dir": str(Path(pretrained_run).resolve()), "checkpoint": Path(state.path).stem,
            "epoch": int(state.epoch), "step": int(state.step or 0),
            "wall_time_minutes": round(training.last_recorded(state.history, "wall_time_s") / 60, 1),
            "model_arguments": run["model_arguments"]}


def _load_pretrained(generator, pretrained, scale):
    """Copies the recorded SRResNet checkpoint into ``generator``."""
    run = train.read_run(pretrained["run_dir"], "srresnet", [scale])
    model = train.restorable_model("srresnet", scale, run)
    saver = checkpoint.CheckpointSaver(pretrained["run_dir"], model)
    if not (Path(pretrained["run_dir"]) / f"{pretrained['checkpoint']}.json").is_file():
        raise FileNotFoundError(f"{pretrained['run_dir']} no longer holds {pretrained['checkpoint']}, where this "
                                "GAN run starts (the SRResNet run went on and pruned it): start the GAN run over "
                                "in a new --run-dir")
    saver.restore(pretrained["checkpoint"])
    generator.set_weights(model.get_weights())


def networks(scale, recipe, model_arguments, run_dir):
    """The generator, the discriminator, their two Adam optimizers and the saver of all four."""
    generator = models.build("srgan", scale, **model_arguments)
    discriminator = models.discriminator((recipe.hr_patch_size, recipe.hr_patch_size, generator.outputs[0].shape[-1]))
    optimizers = {"generator": keras.optimizers.Adam(recipe.learning_rate),
                  "discriminator": keras.optimizers.Adam(recipe.learning_rate)}
    saver = checkpoint.CheckpointSaver(run_dir, {"generator": generator, "discriminator": discriminator},
                                       optimizers=optimizers, keep_last=2)
    return generator, discriminator, optimizers, saver


def _start(run_dir, pretrained_run, scale):
    """The generator's start: recorded in ``run.json`` when resuming, else the pretrained run's newest checkpoint."""
    if not (run_dir / "run.json").is_file():
        return pretrained_state(pretrained_run or train.run_directory("srresnet", scale), scale)
    recorded = train.read_run(run_dir, "srgan", [scale])["pretrained"]
    if pretrained_run is not None and Path(pretrained_run).resolve() != Path(recorded["run_dir"]):
        raise ValueError(f"`pretrained_run` {pretrained_run} is not the run {run_dir} started from "
                         f"({recorded['run_dir']}): use another run_dir to start from it")
    return recorded


def _vgg_weights_setting(content, vgg_weights):
    """What ``run.json`` records: nothing for an MSE content loss, else the weights (a file as an absolute path)."""
    if content == "mse" or vgg_weights is None or vgg_weights == "imagenet":
        return None if content == "mse" else vgg_weights
    return str(Path(vgg_weights).resolve())


def train_gan(scale, pretrained_run=None, minutes=45, run_dir=None, seed=0, quick=False, validation="Set5",
              max_epochs=10_000, recipe=None, vgg_weights="imagenet", command=None):
    """Trains (or resumes) SRGAN's adversarial phase for a wall-clock budget.

    Args:
        scale: int, the SRResNet run's scale.
        pretrained_run: the SRResNet run folder (``python -m srlib train --model srresnet``);
            its newest checkpoint is the start, recorded in ``run.json`` on the first run.
            Default: ``$SRLIB_RUNS/srresnet_x<scale>``, or what ``run.json`` records.
        minutes: total budget over all resumed runs. Default: 45.
        run_dir: checkpoint folder. Default: ``$SRLIB_RUNS/srgan_x<scale>``.
        seed: seed of the discriminator's initialisation and the data order. Default: 0.
        quick: the embedded images and 5 steps per epoch, 2 epochs (tests). Default: False.
        validation: dataset of the per-epoch protocol PSNR, logged as a guard against
            collapse (never used to pick weights). Default: "Set5".
        max_epochs: upper bound besides the budget.
        recipe: a :class:`GanRecipe`. Default: :data:`GAN_RECIPE`.
        vgg_weights: the VGG19 weights of a VGG content loss: ``"imagenet"``, a file, or
            None (random features: tests only). Ignored for ``content="mse"``. Default: "imagenet".
        command: the command line, recorded for the manifest.

    Returns:
        ``(gan, saver)``: the :class:`srlib.gan.SRGAN` with the last weights, and its saver.
    """
    recipe = recipe or GAN_RECIPE
    scale = scale_factor(scale, "scale")
    if minutes is not None:
        positive_number(minutes, "minutes")  # before run.json is written
    train.check_seed(seed)
    if recipe.hr_patch_size % scale:
        raise ValueError(f"`hr_patch_size` {recipe.hr_patch_size} of the recipe must be a multiple of scale={scale}")
    run_dir = Path(run_dir or train.run_directory("srgan", scale))
    pretrained = _start(run_dir, pretrained_run, scale)
    keras.utils.set_random_seed(seed)
    # before writing anything: a missing VGG file stops here
    loss = content_loss(recipe.content, vgg_weights, recipe.mse_value_range)
    generator, discriminator, optimizers, saver = networks(scale, recipe, pretrained["model_arguments"], run_dir)
    gan = SRGAN(generator, discriminator)
    gan.compile(optimizers["generator"], optimizers["discriminator"], content_loss=loss,
                adversarial_kind=recipe.adversarial_kind, adversarial_weight=recipe.adversarial_weight,
                pixel_weight=recipe.pixel_weight)
    data_names = ["embedded"] if quick else list(recipe.data)
    for name in [*data_names, validation]:
        datasets.check_name(name)  # before run.json, which would refuse the corrected command
    train.record_run(run_dir, {"model": "srgan", "scales": [scale], "seed": seed, "quick": quick, "data": data_names,
                               "recipe": dataclasses.asdict(recipe), "model_arguments": pretrained["model_arguments"],
                               "validation": validation, "pretrained": pretrained,
                               "vgg_weights": _vgg_weights_setting(recipe.content, vgg_weights)}, command)
    initial_epoch = saver.restore_or_initialize()
    budget = training.WallClockBudget.resuming(minutes, saver.history)  # counts the set-up below too
    if train.budget_spent(budget, minutes, run_dir):
        return gan, saver
    if initial_epoch == 0:
        _load_pretrained(generator, pretrained, scale)
    steps = 5 if quick else recipe.steps_per_epoch
    dataset = data.training_dataset(data_names, scale, recipe.hr_patch_size, batch_size=recipe.batch_size,
                                    steps_per_epoch=steps, seed=seed, epoch=initial_epoch, channels="rgb")
    validate = training.ProtocolValidation(validation, scale, limit=2 if quick else None,
                                           upscaler_factory=lambda _, each_scale: models.upscaler(generator,
                                                                                                  each_scale))
    gan.fit(dataset, epochs=initial_epoch + 2 if quick else max_epochs, steps_per_epoch=steps,
            initial_epoch=initial_epoch, verbose=2, shuffle=False, callbacks=[budget, validate, budget.recorder(), saver.callback()])
    return gan, saver


def publish_gan(scale, run_dir=None, directory=zoo.CHECKPOINTS, datasets_to_report=("Set5", "Set14"),
                command=None):
    """Publishes the last generator of a GAN run as ``srgan_x<scale>`` (see :func:`srlib.train.publish`).

    The last epoch, always: a GAN's validation PSNR would pick the epoch closest to
    SRResNet, the opposite of what the adversarial phase is for. The manifest entry
    also records the pretraining checkpoint it started from (its folder's name only:
    absolute paths are this machine's).
    """
    run_dir = Path(run_dir or train.run_directory("srgan", scale))
    run = train.read_run(run_dir, "srgan", [scale])
    recipe = GanRecipe(**{**run["recipe"], "data": tuple(run["recipe"]["data"])})
    generator, _, _, saver = networks(scale, recipe, run["model_arguments"], run_dir)
    last = saver.restore()
    if last is None:
        raise FileNotFoundError(f"no checkpoint in {run_dir}: train first (python -m srlib train-gan ...)")
    pretrained = {**run["pretrained"], "run_dir": os.path.basename(run["pretrained"]["run_dir"])}
    return zoo.write_published(f"srgan_x{scale}", generator, run, dataclasses.asdict(recipe), last, last,
                                 zoo.LAST_EPOCH, directory, datasets_to_report, command,
                                 extra_training={"pretrained": pretrained, "vgg_weights": run.get("vgg_weights")})


def shipped_pair(scale, recipe, directory=zoo.CHECKPOINTS, model_arguments=None):
    """The shipped ``srresnet_x<scale>`` and ``srgan_x<scale>`` if they are a pair trained like ``recipe``.

    A pair: the GAN started from exactly the published SRResNet (same steps, same
    architecture), with the content loss, adversarial kind, adversarial and pixel weights
    (and, for an MSE content, its value range) of ``recipe``.

    Args:
        model_arguments: the generator's constructor arguments to match too (missing ones at
            ``srresnet``'s defaults), or None to accept any architecture. Default: None.

    Returns:
        ``({"srresnet": EvaluatedWeights, "srgan": EvaluatedWeights}, reason)``, or
        ``(None, reason)`` saying why not.
    """
    shipped = {method: zoo.shipped_weights(f"{method}_x{scale}", directory) for method in ("srresnet", "srgan")}
    missing = [f"{method}_x{scale}" for method, weights in shipped.items() if weights is None]
    if missing:
        return None, f"{' and '.join(missing)} not shipped"
    srresnet, srgan = shipped["srresnet"].entry, shipped["srgan"].entry
    start = srgan["training"]["pretrained"]
    if srgan["model_arguments"] != srresnet["model_arguments"]:
        return None, (f"the shipped srgan_x{scale} was built with {srgan['model_arguments']}, the shipped "
                      f"srresnet_x{scale} with {srresnet['model_arguments']}: not a pair")
    if start["step"] != srresnet["training"]["optimizer_steps"]:
        return None, (f"the shipped srgan_x{scale} started from {start['step']:,} SRResNet steps, the shipped "
                      f"srresnet_x{scale} has {srresnet['training']['optimizer_steps']:,}: not a pair")
    if model_arguments is not None:
        defaults = {name: parameter.default for name, parameter in
                    inspect.signature(models.srresnet).parameters.items() if name not in ("scale", "channels")}
        shipped_arguments = {**defaults, **srresnet["model_arguments"]}
        wanted_arguments = {**defaults, **model_arguments}
        if shipped_arguments != wanted_arguments:
            return None, (f"the shipped generators were built with {srresnet['model_arguments']}, these settings "
                          f"with {model_arguments}")
    keys = ["content", "adversarial_kind", "adversarial_weight", "pixel_weight"]
    if recipe.content == "mse":
        keys.append("mse_value_range")
    trained = srgan["training"]["recipe"]
    # weights published before mse_value_range existed measured their MSE on [0, 1]
    trained_like = {key: trained.get(key, 1.0 if key == "mse_value_range" else None) for key in keys}
    wanted = {key: getattr(recipe, key) for key in keys}
    if trained_like != wanted:
        return None, f"the shipped srgan_x{scale} was trained with {trained_like}, these settings are {wanted}"
    return shipped, f"shipped pair, trained with {trained_like}"
