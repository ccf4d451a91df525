"""Run the measurements that live in other venvs, in the same benchmark run, and write their JSON:
`fer` (.venv-fer, benchmarks/fer_peer.py) and the legacy tflite-runtime (.venv-tflrt, benchmarks/interp_peer.py).

    python -m benchmarks.peers [--run R] [--int8 M] [--out-dir benchmarks/results]

A peer whose venv is absent is skipped with the reason (set up with benchmarks/setup_*_env.sh)."""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from benchmarks.common import EXAMPLES, ROOT, model_paths


def _run(cmd, what):
    print(f"[peers] {what}: {' '.join(str(c) for c in cmd)}", flush=True)
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        print(f"[peers] {what} FAILED ({r.returncode}): " + "\n".join(r.stderr.strip().splitlines()[-5:]),
              file=sys.stderr)
        return False
    print("[peers] " + (r.stdout.strip().splitlines() or ["ok"])[-1], flush=True)
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default=None)
    ap.add_argument("--int8", default=None)
    ap.add_argument("--out-dir", default="benchmarks/results")
    ap.add_argument("--max-time", type=float, default=2.0, help="seconds of timing per measurement")
    a = ap.parse_args(argv)
    out = Path(a.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    m = model_paths(a.run, a.int8)

    face = out / "face48.npy"  # the same real crop the in-process benchmarks use
    try:
        import cv2
        import numpy as np
        from fer_edge import HaarDetector, crop_faces
        img = cv2.imread(str(EXAMPLES / "astronaut.jpg"))
        boxes = HaarDetector().detect(img)
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        np.save(face, crop_faces(gray, boxes[:1], (48, 48))[0] if boxes else cv2.resize(gray, (48, 48)))
    except Exception as e:  # noqa: BLE001 - fall back to interp_peer's own test pattern
        print(f"[peers] no face crop ({e}); tflite-runtime times a gradient pattern")
        face = None

    tflrt = ROOT / ".venv-tflrt" / "bin" / "python"
    models = [f"{k}={m[p]}" for k, p in (("float32", "float_tflite"), ("int8", "int8_tflite")) if m[p]]
    if not tflrt.is_file():
        print(f"[peers] tflite-runtime skipped: {tflrt} absent (bash benchmarks/setup_tflite_runtime_env.sh)")
    elif not models:
        print("[peers] tflite-runtime skipped: no .tflite model found")
    else:
        cmd = [tflrt, "benchmarks/interp_peer.py", "--runtime", "tflite_runtime", "--max-time", a.max_time,
               "-o", out / "tflrt.json"]
        for spec in models:
            cmd += ["--model", spec]
        if face is not None:
            cmd += ["--face", face]
        _run(cmd, "tflite-runtime")

    fer = ROOT / ".venv-fer" / "bin" / "python"
    if not fer.is_file():
        print(f"[peers] fer skipped: {fer} absent (bash benchmarks/setup_fer_env.sh)")
    else:
        frames = [EXAMPLES / "astronaut.jpg", EXAMPLES / "group.jpg"]
        _run([fer, "benchmarks/fer_peer.py", "latency", "--max-time", a.max_time, "--frames", *frames,
              "-o", out / "fer_latency.json"], "fer")
        if m["int8_tflite"]:
            _run([fer, "benchmarks/fer_peer.py", "compare", "--repo", ROOT, "--model", m["int8_tflite"],
                  "--max-time", a.max_time, "--frames", *frames, "-o", out / "fer_compare.json"],
                 "ours vs fer, interleaved")


if __name__ == "__main__":
    main()
