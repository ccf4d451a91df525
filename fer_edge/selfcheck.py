"""`fer-edge-check`: verify a board in a minute.

1. Loads the model (the shipped one unless `--model`), says which interpreter runs it.
2. Re-runs the reference recorded when the model was made (the sidecar's `reference`: face boxes on the
   shipped sample, raw quantised outputs, probabilities): the same crops must give the same raw outputs,
   within one quantisation step (the max difference is reported in steps), and the face detector must find
   the same faces.
3. With `--faces DIR` (class subfolders of 48x48 faces, FER2013-style names), the accuracy on them.
4. Per-face and per-frame latency on this board.

Exit 0 when everything matches, 1 on a mismatch (or an accuracy under `--min-accuracy`), 2 on an error that
stops the check (printed as one `error: ...` line).

`record_reference(model_path, image_path)` makes the `reference` dict; the quantize stage calls it when it
writes the model's sidecar. Never imports TensorFlow.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

from .boxes import iou
from .classifier import Classifier
from .crops import crop_faces
from .detect import HaarDetector
from .errors import DelegateError, FerEdgeError
from .interpreter import backend_name
from .metrics import accuracy, classification_report
from .sidecar import read_sidecar, sidecar_path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
DEFAULT_MARGIN = 0.1  # PipelineOptions.margin; recorded in the reference so a later default cannot drift
MAX_STEPS = 1  # outputs may differ by one quantisation step between CPUs/interpreters, never more
MIN_IOU = 0.5
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".tif", ".tiff", ".webp"}

# Face-folder names seen in FER2013 / AffectNet / RAF-DB exports -> the model's label names.
LABEL_ALIASES = {
    "anger": "angry", "angry": "angry", "mad": "angry",
    "disgust": "disgust", "disgusted": "disgust", "contempt": "contempt",
    "fear": "fear", "fearful": "fear", "afraid": "fear", "scared": "fear",
    "happiness": "happy", "happy": "happy", "joy": "happy",
    "sadness": "sad", "sad": "sad",
    "surprise": "surprise", "surprised": "surprise",
    "neutral": "neutral", "calm": "neutral",
}


class CheckError(FerEdgeError):
    """Something the check needs is missing (sample image, reference, face folder)."""


# --------------------------------------------------------------------------------------------- reference


def record_reference(model_path: str | Path, image_path: str | Path, margin: float = DEFAULT_MARGIN) -> dict:
    """Run the device pipeline (Haar faces -> crops -> classifier) on `image_path` and return the sidecar's
    `reference` dict: per face its box, the raw output tensor (int8 for the shipped model) and probabilities,
    plus the output quantisation, so a board can later prove it computes the same numbers."""
    classifier = Classifier(model_path)
    image = _read_image(Path(image_path))
    boxes = HaarDetector().detect(image)
    crops = crop_faces(_gray(image), boxes, classifier.input_size, margin)
    raw = classifier.predict_raw(crops)
    probs = classifier.predict(crops)  # same crops again: deterministic, and only public API
    scale, zero_point = _output_quantization(classifier)
    return {
        "image": _portable_path(Path(image_path)),
        "faces": [
            {"box": [int(v) for v in box], "raw": _raw_list(r), "probs": [round(float(p), 6) for p in pr]}
            for box, r, pr in zip(boxes, raw, probs)
        ],
        "output_scale": scale,
        "output_zero_point": zero_point,
        "margin": margin,
        "detector": "haar",
        "made_on": _platform_info(),
    }


def _output_quantization(classifier: Classifier) -> tuple[float | None, int | None]:
    spec = classifier.output_spec
    if spec.dtype == np.float32:
        return None, None
    return float(spec.scale), int(spec.zero_point)


def _raw_list(raw: np.ndarray) -> list:
    return [int(v) for v in raw] if np.issubdtype(raw.dtype, np.integer) else [float(v) for v in raw]


def _portable_path(path: Path) -> str:
    """`examples/astronaut.jpg` rather than an absolute path when the image lies in the repo."""
    try:
        return path.resolve().relative_to(REPO_DIR).as_posix()
    except ValueError:
        return str(path)


def _platform_info() -> dict:
    return {
        "machine": platform.machine(),
        "python": platform.python_version(),
        "interpreter": backend_name(),
        "numpy": np.__version__,
        "opencv": cv2.__version__,
    }


# --------------------------------------------------------------------------------------------- helpers


def _read_image(path: Path) -> np.ndarray:
    if not path.is_file():
        raise CheckError(f"sample image not found: {path}")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise CheckError(f"cannot decode image {path}")
    return image


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image


def find_sample(name: str, model_path: Path) -> Path | None:
    """Where the reference image can be: as recorded (absolute or relative to the working directory), in a
    source checkout, in the venv's `share/fer-edge/` (put there by deploy/install.sh), or beside the model."""
    rel = Path(name)
    candidates = [rel, REPO_DIR / rel, Path(sys.prefix) / "share" / "fer-edge" / rel,
                  Path(sys.prefix) / "share" / "fer-edge" / "examples" / rel.name,
                  model_path.parent / rel.name, PACKAGE_DIR / "models" / rel.name]
    return next((c for c in candidates if c.is_file()), None)


