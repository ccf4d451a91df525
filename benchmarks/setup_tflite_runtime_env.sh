#!/usr/bin/env bash
# A small venv with the legacy `tflite-runtime` interpreter (what older Pi images ship), so the benchmark can
# time it against ai-edge-litert on the same models. It needs numpy<2, which the project venv does not have,
# hence its own venv. Usage: bash benchmarks/setup_tflite_runtime_env.sh [VENV_DIR]  (default .venv-tflrt)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-.venv-tflrt}"
PY="${PYTHON:-python3.11}"   # tflite-runtime 2.14 has wheels for CPython <= 3.11
command -v "$PY" >/dev/null || PY=python3
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q "tflite-runtime==2.14.*" "numpy<2"
"$VENV/bin/python" -c "import tflite_runtime, numpy; print('tflite_runtime', tflite_runtime.__version__, 'numpy', numpy.__version__)"
