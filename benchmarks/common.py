"""Shared helpers for the benchmarks: where the models are, machine facts, MAC counting, data loading,
Wilson intervals. Never imported by fer_edge."""
from __future__ import annotations

import glob
import json
import math
import os
import platform
import re
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RUN = ROOT / "runs" / "final"
DEFAULT_INT8 = ROOT / "fer_edge" / "models" / "fer_int8.tflite"
DEFAULT_DATA = Path(os.environ.get("FER_DATA", ROOT.parent / "shared" / "data" / "fer2013"))
FER_VENV = ROOT / ".venv-fer"
EXAMPLES = Path(os.environ.get("FER_BENCH_EXAMPLES", ROOT / "examples"))

FOUR = ["happy", "sad", "neutral", "surprise"]
SEVEN = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]

# Folder names used by other folder-layout data sets, mapped to our label names.
CLASS_ALIASES = {
    "happiness": "happy", "joy": "happy", "happy": "happy",
    "sadness": "sad", "sad": "sad",
    "neutral": "neutral", "neutrality": "neutral", "calm": "neutral",
    "surprise": "surprise", "surprised": "surprise",
    "anger": "angry", "angry": "angry", "mad": "angry",
    "disgust": "disgust", "disgusted": "disgust", "contempt": "contempt",
    "fear": "fear", "fearful": "fear", "afraid": "fear", "scared": "fear",
}


def canonical_class(name: str) -> str:
    key = re.sub(r"^\d+[_\- ]*", "", name.strip().lower())  # "3_happy" -> "happy"
    return CLASS_ALIASES.get(key, key)


# --------------------------------------------------------------------------------------------- models
def model_paths(run: str | os.PathLike | None = None, int8: str | os.PathLike | None = None) -> dict:
    """Locate the models a benchmark needs. Keys: keras, float_tflite, int8_tflite (Path or None).

    Environment overrides: FER_BENCH_RUN, FER_BENCH_INT8, FER_BENCH_FLOAT (a float .tflite).
    """
    run = Path(run or os.environ.get("FER_BENCH_RUN") or DEFAULT_RUN)
    int8 = Path(int8 or os.environ.get("FER_BENCH_INT8") or DEFAULT_INT8)
    out = {"run": run, "keras": find_keras_model(run), "float_tflite": None,
           "int8_tflite": int8 if int8.is_file() else None}
    ftf = os.environ.get("FER_BENCH_FLOAT")
    if ftf and Path(ftf).is_file():
        out["float_tflite"] = Path(ftf)
    else:
        for p in sorted(glob.glob(str(run / "quant" / "*.tflite"))):
            kind = tflite_input_dtype(p)
            if kind == "float32" and out["float_tflite"] is None:
                out["float_tflite"] = Path(p)
            elif kind == "int8" and out["int8_tflite"] is None:
                out["int8_tflite"] = Path(p)
    return out


def find_keras_model(run: Path) -> Path | None:
    """The run's best float model: prefer best*.keras/.h5, then any .keras/.h5, then a SavedModel dir."""
    run = Path(run)
    if not run.is_dir():
        return None
    for pat in ("best*.keras", "*.keras", "best*.h5", "*.h5", "model*/saved_model.pb", "*/saved_model.pb"):
        hits = sorted(run.glob(pat))
        hits = [h for h in hits if "checkpoints" not in h.parts and "quant" not in h.parts]
        if hits:
            h = hits[0]
            return h.parent if h.name == "saved_model.pb" else h
    return None


def tflite_interpreter(path, threads=1, which="litert"):
    """An allocated interpreter from the named runtime: litert | tflite_runtime | tf."""
    if which == "litert":
        from ai_edge_litert.interpreter import Interpreter
    elif which == "tflite_runtime":
        from tflite_runtime.interpreter import Interpreter  # type: ignore
    elif which == "tf":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf
        Interpreter = tf.lite.Interpreter
    else:
        raise ValueError(which)
    it = Interpreter(model_path=str(path), num_threads=threads)
    it.allocate_tensors()
    return it


def available_interpreters() -> dict:
    """name -> None if importable, else the reason it is not."""
    out = {}
    for name, mod in (("litert", "ai_edge_litert.interpreter"), ("tflite_runtime", "tflite_runtime.interpreter"),
                      ("tf", "tensorflow")):
        try:
            __import__(mod)
            out[name] = None
        except Exception as e:  # noqa: BLE001 - report any import failure as the skip reason
            out[name] = f"{mod} not importable: {type(e).__name__}: {e}".splitlines()[0][:200]
    return out


def tflite_input_dtype(path) -> str | None:
    try:
        it = tflite_interpreter(path, 1, "litert")
    except Exception:  # noqa: BLE001
        return None
    return np.dtype(it.get_input_details()[0]["dtype"]).name


def tflite_macs(path) -> dict:
    """Multiply-accumulates of one inference, counted from the op list of a .tflite model.

    CONV_2D: out_elems * kh*kw*in_c; DEPTHWISE_CONV_2D: out_elems * kh*kw; FULLY_CONNECTED: out_elems * in;
    TRANSPOSE_CONV likewise. Element-wise ops, pooling and softmax are not counted (they are small).
    """
    it = tflite_interpreter(path, 1, "litert")
    shapes = {t["index"]: tuple(int(s) for s in t["shape"]) for t in it.get_tensor_details()}
    per_op: dict[str, int] = {}
    total = 0
    for op in it._get_ops_details():  # noqa: SLF001 - public enough; used by TF's own tools
        name = op["op_name"]
        ins, outs = list(op["inputs"]), list(op["outputs"])
        if not outs or outs[0] < 0:
            continue
        out_elems = int(np.prod(shapes.get(outs[0], (0,))))
        macs = 0
        if name == "CONV_2D" and len(ins) > 1:
            _, kh, kw, cin = shapes[ins[1]]
            macs = out_elems * kh * kw * cin
        elif name == "DEPTHWISE_CONV_2D" and len(ins) > 1:
            _, kh, kw, _ = shapes[ins[1]]
            macs = out_elems * kh * kw
        elif name == "FULLY_CONNECTED" and len(ins) > 1:
            macs = out_elems * shapes[ins[1]][-1]
        elif name == "TRANSPOSE_CONV" and len(ins) > 1:
            _, kh, kw, cin = shapes[ins[1]]
            macs = int(np.prod(shapes.get(ins[2], (0,)))) * kh * kw * shapes[ins[1]][0]
        if macs:
            per_op[name] = per_op.get(name, 0) + macs
            total += macs
    return {"total": total, "per_op": per_op}


