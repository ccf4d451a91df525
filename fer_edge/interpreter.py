"""Pick a TFLite interpreter and check the model contract, so a wrong model fails at load with one line.

Order: LiteRT (`ai_edge_litert`, the maintained runtime), then `tflite_runtime` (older boards), then `tf.lite`
as a last resort, imported lazily so the device package never pulls TensorFlow in on its own.
"""
from __future__ import annotations

import ctypes
import importlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .errors import DelegateError, ModelError

EDGETPU_LIBRARY = "libedgetpu.so.1"
SUPPORTED_DTYPES = (np.int8, np.uint8, np.float32)


@dataclass(frozen=True)
class TensorSpec:
    """What the classifier needs to feed or read one tensor: where, what shape, and how it is quantised."""

    index: int
    shape: tuple[int, ...]
    dtype: type
    scale: float
    zero_point: int


def _backend() -> tuple[str, type, Callable[..., Any]]:
    try:
        from ai_edge_litert.interpreter import Interpreter, load_delegate

        return "ai_edge_litert", Interpreter, load_delegate
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter, load_delegate

        return "tflite_runtime", Interpreter, load_delegate
    except ImportError:
        pass
    try:  # last resort, on a desktop only; looked up by name so the device package has no TensorFlow import
        tf = importlib.import_module("tensorflow")
    except ImportError:
        raise ModelError("no TFLite interpreter installed: pip install ai-edge-litert") from None
    return "tensorflow", tf.lite.Interpreter, tf.lite.experimental.load_delegate


def backend_name() -> str:
    return _backend()[0]


def load_interpreter(model_path: str | Path, threads: int = 1, edgetpu: bool = False) -> Any:
    """An allocated interpreter; raises ModelError for a bad file, DelegateError when the Edge TPU is absent."""
    path = Path(model_path)
    if not path.is_file():
        raise ModelError(f"model not found: {path}")
    backend, interpreter_cls, load_delegate = _backend()
    if backend == "tflite_runtime":
        _probe_in_subprocess(path)
    delegates = []
    if edgetpu:
        try:
            # Probe with ctypes first: a failed load_delegate leaves a half-built Delegate whose __del__
            # prints a traceback at exit (ai_edge_litert 2.x).
            ctypes.CDLL(EDGETPU_LIBRARY)
            delegates.append(load_delegate(EDGETPU_LIBRARY))
        except (ValueError, OSError, RuntimeError) as exc:
            raise DelegateError(f"Edge TPU delegate {EDGETPU_LIBRARY} not loaded ({_first_line(exc)})") from None
    try:
        interpreter = interpreter_cls(model_path=str(path), num_threads=threads, experimental_delegates=delegates)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"cannot load model {path}: {_first_line(exc)}") from None
    return interpreter


def _probe_in_subprocess(path: Path) -> None:
    """tflite-runtime 2.14 segfaults on a truncated or corrupt model instead of raising; loading it once in a
    child process first turns that crash into a one-line ModelError (LiteRT verifies the file itself)."""
    probe = ("import sys; from tflite_runtime.interpreter import Interpreter; "
             "Interpreter(model_path=sys.argv[1]).allocate_tensors()")
    done = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True)
    if done.returncode < 0:
        raise ModelError(f"cannot load model {path}: the interpreter crashed on it (truncated or corrupt file?)")


def input_output_specs(interpreter: Any, model_path: str | Path) -> tuple[TensorSpec, TensorSpec]:
    """Check the model contract: one NHWC input with 1 channel, one [1, C] output, int8/uint8/float32."""
    inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelError(f"{model_path}: expected 1 input and 1 output, found {len(inputs)} and {len(outputs)}")
    src, dst = _spec(inputs[0]), _spec(outputs[0])
    if len(src.shape) != 4 or src.shape[0] != 1 or src.shape[3] != 1:
        raise ModelError(f"{model_path}: input shape {list(src.shape)} is not [1, H, W, 1]")
    if len(dst.shape) != 2 or dst.shape[0] != 1:
        raise ModelError(f"{model_path}: output shape {list(dst.shape)} is not [1, C]")
    for role, spec in (("input", src), ("output", dst)):
        if spec.dtype not in SUPPORTED_DTYPES:
            raise ModelError(f"{model_path}: {role} dtype {np.dtype(spec.dtype).name} is not int8/uint8/float32")
        if spec.dtype != np.float32 and spec.scale == 0.0:
            raise ModelError(f"{model_path}: {role} is {np.dtype(spec.dtype).name} without a quantisation scale")
    return src, dst


def _spec(detail: dict[str, Any]) -> TensorSpec:
    scale, zero_point = detail.get("quantization", (0.0, 0))
    return TensorSpec(
        index=detail["index"],
        shape=tuple(int(d) for d in detail["shape"]),
        dtype=np.dtype(detail["dtype"]).type,
        scale=float(scale),
        zero_point=int(zero_point),
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
