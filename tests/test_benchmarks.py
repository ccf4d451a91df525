"""Fast checks of the benchmark tooling on tiny data (the real benchmarks are `bash benchmarks/run.sh`, not unit
tests): the table-making command on a real pytest-benchmark JSON, and the accuracy command on a tiny
folder-layout data set with mapped class names, against a tiny real Keras model and its int8 .tflite."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
pytest.importorskip("cv2")
pytest.importorskip("ai_edge_litert")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    pytest.importorskip("tensorflow")
    pytest.importorskip("tf_keras")
    from benchmarks.tiny import make
    out = tmp_path_factory.mktemp("tinyrun")
    return make(out, data=None, per_class=16, epochs=1)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    """Another data set's naming: happiness/sadness/neutral/surprised, plus anger, which our model lacks."""
    import cv2
    root = tmp_path_factory.mktemp("otherset")
    rng = np.random.default_rng(0)
    for folder in ("happiness", "sadness", "neutral", "surprised", "anger"):
        d = root / "test" / folder
        d.mkdir(parents=True)
        for i in range(6):
            cv2.imwrite(str(d / f"{i}.png"), rng.integers(0, 256, (64, 64), dtype=np.uint8))
    return root


def test_common_helpers():
    from benchmarks.common import canonical_class, fmt_acc, wilson
    assert [canonical_class(c) for c in ("Sadness", "anger", "happiness", "surprised", "3_happy")] == \
        ["sad", "angry", "happy", "surprise", "happy"]
    lo, hi = wilson(50, 100)
    assert 0.40 < lo < 0.41 and 0.59 < hi < 0.60
    assert "n=100" in fmt_acc(50, 100) and "95% CI" in fmt_acc(50, 100)


def test_macs_counted_from_tflite(tiny):
    from benchmarks.common import tflite_macs
    f, q = tflite_macs(tiny["float_tflite"]), tflite_macs(tiny["int8_tflite"])
    # conv 3x3x1->8 on 48x48 = 165,888 MACs alone; float and int8 graphs count the same work
    assert f["total"] == q["total"] > 165_888
    assert set(f["per_op"]) >= {"CONV_2D", "FULLY_CONNECTED"}


def test_accuracy_command_on_mapped_folders(tiny, tiny_data, tmp_path):
    from benchmarks.accuracy import evaluate
    run = Path(tiny["keras"]).parent
    res = evaluate(tiny_data, run, tiny["int8_tflite"], split="test", fer="off", out_dir=tmp_path, name="acc")
    assert res["n"] == 24  # 4 mapped classes x 6; anger skipped
    assert res["skipped"] == {"anger": 6}
    assert res["mapped"]["sadness"] == "sad" and res["mapped"]["surprised"] == "surprise"
    names = [m["name"] for m in res["models"]]
    assert names[:2] == ["int8 (fer_edge)", "float (Keras)"]
    md = (tmp_path / "acc.md").read_text()
    for m in res["models"]:
        assert "n=24" in m["accuracy_text"] and "95% CI" in m["accuracy_text"]
        assert m["accuracy_text"] in md
    assert "int8 (fer_edge) vs float (Keras)" in md and "n=24" in res["agreements"][0]["text"]
    assert (tmp_path / "acc.png").stat().st_size > 1000
    assert json.loads((tmp_path / "acc.json").read_text())["n"] == 24


def test_report_from_real_benchmark_json(tiny, tmp_path):
    """Run two real (very short) benchmarks, then the table command on their JSON plus peer rows."""
    bench = tmp_path / "bench.json"
    env = dict(os.environ, FER_BENCH_RUN=str(Path(tiny["keras"]).parent), FER_BENCH_INT8=str(tiny["int8_tflite"]),
               PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "pytest", "benchmarks/test_latency.py", "-q", "-p", "no:cacheprovider",
                        "-k", "classify_interpreter and litert", "--benchmark-max-time=0.01",
                        "--benchmark-min-rounds=3", "--benchmark-warmup=off", f"--benchmark-json={bench}"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    fer = {"fer_version": "x", "model_params": 58423, "input": [None, 64, 64, 1], "rows": [
        {"kind": "classify", "impl": "fer tflite (default)", "dtype": "float32", "median": 5e-4, "iqr": 1e-5},
        {"kind": "frame", "impl": "fer tflite (default)", "scene": "group.jpg", "faces_found": 3, "median": 0.2,
         "iqr": 0.01}]}
    tflrt = {"rows": [{"kind": "classify", "runtime": "tflite_runtime", "dtype": "int8", "threads": 1, "faces": 1,
                       "source": "subprocess", "median": 1e-4, "iqr": 1e-5, "min": 1e-4, "rounds": 10}]}
    (tmp_path / "fer.json").write_text(json.dumps(fer))
    (tmp_path / "tflrt.json").write_text(json.dumps(tflrt))
    out = tmp_path / "RESULTS.md"
    r = subprocess.run([sys.executable, "-m", "benchmarks.report", str(bench), "--fer", str(tmp_path / "fer.json"),
                        "--tflrt", str(tmp_path / "tflrt.json"), "-o", str(out)], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    md = out.read_text()
    assert "## Machine" in md and "cores" in md and "GMAC/s" in md
    assert "int8/float" in md and "litert/this" in md and "this/1 thread" in md
    assert "## Work per face" in md and "MACs/face" in md
    assert "Peer: `fer` classifier" in md and "ours int8 bare/fer" in md
    rows = [line for line in md.splitlines() if line.startswith("| litert | int8 | 1 |")]
    assert rows and "µs" in rows[0]
