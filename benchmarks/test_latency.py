"""Latency of each stage on this machine (pytest-benchmark). Run: pytest benchmarks/ --benchmark-json=bench.json
then python -m benchmarks.report bench.json. Every benchmark tags `extra_info` so the report can build its
tables and ratios without parsing names."""
from __future__ import annotations

import numpy as np
import pytest

RUNTIMES = ["litert", "tflite_runtime", "tf"]
DTYPES = ["float32", "int8"]
THREADS = [1, 2]


def _model(models, dtype):
    key = "int8_tflite" if dtype == "int8" else "float_tflite"
    path = models[key]
    if path is None:
        where = "fer_edge/models/fer_int8.tflite or RUN/quant/" if dtype == "int8" else f"{models['run']}/quant/"
        pytest.skip(f"no {dtype} .tflite found ({where})")
    return path


def _tensor(interp, face):
    d = interp.get_input_details()[0]
    unit = face[None, ..., None].astype(np.float32) / 255.0
    if d["dtype"] == np.float32:
        return unit
    scale, zp = d["quantization"]
    info = np.iinfo(d["dtype"])
    return np.clip(np.round(unit / scale + zp), info.min, info.max).astype(d["dtype"])


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_classify_interpreter(benchmark, models, interpreters, face_crop, runtime, dtype, threads):
    """One face, batch 1: set_tensor + invoke + get_tensor on the bare interpreter of each runtime."""
    if interpreters[runtime]:
        pytest.skip(interpreters[runtime])
    from benchmarks.common import tflite_interpreter
    interp = tflite_interpreter(_model(models, dtype), threads, runtime)
    x = _tensor(interp, face_crop)
    i_in, i_out = interp.get_input_details()[0]["index"], interp.get_output_details()[0]["index"]

    def run():
        interp.set_tensor(i_in, x)
        interp.invoke()
        return interp.get_tensor(i_out)

    benchmark.extra_info.update(kind="classify", runtime=runtime, dtype=dtype, threads=threads, faces=1)
    benchmark(run)


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_classifier_predict(benchmark, models, face_crop, dtype, threads):
    """fer_edge.Classifier.predict on one face: preprocessing + quantisation + invoke + dequantise."""
    from benchmarks.common import classifier_cls
    Classifier = classifier_cls()
    from fer_edge.interpreter import backend_name
    clf = Classifier(_model(models, dtype), threads=threads)
    benchmark.extra_info.update(kind="predict", runtime=backend_name(), dtype=dtype, threads=threads, faces=1)
    benchmark(clf.predict, face_crop)


@pytest.mark.parametrize("size", [(320, 240), (640, 480)], ids=["320x240", "640x480"])
def test_detect_haar(benchmark, group_frame, size):
    """Haar detection on one frame: the several-faces sample letterboxed (aspect kept) to the size."""
    from fer_edge.detect import HaarDetector
    det = HaarDetector()
    from benchmarks.peer_tools import letterbox
    frame = letterbox(group_frame, size)
    faces = len(det.detect(frame))
    benchmark.extra_info.update(kind="detect", size=f"{size[0]}x{size[1]}", faces_found=faces)
    benchmark(det.detect, frame)


def _pipeline(clf, every=1):
    from fer_edge import FacePipeline, HaarDetector, PipelineOptions
    return FacePipeline(HaarDetector(), clf, PipelineOptions(detect_every=every))


def _frames(images):
    from fer_edge.sources import Frame
    return [Frame(index=i, t=i / 15.0, image=img) for i, img in enumerate(images)]


@pytest.mark.parametrize("scene", ["one_face", "group"])
def test_frame(benchmark, models, one_face_frame, group_frame, scene):
    """Whole frame, decode excluded: fer_edge.FacePipeline.process = detect + track + crop + classify + smooth
    (shipped int8 model, 1 thread, detection every frame)."""
    from benchmarks.common import classifier_cls
    image = one_face_frame if scene == "one_face" else group_frame
    pipe = _pipeline(classifier_cls()(_model(models, "int8"), threads=1))
    frame = _frames([image])[0]
    faces = len(pipe.process(frame).faces)
    benchmark.extra_info.update(kind="frame", scene=scene, faces_found=faces,
                                resolution=f"{image.shape[1]}x{image.shape[0]}", detect_every=1)
    benchmark(pipe.process, frame)


@pytest.mark.parametrize("every", [1, 5, 10])
def test_video_detect_every(benchmark, models, video_frames, every):
    """The sample video's frames (pre-decoded) through FacePipeline with detection every N frames and IoU
    tracking in between; the report divides by the frame count to give per-frame time."""
    from benchmarks.common import classifier_cls
    clf = classifier_cls()(_model(models, "int8"), threads=1)
    frames = _frames(video_frames[:30])

    def run():
        pipe = _pipeline(clf, every)
        return sum(len(pipe.process(f).faces) for f in frames)

    faces = run()
    h, w = frames[0].image.shape[:2]
    benchmark.extra_info.update(kind="video", detect_every=every, frames=len(frames), faces_found=faces,
                                resolution=f"{w}x{h}")
    benchmark(run)
