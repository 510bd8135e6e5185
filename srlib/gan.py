"""SRGAN training: a generator and a discriminator trained in turn by ``model.fit``.

Paper: Christian Ledig et al. (2017). Photo-Realistic Single Image
Super-Resolution Using a Generative Adversarial Network. The relativistic
switch follows ESRGAN: Xintao Wang et al. (2018). ESRGAN: Enhanced
Super-Resolution Generative Adversarial Networks.

SRGAN trains in two phases:

1. Pretrain the generator (SRResNet) on a pixel loss; this is plain Keras::

       generator = srresnet(scale=4)
       generator.compile(keras.optimizers.Adam(1e-4), MSELoss())
       generator.fit(training_dataset(...), ...)

2. Fine-tune it against a discriminator with :class:`SRGAN`::

       gan = SRGAN(generator, discriminator((96, 96, 3)))
       g_optimizer, d_optimizer = keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4)
       gan.compile(g_optimizer, d_optimizer, content_loss=PerceptualLoss())
       saver = CheckpointSaver("checkpoints/srgan",
                               models={"generator": generator, "discriminator": gan.discriminator},
                               optimizers={"generator": g_optimizer, "discriminator": d_optimizer})
       initial_epoch = saver.restore_or_initialize()
       gan.fit(training_dataset(..., epoch=initial_epoch), epochs=E, steps_per_epoch=S,
               initial_epoch=initial_epoch, callbacks=[saver.callback()])

Design:

* one ``train_step`` runs the generator once, updates the discriminator on
  ``hr`` against the (gradient-stopped) output, then updates the generator
  against the updated discriminator, as in the paper's alternating scheme;
* every term is a ``keras.metrics.Mean`` in :attr:`SRGAN.metrics`, so ``fit``
  logs, progress bars, ``History`` and callbacks work as usual; ``d_real`` and
  ``d_fake`` (mean ``sigmoid`` of the logits) show a discriminator that wins
  outright or a collapse;
* ``SRGAN.optimizer`` is the generator's optimizer (built on the generator's
  variables only), so ``optimizer.iterations`` counts training steps as
  callbacks expect. :class:`srlib.checkpoint.CheckpointSaver` cannot find the
  two optimizers on the (uncompiled) networks: pass them as ``optimizers``;
* ``call(lr)`` is ``generator(lr)``: evaluation code may take either the
  wrapper or ``SRGAN.generator``. Save the two networks separately; the
  wrapper itself is not serializable.
"""

import math

import keras
import tensorflow as tf
from keras import ops

from srlib.losses import ADVERSARIAL_KINDS, discriminator_adversarial_loss, generator_adversarial_loss
from srlib.validation import non_negative_number

TRAIN_METRICS = ("d_loss", "g_loss", "content_loss", "adversarial_loss", "pixel_loss", "psnr", "d_real", "d_fake")
TEST_METRICS = ("content_loss", "pixel_loss", "psnr")


def _check_optimizer(optimizer, name):
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise ValueError(f"`{name}` must be a keras.optimizers.Optimizer instance. Received: {name}={optimizer!r}")
    return optimizer


def batch_psnr(hr, sr):
    """Mean PSNR in dB over a batch of ``(N, H, W, C)`` images in [0, 1] (``sr`` clipped to [0, 1])."""
    sr = ops.clip(sr, 0.0, 1.0)
    mse = ops.mean(ops.square(hr - sr), axis=tuple(range(1, len(hr.shape))))
    return ops.mean(10.0 * ops.log(1.0 / ops.maximum(mse, 1e-10)) / math.log(10.0))


