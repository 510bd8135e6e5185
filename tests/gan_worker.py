"""Subprocess side of tests/test_gan.py: SRGAN fits that resume in a fresh process.

    python gan_worker.py first  DIRECTORY OUTPUT.npz  # 2 epochs in one go, then 1 epoch + checkpoint
    python gan_worker.py second DIRECTORY OUTPUT.npz  # restore in this fresh process, 1 more epoch

Op determinism is switched on here rather than in the pytest process, where it
would be global for every other test.
"""

import sys

import keras
import numpy as np
import tensorflow as tf

from srlib import data
from srlib.checkpoint import CheckpointSaver
from srlib.gan import SRGAN
from srlib.losses import MSELoss
from srlib.models.srresnet import discriminator, srresnet

SEED = 1234
EPOCHS = 2
STEPS_PER_EPOCH = 2
PATCH = 24


def set_up_determinism():
    tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(SEED)
    tf.random.set_global_generator(tf.random.Generator.from_seed(SEED + 1))


def train(epochs, directory=None):
    """Fits SRGAN up to `epochs`, resuming from the checkpoint in `directory` if it holds one."""
    set_up_determinism()
    generator = srresnet(scale=2, channels=3, num_blocks=1, filters=8)
    critic = discriminator((PATCH, PATCH, 3))
    g_optimizer, d_optimizer = keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3, beta_1=0.5)
    gan = SRGAN(generator, critic)
    gan.compile(g_optimizer, d_optimizer, content_loss=MSELoss(), adversarial_weight=1e-2, pixel_weight=0.5)
    initial_epoch, callbacks = 0, []
    if directory is not None:
        saver = CheckpointSaver(directory, models={"generator": generator, "discriminator": critic},
                                optimizers={"generator": g_optimizer, "discriminator": d_optimizer})
        initial_epoch = saver.restore_or_initialize()  # before the dataset, which starts at this epoch
        callbacks = [saver.callback()]
    dataset = data.training_dataset("embedded", 2, PATCH, batch_size=2, steps_per_epoch=STEPS_PER_EPOCH,
                                    seed=SEED, epoch=initial_epoch, channels="rgb")
    gan.fit(dataset, epochs=epochs, steps_per_epoch=STEPS_PER_EPOCH, initial_epoch=initial_epoch,
            callbacks=callbacks, verbose=0)
    variables = generator.variables + critic.variables + g_optimizer.variables + d_optimizer.variables
    return {f"{index:03d}": variable.numpy() for index, variable in enumerate(variables)}


def main(mode, directory, output):
    results = {}
    if mode == "first":
        results.update({f"reference/{key}": value for key, value in train(EPOCHS).items()})
        results.update({f"half/{key}": value for key, value in train(1, directory).items()})
    elif mode == "second":
        results.update({f"resumed/{key}": value for key, value in train(EPOCHS, directory).items()})
    else:
        raise ValueError(f"unknown mode {mode!r}; expected first or second")
    np.savez(output, **results)


if __name__ == "__main__":
    main(*sys.argv[1:])