def _median_p90(samples: list[float]) -> tuple[float, float]:
    arr = np.asarray(samples)
    return float(np.median(arr)), float(np.percentile(arr, 90))


# --------------------------------------------------------------------------------------------- checks


def compare_outputs(classifier: Classifier, image: np.ndarray, reference: dict, out=print) -> dict:
    """Recorded boxes -> crops -> raw outputs, compared with the recorded raw outputs, face by face."""
    faces = reference.get("faces") or []
    margin = float(reference.get("margin", DEFAULT_MARGIN))
    boxes = [tuple(int(v) for v in f["box"]) for f in faces]
    crops = crop_faces(_gray(image), boxes, classifier.input_size, margin)
    raw = classifier.predict_raw(crops)
    scale = reference.get("output_scale")
    quantised = np.issubdtype(raw.dtype, np.integer)
    worst = 0.0
    for i, (face, got) in enumerate(zip(faces, raw)):
        want = np.asarray(face["raw"], dtype=np.float64)
        if want.shape != got.shape:
            raise CheckError(f"reference face {i} has {want.size} outputs, the model gives {got.size}")
        diff = float(np.max(np.abs(got.astype(np.float64) - want))) if want.size else 0.0
        if not quantised:  # float model: express the difference in 1/256 steps of probability
            diff = diff / (scale or 1.0 / 256)
        worst = max(worst, diff)
        label, ref_label = classifier.labels[int(np.argmax(got))], classifier.labels[int(np.argmax(want))]
        out(f"  face {i} box {list(face['box'])}: raw {_raw_list(got)} vs reference {face['raw']}: "
            f"max diff {diff:g} step(s), label {label} (reference {ref_label})")
    ok = worst <= MAX_STEPS
    out(f"outputs: {len(faces)} face(s), max diff {worst:g} quantisation step(s) "
        f"({'OK' if ok else 'MISMATCH'}, allowed {MAX_STEPS})")
    return {"faces": len(faces), "max_steps": worst, "ok": ok}


def compare_faces(image: np.ndarray, reference: dict, out=print) -> dict:
    """The detector must find the reference faces again (IoU >= 0.5 each) and no others."""
    found = HaarDetector().detect(image)
    wanted = [tuple(int(v) for v in f["box"]) for f in reference.get("faces") or []]
    best = [max((iou(w, f) for f in found), default=0.0) for w in wanted]
    matched = sum(b >= MIN_IOU for b in best)
    ok = matched == len(wanted) and len(found) == len(wanted)
    out(f"faces: detector found {len(found)}, reference has {len(wanted)}, matched {matched} "
        f"(min IoU {min(best, default=1.0):.2f}) ({'OK' if ok else 'MISMATCH'})")
    return {"found": len(found), "reference": len(wanted), "matched": matched, "ok": ok}


