"""FER2013 loading: the image-folder layout or the Kaggle CSV, into uint8 arrays.

Decoding happens once into memory (FER2013 is ~50 MB of pixels), so every model in the registry trains from
the same arrays. Exact duplicates are tracked by a hash of the decoded pixels: FER2013 has byte-identical
faces inside train and across train/PublicTest, and a validation or test face with an exact copy in the
training data measures memory, not generalisation.
"""
from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

FER7 = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # Kaggle CSV emotion ids 0..6
FER4 = ("happy", "sad", "neutral", "surprise")
CLASS_SETS = {"4": FER4, "7": FER7}
ALIASES = {
    "anger": "angry", "disgusted": "disgust", "fearful": "fear", "happiness": "happy",
    "sadness": "sad", "surprised": "surprise", "neutrality": "neutral", "contempt": None,
}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".tif", ".tiff", ".webp"}
SPLIT_DIRS = {"train": ("train", "training"), "val": ("validation", "val", "valid"), "test": ("test", "publictest")}
SIZE = 48


class DataError(Exception):
    """A data problem the user can fix; the message names the file or folder."""


@dataclass
class Split:
    x: np.ndarray  # uint8 [N, 48, 48]
    y: np.ndarray  # int64 [N]
    sources: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.hashes = np.array([hashlib.sha1(img.tobytes()).hexdigest() for img in self.x], dtype=object)

    def __len__(self) -> int:
        return int(self.y.size)

    def take(self, idx: np.ndarray) -> "Split":
        return Split(self.x[idx], self.y[idx], [self.sources[i] for i in idx] if self.sources else [])

    def counts(self, num_classes: int) -> list[int]:
        return np.bincount(self.y, minlength=num_classes).tolist()


def canonical_class(name: str) -> str | None:
    """Map a folder name to a FER2013 class; None means a known class to ignore (e.g. contempt)."""
    key = name.strip().lower()
    if key in FER7:
        return key
    if key in ALIASES:
        return ALIASES[key]
    raise DataError(f"unknown class folder '{name}' (expected one of {', '.join(FER7)})")


