"""What is inside a .tflite: its ops and tensor types, and whether a Coral Edge TPU can run them.

The Edge TPU maps only a fixed set of int8 ops; anything else (LEAKY_RELU among them) splits the graph and
runs on the host CPU from that op on, which is why the final CNN has a relu/prelu edge variant.
"""
from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ai_edge_litert.interpreter import Interpreter, OpResolverType

# Coral "supported operations" table (coral.ai/docs/edgetpu/models-intro), builtin op names as in TFLite.
EDGETPU_OPS = frozenset({
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "EXPAND_DIMS", "FULLY_CONNECTED",
    "GATHER", "HARD_SWISH", "L2_NORMALIZATION", "LOGISTIC", "LSTM", "MAXIMUM", "MAX_POOL_2D", "MEAN", "MINIMUM",
    "MUL", "PACK", "PAD", "PADV2", "PRELU", "QUANTIZE", "REDUCE_MAX", "REDUCE_MIN", "RELU", "RELU6",
    "RELU_N1_TO_1", "RESHAPE", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "RSQRT", "SLICE", "SOFTMAX",
    "SPACE_TO_DEPTH", "SPLIT", "SQUARED_DIFFERENCE", "SQUEEZE", "STRIDED_SLICE", "SUB", "SUM", "TANH",
    "TRANSPOSE", "TRANSPOSE_CONV",
})


@dataclass
class OpReport:
    ops: dict[str, int]                      # op name -> count, in graph order of first use
    float_ops: list[str]                     # ops touching float32 tensors (none in a full-integer model)
    unsupported_on_edgetpu: list[str]
    io_dtypes: dict[str, str] = field(default_factory=dict)

    @property
    def edgetpu_ok(self) -> bool:
        return not self.unsupported_on_edgetpu

    def to_dict(self) -> dict:
        return {"ops": self.ops, "float_ops": self.float_ops, "io_dtypes": self.io_dtypes,
                "edgetpu_unsupported": self.unsupported_on_edgetpu, "edgetpu_ok": self.edgetpu_ok}


def inspect_ops(model_path: str | Path) -> OpReport:
    # Without the default XNNPACK delegate, so the op list is the model's own rather than one DELEGATE node.
    interpreter = Interpreter(model_path=str(model_path),
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    tensors = {t["index"]: np.dtype(t["dtype"]) for t in interpreter.get_tensor_details()}
    ops: Counter = Counter()
    float_ops = []
    for op in interpreter._get_ops_details():  # the public API has no op list; this is stable since TF 2.3
        name = op["op_name"]
        ops[name] += 1
        used = [i for i in list(op["inputs"]) + list(op["outputs"]) if i >= 0 and i in tensors]
        if any(tensors[i] == np.float32 for i in used) and name not in float_ops:
            float_ops.append(name)
    io = {"input": np.dtype(interpreter.get_input_details()[0]["dtype"]).name,
          "output": np.dtype(interpreter.get_output_details()[0]["dtype"]).name}
    unsupported = sorted(name for name in ops if name not in EDGETPU_OPS)
    if float_ops:
        unsupported = sorted(set(unsupported) | {f"{name} (float)" for name in float_ops})
    return OpReport(dict(ops), float_ops, unsupported, io)


def compile_for_edgetpu(model_path: Path, out_dir: Path) -> str:
    """Runs edgetpu_compiler when installed; otherwise says how to get it. Returns a one-paragraph verdict."""
    compiler = shutil.which("edgetpu_compiler")
    if compiler is None:
        return ("edgetpu_compiler not on PATH: it runs on x86-64 Debian/Ubuntu from Coral's apt repository "
                "(package edgetpu-compiler, see coral.ai/docs/edgetpu/compiler); then run "
                f"`edgetpu_compiler -o {out_dir} {model_path}`")
    done = subprocess.run([compiler, "-s", "-o", str(out_dir), str(model_path)], capture_output=True, text=True)
    return (done.stdout + done.stderr).strip()