def measure_latency(classifier: Classifier, image: np.ndarray, repeat: int = 20, out=print) -> dict:
    """Median (p90) ms for one face through the classifier, and for a whole frame: detect + crop + classify."""
    detector = HaarDetector()
    gray = _gray(image)
    boxes = detector.detect(image) or [(0, 0, min(gray.shape), min(gray.shape))]
    one = crop_faces(gray, boxes[:1], classifier.input_size, DEFAULT_MARGIN)
    classifier.predict(one)  # warm-up: first invoke allocates
    per_face = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        classifier.predict(one)
        per_face.append((time.perf_counter() - t0) * 1000)
    per_frame = []
    for _ in range(min(repeat, max(3, repeat // 4))):
        t0 = time.perf_counter()
        found = detector.detect(image)
        classifier.predict(crop_faces(_gray(image), found, classifier.input_size, DEFAULT_MARGIN))
        per_frame.append((time.perf_counter() - t0) * 1000)
    face_med, face_p90 = _median_p90(per_face)
    frame_med, frame_p90 = _median_p90(per_frame)
    h, w = image.shape[:2]
    out(f"latency: per face {face_med:.2f} ms median (p90 {face_p90:.2f}, n={repeat}); per frame "
        f"{w}x{h} with {len(boxes)} face(s), detect+classify {frame_med:.1f} ms median (p90 {frame_p90:.1f}, "
        f"n={len(per_frame)})")
    return {"per_face_ms": face_med, "per_face_p90_ms": face_p90, "per_frame_ms": frame_med,
            "per_frame_p90_ms": frame_p90, "frame_size": [w, h]}


def canonical_label(folder: str, labels: Sequence[str]) -> str | None:
    """A face folder's name as one of the model's labels (`sadness` -> `sad`), or None when it has none."""
    key = folder.strip().lower().replace("-", "_").replace(" ", "_")
    if key in labels:
        return key
    key = "".join(ch for ch in key if ch.isalpha())
    name = LABEL_ALIASES.get(key, key)
    return name if name in labels else None


def load_face_folder(root: Path, labels: Sequence[str], size: tuple[int, int], limit: int | None = None):
    """(faces uint8 [N, H, W], y int [N], skipped folder names) from class subfolders of face images."""
    if not root.is_dir():
        raise CheckError(f"face folder not found: {root}")
    faces, ys, skipped = [], [], []
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        label = canonical_label(sub.name, labels)
        if label is None:
            skipped.append(sub.name)
            continue
        files = sorted(p for p in sub.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        for path in files[:limit]:
            img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if img is None:
                continue
            if img.shape != size:
                img = cv2.resize(img, (size[1], size[0]), interpolation=cv2.INTER_AREA)
            faces.append(img)
            ys.append(labels.index(label))
    if not faces:
        raise CheckError(f"no face images under {root} in folders named like the model's labels {list(labels)}")
    return np.stack(faces), np.asarray(ys), skipped


def check_accuracy(classifier: Classifier, root: Path, limit: int | None = None, out=print) -> dict:
    faces, y, skipped = load_face_folder(root, classifier.labels, classifier.input_size, limit)
    t0 = time.perf_counter()
    pred = np.argmax(classifier.predict(faces), axis=1)
    seconds = time.perf_counter() - t0
    report = classification_report(y, pred, classifier.labels)
    out(f"accuracy on {root}: {accuracy(y, pred)} in {seconds:.1f} s"
        + (f"; skipped folders without a model label: {', '.join(skipped)}" if skipped else ""))
    for row in report["per_class"]:
        if row["support"]:
            out(f"  {row['label']:>9}: recall {100 * row['recall']:.1f}% (n={row['support']}), "
                f"precision {100 * row['precision']:.1f}%")
    report["skipped"] = skipped
    return report


# --------------------------------------------------------------------------------------------- command


def _load_classifier(model: Path | None, threads: int, edgetpu: bool, out) -> Classifier:
    try:
        return Classifier(model, threads=threads, edgetpu=edgetpu)
    except DelegateError as exc:
        out(f"warning: {exc}; falling back to the CPU")
        return Classifier(model, threads=threads, edgetpu=False)


def run_check(args: argparse.Namespace, out=print) -> dict:
    model = Path(args.model) if args.model else None
    classifier = _load_classifier(model, args.threads, args.edgetpu, out)
    model_path = classifier.model_path
    card = read_sidecar(model_path)
    out(f"model: {model_path} ({', '.join(classifier.labels)}); interpreter {backend_name()} "
        f"threads={args.threads}{' edgetpu' if classifier.edgetpu else ''}; {platform.machine()} "
        f"Python {platform.python_version()}, numpy {np.__version__}, OpenCV {cv2.__version__}")
    result: dict[str, Any] = {"model": str(model_path), "interpreter": backend_name(),
                              "machine": platform.machine(), "ok": True}
    reference = card.get("reference")
    image = None
    if reference:
        made = reference.get("made_on") or {}
        if made:
            out(f"reference: {sidecar_path(model_path).name}, recorded on {made.get('machine')} "
                f"with {made.get('interpreter')}")
        sample = Path(args.image) if args.image else find_sample(reference.get("image", ""), model_path)
        if sample is None:
            raise CheckError(f"sample image {reference.get('image')!r} of the reference not found; pass --image")
        image = _read_image(sample)
        result["outputs"] = compare_outputs(classifier, image, reference, out)
        result["detector"] = compare_faces(image, reference, out)
        result["ok"] = result["outputs"]["ok"] and result["detector"]["ok"]
    elif args.require_reference:
        raise CheckError(f"sidecar {sidecar_path(model_path)} has no 'reference' outputs to compare with "
                         "(the quantize stage records them); pass --no-reference to skip")
    else:
        out("reference: none in the sidecar; output comparison skipped")
    if image is None and args.image:
        image = _read_image(Path(args.image))
    if image is not None:
        result["latency"] = measure_latency(classifier, image, args.repeat, out)
    if args.faces:
        report = check_accuracy(classifier, Path(args.faces), args.limit, out)
        result["accuracy"] = report["accuracy"]
        if args.min_accuracy is not None and report["accuracy"]["value"] < args.min_accuracy:
            out(f"accuracy {report['accuracy']['value']:.3f} is under --min-accuracy {args.min_accuracy}")
            result["ok"] = False
    out("device check: " + ("PASS" if result["ok"] else "FAIL"))
    return result


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fer-edge-check", description="Verify fer-edge on this board in a minute.")
    p.add_argument("--model", help="model .tflite (default: the shipped int8 model); its sidecar JSON beside it")
    p.add_argument("--faces", metavar="DIR", help="class subfolders of 48x48 faces for an accuracy check")
    p.add_argument("--threads", type=int, default=1, help="interpreter threads (default 1)")
    p.add_argument("--edgetpu", action="store_true", help="run on a Coral Edge TPU (falls back to the CPU)")
    p.add_argument("--image", help="sample image (default: the one named in the sidecar's reference)")
    p.add_argument("--repeat", type=int, default=20, help="timed runs for the per-face latency (default 20)")
    p.add_argument("--limit", type=int, help="at most this many faces per class folder")
    p.add_argument("--min-accuracy", type=float, help="fail when the face-folder accuracy (0-1) is lower")
    p.add_argument("--no-reference", dest="require_reference", action="store_false",
                   help="do not fail when the sidecar has no reference outputs")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.threads < 1 or args.repeat < 1:
            raise CheckError("--threads and --repeat must be >= 1")
        result = run_check(args)
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    except (FerEdgeError, OSError, ValueError) as exc:
        text = str(exc).strip().splitlines()
        print(f"error: {text[0] if text else type(exc).__name__}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