def _to_face(img: np.ndarray) -> np.ndarray:
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    if img.shape != (SIZE, SIZE):
        img = cv2.resize(img, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    return img.astype(np.uint8)


def _read_image(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise DataError(f"unreadable image: {path}")
    if img.dtype != np.uint8:
        img = cv2.convertScaleAbs(img, alpha=255.0 / max(1, int(img.max())))
    if img.ndim == 3 and img.shape[2] == 4:
        img = img[:, :, :3]
    return _to_face(img)


def _load_split_folder(folder: Path, classes: Sequence[str]) -> Split:
    subdirs = sorted(p for p in folder.iterdir() if p.is_dir())
    if not subdirs:
        raise DataError(f"no class folders in {folder} (expected {folder}/<class>/*.jpg)")
    xs, ys, sources = [], [], []
    present = set()
    for sub in subdirs:
        name = canonical_class(sub.name)
        if name is None or name not in classes:
            continue
        files = sorted(p for p in sub.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise DataError(f"empty class folder: {sub}")
        present.add(name)
        for f in files:
            xs.append(_read_image(f))
            ys.append(classes.index(name))
            sources.append(str(f))
    missing = [c for c in classes if c not in present]
    if missing:
        raise DataError(f"{folder} has no folder for class(es): {', '.join(missing)}")
    return Split(np.stack(xs), np.array(ys, dtype=np.int64), sources)


def _find_split_dir(root: Path, split: str) -> Path | None:
    by_name = {p.name.lower(): p for p in root.iterdir() if p.is_dir()}
    for candidate in SPLIT_DIRS[split]:
        if candidate in by_name:
            return by_name[candidate]
    return None


def load_folders(root: Path, classes: Sequence[str]) -> dict[str, Split]:
    splits = {}
    for split in SPLIT_DIRS:
        folder = _find_split_dir(root, split)
        if folder is not None:
            splits[split] = _load_split_folder(folder, classes)
    for required in ("train", "test"):
        if required not in splits:
            raise DataError(f"missing split folder '{required}/' in {root} (expected {root}/train/<class>/, "
                            f"{root}/test/<class>/ and optionally validation/)")
    return splits


CSV_USAGE = {"training": "train", "publictest": "test", "privatetest": "private"}


def load_csv(path: Path, classes: Sequence[str]) -> dict[str, Split]:
    """Kaggle fer2013.csv: emotion (0..6, FER7 order), pixels (2304 space-separated ints), Usage."""
    parts: dict[str, tuple[list, list, list]] = {}
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"emotion", "pixels"} <= set(reader.fieldnames):
            raise DataError(f"{path}: expected CSV columns emotion,pixels,Usage")
        for row_no, row in enumerate(reader, start=2):
            try:
                emotion = int(row["emotion"])
                if not 0 <= emotion < len(FER7):  # -1 would silently index FER7 from the end
                    raise IndexError(f"emotion {emotion} not in 0..{len(FER7) - 1}")
                label = FER7[emotion]
                pixels = np.array((row["pixels"] or "").split(), dtype=np.uint8)
                face = pixels.reshape(SIZE, SIZE)
            except (ValueError, IndexError, OverflowError, TypeError) as exc:  # numpy 2: 300 -> OverflowError
                raise DataError(f"{path}:{row_no}: bad row ({exc})") from None
            if label not in classes:
                continue
            usage = CSV_USAGE.get((row.get("Usage") or "Training").strip().lower())
            if usage is None:
                raise DataError(f"{path}:{row_no}: unknown Usage '{row.get('Usage')}'")
            xs, ys, src = parts.setdefault(usage, ([], [], []))
            xs.append(face)
            ys.append(classes.index(label))
            src.append(f"{path}:{row_no}")
    splits = {k: Split(np.stack(v[0]), np.array(v[1], dtype=np.int64), v[2]) for k, v in parts.items()}
    for required in ("train", "test"):
        if required not in splits:
            raise DataError(f"{path}: no rows with Usage for split '{required}'")
    return splits


def load_dataset(path: str | Path, classes: Sequence[str]) -> dict[str, Split]:
    """Splits 'train', 'test', and 'val'/'private' where the source has them."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"data path does not exist: {path}")
    if path.is_file():
        if path.suffix.lower() != ".csv":
            raise DataError(f"{path}: expected a folder (train/<class>/...) or the Kaggle fer2013.csv")
        return load_csv(path, classes)
    return load_folders(path, classes)


@dataclass
class Prepared:
    """The three splits a run uses, plus what was done to keep them honest."""
    train: Split
    val: Split
    test: Split
    report: dict


def _blank(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1).std(axis=1) < 1.0


def split_validation(train: Split, fraction: float, seed: int, num_classes: int) -> tuple[Split, Split]:
    """Stratified split that keeps every group of identical faces on one side.

    Grouping by pixel hash first means no validation face has an exact copy in the training part.
    """
    rng = np.random.default_rng(seed)
    groups: dict[str, list[int]] = {}
    for i, h in enumerate(train.hashes):
        groups.setdefault(h, []).append(i)
    by_class: dict[int, list[list[int]]] = {c: [] for c in range(num_classes)}
    for members in groups.values():
        by_class[int(train.y[members[0]])].append(members)
    val_idx: list[int] = []
    for c, class_groups in by_class.items():
        order = rng.permutation(len(class_groups))
        target = round(fraction * sum(len(g) for g in class_groups))
        taken = 0
        for gi in order:
            if taken >= target:
                break
            val_idx.extend(class_groups[gi])
            taken += len(class_groups[gi])
    val_mask = np.zeros(len(train), dtype=bool)
    val_mask[val_idx] = True
    return train.take(np.flatnonzero(~val_mask)), train.take(np.flatnonzero(val_mask))


def prepare(splits: dict[str, Split], val_fraction: float, seed: int, num_classes: int,
            max_train: int | None = None) -> Prepared:
    """Validation carve-out, blank-face and cross-split duplicate removal, optional budget subset."""
    train, test = splits["train"], splits["test"]
    report: dict = {}
    blank = _blank(train.x)
    report["blank_train_faces_dropped"] = int(blank.sum())
    train = train.take(np.flatnonzero(~blank))
    test_hashes = set(test.hashes)
    in_test = np.array([h in test_hashes for h in train.hashes], dtype=bool)
    train_hashes = set(train.hashes)
    report["test_faces_with_exact_copy_in_train"] = int(sum(h in train_hashes for h in test.hashes))
    report["train_copies_of_test_faces_dropped"] = int(in_test.sum())
    train = train.take(np.flatnonzero(~in_test))
    if "val" in splits:
        val = splits["val"]
        val_hashes = set(val.hashes)
        in_val = np.array([h in val_hashes for h in train.hashes], dtype=bool)
        report["train_copies_of_val_faces_dropped"] = int(in_val.sum())
        train = train.take(np.flatnonzero(~in_val))
        report["validation"] = "folder"
    else:
        train, val = split_validation(train, val_fraction, seed, num_classes)
        report["validation"] = f"stratified {val_fraction:.0%} of train, duplicate groups kept together, seed {seed}"
    if max_train is not None and max_train < len(train):
        keep = np.sort(np.random.default_rng(seed).choice(len(train), max_train, replace=False))
        train = train.take(keep)
        report["train_subset"] = max_train
    report["sizes"] = {"train": len(train), "val": len(val), "test": len(test)}
    report["class_counts"] = {"train": train.counts(num_classes), "val": val.counts(num_classes),
                              "test": test.counts(num_classes)}
    assert not set(val.hashes) & set(train.hashes), "validation face with an exact copy in train"
    return Prepared(train, val, test, report)


def fingerprint(splits: dict[str, Split]) -> str:
    """Order-independent digest of (split, face, label): two runs on the same data print the same value."""
    digest = hashlib.sha256()
    for name in sorted(splits):
        s = splits[name]
        for item in sorted(f"{h}:{y}" for h, y in zip(s.hashes, s.y.tolist())):
            digest.update(f"{name}:{item}\n".encode())
    return digest.hexdigest()
