"""`python -m quantize.int8 runs/NAME`: prune, convert to full-integer int8, check against float, ship.

Exit status: 0 when the int8 model is within --max-drop points of the float model on the run's test split,
1 when the gate fails (the report is still written, nothing is shipped), 2 for a bad run folder or option.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import argparse
import json
import shlex
import shutil
import sys
import time
from pathlib import Path

import numpy as np


class RunFolderError(Exception):
    """The run folder cannot be quantised as it is; the message says what is missing."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m quantize.int8", description=__doc__.splitlines()[0])
    p.add_argument("run", type=Path, help="training run folder (config.json + model.keras)")
    p.add_argument("--data", help="data path (default: the one in the run's config.json)")
    p.add_argument("--sparsity", type=float, default=0.5, help="pruning target; 0 skips pruning (default 0.5)")
    p.add_argument("--prune-epochs", type=int, default=2, help="fine-tuning epochs while pruning (default 2)")
    p.add_argument("--prune-lr", type=float, default=2e-4)
    p.add_argument("--qat", action="store_true", help="quantisation-aware fine-tuning before conversion")
    p.add_argument("--io", choices=("int8", "uint8"), default="int8", help="input/output type (default int8)")
    p.add_argument("--calibration", type=int, default=400, help="real training faces for calibration")
    p.add_argument("--max-drop", type=float, default=1.0, help="gate: allowed accuracy drop in points")
    p.add_argument("--max-train", type=int, help="fine-tune on a subset (quick checks)")
    p.add_argument("--ship", action="store_true", help="copy the int8 model into fer_edge as the default")
    p.add_argument("--ship-dir", type=Path, default=Path(__file__).resolve().parents[1] / "fer_edge" / "models")
    p.add_argument("--sample", type=Path, default=Path(__file__).resolve().parents[1] / "examples" / "astronaut.jpg",
                   help="image whose face outputs are recorded as the device check's reference")
    p.add_argument("--verbose", type=int, default=2)
    return p.parse_args(argv)


def load_run(run: Path):
    from train.config import TrainConfig
    from train.fit import MODEL_FILE

    if not run.is_dir():
        raise RunFolderError(f"run folder not found: {run}")
    for name in ("config.json", MODEL_FILE):
        if not (run / name).is_file():
            raise RunFolderError(f"{run} is not a training run folder: {name} is missing "
                                 f"(make one with `python -m train final --out {run}`)")
    cfg = TrainConfig.load(run / "config.json")
    if cfg.color != "gray":
        raise RunFolderError(f"{run}: the device contract is 48x48x1 gray; this run is {cfg.color}")
    import tf_keras as keras

    try:
        model = keras.models.load_model(run / MODEL_FILE, compile=False)
    except Exception as exc:
        raise RunFolderError(f"cannot load {run / MODEL_FILE}: {str(exc).splitlines()[0]}") from None
    return cfg, model


