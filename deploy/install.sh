#!/usr/bin/env bash
# Install the fer-edge runtime on a device (Raspberry Pi OS 64-bit, Debian/Ubuntu on aarch64 or x86-64):
# a venv, the runtime only (numpy, OpenCV headless, a TFLite interpreter; never TensorFlow), then a check
# that `fer-edge-check` and `fer-edge-run` work on the shipped sample.
#
#   bash deploy/install.sh                                  # online, from this source checkout
#   bash fer-edge-aarch64/install.sh --wheelhouse fer-edge-aarch64   # offline, from a bundle made by
#                                                           #   python -m deploy.wheelhouse on a desktop
#   sudo bash deploy/install.sh --service                   # also install the systemd unit + logrotate
#
# Interpreter (--runtime):
#   auto    ai-edge-litert (Python 3.10-3.13, aarch64/x86-64); if it cannot be installed and Python <= 3.11,
#           tflite-runtime 2.14 instead (default)
#   litert  ai-edge-litert only
#   tflite  tflite-runtime 2.14 with numpy<2 and an OpenCV built for numpy 1.x (Python <= 3.11; its aarch64
#           wheel needs glibc >= 2.34: Bookworm or newer)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${PYTHON:-python3}"
VENV=""
WHEELHOUSE=""
RUNTIME="auto"
PACKAGE=""
MODEL=""
THREADS=1
CHECK=1
SERVICE=0
SERVICE_USER="fer-edge"
# Runtime deps of the [tflite-runtime] path = pyproject's dependencies without ai-edge-litert + the extra.
TFLITE_REQS=("tflite-runtime==2.14.*" "numpy>=1.23,<2" "opencv-python-headless>=4.9,<5")
FORBIDDEN_MODULES="tensorflow tf_keras"

die() { echo "error: $*" >&2; exit 2; }
say() { echo "[install] $*"; }

usage() {
  sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<EOF

options:
  --venv DIR          venv to create or reuse (default /opt/fer-edge/venv as root, else ~/.local/share/fer-edge/venv)
  --python PY         Python to build the venv with (default python3)
  --wheelhouse DIR    install offline from this bundle or wheel folder (pip --no-index)
  --runtime R         auto | litert | tflite (default auto)
  --package SPEC      what to install as fer-edge (default: fer-edge from the wheelhouse, else this checkout)
  --model PATH        model for the post-install check (default: the shipped model)
  --threads N         interpreter threads for the check (default 1)
  --no-check          skip the post-install check
  --service           (root) install deploy/fer-edge.service + logrotate, user '$SERVICE_USER' in group video
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --venv) VENV="${2:?--venv needs a folder}"; shift 2 ;;
    --python) PY="${2:?--python needs an interpreter}"; shift 2 ;;
    --wheelhouse) WHEELHOUSE="${2:?--wheelhouse needs a folder}"; shift 2 ;;
    --runtime) RUNTIME="${2:?--runtime needs auto, litert or tflite}"; shift 2 ;;
    --package) PACKAGE="${2:?--package needs a spec}"; shift 2 ;;
    --model) MODEL="${2:?--model needs a path}"; shift 2 ;;
    --threads) THREADS="${2:?--threads needs a number}"; shift 2 ;;
    --no-check) CHECK=0; shift ;;
    --service) SERVICE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

case "$RUNTIME" in auto|litert|tflite) ;; *) die "--runtime must be auto, litert or tflite, not '$RUNTIME'" ;; esac
[[ "$THREADS" =~ ^[1-9][0-9]*$ ]] || die "--threads must be a positive integer, not '$THREADS'"
[[ $SERVICE -eq 0 || $(id -u) -eq 0 ]] || die "--service needs root (sudo)"
if [[ -z "$VENV" ]]; then
  if [[ $(id -u) -eq 0 ]]; then VENV=/opt/fer-edge/venv; else VENV="$HOME/.local/share/fer-edge/venv"; fi
fi
[[ $SERVICE -eq 0 || "$VENV" == /opt/fer-edge/venv ]] || say "note: the unit runs /opt/fer-edge/venv; edit ExecStart for $VENV"

command -v "$PY" >/dev/null 2>&1 || die "$PY not found (install python3 and python3-venv)"
read -r PYVER ARCH < <("$PY" -c 'import platform,sys; print("%d.%d" % sys.version_info[:2], platform.machine())')
PYMINOR="${PYVER#3.}"
[[ "${PYVER%%.*}" == 3 && "$PYMINOR" -ge 10 ]] || die "fer-edge needs Python >= 3.10, $PY is $PYVER"
case "$ARCH" in
  aarch64|arm64|x86_64|AMD64) ;;
  armv7l|armv6l) die "32-bit $ARCH: no TFLite interpreter wheels; install 64-bit Raspberry Pi OS" ;;
  *) say "warning: untested machine $ARCH" ;;
esac
if [[ "$RUNTIME" == tflite && "$PYMINOR" -gt 11 ]]; then
  die "tflite-runtime has no wheels for Python $PYVER (<= 3.11 only); use --runtime litert"
fi

