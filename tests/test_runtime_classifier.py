"""Classifier on real tiny .tflite models: quantisation handled inside, wrong models refused in one line."""
import ctypes
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import synthetic_faces, write_sidecar
from fer_edge import Classifier, DelegateError, ModelError, read_sidecar


def test_int8_matches_its_float_twin(tiny_models):
    faces, _ = synthetic_faces(100, seed=1)
    int8 = Classifier(tiny_models.int8).predict(faces)
    float32 = Classifier(tiny_models.float32).predict(faces)
    assert int8.shape == float32.shape == (100, 4)
    assert int8.dtype == np.float32
    assert np.abs(int8 - float32).max() < 0.05
    assert (int8.argmax(1) == float32.argmax(1)).mean() >= 0.95


def test_probabilities_sum_to_one_and_learned_something(tiny_models):
    faces, labels = synthetic_faces(100, seed=2)
    probs = Classifier(tiny_models.int8).predict(faces)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert (probs >= 0).all()
    assert (probs.argmax(1) == labels).mean() > 0.8


def test_single_face_and_empty_batch(tiny_models):
    clf = Classifier(tiny_models.int8)
    assert clf.labels == tiny_models.labels
    assert clf.input_size == (48, 48)
    face = tiny_models.samples[0]
    np.testing.assert_array_equal(clf.predict(face), clf.predict(face[None]))
    assert clf.predict(np.zeros((0, 48, 48), np.uint8)).shape == (0, 4)


def test_raw_output_is_the_int8_tensor(tiny_models):
    raw = Classifier(tiny_models.int8).predict_raw(tiny_models.samples[:3])
    assert raw.dtype == np.int8 and raw.shape == (3, 4)


@pytest.mark.parametrize("faces", [np.zeros((48, 48), np.float32), np.zeros((2, 64, 64), np.uint8)])
def test_wrong_face_array_is_refused(tiny_models, faces):
    with pytest.raises(ValueError, match="uint8"):
        Classifier(tiny_models.int8).predict(faces)


def test_wrong_signature_model_is_refused(tiny_models):
    with pytest.raises(ModelError, match="1 input and 1 output"):
        Classifier(tiny_models.wrong_signature)


def test_truncated_model_is_refused(tiny_models, tmp_path):
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(tiny_models.int8.read_bytes()[:1000])
    shutil.copy(tiny_models.int8.with_suffix(".json"), broken.with_suffix(".json"))
    with pytest.raises(ModelError, match="cannot load model") as info:
        Classifier(broken)
    assert "\n" not in str(info.value)


def test_missing_model_and_missing_labels(tiny_models, tmp_path):
    with pytest.raises(ModelError, match="model not found"):
        Classifier(tmp_path / "nothing.tflite")
    lonely = tmp_path / "lonely.tflite"
    shutil.copy(tiny_models.int8, lonely)
    with pytest.raises(ModelError, match="expected sidecar"):
        Classifier(lonely)


def test_label_count_must_match_outputs(tiny_models, tmp_path):
    model = tmp_path / "three.tflite"
    shutil.copy(tiny_models.int8, model)
    write_sidecar(model, ["happy", "sad", "neutral"], "int8")
    with pytest.raises(ModelError, match="4 outputs but the sidecar names 3"):
        Classifier(model)


@pytest.mark.parametrize("text", ["not json", '{"labels": []}', '{"labels": ["a", "a"]}',
                                  '{"labels": ["a"], "input": {"normalize": "imagenet"}}'])
def test_bad_sidecar_is_refused(tmp_path, text):
    model = tmp_path / "m.tflite"
    model.with_suffix(".json").write_text(text)
    with pytest.raises(ModelError):
        read_sidecar(model)


def test_missing_shipped_model_says_how_to_get_it(tmp_path, monkeypatch):
    import fer_edge.classifier

    monkeypatch.setattr(fer_edge.classifier, "DEFAULT_MODEL", tmp_path / "fer_int8.tflite")
    with pytest.raises(ModelError, match="--model"):
        Classifier()


def test_edgetpu_without_runtime_is_a_delegate_error(tiny_models):
    try:
        ctypes.CDLL("libedgetpu.so.1")
    except OSError:
        pass
    else:
        pytest.skip("an Edge TPU runtime is installed here")
    with pytest.raises(DelegateError, match="libedgetpu"):
        Classifier(tiny_models.int8, edgetpu=True)


TFLRT_PYTHON = Path(__file__).resolve().parents[1] / ".venv-tflrt" / "bin" / "python"


@pytest.mark.skipif(not TFLRT_PYTHON.is_file(), reason="no tflite-runtime venv (bash benchmarks/setup_tflite_runtime_env.sh)")
def test_truncated_model_is_a_model_error_under_tflite_runtime(tmp_path):
    """tflite-runtime 2.14 segfaults on the shipped model cut to 200 bytes; fer_edge must still answer in one line."""
    from fer_edge import DEFAULT_MODEL as int8_model

    import subprocess

    truncated = tmp_path / "trunc.tflite"
    truncated.write_bytes(int8_model.read_bytes()[:200])
    shutil.copyfile(int8_model.with_suffix(".json"), truncated.with_suffix(".json"))
    code = ("import sys; from fer_edge.interpreter import backend_name; from fer_edge import Classifier, ModelError\n"
            "assert backend_name() == 'tflite_runtime'\n"
            "try:\n    Classifier(sys.argv[1])\nexcept ModelError as e:\n    print('ModelError', e)")
    done = subprocess.run([str(TFLRT_PYTHON), "-c", code, str(truncated)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1], timeout=120)
    if "No module named" in done.stderr:
        pytest.skip(f"tflite-runtime venv incomplete: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ModelError") and "crashed" in done.stdout
