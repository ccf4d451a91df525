"""The one training and evaluation path every registry model goes through.

A run writes everything needed to judge and reproduce it into its folder: config.json, versions.json,
data.json (fingerprint, split sizes, duplicate handling), history.json, metrics.json, curves.png,
confusion.png and the best-on-validation model.model.keras.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import json
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import tensorflow as tf
import tf_keras as keras

from fer_edge.metrics import Accuracy, accuracy, classification_report

from .config import TrainConfig
from .data import CLASS_SETS, Prepared, Split, fingerprint, load_dataset, prepare
from .models import TRANSFER_MODELS, ModelParts, build
from .plots import plot_confusion, plot_curves

MODEL_FILE = "model.keras"


def to_inputs(x: np.ndarray, color: str) -> np.ndarray:
    """uint8 faces -> the model contract: float pixel/255, NHWC, 1 or 3 channels."""
    x = x.astype(np.float32)[..., None] / 255.0
    return np.repeat(x, 3, axis=-1) if color == "rgb" else x


def augmenter(seed: int) -> keras.Sequential:
    """Small geometric and photometric jitter: faces stay upright and recognisable."""
    return keras.Sequential([
        keras.layers.RandomFlip("horizontal", seed=seed),
        keras.layers.RandomRotation(0.05, fill_mode="nearest", seed=seed),
        keras.layers.RandomTranslation(0.1, 0.1, fill_mode="nearest", seed=seed),
        keras.layers.RandomZoom((-0.1, 0.1), fill_mode="nearest", seed=seed),
        keras.layers.RandomContrast(0.2, seed=seed),
        keras.layers.RandomBrightness(0.1, value_range=(0.0, 1.0), seed=seed),
    ], name="augment")


def make_dataset(x: np.ndarray, y: np.ndarray, cfg: TrainConfig, num_classes: int,
                 training: bool) -> tf.data.Dataset:
    ds = tf.data.Dataset.from_tensor_slices((x, keras.utils.to_categorical(y, num_classes)))
    if training:
        ds = ds.cache().shuffle(len(x), seed=cfg.seed, reshuffle_each_iteration=True)
    ds = ds.batch(cfg.batch_size)
    if training and cfg.augment:
        aug = augmenter(cfg.seed)
        ds = ds.map(lambda a, b: (tf.clip_by_value(aug(a, training=True), 0.0, 1.0), b),
                    num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def make_optimizer(cfg: TrainConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    lr = cfg.lr
    if cfg.schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(cfg.lr, decay_steps=max(1, cfg.epochs * steps_per_epoch))
    elif cfg.schedule not in ("plateau", "constant"):
        raise ValueError(f"unknown schedule '{cfg.schedule}' (cosine, plateau, constant)")
    if cfg.optimizer == "adam":
        return keras.optimizers.Adam(lr)
    if cfg.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=0.9, nesterov=True)
    if cfg.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(lr)
    raise ValueError(f"unknown optimizer '{cfg.optimizer}' (adam, sgd, rmsprop)")


def make_loss(cfg: TrainConfig) -> keras.losses.Loss:
    if cfg.output_activation == "sigmoid":
        return keras.losses.BinaryCrossentropy(label_smoothing=cfg.label_smoothing)
    return keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing)


class TimeBudget(keras.callbacks.Callback):
    """Stops a budget run after max_minutes; the best epoch so far is still restored and evaluated."""

    def __init__(self, minutes: float):
        super().__init__()
        self.deadline = time.monotonic() + 60 * minutes
        self.hit = False

    def on_train_batch_end(self, batch, logs=None):
        # Checked per batch: one epoch of a large transfer model can outlast the whole budget. Keras still
        # validates and checkpoints the cut epoch.
        if time.monotonic() > self.deadline:
            self.hit = True
            self.model.stop_training = True


class HistoryFile(keras.callbacks.Callback):
    """history.json rewritten after every epoch, so a run that is stopped or crashes keeps its curves."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self.history: dict[str, list[float]] = {}

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.path.write_text(json.dumps(self.history, indent=1) + "\n")


def callbacks(cfg: TrainConfig, out: Path) -> list[keras.callbacks.Callback]:
    cbs = [
        HistoryFile(out / "history.json"),
        keras.callbacks.ModelCheckpoint(str(out / MODEL_FILE), monitor="val_accuracy", save_best_only=True),
        keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=cfg.patience, restore_best_weights=True),
    ]
    if cfg.schedule == "plateau":
        cbs.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=3, min_lr=1e-5))
    if cfg.max_minutes:
        cbs.append(TimeBudget(cfg.max_minutes))
    return cbs


def class_weight_map(y: np.ndarray, num_classes: int) -> dict[int, float]:
    counts = np.bincount(y, minlength=num_classes)
    return {c: float(len(y) / (num_classes * max(1, n))) for c, n in enumerate(counts)}


def versions() -> dict:
    import cv2
    import tensorflow_model_optimization as tfmot

    return {"python": sys.version.split()[0], "platform": platform.platform(), "machine": platform.machine(),
            "tensorflow": tf.__version__, "tf_keras": keras.__version__, "tfmot": tfmot.__version__,
            "numpy": np.__version__, "opencv": cv2.__version__,
            "devices": [d.device_type for d in tf.config.list_physical_devices()]}


