"""A tiny real int8 model obeying the model contract, for testing the deploy path before the shipped model
exists. Desktop only (needs TensorFlow); never shipped, never a substitute for the trained model.

    python -m deploy.tiny_model OUT_DIR [--image examples/astronaut.jpg]

writes OUT_DIR/tiny_int8.tflite and OUT_DIR/tiny_int8.json (labels, input contract and, when the sample image
exists, a `reference` recorded with fer_edge.selfcheck.record_reference, as the quantize stage does).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

LABELS = ["happy", "sad", "neutral", "surprise"]
REPO = Path(__file__).resolve().parent.parent


def build_tflite(seed: int = 0) -> bytes:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import tensorflow as tf

    tf.random.set_seed(seed)
    rng = np.random.default_rng(seed)
    inputs = tf.keras.Input((48, 48, 1), batch_size=1)
    x = tf.keras.layers.Conv2D(8, 3, strides=2, activation="relu")(inputs)
    x = tf.keras.layers.Conv2D(16, 3, strides=2, activation="relu")(x)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    outputs = tf.keras.layers.Dense(len(LABELS), activation="softmax")(x)
    model = tf.keras.Model(inputs, outputs)

    def representative():
        for _ in range(32):
            yield [rng.integers(0, 256, (1, 48, 48, 1)).astype(np.float32) / 255.0]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def write_model(out_dir: Path, image: Path | None = None, name: str = "tiny_int8") -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    model = out_dir / f"{name}.tflite"
    model.write_bytes(build_tflite())
    card = {
        "labels": LABELS,
        "input": {"height": 48, "width": 48, "channels": 1, "color": "gray", "normalize": "pixel/255"},
        "model": {"name": name, "dtype": "int8", "made_by": "python -m deploy.tiny_model (test only, untrained)"},
    }
    sidecar = model.with_suffix(".json")
    sidecar.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    if image is not None and image.is_file():
        from fer_edge.selfcheck import record_reference

        card["reference"] = record_reference(model, image)
        sidecar.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return model


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m deploy.tiny_model", description=__doc__.split("\n\n")[0])
    p.add_argument("out_dir", type=Path)
    p.add_argument("--image", type=Path, default=REPO / "examples" / "astronaut.jpg")
    a = p.parse_args(argv)
    print(write_model(a.out_dir, a.image))
    return 0


if __name__ == "__main__":
    sys.exit(main())
