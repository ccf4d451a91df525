"""`python -m train.study`: the capstone study's six-model table and a bounded hyper-parameter study.

Every row comes from a real run folder under --runs; runs that already have metrics.json are reused, so the
study can be resumed and the table rebuilt at any time (`--only table`). Budgets are explicit and small on
purpose: this is a CPU machine, and the document says how much each model was allowed.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from .config import TrainConfig

# The capstone study's reported test accuracy (%), to set beside what the runs here measure.
STUDY_CLAIMS = {"model1": 69.5, "model2": 68.8, "vgg16": 51.0, "inception_resnet_v2": 30.5,
                "efficientnet": 25.0, "final": 93.3}


# The shipped final model's full-budget recipe (runs/final/config.json); reused when runs/final exists.
FINAL_RECIPE = dict(epochs=30, width=24, label_smoothing=0.1, patience=30, verbose=2)


@dataclass(frozen=True)
class Budget:
    """How much a comparison run may spend; the final model is trained separately with the full budget."""
    epochs: int = 8
    max_train: int | None = 8000
    max_minutes: float = 10.0


def comparison_configs(base: TrainConfig, runs: Path, budget: Budget) -> list[TrainConfig]:
    """The final CNN gets its full recipe; the plain CNNs the budget; the transfer models, 5-30x costlier per
    face and without ImageNet weights here, half the faces and the same wall-clock cap."""
    common = dict(epochs=budget.epochs, max_minutes=budget.max_minutes, verbose=2)
    out = [replace(base, model="final", out=str(runs / "final"), **FINAL_RECIPE)]
    out += [replace(base, model=name, out=str(runs / name), max_train=budget.max_train, **common)
            for name in ("model1", "model2")]
    half = budget.max_train // 2 if budget.max_train else None
    out += [replace(base, model=name, out=str(runs / name), max_train=half, **common)
            for name in ("vgg16", "inception_resnet_v2", "efficientnet")]
    return out


def hparam_configs(base: TrainConfig, runs: Path) -> list[tuple[str, TrainConfig]]:
    """One change at a time against a small, cheap baseline of the final CNN."""
    small = replace(base, model="final", width=16, epochs=8, max_train=8000, max_minutes=8.0, label_smoothing=0.0,
                    verbose=2)
    variants = {
        "baseline": {}, "no_augmentation": {"augment": False}, "sgd": {"optimizer": "sgd", "lr": 0.01},
        "sigmoid_output": {"output_activation": "sigmoid"},
        "dropout_conv_and_head": {"dropout": "both"}, "rgb_input": {"color": "rgb"}, "relu_edge": {"activation": "relu"},
    }
    return [(name, replace(small, out=str(runs / "hparams" / name), **change)) for name, change in variants.items()]


def _run_once(cfg: TrainConfig) -> None:
    from .fit import run

    if (Path(cfg.out) / "metrics.json").is_file():
        print(f"reusing {cfg.out}", flush=True)
        return
    run(cfg)


def _fmt(acc: dict | None) -> str:
    if not acc:
        return "n/a"
    lo, hi = acc["ci95"]
    return f"{100 * acc['value']:.1f} ({100 * lo:.1f}-{100 * hi:.1f}, n={acc['n']})"


def _row(run: Path) -> dict | None:
    if not (run / "metrics.json").is_file():
        return None
    metrics = json.loads((run / "metrics.json").read_text())
    cfg = json.loads((run / "config.json").read_text())
    data = json.loads((run / "data.json").read_text())
    return {"metrics": metrics, "config": cfg, "data": data}


def _budget_text(row: dict) -> str:
    m = row["metrics"]
    return f"{m['epochs_run']} ep, {row['data']['sizes']['train']:,} faces, {m['train_seconds'] / 60:.0f} min"


def table(runs: Path) -> str:
    lines = ["## The six models", "",
             "Accuracy in % with the 95% Wilson interval and n. Model selection on validation only; "
             "test = FER2013 PublicTest, four classes.", "",
             "| model | params | weights | budget | train | validation | test | test, flip TTA | study's claim (test) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, claim in STUDY_CLAIMS.items():
        row = _row(runs / name)
        if row is None:
            lines.append(f"| {name} | | | not run | | | | | {claim} |")
            continue
        m, cfg = row["metrics"], row["config"]
        weights = cfg["weights"] if cfg["model"] in ("vgg16", "inception_resnet_v2", "efficientnet") else "-"
        lines.append(f"| {name} | {m['params']:,} | {weights} | {_budget_text(row)} | {_fmt(m['train']['accuracy'])} | "
                     f"{_fmt(m['val']['accuracy'])} | {_fmt(m['test']['accuracy'])} | {_fmt(m.get('test_flip_tta'))} | {claim} |")
    lines += ["", "## Hyper-parameter study (final CNN, width 16, 8 epochs, 8,000 training faces, 8-minute cap)", "",
              "One change at a time against the baseline; judged on validation. Test is shown for completeness only.", "",
              "| variant | validation | test | best epoch |", "|---|---|---|---|"]
    for run in sorted((runs / "hparams").glob("*")) if (runs / "hparams").is_dir() else []:
        row = _row(run)
        if row:
            m = row["metrics"]
            lines.append(f"| {run.name} | {_fmt(m['val']['accuracy'])} | {_fmt(m['test']['accuracy'])} | {m['best_epoch']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.study", description=__doc__.splitlines()[0])
    p.add_argument("--data", default=TrainConfig.data)
    p.add_argument("--runs", type=Path, default=Path("runs"))
    p.add_argument("--only", choices=("comparison", "hparams", "table"), help="one part (default: all)")
    p.add_argument("--weights", default="none", help="transfer models: imagenet | none | local file")
    p.add_argument("--epochs", type=int, default=Budget.epochs)
    p.add_argument("--max-train", type=int, default=Budget.max_train)
    p.add_argument("--max-minutes", type=float, default=Budget.max_minutes)
    p.add_argument("--table", type=Path, default=Path("results") / "study_table.md")
    args = p.parse_args(argv)
    from .data import DataError
    from .models import ModelConfigError

    base = TrainConfig(data=args.data, weights=args.weights)
    try:
        if args.only in (None, "comparison"):
            for cfg in comparison_configs(base, args.runs, Budget(args.epochs, args.max_train, args.max_minutes)):
                _run_once(cfg)
        if args.only in (None, "hparams"):
            for _, cfg in hparam_configs(base, args.runs):
                _run_once(cfg)
    except (DataError, ModelConfigError) as exc:
        print(f"train.study: error: {exc}", file=sys.stderr)
        return 2
    args.table.parent.mkdir(parents=True, exist_ok=True)
    args.table.write_text(table(args.runs))
    print(f"table written to {args.table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