def _fit_head_on_features(parts: ModelParts, data: Prepared, cfg: TrainConfig, num_classes: int,
                          out: Path) -> keras.callbacks.History:
    """Frozen base: features are computed once, then only the head trains (no augmentation possible)."""
    feats = {name: parts.extractor.predict(to_inputs(split.x, cfg.color), batch_size=256, verbose=cfg.verbose)
             for name, split in (("train", data.train), ("val", data.val))}
    plain = replace(cfg, augment=False)
    parts.head.compile(make_optimizer(cfg, int(np.ceil(len(data.train) / cfg.batch_size))), make_loss(cfg),
                       metrics=["accuracy"])
    history = parts.head.fit(make_dataset(feats["train"], data.train.y, plain, num_classes, True),
                             validation_data=make_dataset(feats["val"], data.val.y, plain, num_classes, False),
                             epochs=cfg.epochs, verbose=cfg.verbose,
                             callbacks=[c for c in callbacks(cfg, out) if not isinstance(c, keras.callbacks.ModelCheckpoint)],
                             class_weight=class_weight_map(data.train.y, num_classes) if cfg.class_weights else None)
    parts.model.save(out / MODEL_FILE)
    return history


def predict(model: keras.Model, split: Split, cfg: TrainConfig) -> np.ndarray:
    return model.predict(to_inputs(split.x, cfg.color), batch_size=256, verbose=0)


def evaluate(model: keras.Model, data: Prepared, cfg: TrainConfig, labels: tuple[str, ...]) -> dict:
    """Accuracy (n, 95% CI), per-class report and confusion on all three splits.

    Averaging a face with its mirror image (flip TTA) is scored on validation and test too, so whether the
    device should do it is decided on validation like every other choice.
    """
    metrics: dict = {}
    for name in ("train", "val", "test"):
        split = getattr(data, name)
        probs = predict(model, split, cfg)
        metrics[name] = classification_report(split.y, probs.argmax(axis=1), labels)
        if name != "train":
            flipped = model.predict(to_inputs(split.x[:, :, ::-1], cfg.color), batch_size=256, verbose=0)
            metrics[f"{name}_flip_tta"] = accuracy(split.y, (probs + flipped).argmax(axis=1)).to_dict()
    return metrics


def run(cfg: TrainConfig) -> dict:
    """Train one registry model end to end and write its run folder; returns metrics.json's content."""
    labels = CLASS_SETS[cfg.classes]
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    if cfg.model in TRANSFER_MODELS:
        cfg.color = "rgb"
    print("config:", json.dumps(cfg.__dict__, indent=1), flush=True)
    cfg.save(out / "config.json")
    (out / "versions.json").write_text(json.dumps(versions(), indent=2) + "\n")

    splits = load_dataset(cfg.data, labels)
    data = prepare(splits, cfg.val_fraction, cfg.seed, len(labels), cfg.max_train)
    data_info = {"fingerprint": fingerprint(splits), "source": str(cfg.data), "labels": list(labels), **data.report}
    (out / "data.json").write_text(json.dumps(data_info, indent=2) + "\n")
    print("data:", json.dumps(data.report), flush=True)

    keras.utils.set_random_seed(cfg.seed)
    input_shape = (48, 48, 3 if cfg.color == "rgb" else 1)
    parts = build(cfg, input_shape, len(labels))
    if cfg.verbose:
        parts.model.summary(print_fn=lambda line: print(line, flush=True))

    start = time.monotonic()
    if cfg.freeze_base and parts.extractor is not None:
        history = _fit_head_on_features(parts, data, cfg, len(labels), out)
    else:
        steps = int(np.ceil(len(data.train) / cfg.batch_size))
        parts.model.compile(make_optimizer(cfg, steps), make_loss(cfg), metrics=["accuracy"])
        history = parts.model.fit(
            make_dataset(to_inputs(data.train.x, cfg.color), data.train.y, cfg, len(labels), True),
            validation_data=make_dataset(to_inputs(data.val.x, cfg.color), data.val.y, cfg, len(labels), False),
            epochs=cfg.epochs, verbose=cfg.verbose, callbacks=callbacks(cfg, out),
            class_weight=class_weight_map(data.train.y, len(labels)) if cfg.class_weights else None)
    train_seconds = time.monotonic() - start

    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    (out / "history.json").write_text(json.dumps(hist, indent=1) + "\n")
    model = parts.model  # EarlyStopping restored the best-on-validation weights
    # Without the optimizer's slots, so the shipped run folder stays a few MB. The native .keras format has
    # no include_optimizer (tf-keras raises ValueError); an uncompiled twin over the same layers saves none.
    keras.Model(model.inputs, model.outputs, name=model.name).save(out / MODEL_FILE)
    return write_metrics(model, data, cfg, out, hist, train_seconds)


def write_metrics(model: keras.Model, data: Prepared, cfg: TrainConfig, out: Path, hist: dict,
                  train_seconds: float) -> dict:
    """metrics.json and the two figures; also the whole of `python -m train.evaluate`."""
    labels = CLASS_SETS[cfg.classes]
    metrics = evaluate(model, data, cfg, labels)
    metrics.update({
        "model": cfg.model, "params": int(model.count_params()), "epochs_run": len(hist.get("loss", [])),
        "train_seconds": round(train_seconds, 1), "best_epoch": int(np.argmax(hist["val_accuracy"])) + 1,
    })
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    plot_curves(hist, out / "curves.png", f"{cfg.model}: training vs validation")
    plot_confusion(np.array(metrics["test"]["confusion"]), labels, out / "confusion.png",
                   f"{cfg.model}: PublicTest, n={len(data.test)}")
    for name in ("train", "val", "test"):
        print(f"{cfg.model} {name}: {Accuracy(metrics[name]['accuracy']['correct'], metrics[name]['accuracy']['n'])}")
    print(f"trained in {train_seconds / 60:.1f} min; run folder {out}", flush=True)
    return metrics
