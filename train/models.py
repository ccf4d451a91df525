"""The model registry: name -> builder, as keras.applications and timm do.

Every model of the capstone study is built here and nowhere else, so all six share one training and
evaluation path (train.fit). Builders take the run config and return ModelParts; transfer models also
return their feature extractor and head separately, so a frozen base can be run once over the data instead
of every epoch.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # tfmot prunes tf-keras models, not Keras 3

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import tf_keras as keras
from tf_keras import layers, regularizers

from .config import TrainConfig


class ModelConfigError(Exception):
    """A model option that cannot be honoured here (e.g. ImageNet weights with no network)."""


@dataclass
class ModelParts:
    model: keras.Model
    extractor: keras.Model | None = None  # frozen-base transfer models only
    head: keras.Model | None = None


Builder = Callable[[TrainConfig, tuple, int], ModelParts]
REGISTRY: dict[str, Builder] = {}


def register(name: str) -> Callable[[Builder], Builder]:
    def wrap(fn: Builder) -> Builder:
        REGISTRY[name] = fn
        return fn
    return wrap


def build(cfg: TrainConfig, input_shape: tuple, num_classes: int) -> ModelParts:
    if cfg.model not in REGISTRY:
        raise ModelConfigError(f"unknown model '{cfg.model}' (choose from {', '.join(REGISTRY)})")
    return REGISTRY[cfg.model](cfg, input_shape, num_classes)


def _l2(cfg: TrainConfig):
    return regularizers.l2(cfg.weight_decay) if cfg.weight_decay else None


def _classifier(cfg: TrainConfig, num_classes: int) -> layers.Layer:
    return layers.Dense(num_classes, activation=cfg.output_activation, name="probs")


def _activation(cfg: TrainConfig, name: str, spatial: bool = True) -> layers.Layer:
    """LeakyReLU is the study's choice; the Coral Edge TPU has no LEAKY_RELU, so relu/prelu are offered.

    PReLU shares its slope over height and width (one per channel) on NHWC maps; the dense head's [N, C]
    input has no such axes, so there it is one slope per unit.
    """
    if cfg.activation == "leaky_relu":
        return layers.LeakyReLU(alpha=0.1, name=name)
    if cfg.activation == "relu":
        return layers.ReLU(name=name)
    if cfg.activation == "prelu":
        return layers.PReLU(shared_axes=[1, 2] if spatial else None, name=name)
    raise ModelConfigError(f"unknown activation '{cfg.activation}' (leaky_relu, relu, prelu)")


def _conv_dropout(cfg: TrainConfig, rate: float) -> float:
    return rate if cfg.dropout in ("conv", "both") else 0.0


def _head_dropout(cfg: TrainConfig) -> float:
    return cfg.dropout_rate if cfg.dropout in ("head", "both") else 0.0


@register("model1")
def model1(cfg: TrainConfig, input_shape: tuple, num_classes: int) -> ModelParts:
    """The study's first plain CNN: the classic FER2013 Kaggle stack, dropout after conv blocks."""
    conv_drop = 0.25 if cfg.dropout in ("conv", "both", "head") else 0.0
    m = keras.Sequential([
        layers.Input(input_shape),
        layers.Conv2D(32, 3, activation="relu", padding="same"),
        layers.Conv2D(64, 3, activation="relu", padding="same"),
        layers.MaxPooling2D(),
        layers.Dropout(conv_drop),
        layers.Conv2D(128, 3, activation="relu", padding="same"),
        layers.MaxPooling2D(),
        layers.Conv2D(128, 3, activation="relu", padding="same"),
        layers.MaxPooling2D(),
        layers.Dropout(conv_drop),
        layers.Flatten(),
        layers.Dense(1024, activation="relu"),
        layers.Dropout(_head_dropout(cfg)),
        _classifier(cfg, num_classes),
    ], name="model1")
    return ModelParts(m)


