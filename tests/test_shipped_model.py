"""The model fer_edge ships: it loads with no arguments, reproduces its recorded outputs, and scores on real
PublicTest faces exactly what its model card says (when the shared FER2013 copy is present)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fer_edge import DEFAULT_MODEL, Classifier, read_sidecar

ROOT = Path(__file__).resolve().parents[1]
FER2013 = ROOT.parent / "shared" / "data" / "fer2013"


@pytest.fixture(scope="module")
def card() -> dict:
    return read_sidecar(DEFAULT_MODEL)


def test_default_model_loads_with_its_contract(card):
    clf = Classifier()
    assert clf.labels == card["labels"] == ["happy", "sad", "neutral", "surprise"]
    assert clf.input_size == (48, 48)
    assert clf.output_spec.dtype == np.int8
    assert DEFAULT_MODEL.stat().st_size == card["model"]["size"]["bytes"]


def test_cli_without_model_labels_the_sample_as_recorded(card, run_cli):
    done = run_cli("--image", str(ROOT / "examples" / "astronaut.jpg"))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    reference = card["reference"]["faces"]
    assert len(lines) == len(reference) >= 1
    for line, ref in zip(lines, reference):
        assert line["box"] == ref["box"]
        assert line["label"] == card["labels"][int(np.argmax(ref["probs"]))]


def test_device_check_passes_on_the_shipped_model():
    done = subprocess.run([sys.executable, "-m", "fer_edge.selfcheck"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(not (FER2013 / "test").is_dir(), reason=f"real faces not present at {FER2013}")
def test_publictest_accuracy_matches_the_model_card(card):
    from train.data import FER4, load_folders

    test = load_folders(FER2013, FER4)["test"]
    pred = Classifier().predict(test.x).argmax(axis=1)
    recorded = card["model"]["accuracy_test"]["int8"]
    assert len(test) == recorded["n"]
    assert int((pred == test.y).sum()) == recorded["correct"]
