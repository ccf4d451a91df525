"""Command line for one training run: every TrainConfig field is an option, so nothing is hidden."""
from __future__ import annotations

import argparse
import sys
import typing
from dataclasses import MISSING, fields

from .config import TrainConfig

CHOICES = {
    "classes": ("4", "7"), "color": ("gray", "rgb"), "optimizer": ("adam", "sgd", "rmsprop"),
    "schedule": ("cosine", "plateau", "constant"), "output_activation": ("softmax", "sigmoid"),
    "activation": ("leaky_relu", "relu", "prelu"), "dropout": ("head", "conv", "both", "none"),
}


def _parse_bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected on/off, got '{text}'")


def _optional(kind):
    return lambda text: None if text.lower() in ("none", "") else kind(text)


def config_parser(prog: str, with_model: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Train and evaluate a fer-edge model on FER2013.")
    hints = typing.get_type_hints(TrainConfig)
    for f in fields(TrainConfig):
        if f.name == "model":
            if with_model:
                from .models import REGISTRY
                parser.add_argument("model", choices=sorted(REGISTRY), help="registry name")
            continue
        hint = hints[f.name]
        kind = {bool: _parse_bool, int: int, float: float, str: str}.get(hint)
        if kind is None:  # Optional[int] / Optional[float]
            kind = _optional(int if int in typing.get_args(hint) else float)
        default = f.default if f.default is not MISSING else None
        parser.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, type=kind, default=default,
                            choices=CHOICES.get(f.name), help=f"default: {default}")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = config_parser("python -m train").parse_args(argv)
    cfg = TrainConfig(**vars(args))
    from .data import DataError
    from .fit import run
    from .models import ModelConfigError

    try:
        run(cfg)
    except (DataError, ModelConfigError, ValueError) as exc:
        print(f"train: error: {exc}", file=sys.stderr)
        return 2
    return 0
