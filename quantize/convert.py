"""Keras -> TFLite: a float32 reference and the full-integer int8 model the device runs."""
from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from typing import Iterator

import numpy as np
import tensorflow as tf
import tf_keras as keras


def representative_faces(x: np.ndarray, y: np.ndarray, count: int, seed: int) -> np.ndarray:
    """A class-stratified sample of real training faces: calibration ranges must come from the data the
    model will see, never from noise."""
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    per_class = max(1, count // len(classes))
    idx = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per_class] for c in classes])
    return x[np.sort(idx)]


def _fixed_batch(model: keras.Model) -> tf.types.experimental.ConcreteFunction:
    """Batch size 1, static: the device contract, and no dynamic-shape ops for the Edge TPU compiler."""
    shape = [1, *model.input_shape[1:]]
    fn = tf.function(lambda x: model(x, training=False))
    return fn.get_concrete_function(tf.TensorSpec(shape, tf.float32))


def to_float_tflite(model: keras.Model) -> bytes:
    converter = tf.lite.TFLiteConverter.from_concrete_functions([_fixed_batch(model)], model)
    return converter.convert()


def to_int8_tflite(model: keras.Model, calibration: np.ndarray, io_type: str = "int8") -> bytes:
    """Full-integer quantisation: int8 (or uint8) input and output, int8 everything in between.

    `calibration` holds uint8 faces [N, 48, 48]; they are fed as pixel/255 like the float model saw them.
    """
    def samples() -> Iterator[list[np.ndarray]]:
        for face in calibration:
            yield [face.astype(np.float32)[None, :, :, None] / 255.0]

    converter = tf.lite.TFLiteConverter.from_concrete_functions([_fixed_batch(model)], model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = samples
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    dtype = {"int8": tf.int8, "uint8": tf.uint8}[io_type]
    converter.inference_input_type = dtype
    converter.inference_output_type = dtype
    return converter.convert()
