"""Build a tiny but real model set for developing and testing the benchmarks before the shipped model exists.

    python -m benchmarks.tiny OUT [--data PATH] [--per-class 300] [--epochs 3] [--from-keras MODEL.keras]

Writes OUT/best.keras (tf-keras), OUT/quant/float32.tflite, OUT/quant/int8.tflite (full-integer int8 with a
representative data set, int8 in/out) and a sidecar JSON beside each .tflite (CONTRACTS.md). Without --data
it trains on random faces (only good for plumbing tests).
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from benchmarks.common import FOUR, folder_dataset, load_faces  # noqa: E402


def build(n_classes: int, width: int = 8):
    import tf_keras as keras
    L = keras.layers
    inp = keras.Input((48, 48, 1))
    x = L.Conv2D(width, 3, padding="same", activation="relu")(inp)
    x = L.MaxPooling2D()(x)
    x = L.Conv2D(width * 2, 3, padding="same", activation="relu")(x)
    x = L.MaxPooling2D()(x)
    x = L.DepthwiseConv2D(3, padding="same", activation="relu")(x)
    x = L.Conv2D(width * 4, 1, activation="relu")(x)
    x = L.GlobalAveragePooling2D()(x)
    out = L.Dense(n_classes, activation="softmax")(x)
    m = keras.Model(inp, out, name="tiny")
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def sidecar(path: Path, labels, dtype: str):
    path.with_suffix(".json").write_text(json.dumps({
        "labels": list(labels),
        "input": {"height": 48, "width": 48, "channels": 1, "color": "gray", "normalize": "pixel/255"},
        "model": {"name": "tiny", "dtype": dtype, "made_by": "python -m benchmarks.tiny"},
    }, indent=1))


def make(out, data=None, per_class=300, epochs=3, labels=FOUR, seed=0, from_keras=None):
    import tensorflow as tf
    tf.keras.utils.set_random_seed(seed)
    out = Path(out)
    (out / "quant").mkdir(parents=True, exist_ok=True)
    if data:
        ds = folder_dataset(data, labels, split="train", limit=per_class)
        x, y = load_faces(ds["files"]), ds["y"]
    else:
        rng = np.random.default_rng(seed)
        x = rng.integers(0, 256, (per_class * len(labels), 48, 48), dtype=np.uint8)
        y = np.arange(len(x)) % len(labels)
    xf = (x.astype(np.float32) / 255.0)[..., None]
    if from_keras:  # convert an existing model (e.g. a training checkpoint) instead of training one
        import tf_keras as keras
        m = keras.models.load_model(str(from_keras), compile=False)
        m.save(out / "model.keras")
    else:
        m = build(len(labels))
        m.fit(xf, y, epochs=epochs, batch_size=64, verbose=0, shuffle=True)
        m.save(out / "best.keras")
    (out / "config.json").write_text(json.dumps({"model": "tiny", "labels": list(labels)}))

    conv = tf.lite.TFLiteConverter.from_keras_model(m)
    fpath = out / "quant" / "float32.tflite"
    fpath.write_bytes(conv.convert())
    sidecar(fpath, labels, "float32")

    rep = xf[np.random.default_rng(seed).permutation(len(xf))[:200]]

    def representative():
        for i in range(len(rep)):
            yield [rep[i:i + 1]]

    conv = tf.lite.TFLiteConverter.from_keras_model(m)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    ipath = out / "quant" / "int8.tflite"
    ipath.write_bytes(conv.convert())
    sidecar(ipath, labels, "int8")
    return {"keras": out / ("model.keras" if from_keras else "best.keras"), "float_tflite": fpath, "int8_tflite": ipath}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--data", default=None)
    ap.add_argument("--per-class", type=int, default=300)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--from-keras", default=None, help="convert this Keras model instead of training a tiny one")
    a = ap.parse_args(argv)
    print(make(a.out, a.data, a.per_class, a.epochs, from_keras=a.from_keras))


if __name__ == "__main__":
    main()
