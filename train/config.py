"""Run configuration: one dataclass, printed at start and saved as config.json with every run."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path


@dataclass
class TrainConfig:
    model: str = "final"
    data: str = "../shared/data/fer2013"
    out: str = "runs/final"
    classes: str = "4"                 # "4" (happy, sad, neutral, surprise) or "7" (all FER2013)
    color: str = "gray"                # gray | rgb (channels replicated); transfer models force rgb
    epochs: int = 40
    batch_size: int = 64
    optimizer: str = "adam"            # adam | sgd | rmsprop
    lr: float = 1e-3
    schedule: str = "cosine"           # cosine | plateau (ReduceLROnPlateau) | constant
    weight_decay: float = 1e-4         # L2 on conv/dense kernels
    augment: bool = True
    label_smoothing: float = 0.0
    output_activation: str = "softmax"  # softmax | sigmoid
    activation: str = "leaky_relu"     # final CNN blocks: leaky_relu | relu | prelu (Edge TPU runs relu/prelu)
    dropout: str = "head"              # head | conv | both | none
    dropout_rate: float = 0.5
    width: int = 32                    # channels of the first block of the final CNN; doubles per block
    class_weights: bool = False
    weights: str = "none"              # transfer models: imagenet | none | path to a local weights file
    freeze_base: bool = False          # transfer models: train only the head on features computed once
    val_fraction: float = 0.1
    max_train: int | None = None       # budget runs: train on a random subset of this many faces
    max_minutes: float | None = None   # budget runs: stop after this much wall time
    patience: int = 10                 # EarlyStopping on val accuracy
    seed: int = 1234
    verbose: int = 1                   # Keras progress bars

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in json.loads(path.read_text()).items() if k in known})
