"""Raw model outputs on every face of the samples, as JSON on stdout: run on the host and inside the emulated
aarch64 root file system by `python -m deploy.emulate_pi`, which compares the two. Uses only the installed
`fer_edge` (no repo, no TensorFlow), so it runs unchanged inside the device venv.

    python emu_probe.py MODEL IMAGE [IMAGE ...] [--video PATH --frames N]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time

import cv2
import numpy as np

from fer_edge.classifier import Classifier
from fer_edge.crops import crop_faces
from fer_edge.detect import HaarDetector
from fer_edge.interpreter import backend_name


def frames(images: list[str], video: str | None, count: int):
    for path in images:
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            raise SystemExit(f"error: cannot read {path}")
        yield path.rsplit("/", 1)[-1], image
    if video:
        cap = cv2.VideoCapture(video)
        for i in range(count):
            ok, image = cap.read()
            if not ok:
                break
            yield f"{video.rsplit('/', 1)[-1]}#{i}", image
        cap.release()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("images", nargs="*")
    p.add_argument("--video")
    p.add_argument("--frames", type=int, default=5)
    a = p.parse_args(argv)
    classifier = Classifier(None if a.model == "shipped" else a.model)
    detector = HaarDetector()
    out = {"interpreter": backend_name(), "opencv": cv2.__version__, "numpy": np.__version__, "frames": []}
    t0 = time.perf_counter()
    for name, image in frames(a.images, a.video, a.frames):
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        boxes = detector.detect(image)
        crops = crop_faces(gray, boxes, classifier.input_size, 0.1)
        raw = classifier.predict_raw(crops)
        out["frames"].append({"name": name, "frame_md5": hashlib.md5(image.tobytes()).hexdigest()[:12],
                              "boxes": [list(map(int, b)) for b in boxes],
                              "raw": [[int(v) if np.issubdtype(r.dtype, np.integer) else float(v) for v in r]
                                      for r in raw],
                              "crop_md5": [hashlib.md5(c.tobytes()).hexdigest()[:12] for c in crops]})
    out["seconds"] = round(time.perf_counter() - t0, 2)
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