PIP_OPTS=(--disable-pip-version-check)
SHARE_SRC=""
if [[ -n "$WHEELHOUSE" ]]; then
  [[ -d "$WHEELHOUSE" ]] || die "wheelhouse not found: $WHEELHOUSE"
  WHEELHOUSE="$(cd "$WHEELHOUSE" && pwd)"
  [[ -d "$WHEELHOUSE/examples" ]] && SHARE_SRC="$WHEELHOUSE/examples"
  [[ -d "$WHEELHOUSE/wheels" ]] && WHEELHOUSE="$WHEELHOUSE/wheels"
  ls "$WHEELHOUSE"/*.whl >/dev/null 2>&1 || die "no wheels in $WHEELHOUSE"
  PIP_OPTS+=(--no-index --find-links "$WHEELHOUSE")
  [[ -n "$PACKAGE" ]] || PACKAGE="fer-edge"
  say "offline install from $WHEELHOUSE"
else
  if [[ -z "$PACKAGE" ]]; then
    [[ -f "$HERE/../pyproject.toml" ]] || die "no --wheelhouse and no source checkout around $HERE; pass --wheelhouse or --package"
    PACKAGE="$(cd "$HERE/.." && pwd)"
  fi
fi
[[ -z "$SHARE_SRC" && -d "$HERE/../examples" ]] && SHARE_SRC="$(cd "$HERE/../examples" && pwd)"
[[ -z "$SHARE_SRC" && -d "$HERE/examples" ]] && SHARE_SRC="$HERE/examples"

T0=$SECONDS
REUSED=0
if [[ -x "$VENV/bin/python" ]]; then
  say "reusing venv $VENV"
  REUSED=1
else
  say "creating venv $VENV with $PY ($PYVER, $ARCH)"
  mkdir -p "$(dirname "$VENV")"
  "$PY" -m venv "$VENV" || die "cannot create a venv with $PY (Debian/Pi OS: apt install python3-venv)"
fi
VPY="$VENV/bin/python"
pip_install() { "$VPY" -m pip install "${PIP_OPTS[@]}" "$@"; }

install_litert() { say "installing $PACKAGE with ai-edge-litert"; pip_install "$PACKAGE"; }
install_tflite() {
  say "installing $PACKAGE with tflite-runtime 2.14 (numpy<2)"
  pip_install --no-deps "$PACKAGE" && pip_install "${TFLITE_REQS[@]}"
}

case "$RUNTIME" in
  litert) install_litert || die "installing the ai-edge-litert runtime failed (see pip's message above)" ;;
  tflite) install_tflite || die "installing the tflite-runtime runtime failed (see pip's message above)" ;;
  auto)
    if ! install_litert; then
      if [[ "$PYMINOR" -le 11 ]]; then
        say "ai-edge-litert could not be installed for Python $PYVER on $ARCH; trying tflite-runtime"
        install_tflite || die "neither ai-edge-litert nor tflite-runtime could be installed"
      else
        die "ai-edge-litert could not be installed for Python $PYVER on $ARCH (tflite-runtime needs Python <= 3.11)"
      fi
    fi ;;
esac
if [[ $REUSED -eq 1 ]]; then  # same version number, newer build (e.g. a new model): replace fer-edge itself
  pip_install --force-reinstall --no-deps "$PACKAGE" || die "reinstalling $PACKAGE failed"
fi
say "installed in $((SECONDS - T0)) s"

# The runtime must never have pulled TensorFlow in.
"$VPY" - "$FORBIDDEN_MODULES" <<'EOF' || die "TensorFlow found in $VENV: the runtime install must not contain it"
import importlib.util, sys
found = [m for m in sys.argv[1].split() if importlib.util.find_spec(m) is not None]
sys.exit(1 if found else 0)
EOF
BACKEND="$("$VPY" -c 'from fer_edge.interpreter import backend_name; print(backend_name())')" \
  || die "fer_edge does not import in $VENV"
say "no TensorFlow in the venv; interpreter: $BACKEND"

# The sample images the device check uses, where fer-edge-check looks for them (sys.prefix/share/fer-edge).
if [[ -n "$SHARE_SRC" ]]; then
  mkdir -p "$VENV/share/fer-edge/examples"
  cp -f "$SHARE_SRC"/*.jpg "$SHARE_SRC"/*.mp4 "$VENV/share/fer-edge/examples/" 2>/dev/null || true
fi

if [[ $CHECK -eq 1 ]]; then
  MODEL_ARGS=()
  [[ -n "$MODEL" ]] && MODEL_ARGS=(--model "$MODEL")
  say "fer-edge-check ${MODEL_ARGS[*]:-} --threads $THREADS"
  "$VENV/bin/fer-edge-check" "${MODEL_ARGS[@]}" --threads "$THREADS" || die "fer-edge-check failed (see above)"
  SAMPLE="$VENV/share/fer-edge/examples/astronaut.jpg"
  if [[ -f "$SAMPLE" ]]; then
    say "fer-edge-run --image $SAMPLE"
    OUT="$("$VENV/bin/fer-edge-run" "${MODEL_ARGS[@]}" --threads "$THREADS" --image "$SAMPLE")" \
      || die "fer-edge-run failed on the sample"
    [[ -n "$OUT" ]] || die "fer-edge-run printed nothing for the sample"
    echo "$OUT" | head -n 3
  else
    say "no sample image to run fer-edge-run on; skipped"
  fi
fi

if [[ $SERVICE -eq 1 ]]; then
  id -u "$SERVICE_USER" >/dev/null 2>&1 || \
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$SERVICE_USER"
  usermod -aG video "$SERVICE_USER"
  install -m 0644 "$HERE/fer-edge.service" /etc/systemd/system/fer-edge.service
  install -m 0644 "$HERE/fer-edge.logrotate" /etc/logrotate.d/fer-edge
  if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
    systemctl daemon-reload
    systemctl enable --now fer-edge.service
    say "service started: journalctl -u fer-edge; JSON lines in /var/log/fer-edge/fer-edge.jsonl"
  else
    say "systemd is not running here; unit installed, enable it on the device: systemctl enable --now fer-edge"
  fi
fi
say "done: $VENV/bin/fer-edge-run --camera 0   ($((SECONDS - T0)) s)"
