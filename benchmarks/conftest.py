"""Fixtures for the latency benchmarks. Models come from options or the environment, defaulting to the shipped
int8 model and runs/final/quant/ (see benchmarks/common.py). A benchmark whose model, interpreter or sample is
absent is skipped with the reason."""
from __future__ import annotations

import os

import pytest

from benchmarks.common import EXAMPLES, available_interpreters, model_paths


def pytest_addoption(parser):
    g = parser.getgroup("fer-edge benchmarks")
    g.addoption("--run", default=None, help="run folder (default runs/final or $FER_BENCH_RUN)")
    g.addoption("--int8", default=None, help="int8 .tflite (default fer_edge/models/fer_int8.tflite)")


@pytest.fixture(scope="session")
def models(request):
    return model_paths(request.config.getoption("--run"), request.config.getoption("--int8"))


@pytest.fixture(scope="session")
def interpreters():
    return available_interpreters()


def _image(name):
    import cv2
    p = EXAMPLES / name
    img = cv2.imread(str(p)) if p.is_file() else None
    if img is None:
        pytest.skip(f"sample {p} missing")
    return img


@pytest.fixture(scope="session")
def one_face_frame():
    return _image("astronaut.jpg")


@pytest.fixture(scope="session")
def group_frame():
    return _image("group.jpg")


@pytest.fixture(scope="session")
def video_frames():
    """Decoded frames of the sample video (decode is excluded from every timing)."""
    import cv2
    p = EXAMPLES / "astronaut.mp4"
    cap = cv2.VideoCapture(str(p))
    frames = []
    while len(frames) < 60:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    cap.release()
    if not frames:
        pytest.skip(f"sample video {p} missing or unreadable")
    return frames


@pytest.fixture(scope="session")
def face_crop(one_face_frame):
    """One real 48x48 face crop from the sample photo, as the device loop would cut it."""
    import cv2
    from fer_edge.crops import crop_faces
    from fer_edge.detect import HaarDetector
    gray = cv2.cvtColor(one_face_frame, cv2.COLOR_BGR2GRAY)
    boxes = HaarDetector().detect(one_face_frame)
    if not boxes:
        return cv2.resize(gray, (48, 48), interpolation=cv2.INTER_AREA)
    return crop_faces(gray, boxes[:1], (48, 48))[0]


_LOAD_START = None


def pytest_configure(config):
    global _LOAD_START
    try:
        _LOAD_START = open("/proc/loadavg").read().split()[:3]
    except OSError:
        pass
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")


def pytest_benchmark_update_machine_info(config, machine_info):
    """Record what else was running: this machine is shared, so the load average qualifies every median."""
    from benchmarks.common import machine_info as ours
    if _LOAD_START:
        machine_info["loadavg_start"] = _LOAD_START
    machine_info["fer_edge_bench"] = ours()
    m = model_paths(config.getoption("--run"), config.getoption("--int8"))
    machine_info["models"] = {k: (str(v) if v else None) for k, v in m.items()}


def pytest_benchmark_update_json(config, benchmarks, output_json):
    try:
        output_json["machine_info"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    except (OSError, KeyError):
        pass
