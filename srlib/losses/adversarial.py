"""Adversarial losses on discriminator logits: BCE, LSGAN and relativistic average.

Conventions: see :mod:`srlib.losses`.
"""

from keras import ops


ADVERSARIAL_KINDS = ("bce", "lsgan", "relativistic")


def _validate_kind(kind, real_logits):
    if kind not in ADVERSARIAL_KINDS:
        raise ValueError(f"`kind` must be one of {ADVERSARIAL_KINDS}. Received: kind={kind!r}")
    if kind == "relativistic" and real_logits is None:
        raise ValueError(
            "`real_logits` is required for kind='relativistic', which compares real and fake logits. "
            "Received: real_logits=None"
        )


def _float32_logits(real_logits, fake_logits):
    # A discriminator under a mixed precision policy gives bfloat16/float16
    # logits; softplus and the means over the batch need float32 (bfloat16 keeps
    # 8 bits of mantissa). real_logits may be None where the kind does not use it.
    real_logits = None if real_logits is None else ops.cast(real_logits, "float32")
    return real_logits, ops.cast(fake_logits, "float32")


def _relativistic_logits(real_logits, fake_logits):
    """``C(x_r) - E[C(x_f)]`` and ``C(x_f) - E[C(x_r)]``, means over the whole batch."""
    return real_logits - ops.mean(fake_logits), fake_logits - ops.mean(real_logits)


# On logits, BCE(z, target 1) = softplus(-z) and BCE(z, target 0) = softplus(z),
# which is the numerically stable form of -log(sigmoid(z)) and -log(1 - sigmoid(z)).


def generator_adversarial_loss(real_logits, fake_logits, kind="bce"):
    """Adversarial loss of the generator, a scalar, from discriminator logits.

    Papers: Ian Goodfellow et al. (2014), Generative Adversarial Nets; Xudong
    Mao et al. (2017), Least Squares Generative Adversarial Networks; Alexia
    Jolicoeur-Martineau (2018), The Relativistic Discriminator: a Key Element
    Missing from Standard GAN.

    * ``"bce"``: non-saturating GAN (Goodfellow et al. 2014; SRGAN),
      ``BCE(fake, 1)``.
    * ``"lsgan"``: least squares (Mao et al. 2017), ``mean (fake - 1)**2``
      (Mao et al.'s 1/2 factor dropped, as in the discriminator's loss).
    * ``"relativistic"``: relativistic average GAN (Jolicoeur-Martineau 2018;
      ESRGAN, Wang et al. 2018), ``(BCE(real - mean fake, 0) +
      BCE(fake - mean real, 1)) / 2``. The 1/2 follows the ESRGAN and BasicSR
      code, so their loss weight (5e-3) carries over.

    Args:
        real_logits: discriminator logits on ground-truth images, any shape
            (one per image or a patch map); used by "relativistic" only, may
            be None otherwise.
        fake_logits: discriminator logits on generated images.
        kind: one of ``ADVERSARIAL_KINDS``. Default: "bce".

    Returns:
        A float32 scalar tensor (the mean over every logit), whatever the
        logits' dtype.
    """
    _validate_kind(kind, real_logits)
    real_logits, fake_logits = _float32_logits(real_logits, fake_logits)
    if kind == "bce":
        return ops.mean(ops.softplus(-fake_logits))
    if kind == "lsgan":
        return ops.mean(ops.square(fake_logits - 1.0))
    real_vs_fake, fake_vs_real = _relativistic_logits(real_logits, fake_logits)
    return 0.5 * (ops.mean(ops.softplus(real_vs_fake)) + ops.mean(ops.softplus(-fake_vs_real)))


def discriminator_adversarial_loss(real_logits, fake_logits, kind="bce"):
    """Adversarial loss of the discriminator, a scalar, from its logits.

    * ``"bce"``: ``BCE(real, 1) + BCE(fake, 0)``.
    * ``"lsgan"``: ``mean (real - 1)**2 + mean fake**2`` (Mao et al.'s 1/2
      factor is dropped, matching the BCE sum above).
    * ``"relativistic"``: ``(BCE(real - mean fake, 1) + BCE(fake - mean real, 0)) / 2``
      (ESRGAN/BasicSR convention).

    Args:
        real_logits: discriminator logits on ground-truth images.
        fake_logits: discriminator logits on generated images (stop their
            gradient towards the generator in the discriminator step).
        kind: one of ``ADVERSARIAL_KINDS``. Default: "bce".

    Returns:
        A float32 scalar tensor (papers: see :func:`generator_adversarial_loss`).
    """
    _validate_kind(kind, real_logits)
    real_logits, fake_logits = _float32_logits(real_logits, fake_logits)
    if kind == "bce":
        return ops.mean(ops.softplus(-real_logits)) + ops.mean(ops.softplus(fake_logits))
    if kind == "lsgan":
        return ops.mean(ops.square(real_logits - 1.0)) + ops.mean(ops.square(fake_logits))
    real_vs_fake, fake_vs_real = _relativistic_logits(real_logits, fake_logits)
    return 0.5 * (ops.mean(ops.softplus(-real_vs_fake)) + ops.mean(ops.softplus(fake_vs_real)))
