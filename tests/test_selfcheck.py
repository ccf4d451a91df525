"""fer-edge-check: reference recording, the one-step tolerance, mismatch detection, face-folder accuracy."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from fer_edge import selfcheck

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "examples" / "astronaut.jpg"


def _variant(model: Path, tmp_path: Path, edit) -> Path:
    """A copy of the model whose sidecar reference was changed by `edit(reference)`."""
    copy = tmp_path / "variant.tflite"
    shutil.copy2(model, copy)
    card = json.loads(model.with_suffix(".json").read_text())
    edit(card["reference"])
    copy.with_suffix(".json").write_text(json.dumps(card))
    return copy


def test_reference_format(referenced_model: Path) -> None:
    ref = json.loads(referenced_model.with_suffix(".json").read_text())["reference"]
    assert ref["image"] == "examples/astronaut.jpg"
    assert ref["faces"], "the astronaut sample has a face the Haar detector finds"
    face = ref["faces"][0]
    assert len(face["box"]) == 4 and all(isinstance(v, int) for v in face["box"])
    assert len(face["raw"]) == 4 and all(isinstance(v, int) and -128 <= v <= 127 for v in face["raw"])
    assert abs(sum(face["probs"]) - 1) < 1e-3
    assert ref["output_zero_point"] == -128 and ref["output_scale"] > 0


def test_check_passes_on_its_own_reference(referenced_model: Path, capsys) -> None:
    assert selfcheck.main(["--model", str(referenced_model), "--repeat", "3"]) == 0
    out = capsys.readouterr().out
    assert "max diff 0 quantisation step(s) (OK" in out
    assert "per face" in out and "per frame" in out
    assert out.strip().endswith("device check: PASS")


def test_one_step_is_tolerated(referenced_model: Path, tmp_path: Path, capsys) -> None:
    def nudge(ref):
        raw = ref["faces"][0]["raw"]
        raw[0] = raw[0] + 1 if raw[0] < 127 else raw[0] - 1

    assert selfcheck.main(["--model", str(_variant(referenced_model, tmp_path, nudge)), "--repeat", "2"]) == 0
    assert "max diff 1 quantisation step(s) (OK" in capsys.readouterr().out


def test_perturbed_reference_is_a_mismatch(referenced_model: Path, tmp_path: Path, capsys) -> None:
    def perturb(ref):
        ref["faces"][0]["raw"] = [v + 3 if v < 100 else v - 3 for v in ref["faces"][0]["raw"]]

    code = selfcheck.main(["--model", str(_variant(referenced_model, tmp_path, perturb)), "--repeat", "2"])
    out = capsys.readouterr().out
    assert code == 1
    assert "max diff 3 quantisation step(s) (MISMATCH" in out
    assert "device check: FAIL" in out


def test_moved_face_is_a_detector_mismatch(referenced_model: Path, tmp_path: Path, capsys) -> None:
    def move(ref):
        ref["faces"][0]["box"] = [0, 0, 60, 60]

    assert selfcheck.main(["--model", str(_variant(referenced_model, tmp_path, move)), "--repeat", "2"]) == 1
    assert "matched 0" in capsys.readouterr().out


def test_missing_reference_is_one_line_error(int8_model: Path, capsys) -> None:
    assert selfcheck.main(["--model", str(int8_model)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "reference" in err[0]
    assert selfcheck.main(["--model", str(int8_model), "--no-reference", "--image", str(SAMPLE), "--repeat", "2"]) == 0


@pytest.mark.parametrize("args, words", [
    (["--model", "/nonexistent/model.tflite"], "model not found"),
    (["--threads", "0"], "--threads"),
])
def test_errors_are_one_line(args, words, referenced_model: Path, capsys) -> None:
    assert selfcheck.main(args if args[0] == "--model" else ["--model", str(referenced_model), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and words in err[0]


def test_missing_sample_is_one_line_error(referenced_model: Path, tmp_path: Path, capsys) -> None:
    def elsewhere(ref):
        ref["image"] = "nowhere/astronaut-gone.jpg"

    assert selfcheck.main(["--model", str(_variant(referenced_model, tmp_path, elsewhere))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--image" in err[0]


@pytest.mark.parametrize("folder, label", [
    ("sadness", "sad"), ("Happiness", "happy"), ("surprised", "surprise"), ("neutral", "neutral"),
    ("anger", None), ("fear", None), ("3_sad", "sad"),
])
def test_folder_names_map_to_labels(folder: str, label) -> None:
    assert selfcheck.canonical_label(folder, ["happy", "sad", "neutral", "surprise"]) == label


def test_folder_aliases_for_seven_classes() -> None:
    seven = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    assert selfcheck.canonical_label("anger", seven) == "angry"
    assert selfcheck.canonical_label("disgusted", seven) == "disgust"
    assert selfcheck.canonical_label("fearful", seven) == "fear"


def test_accuracy_on_a_face_folder(referenced_model: Path, tiny_models, tmp_path: Path, capsys) -> None:
    from conftest import synthetic_faces

    faces, y = synthetic_faces(40, seed=3)
    names = {0: "happiness", 1: "sadness", 2: "neutral", 3: "surprised"}
    for i, (face, k) in enumerate(zip(faces, y)):
        folder = tmp_path / "faces" / names[int(k)]
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{i}.png"), face)
    (tmp_path / "faces" / "anger").mkdir()
    cv2.imwrite(str(tmp_path / "faces" / "anger" / "x.png"), faces[0])
    big = cv2.resize(faces[1], (96, 96))  # not 48x48: resized, not refused
    cv2.imwrite(str(tmp_path / "faces" / names[int(y[1])] / "big.png"), big)
    report_file = tmp_path / "r.json"
    code = selfcheck.main(["--model", str(referenced_model), "--repeat", "2", "--faces", str(tmp_path / "faces"),
                           "--json", str(report_file)])
    out = capsys.readouterr().out
    assert code == 0
    assert "n=41" in out and "skipped folders without a model label: anger" in out
    acc = json.loads(report_file.read_text())["accuracy"]
    assert acc["n"] == 41 and acc["value"] > 0.5  # the tiny model learnt the synthetic task
    assert selfcheck.main(["--model", str(referenced_model), "--repeat", "2", "--faces", str(tmp_path / "faces"),
                           "--min-accuracy", "1.01"]) == 1


def test_empty_face_folder_is_one_line_error(referenced_model: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "faces" / "anger").mkdir(parents=True)
    assert selfcheck.main(["--model", str(referenced_model), "--faces", str(tmp_path / "faces")]) == 2
    assert capsys.readouterr().err.startswith("error: no face images")


def test_selfcheck_never_imports_tensorflow() -> None:
    code = "import sys, fer_edge.selfcheck; sys.exit('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0


def test_float_reference_roundtrip(float_model: Path, tmp_path: Path) -> None:
    model = tmp_path / "f.tflite"
    shutil.copy2(float_model, model)
    shutil.copy2(float_model.with_suffix(".json"), model.with_suffix(".json"))
    card = json.loads(float_model.with_suffix(".json").read_text())
    card["reference"] = selfcheck.record_reference(model, SAMPLE)
    assert card["reference"]["output_scale"] is None
    assert all(isinstance(v, float) for v in card["reference"]["faces"][0]["raw"])
    model.with_suffix(".json").write_text(json.dumps(card))
    assert selfcheck.main(["--model", str(model), "--repeat", "2"]) == 0
    assert np.isfinite(card["reference"]["faces"][0]["probs"]).all()


def test_edgetpu_without_runtime_falls_back_to_cpu(referenced_model: Path, capsys) -> None:
    from fer_edge.interpreter import EDGETPU_LIBRARY

    if any(Path(p, EDGETPU_LIBRARY).exists() for p in ("/usr/lib", "/usr/lib/x86_64-linux-gnu",
                                                         "/usr/lib/aarch64-linux-gnu")):
        pytest.skip("an Edge TPU runtime is installed here")
    assert selfcheck.main(["--model", str(referenced_model), "--edgetpu", "--repeat", "2"]) == 0
    out = capsys.readouterr().out
    assert "falling back to the CPU" in out and "device check: PASS" in out
