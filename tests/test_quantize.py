"""quantize/: pruning, full-integer int8, the accuracy gate, the Edge TPU op check, report and ship.

All on the tiny `final` run trained by tests/test_train.py (width 4, one epoch, LeakyReLU). The CLI is slow to
start (TensorFlow import, pruning's first trace), so it runs twice per session: once passing with --ship, once
forced to fail the gate; the assertions below share those two runs.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO
from test_train import tiny_data, tiny_run  # noqa: F401  (session fixtures shared with the training tests)

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tf_keras as keras  # noqa: E402

from quantize import check, convert, int8, ops, prune  # noqa: E402
from train.config import TrainConfig  # noqa: E402
from train.data import FER4, load_dataset, prepare  # noqa: E402
from train.fit import make_dataset, to_inputs  # noqa: E402
from train.models import build  # noqa: E402

QUICK = ["--max-train", "64", "--prune-epochs", "1", "--calibration", "32", "--verbose", "0"]


def quantize_cli(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "quantize.int8", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def passing(tiny_run, tmp_path_factory):  # noqa: F811
    """Prune to 50%, int8, a gate that cannot fail (100 points), shipped into a temporary folder."""
    ship_dir = tmp_path_factory.mktemp("ship")
    done = quantize_cli(tiny_run, *QUICK, "--sparsity", "0.5", "--max-drop", "100", "--ship", "--ship-dir", ship_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tiny_run / "quant" / "report.json").read_text())
    return tiny_run / "quant", ship_dir, report, done


@pytest.fixture(scope="session")
def failing(tiny_run, tmp_path_factory):  # noqa: F811
    """No pruning, and a gate of -100 points: int8 would have to beat float by every face in the test split."""
    run = tmp_path_factory.mktemp("fail_run") / "final"
    shutil.copytree(tiny_run, run, ignore=shutil.ignore_patterns("quant"))
    ship_dir = run.parent / "ship"
    done = quantize_cli(run, *QUICK, "--sparsity", "0", "--max-drop", "-100", "--ship", "--ship-dir", ship_dir)
    assert (run / "quant" / "report.json").is_file(), done.stderr[-3000:]
    report = json.loads((run / "quant" / "report.json").read_text())
    return run / "quant", ship_dir, report, done


@pytest.fixture(scope="session")
def prepared(tiny_run):  # noqa: F811
    cfg = TrainConfig.load(tiny_run / "config.json")
    return cfg, prepare(load_dataset(cfg.data, FER4), cfg.val_fraction, cfg.seed, 4)


# ------------------------------------------------------------------------------------------------ pruning

def test_prune_reaches_target_sparsity_and_leaves_original_untouched(tiny_run, prepared):  # noqa: F811
    cfg, data = prepared
    model = keras.models.load_model(tiny_run / "model.keras", compile=False)
    before = [w.copy() for w in model.get_weights()]
    ds = make_dataset(to_inputs(data.train.x, cfg.color), data.train.y, cfg, 4, True).repeat()
    steps = int(np.ceil(len(data.train) / cfg.batch_size))
    result = prune.prune(model, ds, steps, epochs=1, target=0.5, lr=1e-3, verbose=0)

    kernels = {layer.name for layer in model.layers if hasattr(layer, "kernel")}
    assert set(result.sparsity) == kernels  # every conv and dense kernel pruned
    for name, value in result.sparsity.items():
        assert abs(value - 0.5) <= 0.05, (name, value)
    measured = {layer.name: float((layer.kernel.numpy() == 0).mean()) for layer in result.model.layers
                if hasattr(layer, "kernel")}
    assert measured == result.sparsity
    assert abs(prune.overall_sparsity(result.sparsity, result.model) - 0.5) <= 0.05
    assert not any("prune" in type(layer).__name__.lower() for layer in result.model.layers)  # stripped
    assert result.steps == steps

    # the float model is untouched: same layers, same weights, still dense
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert all(type(layer).__module__.startswith("tf_keras") for layer in model.layers)
    assert max(prune.kernel_sparsity(model).values()) < 0.05
    probs = result.model.predict(to_inputs(data.test.x, cfg.color), verbose=0)
    assert probs.shape == (len(data.test), 4) and np.isfinite(probs).all()
    keras.backend.clear_session()


# ------------------------------------------------------------------------------------------- int8 and gate

def test_int8_model_is_integer_end_to_end(passing):
    quant, _, report, _ = passing
    op_report = ops.inspect_ops(quant / "model_int8.tflite")
    assert op_report.io_dtypes == {"input": "int8", "output": "int8"}
    assert op_report.float_ops == []
    assert "CONV_2D" in op_report.ops and "FULLY_CONNECTED" in op_report.ops
    assert report["ops"] == json.loads(json.dumps(op_report.to_dict()))
    assert report["input_quant"]["dtype"] == "int8"
    # the float reference really is float, so the op inspection can tell the difference
    assert ops.inspect_ops(quant / "model_float.tflite").float_ops
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(quant / "model_int8.tflite"))
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    assert list(inp["shape"]) == [1, 48, 48, 1] and list(out["shape"]) == [1, 4]  # static batch of one
    scale, zero_point = inp["quantization"]
    assert scale == pytest.approx(report["input_quant"]["scale"]) and zero_point == report["input_quant"]["zero_point"]


def test_cli_report_files(passing, prepared):
    quant, _, report, done = passing
    _, data = prepared
    assert {"sizes", "check", "ops", "gate", "sparsity", "prune", "labels", "data", "command"} <= set(report)
    assert report["labels"] == list(FER4)
    assert report["gate"] == {"max_drop_points": 100.0, "verdict": "pass"}
    assert "--max-drop 100" in report["command"]
    for name in ("model_float.tflite", "model_int8.tflite", "model_pruned_float.tflite"):
        assert (quant / name).is_file()
        assert report["sizes"][name]["bytes"] == (quant / name).stat().st_size
        sidecar = json.loads((quant / name).with_suffix(".json").read_text())
        assert sidecar["labels"] == list(FER4) and sidecar["input"]["channels"] == 1
    sizes = report["sizes"]
    assert sizes["model_int8.tflite"]["bytes"] < sizes["model_float.tflite"]["bytes"]
    # pruning's zeros do not shrink a dense .tflite, but they do compress
    assert sizes["model_pruned_float.tflite"]["gzip_bytes"] < sizes["model_float.tflite"]["gzip_bytes"]
    for value in report["sparsity"].values():
        assert abs(value - 0.5) <= 0.05
    assert report["prune"]["target"] == 0.5 and abs(report["prune"]["overall"] - 0.5) <= 0.05

    reports = report["check"]["reports"]
    assert set(reports) == {"keras_float", "keras_pruned", "tflite_float", "tflite_int8", "tflite_pruned_float"}
    n = len(data.test)
    assert all(r["accuracy"]["n"] == n for r in reports.values())
    # the float .tflite runs the same weights as Keras: at most one face may flip on rounding
    assert abs(reports["tflite_float"]["accuracy"]["correct"] - reports["keras_float"]["accuracy"]["correct"]) <= 1
    drop = 100 * (reports["keras_float"]["accuracy"]["value"] - reports["tflite_int8"]["accuracy"]["value"])
    assert report["check"]["drop_points"] == pytest.approx(drop, abs=1e-3)
    assert report["check"]["agreement_int8_vs_float"]["n"] == n
    diff = report["check"]["prob_abs_diff_int8_vs_float"]
    assert 0.0 <= diff["mean"] <= diff["max"] <= 1.0
    per_class = [min(32 // 4, n) for n in report["data"]["class_counts"]["train"]]
    assert report["data"]["calibration_faces"] == sum(per_class)

    md = (quant / "report.md").read_text()
    assert md.startswith("# Quantisation report")
    for needle in ("| keras_float |", "| tflite_int8 |", "model_int8.tflite", "LEAKY_RELU", "Edge TPU verdict",
                   "edgetpu_compiler", f"{report['check']['drop_points']:.2f} points"):
        assert needle in md, needle
    assert "pass" in done.stdout and str(quant / "report.md") in done.stdout


def test_check_compare_measures_the_drop():
    y = np.array([0, 1, 2, 3, 0, 1, 2, 3, 0, 1])
    reference = np.eye(4)[y]  # all right
    quantised = reference.copy()
    quantised[[1, 4]] = np.eye(4)[[0, 3]]  # two wrong
    result = check.compare({"keras_float": reference, "tflite_int8": quantised}, "tflite_int8", "keras_float", y,
                           FER4)
    assert result.drop_points == pytest.approx(20.0)
    assert result.agreement["correct"] == 8 and result.agreement["n"] == 10
    assert result.prob_diff == {"mean": pytest.approx(4 / 40), "max": 1.0}
    better = check.compare({"keras_float": quantised, "tflite_int8": reference}, "tflite_int8", "keras_float", y,
                           FER4)
    assert better.drop_points == pytest.approx(-20.0)  # int8 better than float is a negative drop


def test_gate_fails_below_threshold_and_ships_nothing(failing):
    quant, ship_dir, report, done = failing
    drop = report["check"]["drop_points"]
    should_fail = drop > -100  # only int8 right on every face and float wrong on every face would pass
    assert done.returncode == (1 if should_fail else 0), done.stderr[-3000:]
    assert should_fail, "tiny model passed a -100 point gate: the fail path was not exercised"
    assert report["gate"] == {"max_drop_points": -100.0, "verdict": "FAIL"}
    assert "fails the accuracy gate" in done.stderr and "Traceback" not in done.stderr
    assert not (ship_dir / "fer_int8.tflite").exists()
    assert "**FAIL**" in (quant / "report.md").read_text()
    # --sparsity 0 skipped pruning: no pruned model, and the int8 model comes from the float weights
    assert "sparsity" not in report and not (quant / "model_pruned_float.tflite").exists()
    assert set(report["check"]["reports"]) == {"keras_float", "tflite_float", "tflite_int8"}
    assert ops.inspect_ops(quant / "model_int8.tflite").float_ops == []


def test_ship_writes_model_sidecar_and_reference(passing, examples_dir):
    quant, ship_dir, report, _ = passing
    from fer_edge import Classifier
    from fer_edge.selfcheck import record_reference

    shipped = ship_dir / "fer_int8.tflite"
    assert shipped.read_bytes() == (quant / "model_int8.tflite").read_bytes()
    card = json.loads(shipped.with_suffix(".json").read_text())
    assert card["labels"] == list(FER4)
    assert card["model"]["dtype"] == "int8" and card["model"]["activation"] == "leaky_relu"
    assert card["model"]["accuracy_test"]["int8"] == report["check"]["reports"]["tflite_int8"]["accuracy"]
    assert card["model"]["edgetpu_ops_ok"] is False  # the study's LeakyReLU model
    reference = card["reference"]
    assert reference["faces"], "no face found in the reference image"
    assert all(len(face["raw"]) == 4 and len(face["box"]) == 4 for face in reference["faces"])
    assert (ship_dir / "MODEL_CARD.md").read_text().startswith("# fer_int8.tflite")

    classifier = Classifier(shipped)
    assert classifier.labels == list(FER4) and classifier.input_size == (48, 48)
    faces = np.random.default_rng(0).integers(0, 256, (3, 48, 48), dtype=np.uint8)
    probs = classifier.predict(faces)
    assert probs.shape == (3, 4) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-3)
    # the recorded reference is reproducible: same boxes and the same raw int8 outputs
    again = record_reference(shipped, examples_dir / "astronaut.jpg")
    assert [f["box"] for f in again["faces"]] == [f["box"] for f in reference["faces"]]
    assert [f["raw"] for f in again["faces"]] == [f["raw"] for f in reference["faces"]]


# ------------------------------------------------------------------------------------------ Edge TPU ops

def test_op_check_flags_leaky_relu(passing):
    quant, _, report, done = passing
    op_report = ops.inspect_ops(quant / "model_int8.tflite")
    assert "LEAKY_RELU" in op_report.ops
    assert "LEAKY_RELU" in op_report.unsupported_on_edgetpu and not op_report.edgetpu_ok
    assert report["ops"]["edgetpu_ok"] is False
    assert "unsupported LEAKY_RELU" in done.stdout


@pytest.mark.parametrize("activation, op", [("relu", None), ("prelu", "PRELU")])
def test_op_check_passes_edge_variant(activation, op, prepared, tmp_path):
    cfg, data = prepared
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = build(TrainConfig(model="final", width=4, activation=activation), (48, 48, 1), 4).model
    calibration = convert.representative_faces(data.train.x, data.train.y, 32, seed=0)
    path = tmp_path / f"edge_{activation}.tflite"
    path.write_bytes(convert.to_int8_tflite(model, calibration))
    op_report = ops.inspect_ops(path)
    assert op_report.edgetpu_ok, op_report.unsupported_on_edgetpu
    assert "LEAKY_RELU" not in op_report.ops and op_report.float_ops == []
    assert op_report.io_dtypes == {"input": "int8", "output": "int8"}
    if op:
        assert op in op_report.ops
    keras.backend.clear_session()


def test_representative_faces_are_stratified_real_faces(prepared):
    _, data = prepared
    faces = convert.representative_faces(data.train.x, data.train.y, 32, seed=0)
    hashes = {face.tobytes() for face in data.train.x}
    assert all(face.tobytes() in hashes for face in faces)  # real training faces, never noise
    label_of = {face.tobytes(): int(y) for face, y in zip(data.train.x, data.train.y)}
    counts = np.bincount([label_of[face.tobytes()] for face in faces], minlength=4)
    assert counts.tolist() == [min(32 // 4, n) for n in data.train.counts(4)]  # the same from every class


# ---------------------------------------------------------------------------------------- bad run folders

def test_missing_run_folder_is_one_line_error(tmp_path):
    done = quantize_cli(tmp_path / "no_such_run", timeout=300)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("quantize: error:")]
    assert len(errors) == 1 and "run folder not found" in errors[0] and "no_such_run" in errors[0]


def test_run_folder_without_model_is_one_line_error(tiny_run, tmp_path, capsys):  # noqa: F811
    run = tmp_path / "half_run"
    run.mkdir()
    shutil.copyfile(tiny_run / "config.json", run / "config.json")
    assert int8.main([str(run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("quantize: error:") and "model.keras is missing" in err[0]


def test_rgb_or_broken_run_folder_is_one_line_error(tiny_run, tmp_path, capsys):  # noqa: F811
    run = tmp_path / "rgb_run"
    shutil.copytree(tiny_run, run, ignore=shutil.ignore_patterns("quant"))
    cfg = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**cfg, "color": "rgb"}))
    assert int8.main([str(run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "48x48x1 gray" in err[0]
    (run / "config.json").write_text(json.dumps(cfg))
    (run / "model.keras").write_bytes(b"not a zip")
    assert int8.main([str(run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("quantize: error: cannot load")