def write_model(path: Path, content: bytes, card: dict) -> Path:
    path.write_bytes(content)
    path.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = "python -m quantize.int8 " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    try:
        return quantize(args, command)
    except RunFolderError as exc:
        print(f"quantize: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from train.data import DataError

        if isinstance(exc, DataError):
            print(f"quantize: error: {exc}", file=sys.stderr)
            return 2
        raise


def quantize(args: argparse.Namespace, command: str) -> int:
    from dataclasses import replace

    from fer_edge.interpreter import input_output_specs, load_interpreter
    from fer_edge.metrics import Accuracy, accuracy
    from train.data import CLASS_SETS, load_dataset, prepare
    from train.fit import make_dataset, make_loss, predict, to_inputs

    from . import check, convert, ops, prune, report

    cfg, model = load_run(args.run)
    if args.data:
        cfg = replace(cfg, data=args.data)
    labels = CLASS_SETS[cfg.classes]
    data = prepare(load_dataset(cfg.data, labels), cfg.val_fraction, cfg.seed, len(labels), args.max_train)
    out = args.run / "quant"
    out.mkdir(exist_ok=True)
    card = {"labels": list(labels),
            "input": {"height": 48, "width": 48, "channels": 1, "color": "gray", "normalize": "pixel/255"}}
    started = time.monotonic()

    result: dict = {"run": str(args.run), "command": command, "labels": list(labels)}
    deployable = model
    if args.sparsity > 0:
        steps = int(np.ceil(len(data.train) / cfg.batch_size))
        ds = make_dataset(to_inputs(data.train.x, cfg.color), data.train.y, cfg, len(labels), True).repeat()
        pruned = prune.prune(model, ds, steps, args.prune_epochs, args.sparsity, args.prune_lr, args.verbose,
                             loss=make_loss(cfg))
        deployable = pruned.model
        result["sparsity"] = pruned.sparsity
        result["prune"] = {"target": args.sparsity, "epochs": args.prune_epochs, "steps": pruned.steps,
                           "overall": prune.overall_sparsity(pruned.sparsity, deployable)}
    if args.qat:
        deployable = quantization_aware(deployable, data, cfg, len(labels), args.verbose)

    calibration = convert.representative_faces(data.train.x, data.train.y, args.calibration, cfg.seed)
    paths = {
        "float": write_model(out / "model_float.tflite", convert.to_float_tflite(model),
                             {**card, "model": {"dtype": "float32", "pruned": False}}),
        "int8": write_model(out / "model_int8.tflite", convert.to_int8_tflite(deployable, calibration, args.io),
                            {**card, "model": {"dtype": args.io, "pruned": args.sparsity > 0}}),
    }
    if deployable is not model:
        paths["pruned_float"] = write_model(out / "model_pruned_float.tflite", convert.to_float_tflite(deployable),
                                            {**card, "model": {"dtype": "float32", "pruned": True}})

    result["validation"] = {name: accuracy(data.val.y, predict(m, data.val, cfg).argmax(axis=1)).to_dict()
                            for name, m in (("keras_float", model), ("keras_deployable", deployable))}
    faces, y = data.test.x, data.test.y
    probs = {"keras_float": predict(model, data.test, cfg)}
    if deployable is not model:
        probs["keras_pruned"] = predict(deployable, data.test, cfg)
    probs.update({f"tflite_{name}": check.tflite_probs(path, faces) for name, path in paths.items()})
    comparison = check.compare(probs, "tflite_int8", "keras_float", y, labels)
    passed = comparison.drop_points <= args.max_drop
    result["check"] = comparison.to_dict()
    result["gate"] = {"max_drop_points": args.max_drop, "verdict": "pass" if passed else "FAIL"}

    op_report = ops.inspect_ops(paths["int8"])
    result["ops"] = op_report.to_dict()
    result["edgetpu_compiler"] = ops.compile_for_edgetpu(paths["int8"], out)
    src, _ = input_output_specs(load_interpreter(paths["int8"]), paths["int8"])
    result["input_quant"] = {"scale": src.scale, "zero_point": src.zero_point, "dtype": np.dtype(src.dtype).name}
    result["sizes"] = {p.name: report.sizes(p) for p in paths.values()}
    result["data"] = {"source": cfg.data, **data.report, "calibration_faces": int(len(calibration))}
    result["seconds"] = round(time.monotonic() - started, 1)
    report.write(out, result)

    int8_acc = Accuracy(**{k: comparison.reports["tflite_int8"]["accuracy"][k] for k in ("correct", "n")})
    float_acc = Accuracy(**{k: comparison.reports["keras_float"]["accuracy"][k] for k in ("correct", "n")})
    print(f"float Keras {float_acc}; int8 {int8_acc}; drop {comparison.drop_points:.2f} points "
          f"(gate {args.max_drop}): {result['gate']['verdict']}")
    print(f"Edge TPU ops: {'ok' if op_report.edgetpu_ok else 'unsupported ' + ', '.join(op_report.unsupported_on_edgetpu)}")
    print(f"report: {out / 'report.md'}")
    if not passed:
        print("quantize: int8 model fails the accuracy gate; not shipped", file=sys.stderr)
        return 1
    if args.ship:
        ship(paths["int8"], args, result, card, cfg)
    return 0


def quantization_aware(model, data, cfg, num_classes: int, verbose: int):
    """QAT fine-tuning for when post-training quantisation loses too much; tfmot wraps supported layers only."""
    import tensorflow_model_optimization as tfmot
    import tf_keras as keras

    from train.fit import make_dataset, to_inputs

    from .prune import clone

    try:
        qat = tfmot.quantization.keras.quantize_model(clone(model))
    except (ValueError, RuntimeError) as exc:
        raise RunFolderError(f"quantisation-aware training cannot wrap this model: {str(exc).splitlines()[0]}") from None
    qat.compile(keras.optimizers.Adam(1e-4), keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
    qat.fit(make_dataset(to_inputs(data.train.x, cfg.color), data.train.y, cfg, num_classes, True), epochs=1,
            verbose=verbose)
    return qat


def ship(int8_path: Path, args: argparse.Namespace, result: dict, card: dict, cfg) -> None:
    """The shipped model carries its labels, accuracy and provenance; reference outputs let a board self-check."""
    from fer_edge.selfcheck import record_reference

    from .report import sizes

    args.ship_dir.mkdir(parents=True, exist_ok=True)
    target = args.ship_dir / "fer_int8.tflite"
    shutil.copyfile(int8_path, target)
    reports = result["check"]["reports"]
    shipped = {**card, "model": {
        "name": cfg.model, "dtype": args.io, "activation": cfg.activation, "made_by": result["command"],
        "sparsity": result.get("prune", {}).get("target", 0.0), "size": sizes(target),
        "accuracy_test": {"int8": reports["tflite_int8"]["accuracy"], "float": reports["keras_float"]["accuracy"]},
        "agreement_int8_vs_float": result["check"]["agreement_int8_vs_float"],
        "edgetpu_ops_ok": result["ops"]["edgetpu_ok"], "data_fingerprint_source": cfg.data}}
    target.with_suffix(".json").write_text(json.dumps(shipped, indent=2) + "\n")
    shipped["reference"] = record_reference(target, args.sample)
    target.with_suffix(".json").write_text(json.dumps(shipped, indent=2) + "\n")
    (args.ship_dir / "MODEL_CARD.md").write_text(model_card(shipped, result))
    print(f"shipped {target} ({target.stat().st_size:,} bytes) with labels and reference outputs")


def model_card(shipped: dict, result: dict) -> str:
    m = shipped["model"]
    fmt = lambda a: (f"{100 * a['value']:.1f}% (n={a['n']}, 95% CI {100 * a['ci95'][0]:.1f}-"
                     f"{100 * a['ci95'][1]:.1f})")
    agree = m["agreement_int8_vs_float"]
    return "\n".join([
        "# fer_int8.tflite: model card", "",
        f"- Task: facial emotion from a 48x48 grayscale face crop; classes (output order): {', '.join(shipped['labels'])}.",
        f"- Model: the study's final CNN (Conv-BatchNorm-{m['activation']}-MaxPool blocks, dropout only in the "
        f"dense head), pruned to {m['sparsity']:.0%} kernel sparsity, full-integer {m['dtype']} (input and output).",
        f"- Data: FER2013 Training split (validation carved out of it, exact duplicates of test faces removed); "
        f"calibrated on {result['data']['calibration_faces']} real training faces.",
        f"- PublicTest accuracy: int8 {fmt(m['accuracy_test']['int8'])}; float {fmt(m['accuracy_test']['float'])}; "
        f"top-1 agreement {100 * agree['value']:.1f}% (n={agree['n']}).",
        f"- Size: {m['size']['bytes']:,} bytes ({m['size']['gzip_bytes']:,} gzipped).",
        f"- Edge TPU: {'all ops supported' if m['edgetpu_ops_ok'] else 'not fully supported (LEAKY_RELU); use the relu/prelu edge variant for Coral'}.",
        f"- Made by: `{m['made_by']}`; full report in the run folder's quant/report.md.",
        "- Limits: FER2013 faces are mostly frontal, web-sourced and skewed in age and ethnicity; expect lower "
        "accuracy on other cameras and populations. Not for decisions about people.", ""])


if __name__ == "__main__":
    sys.exit(main())
