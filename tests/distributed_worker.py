"""Trains a recipe model under MirroredStrategy on two logical CPU devices (run by test_train.py).

Logical devices must be configured before TensorFlow initialises its runtime, so this
runs in its own process. Prints one JSON line: replicas, losses, weight change, val_psnr.
"""

import json
import sys

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import numpy as np  # noqa: E402

from srlib import data, train, training  # noqa: E402

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    model = train.compiled_model("espcn", 3, train.RECIPES["espcn"])
before = [w.copy() for w in model.get_weights()]
dataset = data.training_dataset("embedded", 3, 48, batch_size=8, steps_per_epoch=3, seed=0)
validation = training.ProtocolValidation("embedded", 3, limit=1)
history = model.fit(dataset, epochs=2, steps_per_epoch=3, callbacks=[validation], verbose=0, shuffle=False)
change = max(float(np.abs(a - b).max()) for a, b in zip(model.get_weights(), before))
json.dump({"replicas": strategy.num_replicas_in_sync, "loss": history.history["loss"],
           "val_psnr": history.history["val_psnr"], "weight_change": change}, sys.stdout)