@register("model2")
def model2(cfg: TrainConfig, input_shape: tuple, num_classes: int) -> ModelParts:
    """The study's second plain CNN: deeper, 5x5 first layer, dropout in every conv block."""
    conv_drop = 0.3 if cfg.dropout in ("conv", "both", "head") else 0.0
    stack = [layers.Input(input_shape)]
    for i, filters in enumerate((32, 64, 128)):
        stack += [
            layers.Conv2D(filters, 5 if i == 0 else 3, activation="relu", padding="same"),
            layers.Conv2D(filters, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(),
            layers.Dropout(conv_drop),
        ]
    stack += [layers.Flatten(), layers.Dense(512, activation="relu"), layers.Dropout(_head_dropout(cfg)),
              _classifier(cfg, num_classes)]
    return ModelParts(keras.Sequential(stack, name="model2"))


@register("final")
def final(cfg: TrainConfig, input_shape: tuple, num_classes: int) -> ModelParts:
    """The study's final CNN: [Conv-BN-act] x2 + MaxPool blocks, no dropout in conv blocks by default.

    Conv layers carry no bias (BatchNorm's beta replaces it), so after BN folding the int8 graph is just
    CONV_2D + activation + MAX_POOL_2D per layer.
    """
    x = inputs = layers.Input(input_shape, name="face")
    filters = cfg.width
    for block in range(4):
        for j in range(2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_regularizer=_l2(cfg),
                              name=f"b{block}_conv{j}")(x)
            x = layers.BatchNormalization(name=f"b{block}_bn{j}")(x)
            x = _activation(cfg, f"b{block}_act{j}")(x)
        x = layers.MaxPooling2D(name=f"b{block}_pool")(x)
        if _conv_dropout(cfg, 0.2):
            x = layers.Dropout(_conv_dropout(cfg, 0.2), name=f"b{block}_drop")(x)
        filters *= 2
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dense(256, use_bias=False, kernel_regularizer=_l2(cfg), name="fc")(x)
    x = layers.BatchNormalization(name="fc_bn")(x)
    x = _activation(cfg, "fc_act", spatial=False)(x)
    if _head_dropout(cfg):
        x = layers.Dropout(_head_dropout(cfg), name="fc_drop")(x)
    outputs = _classifier(cfg, num_classes)(x)
    return ModelParts(keras.Model(inputs, outputs, name="final"))


@dataclass(frozen=True)
class TransferBase:
    application: Callable[..., keras.Model]
    preprocess: Callable
    min_size: int
    weights_file: str  # what keras.applications would download, to name it in the offline message


def _transfer(base: TransferBase, cfg: TrainConfig, input_shape: tuple, num_classes: int) -> ModelParts:
    """Gray 48x48 face -> RGB at the base's minimum size -> base -> new head."""
    size = max(base.min_size, input_shape[0])
    inputs = layers.Input(input_shape, name="face")
    x = inputs if input_shape[-1] == 3 else layers.Concatenate(name="to_rgb")([inputs] * 3)
    if size != input_shape[0]:
        x = layers.Resizing(size, size, name="resize")(x)
    x = layers.Rescaling(255.0, name="to_0_255")(x)  # keras.applications preprocess expects 0..255
    x = layers.Lambda(base.preprocess, name="preprocess")(x)
    backbone = _load_backbone(base, cfg, (size, size, 3))
    features = layers.GlobalAveragePooling2D(name="features")(backbone(x))
    extractor = keras.Model(inputs, features, name="extractor")
    head = keras.Sequential([
        layers.Input(features.shape[1:]),
        layers.Dense(256, activation="relu"),
        layers.Dropout(_head_dropout(cfg)),
        _classifier(cfg, num_classes),
    ], name="head")
    model = keras.Model(inputs, head(extractor(inputs)), name=cfg.model)
    if cfg.freeze_base:
        backbone.trainable = False
    return ModelParts(model, extractor, head)


def _load_backbone(base: TransferBase, cfg: TrainConfig, shape: tuple) -> keras.Model:
    if cfg.weights == "imagenet":
        try:
            return base.application(include_top=False, weights="imagenet", input_shape=shape)
        except Exception as exc:  # keras raises a bare Exception from get_file when offline
            raise ModelConfigError(
                f"cannot download ImageNet weights for {cfg.model} ({type(exc).__name__}); offline? "
                f"pass --weights PATH to a local copy of {base.weights_file}") from None
    backbone = base.application(include_top=False, weights=None, input_shape=shape)
    if cfg.weights not in ("none", "", None):
        path = Path(cfg.weights)
        if not path.is_file():
            raise ModelConfigError(f"weights file not found: {path}")
        try:
            backbone.load_weights(str(path))
        except Exception as exc:
            raise ModelConfigError(f"{path} does not fit {cfg.model}'s base: {exc}") from None
    return backbone


def _register_transfer(name: str, base: TransferBase) -> None:
    REGISTRY[name] = lambda cfg, shape, n: _transfer(base, cfg, shape, n)


apps = keras.applications
_register_transfer("vgg16", TransferBase(apps.VGG16, apps.vgg16.preprocess_input, 32,
                                         "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"))
_register_transfer("inception_resnet_v2", TransferBase(
    apps.InceptionResNetV2, apps.inception_resnet_v2.preprocess_input, 75,
    "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5"))
_register_transfer("efficientnet", TransferBase(apps.EfficientNetB0, apps.efficientnet.preprocess_input, 32,
                                                "efficientnetb0_notop.h5"))

TRANSFER_MODELS = ("vgg16", "inception_resnet_v2", "efficientnet")
