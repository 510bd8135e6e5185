"""Subprocess side of tests/test_checkpoint.py: trainings that resume in a fresh process, and a save loop to kill.

    python checkpoint_worker.py first  DIRECTORY OUTPUT.npz   # reference runs, then first halves + checkpoints
    python checkpoint_worker.py second DIRECTORY OUTPUT.npz   # restore in this fresh process, second halves
    python checkpoint_worker.py save-loop DIRECTORY           # save forever, content = save index

Determinism (op determinism, seeds) is switched on here rather than in the pytest
process, where it would be global for every other test.
"""

import os
import random
import sys

import keras
import numpy as np
import tensorflow as tf

from srlib.checkpoint import CheckpointSaver, epoch_permutation

SEED = 1234
EPOCHS = 2  # each run below trains EPOCHS; "first" stops after 1, "second" resumes at 1
STEPS_PER_EPOCH = 4
BATCH_SIZE = 4


def set_up_determinism():
    """What a notebook does at the top; every run below calls it and then builds new objects."""
    tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(SEED)
    # Under op determinism TF's global generator exists only once set; the GAN draws from it.
    tf.random.set_global_generator(tf.random.Generator.from_seed(SEED + 1))


# ------------------------------------------------------------- supervised + fit

def supervised_model():
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
        keras.layers.Dropout(0.25),  # its SeedGenerator state is a model variable
        keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(1, 3, padding="same"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


def supervised_dataset(first_epoch):
    """Batches of epochs first_epoch..EPOCHS-1, each in an order that depends on (SEED, epoch) only."""
    data = np.random.default_rng(0)
    count = STEPS_PER_EPOCH * BATCH_SIZE
    inputs = data.random((count, 8, 8, 1), dtype=np.float32)
    targets = np.sqrt(inputs)
    order = np.concatenate([epoch_permutation(count, SEED, epoch) for epoch in range(first_epoch, EPOCHS)])
    return tf.data.Dataset.from_tensor_slices((inputs[order], targets[order])).batch(BATCH_SIZE)


def train_supervised(epochs, directory=None):
    """Fits up to `epochs`, from the checkpoint in `directory` if it holds one, else from scratch."""
    model = supervised_model()
    callbacks = []
    initial_epoch = 0
    if directory is not None:
        saver = CheckpointSaver(directory, model, monitor="loss")
        initial_epoch = saver.restore_or_initialize()  # before the dataset, whose order depends on the epoch
        callbacks = [saver.callback()]
    model.fit(supervised_dataset(initial_epoch), epochs=epochs, initial_epoch=initial_epoch,
              steps_per_epoch=STEPS_PER_EPOCH, callbacks=callbacks, verbose=0)
    return model.variables


# ------------------------------------------------------------ GAN, custom loop

def gan(directory):
    generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(6)])
    discriminator = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                                      keras.layers.Dense(1)])
    g_optimizer = keras.optimizers.Adam(1e-3)
    d_optimizer = keras.optimizers.Adam(4e-3, beta_1=0.5)
    noise = tf.random.Generator.from_seed(SEED + 2)
    saver = None if directory is None else CheckpointSaver(
        directory, models={"generator": generator, "discriminator": discriminator},
        optimizers={"generator": g_optimizer, "discriminator": d_optimizer},
        random_generators={"noise": noise}, keep_last=2)
    return generator, discriminator, g_optimizer, d_optimizer, noise, saver


def train_gan(epochs, directory=None):
    """Custom loop drawing from every saved generator: TF (ours and global), Keras global, NumPy, Python."""
    generator, discriminator, g_optimizer, d_optimizer, noise, saver = gan(directory)
    real_data = np.random.default_rng(1).normal(size=(32, 6)).astype(np.float32)
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def train_step(real, instance_noise, smoothing):
        latent = noise.normal((BATCH_SIZE, 4))
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(latent, training=True)
            real_logits = discriminator(real + instance_noise, training=True)
            fake_logits = discriminator(fake + instance_noise, training=True)
            d_loss = (cross_entropy(tf.ones_like(real_logits) - smoothing, real_logits)
                      + cross_entropy(tf.zeros_like(fake_logits), fake_logits))
            g_loss = cross_entropy(tf.ones_like(fake_logits), fake_logits)
        g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, generator.trainable_variables),
                                        generator.trainable_variables))
        d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, discriminator.trainable_variables),
                                        discriminator.trainable_variables))
        return g_loss, d_loss

    state = saver.restore() if saver is not None else None
    step = state.step if state else 0
    for epoch in range(state.epoch if state else 0, epochs):
        for _ in range(STEPS_PER_EPOCH):
            indices = np.random.choice(len(real_data), BATCH_SIZE, replace=False)
            scale = 0.1 * random.random()
            instance_noise = keras.random.normal((BATCH_SIZE, 6), stddev=scale)  # Keras' global SeedGenerator
            smoothing = tf.random.get_global_generator().uniform((), 0.0, 0.1)
            g_loss, d_loss = train_step(real_data[indices], instance_noise, smoothing)
            step += 1
        if saver is not None:
            saver.save(epoch=epoch + 1, step=step, metrics={"g_loss": g_loss, "d_loss": d_loss})
    return generator.variables + discriminator.variables + g_optimizer.variables + d_optimizer.variables


def arrays(prefix, variables):
    return {f"{prefix}/{index:03d}": variable.numpy() for index, variable in enumerate(variables)}


def main(mode, directory, output=None):
    results = {}
    if mode == "first":
        set_up_determinism()
        results.update(arrays("supervised_reference", train_supervised(EPOCHS)))
        set_up_determinism()
        results.update(arrays("gan_reference", train_gan(EPOCHS)))
        set_up_determinism()
        results.update(arrays("supervised_half", train_supervised(1, os.path.join(directory, "supervised"))))
        set_up_determinism()
        results.update(arrays("gan_half", train_gan(1, os.path.join(directory, "gan"))))
    elif mode == "second":
        set_up_determinism()
        results.update(arrays("supervised_resumed", train_supervised(EPOCHS, os.path.join(directory, "supervised"))))
        set_up_determinism()
        results.update(arrays("gan_resumed", train_gan(EPOCHS, os.path.join(directory, "gan"))))
    elif mode == "save-loop":
        save_loop(directory)
    else:
        raise ValueError(f"unknown mode {mode!r}; expected first, second or save-loop")
    if output is not None:
        np.savez(output, **results)


def save_loop(directory):
    """Saves forever; every variable of save i is filled with i, so a restore tells which save it got."""
    model = keras.Sequential([keras.Input((1024,)), keras.layers.Dense(1024), keras.layers.Dense(1024)])
    optimizer = keras.optimizers.Adam()
    optimizer.build(model.trainable_variables)
    saver = CheckpointSaver(directory, model, optimizers={"model": optimizer}, keep_last=2)
    state = saver.restore()
    index = state.epoch if state else 0
    # A long history makes the JSON write take a while too, so that kills land in it as well.
    saver.history = {"loss": [0.5] * 200_000}
    while True:
        index += 1
        for variable in model.variables + optimizer.variables:
            variable.assign(np.full(variable.shape, index, dtype=variable.dtype))
        print(f"saving {index}", flush=True)
        saver.save(epoch=index, step=index, metrics={"loss": float(index)})
        print(f"saved {index}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