# --------------------------------------------------------------------------------------------- machine
def machine_info() -> dict:
    cpu, flags, mhz = platform.processor() or platform.machine(), set(), None
    try:
        text = Path("/proc/cpuinfo").read_text()
        m = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
        if m:
            cpu = m.group(1).strip()
        m = re.search(r"^(?:flags|Features)\s*:\s*(.+)$", text, re.M)
        if m:
            flags = set(m.group(1).split())
        m = re.search(r"^cpu MHz\s*:\s*([\d.]+)$", text, re.M)
        if m:
            mhz = float(m.group(1))
    except OSError:
        pass
    cores = os.cpu_count() or 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    return {"cpu": cpu, "cores": cores, "mhz": mhz, "machine": platform.machine(),
            "python": platform.python_version(), "peak": peak_estimate(flags, mhz, platform.machine())}


def peak_estimate(flags: set, mhz: float | None, arch: str) -> dict:
    """A rough per-core MAC/s ceiling from SIMD width: lanes x FMA ports x clock.

    x86: AVX-512 = 16 fp32 lanes, AVX2 = 8; 2 FMA ports assumed (server cores). int8 with VNNI
    (vpdpbusd) = 4 MACs per 32-bit lane, without VNNI = 2 (vpmaddubsw+vpmaddwd, roughly). ARM NEON:
    4 fp32 lanes x 2 ports, int8 sdot 16 per 128-bit x 2 ports when `asimddp`. AMX is ignored: TFLite's
    XNNPACK does not use it for these ops. The clock is /proc/cpuinfo's "cpu MHz" (base, not turbo).
    """
    ghz = (mhz or 2000.0) / 1000.0
    if "avx512f" in flags:
        lanes, isa = 16, "AVX-512"
    elif "avx2" in flags:
        lanes, isa = 8, "AVX2"
    elif arch in ("aarch64", "arm64") or "asimd" in flags:
        lanes, isa = 4, "NEON"
    else:
        lanes, isa = 4, "SSE"
    ports = 2
    fp32 = lanes * ports * ghz * 1e9
    vnni = bool({"avx512_vnni", "avx_vnni", "asimddp"} & flags)
    int8 = lanes * (4 if vnni else 2) * ports * ghz * 1e9
    return {"isa": isa + (" + VNNI/dot" if vnni else ""), "ghz": ghz, "fma_ports": ports,
            "fp32_macs_per_core": fp32, "int8_macs_per_core": int8}


# --------------------------------------------------------------------------------------------- stats
def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval for k successes in n trials."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, centre - half), min(1.0, centre + half))


def fmt_acc(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    if n == 0:
        return "n/a (n=0)"
    return f"{100 * k / n:.1f}% (n={n}, 95% CI {100 * lo:.1f}-{100 * hi:.1f})"


# --------------------------------------------------------------------------------------------- data
IMG_EXT = (".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".webp")


def folder_dataset(path, labels, split: str | None = "test", limit: int | None = None):
    """Files and label indices of a folder-layout data set (`[split/]<class>/*.jpg`), class names mapped.

    Classes not in `labels` are skipped (reported in the returned dict). `limit` caps images per class
    (taken in sorted order, so runs are reproducible)."""
    root = Path(path)
    if split and (root / split).is_dir():
        root = root / split
    if not root.is_dir():
        raise SystemExit(f"data folder not found: {root}")
    files, y, skipped, mapped = [], [], {}, {}
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        c = canonical_class(d.name)
        imgs = sorted(f for f in d.iterdir() if f.suffix.lower() in IMG_EXT)
        if c not in labels:
            skipped[d.name] = len(imgs)
            continue
        if d.name != c:
            mapped[d.name] = c
        if limit:
            imgs = imgs[:limit]
        files += imgs
        y += [labels.index(c)] * len(imgs)
    if not files:
        raise SystemExit(f"no images of classes {labels} under {root} (folders: "
                         f"{sorted(p.name for p in root.iterdir() if p.is_dir())})")
    return {"root": root, "files": files, "y": np.array(y, dtype=np.int64), "skipped": skipped, "mapped": mapped}


def load_faces(files, size=48) -> np.ndarray:
    """uint8 [N, size, size] grayscale faces (resized when the file is not already that size)."""
    import cv2
    out = np.empty((len(files), size, size), np.uint8)
    for i, f in enumerate(files):
        img = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise SystemExit(f"unreadable image: {f}")
        if img.shape != (size, size):
            img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
        out[i] = img
    return out


def read_json(path):
    with open(path) as f:
        return json.load(f)


def classifier_cls():
    """fer_edge.Classifier (falls back to fer_edge.classifier while the package __init__ is being written)."""
    try:
        from fer_edge import Classifier
    except ImportError:
        from fer_edge.classifier import Classifier
    return Classifier


