"""`python -m train.evaluate runs/NAME`: score a run folder's saved model again and rewrite metrics.json.

For a run whose process was stopped after its best checkpoint was saved: the split is rebuilt from
config.json (same seed, same duplicate handling), so the numbers are those the run itself would have written.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.evaluate", description=__doc__.splitlines()[0])
    p.add_argument("run", type=Path)
    p.add_argument("--train-seconds", type=float, default=0.0, help="training wall time, when known from the log")
    args = p.parse_args(argv)
    import tf_keras as keras

    from .config import TrainConfig
    from .data import CLASS_SETS, DataError, load_dataset, prepare
    from .fit import MODEL_FILE, write_metrics

    try:
        cfg = TrainConfig.load(args.run / "config.json")
        history = json.loads((args.run / "history.json").read_text())
        model = keras.models.load_model(args.run / MODEL_FILE, compile=False)
        labels = CLASS_SETS[cfg.classes]
        data = prepare(load_dataset(cfg.data, labels), cfg.val_fraction, cfg.seed, len(labels), cfg.max_train)
    except (OSError, DataError, ValueError) as exc:
        print(f"train.evaluate: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    write_metrics(model, data, cfg, args.run, history, args.train_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
