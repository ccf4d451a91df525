"""Time the bare classifier interpreter of another runtime, run INSIDE that runtime's venv (e.g. .venv-tflrt with
tflite-runtime, which needs numpy<2). Self-contained: numpy + the runtime only. Writes JSON rows in the same shape
as the pytest-benchmark extra_info (kind=classify, runtime, dtype, threads) for benchmarks.report to merge.

    .venv-tflrt/bin/python benchmarks/interp_peer.py --runtime tflite_runtime \
        --model float32=runs/final/quant/x.tflite --model int8=fer_edge/models/fer_int8.tflite -o tflrt.json
"""
from __future__ import annotations

import argparse
import importlib
import json

import numpy as np
from peer_tools import timeit  # run as a script: benchmarks/ is on sys.path





def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--runtime", default="tflite_runtime", choices=["tflite_runtime", "litert", "tf"])
    ap.add_argument("--model", action="append", required=True, help="DTYPE=PATH, repeatable")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--face", default=None, help=".npy uint8 [48, 48] (default: a gradient)")
    ap.add_argument("--max-time", type=float, default=1.0)
    ap.add_argument("-o", "--out", required=True)
    a = ap.parse_args(argv)
    mod = {"tflite_runtime": "tflite_runtime.interpreter", "litert": "ai_edge_litert.interpreter",
           "tf": "tensorflow.lite"}[a.runtime]
    Interpreter = importlib.import_module(mod).Interpreter
    face = np.load(a.face) if a.face else np.tile(np.arange(48, dtype=np.uint8) * 5, (48, 1))
    rows = []
    for spec in a.model:
        dtype, path = spec.split("=", 1)
        for threads in a.threads:
            it = Interpreter(model_path=path, num_threads=threads)
            it.allocate_tensors()
            d = it.get_input_details()[0]
            x = face[None, ..., None].astype(np.float32) / 255.0
            if d["dtype"] != np.float32:
                s, zp = d["quantization"]
                info = np.iinfo(d["dtype"])
                x = np.clip(np.round(x / s + zp), info.min, info.max).astype(d["dtype"])
            i_in, i_out = d["index"], it.get_output_details()[0]["index"]

            def run():
                it.set_tensor(i_in, x)
                it.invoke()
                return it.get_tensor(i_out)

            rows.append({"kind": "classify", "runtime": a.runtime, "dtype": dtype, "threads": threads, "faces": 1,
                         "source": "subprocess", **timeit(run, a.max_time, warmup=10)})
    version = getattr(importlib.import_module(a.runtime if a.runtime != "litert" else "ai_edge_litert"),
                      "__version__", "?") if a.runtime != "tf" else "?"
    json.dump({"runtime": a.runtime, "version": version, "numpy": np.__version__, "rows": rows},
              open(a.out, "w"), indent=1)
    print(f"wrote {a.out}: {len(rows)} rows ({a.runtime} {version})")


if __name__ == "__main__":
    main()
