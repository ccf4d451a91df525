"""Shared fixtures: real tiny .tflite models built once per session, the shipped samples, and a CLI runner.

The models are real (a tiny tf-keras net, a few training steps, full-integer conversion), so every test runs
the same interpreter code as the device; only the tests import TensorFlow, never `fer_edge`.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # must precede any tensorflow import in this process
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
LABELS = ["happy", "sad", "neutral", "surprise"]


@dataclass(frozen=True)
class TinyModels:
    int8: Path  # int8 in, int8 out, with sidecar
    float32: Path  # the same weights unquantised, with sidecar
    wrong_signature: Path  # 3-channel input and two outputs, with sidecar
    samples: np.ndarray  # uint8 [N, 48, 48] faces the models were trained on
    labels: list[str]


def synthetic_faces(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """uint8 [n, 48, 48] images whose class is the brightest quadrant: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(LABELS), n)
    x = rng.uniform(0, 110, (n, 48, 48))
    for i, k in enumerate(y):
        r, c = divmod(int(k), 2)
        x[i, r * 24 : (r + 1) * 24, c * 24 : (c + 1) * 24] += 140
    return x.clip(0, 255).astype(np.uint8), y


def write_sidecar(model_path: Path, labels: list[str], dtype: str) -> Path:
    path = model_path.with_suffix(".json")
    path.write_text(json.dumps({
        "labels": labels,
        "input": {"height": 48, "width": 48, "channels": 1, "color": "gray", "normalize": "pixel/255"},
        "model": {"name": "tiny-test", "dtype": dtype, "made_by": "tests/conftest.py"},
    }))
    return path


def _build_tiny_models(folder: Path) -> TinyModels:
    import tensorflow as tf
    import tf_keras as keras

    from quantize.convert import to_float_tflite, to_int8_tflite

    tf.random.set_seed(0)
    faces, y = synthetic_faces(512)
    x = faces[..., None].astype(np.float32) / 255.0
    model = keras.Sequential([
        keras.layers.Input((48, 48, 1)),
        keras.layers.Conv2D(4, 3, strides=2, activation="relu"),
        keras.layers.MaxPooling2D(4),
        keras.layers.Flatten(),
        keras.layers.Dense(len(LABELS)),
        keras.layers.Softmax(),
    ])
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=64, epochs=3, verbose=0)

    # The device's own conversion path; an all-black and an all-white face pin the input range.
    calibration = np.concatenate([np.zeros((1, 48, 48), np.uint8), np.full((1, 48, 48), 255, np.uint8), faces[:64]])
    int8 = folder / "tiny_int8.tflite"
    with warnings.catch_warnings():  # "Statistics for quantized inputs were expected": we quantise the input
        warnings.simplefilter("ignore", UserWarning)
        int8.write_bytes(to_int8_tflite(model, calibration))
    write_sidecar(int8, LABELS, "int8")

    float32 = folder / "tiny_float.tflite"
    float32.write_bytes(to_float_tflite(model))
    write_sidecar(float32, LABELS, "float32")

    inp = keras.layers.Input((48, 48, 3))
    flat = keras.layers.Flatten()(keras.layers.AveragePooling2D(8)(inp))
    wrong = keras.Model(inp, [keras.layers.Dense(len(LABELS))(flat), keras.layers.Dense(2)(flat)])
    wrong_path = folder / "wrong_signature.tflite"
    wrong_path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(wrong).convert())
    write_sidecar(wrong_path, LABELS, "float32")
    return TinyModels(int8, float32, wrong_path, faces[:64], LABELS)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    return _build_tiny_models(tmp_path_factory.mktemp("tiny_models"))


@pytest.fixture(scope="session")
def int8_model(tiny_models: TinyModels) -> Path:
    return tiny_models.int8


@pytest.fixture(scope="session")
def float_model(tiny_models: TinyModels) -> Path:
    return tiny_models.float32


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return REPO / "examples"


@pytest.fixture(scope="session")
def run_cli():
    """Run `fer-edge-run ARGS` as a real subprocess (`python -m fer_edge`) from the repository root."""

    def run(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "fer_edge", *map(str, args)],
            cwd=REPO, capture_output=True, text=True, timeout=timeout,
        )

    return run


@pytest.fixture(scope="session")
def referenced_model(int8_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny int8 model with a `reference` recorded on the shipped sample, as the quantize stage does."""
    import shutil

    from fer_edge.selfcheck import record_reference

    folder = tmp_path_factory.mktemp("referenced")
    model = folder / "model.tflite"
    shutil.copy2(int8_model, model)
    shutil.copy2(int8_model.with_suffix(".json"), model.with_suffix(".json"))
    card = json.loads(int8_model.with_suffix(".json").read_text())
    card["reference"] = record_reference(model, REPO / "examples" / "astronaut.jpg")
    model.with_suffix(".json").write_text(json.dumps(card))
    return model
