"""The sidecar JSON beside a model: labels and input contract travel with the model, never hard-coded.

`fer_int8.tflite` -> `fer_int8.json` (see CONTRACTS.md). The quantize stage writes it; the runtime only reads it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import ModelError

SUPPORTED_NORMALIZE = "pixel/255"


def sidecar_path(model_path: str | Path) -> Path:
    return Path(model_path).with_suffix(".json")


def read_sidecar(model_path: str | Path) -> dict[str, Any]:
    """Read and sanity-check the sidecar so a bad one fails at load time, not mid-stream."""
    path = sidecar_path(model_path)
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"no labels for {model_path}: expected sidecar {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot read sidecar {path}: {exc}") from None
    labels = card.get("labels") if isinstance(card, dict) else None
    if not (isinstance(labels, list) and labels and all(isinstance(x, str) and x for x in labels)):
        raise ModelError(f"sidecar {path} has no 'labels' list of names")
    if len(set(labels)) != len(labels):
        raise ModelError(f"sidecar {path} repeats a label: {labels}")
    normalize = card.get("input", {}).get("normalize", SUPPORTED_NORMALIZE)
    if normalize != SUPPORTED_NORMALIZE:
        raise ModelError(f"sidecar {path}: input normalize {normalize!r} unsupported (only {SUPPORTED_NORMALIZE!r})")
    return card


def read_labels(model_path: str | Path) -> list[str]:
    return list(read_sidecar(model_path)["labels"])