class SRGAN(keras.Model):
    """Adversarial fine-tuning of a super-resolution generator (SRGAN / ESRGAN losses).

    Paper: Christian Ledig et al. (2017). Photo-Realistic Single Image
    Super-Resolution Using a Generative Adversarial Network.

    Generator loss: ``content_loss(hr, sr) + adversarial_weight * adversarial
    + pixel_weight * MSE(hr, sr)``; SRGAN uses ``PerceptualLoss()`` (VGG54)
    and ``adversarial_weight=1e-3``. ``adversarial_kind="relativistic"`` gives
    ESRGAN's relativistic average GAN (Wang et al. 2018 use an L1 loss on VGG19
    ``conv5_4`` features before the activation, ``adversarial_weight=5e-3`` and an
    L1 pixel term; ``PerceptualLoss(layer="vgg54", feature_scale=1, distance="l1")``
    with ``pixel_weight`` approximates it: after the ReLU, and an MSE pixel term).

    Args:
        generator: ``keras.Model`` mapping LR ``(N, h, w, C)`` to SR ``(N, H, W, C)``
            in [0, 1], e.g. :func:`srlib.models.srresnet.srresnet`.
        discriminator: ``keras.Model`` mapping HR ``(N, H, W, C)`` to logits,
            e.g. :func:`srlib.models.srresnet.discriminator` built for the HR
            patch size.
        name: model name. Default: "srgan".

    Data: ``(lr, hr)`` batches, float in [0, 1]; ``hr`` must have the
    discriminator's input size.

    Logs (training): ``d_loss``, ``g_loss`` (the total), ``content_loss``,
    ``adversarial_loss`` (the generator's, unweighted), ``pixel_loss`` (MSE,
    unweighted), ``psnr`` (RGB PSNR on the training patches, not the Y-channel
    protocol of a validation callback), ``d_real`` and ``d_fake`` (mean ``sigmoid`` of
    the discriminator logits on real and generated images, before its update; for
    ``"relativistic"``, of each logit minus the other side's mean, what RaGAN scores).
    Logs (validation): ``content_loss``, ``pixel_loss``, ``psnr``.
    """

    def __init__(self, generator, discriminator, name="srgan", **kwargs):
        super().__init__(name=name, **kwargs)
        for value, what in ((generator, "generator"), (discriminator, "discriminator")):
            if not isinstance(value, keras.Model):
                raise ValueError(f"`{what}` must be a keras.Model. Received: {what}={value!r}")
        if generator is discriminator:
            raise ValueError("`generator` and `discriminator` must be two different models")
        self.generator = generator
        self.discriminator = discriminator
        self.trackers = {metric: keras.metrics.Mean(name=metric) for metric in TRAIN_METRICS}
        self.built = generator.built and discriminator.built

    def compile(self, g_optimizer, d_optimizer, content_loss, adversarial_kind="bce", adversarial_weight=1e-3,
                pixel_weight=0.0, jit_compile=False, **kwargs):
        """Sets the optimizers and losses.

        Args:
            g_optimizer: optimizer of the generator; also ``self.optimizer``.
            d_optimizer: optimizer of the discriminator (a different instance).
            content_loss: ``loss(hr, sr) -> scalar``, e.g.
                :class:`srlib.losses.PerceptualLoss` or :class:`srlib.losses.MSELoss`.
            adversarial_kind: ``"bce"`` (SRGAN), ``"lsgan"`` or
                ``"relativistic"`` (ESRGAN). Default: "bce".
            adversarial_weight: weight of the generator's adversarial loss.
                Default: 1e-3 (SRGAN).
            pixel_weight: weight of an MSE pixel term. Default: 0.
            jit_compile: XLA for the steps. Default: False.
            **kwargs: passed to ``keras.Model.compile`` (e.g. ``steps_per_execution``).
        """
        g_optimizer = _check_optimizer(g_optimizer, "g_optimizer")
        d_optimizer = _check_optimizer(d_optimizer, "d_optimizer")
        if g_optimizer is d_optimizer:
            raise ValueError("`g_optimizer` and `d_optimizer` must be two different optimizer instances "
                             "(each keeps the state of its own network's variables)")
        if not callable(content_loss):
            raise ValueError("`content_loss` must be callable as loss(hr, sr). "
                             f"Received: content_loss={content_loss!r}")
        if adversarial_kind not in ADVERSARIAL_KINDS:
            raise ValueError(f"`adversarial_kind` must be one of {ADVERSARIAL_KINDS}. "
                             f"Received: adversarial_kind={adversarial_kind!r}")
        for key in ("loss", "metrics", "optimizer"):
            if key in kwargs:
                raise ValueError(f"SRGAN.compile() does not take `{key}`: use g_optimizer, d_optimizer, "
                                 "content_loss and the weights")
        self.adversarial_weight = non_negative_number(adversarial_weight, "adversarial_weight")
        self.pixel_weight = non_negative_number(pixel_weight, "pixel_weight")
        self.content_loss, self.adversarial_kind = content_loss, adversarial_kind
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        # Built here on their own network, before fit() would build self.optimizer on every variable.
        for optimizer, network in ((g_optimizer, self.generator), (d_optimizer, self.discriminator)):
            if not optimizer.built:
                optimizer.build(network.trainable_variables)
        super().compile(optimizer=g_optimizer, jit_compile=jit_compile, **kwargs)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def _check_hr(self, hr):
        expected = tuple(self.discriminator.input_shape[1:])
        actual = tuple(hr.shape[1:])
        if len(expected) != len(actual) or any(e is not None and a is not None and e != a
                                               for e, a in zip(expected, actual)):
            raise ValueError(f"HR batches of shape {actual} do not fit the discriminator input {expected}: "
                             "build the discriminator for the HR patch size")

    def _discriminator_step(self, hr, sr):
        """One discriminator update on real ``hr`` against generated ``sr``; returns its logs."""
        sr = tf.stop_gradient(sr)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(hr, training=True)
            fake_logits = self.discriminator(sr, training=True)
            d_loss = discriminator_adversarial_loss(real_logits, fake_logits, self.adversarial_kind)
        variables = self.discriminator.trainable_variables
        self.d_optimizer.apply_gradients(zip(tape.gradient(d_loss, variables), variables))
        if self.adversarial_kind == "relativistic":
            # RaGAN's loss ignores a constant added to every logit, so raw logits drift and mean
            # nothing alone: log what it scores, each side against the other's mean.
            real_logits, fake_logits = (real_logits - ops.mean(fake_logits), fake_logits - ops.mean(real_logits))
        return {"d_loss": d_loss, "d_real": ops.mean(ops.sigmoid(real_logits)),
                "d_fake": ops.mean(ops.sigmoid(fake_logits))}

    def _generator_losses(self, hr, sr):
        """Total generator loss and its terms, against the current discriminator."""
        fake_logits = self.discriminator(sr, training=True)
        real_logits = None
        if self.adversarial_kind == "relativistic":
            real_logits = tf.stop_gradient(self.discriminator(hr, training=True))
        content = self.content_loss(hr, sr)
        adversarial = generator_adversarial_loss(real_logits, fake_logits, self.adversarial_kind)
        pixel = ops.mean(ops.square(hr - sr))
        total = content + self.adversarial_weight * adversarial + self.pixel_weight * pixel
        return total, {"g_loss": total, "content_loss": content, "adversarial_loss": adversarial, "pixel_loss": pixel}

    def train_step(self, data):
        lr, hr = data[:2]
        self._check_hr(hr)
        with tf.GradientTape() as tape:
            sr = self.generator(lr, training=True)  # once per step: its batch-norm statistics move once
            with tape.stop_recording():
                logs = self._discriminator_step(hr, sr)
            g_loss, g_logs = self._generator_losses(hr, sr)
        variables = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(zip(tape.gradient(g_loss, variables), variables))
        logs.update(g_logs, psnr=batch_psnr(hr, sr))
        return self._update(logs)

    def test_step(self, data):
        lr, hr = data[:2]
        sr = self.generator(lr, training=False)
        logs = {"content_loss": self.content_loss(hr, sr), "pixel_loss": ops.mean(ops.square(hr - sr)),
                "psnr": batch_psnr(hr, sr)}
        return self._update(logs)

    def _update(self, logs):
        for metric, value in logs.items():
            self.trackers[metric].update_state(value)
        return {metric: self.trackers[metric].result() for metric in logs}
