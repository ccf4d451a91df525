"""train/: FER2013 loading (folders and CSV), honest splits, the model registry and one real training run.

Everything runs for real on tiny data made here: 48x48 faces whose class is the brightest quadrant (learnable),
written as .jpg folders and as a Kaggle-style CSV. The one `python -m train final` subprocess run is cached for
the session and reused by tests/test_quantize.py and tests/test_study.py (`tiny_run`).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import REPO, synthetic_faces

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tf_keras as keras  # noqa: E402

from train import data as tdata  # noqa: E402
from train.config import TrainConfig  # noqa: E402
from train.data import FER4, FER7, DataError, Split  # noqa: E402
from train.fit import make_loss, make_optimizer, run  # noqa: E402
from train.models import REGISTRY, ModelConfigError, build  # noqa: E402

TRAIN_PER_CLASS, TEST_PER_CLASS, VAL_PER_CLASS = 16, 8, 4
COPIED_TEST_FACES = 2  # test faces copied byte-for-byte into train/ of the tiny data set


# ---------------------------------------------------------------------------------------------- tiny data

def balanced_faces(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`per_class` faces of each of the four classes (class = brightest quadrant, as in conftest)."""
    x, y = synthetic_faces(per_class * 12, seed=seed)
    idx = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(4)])
    assert len(idx) == 4 * per_class
    return x[idx], y[idx]


def write_split(folder: Path, x: np.ndarray, y: np.ndarray, names: dict[int, str] | None = None) -> None:
    """One .jpg per face under folder/<class>/; `names` renames class folders (e.g. 1 -> 'sadness')."""
    names = names or {}
    for i, (face, label) in enumerate(zip(x, y)):
        sub = folder / names.get(int(label), FER4[int(label)])
        sub.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(sub / f"{i:04d}.jpg"), face)


def make_folder_dataset(root: Path, with_val: bool = False, seed: int = 0) -> Path:
    """train/ (class 'sad' spelled 'sadness', plus an ignored 'contempt' folder), test/, optionally validation/.

    The first COPIED_TEST_FACES test .jpg files are also copied into train/, so exact duplicates across
    splits exist as they do in FER2013.
    """
    x, y = balanced_faces(TRAIN_PER_CLASS + TEST_PER_CLASS + VAL_PER_CLASS, seed)
    parts = {"train": [], "test": [], "validation": []}
    for c in range(4):
        idx = np.flatnonzero(y == c)
        parts["train"] += list(idx[:TRAIN_PER_CLASS])
        parts["test"] += list(idx[TRAIN_PER_CLASS:TRAIN_PER_CLASS + TEST_PER_CLASS])
        parts["validation"] += list(idx[TRAIN_PER_CLASS + TEST_PER_CLASS:])
    write_split(root / "train", x[parts["train"]], y[parts["train"]], {1: "sadness"})
    write_split(root / "test", x[parts["test"]], y[parts["test"]])
    if with_val:
        write_split(root / "validation", x[parts["validation"]], y[parts["validation"]])
    (root / "train" / "contempt").mkdir()
    cv2.imwrite(str(root / "train" / "contempt" / "0000.jpg"), x[0])  # a known class that is ignored
    test_files = sorted((root / "test" / "happy").glob("*.jpg"))[:COPIED_TEST_FACES]
    for f in test_files:
        shutil.copyfile(f, root / "train" / "happy" / f"copy_of_test_{f.name}")
    return root


def csv_text(rows: list[tuple[int, np.ndarray, str]]) -> str:
    lines = ["emotion,pixels,Usage"]
    lines += [f"{e},{' '.join(str(int(v)) for v in face.ravel())},{usage}" for e, face, usage in rows]
    return "\n".join(lines) + "\n"


def make_csv(path: Path, seed: int = 0) -> tuple[Path, dict[str, list[str]]]:
    """A Kaggle-style fer2013.csv: all seven emotions, the three Usage values; returns the labels per split."""
    rng = np.random.default_rng(seed)
    usages = {"Training": "train", "PublicTest": "test", "PrivateTest": "private"}
    rows, expected = [], {"train": [], "test": [], "private": []}
    for usage, split in usages.items():
        for emotion in range(7):
            for _ in range(3 if split == "train" else 2):
                rows.append((emotion, rng.integers(0, 256, (48, 48), dtype=np.uint8), usage))
                expected[split].append(FER7[emotion])
    path.write_text(csv_text(rows))
    return path, expected


# ------------------------------------------------------------------------ session run, shared by other files

_CACHE: dict[str, object] = {}


def tiny_dataset_dir(factory: pytest.TempPathFactory) -> Path:
    if "data" not in _CACHE:
        _CACHE["data"] = make_folder_dataset(factory.mktemp("tiny_fer") / "fer")
    return _CACHE["data"]


def train_cli(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "train", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


def tiny_run_result(factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """`python -m train final` for one epoch on the tiny folder data: the run folder the quantize tests use."""
    if "run" not in _CACHE:
        data = tiny_dataset_dir(factory)
        out = factory.mktemp("tiny_run") / "final"
        done = train_cli("final", "--data", data, "--out", out, "--width", "4", "--epochs", "1",
                         "--batch-size", "8", "--val-fraction", "0.2", "--verbose", "2")
        _CACHE["run"] = (out, done)
    return _CACHE["run"]


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    return tiny_dataset_dir(tmp_path_factory)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    out, done = tiny_run_result(tmp_path_factory)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


# ------------------------------------------------------------------------------------------ folder loading

def test_folder_layout_counts_aliases_and_ignored_classes(tiny_data):
    splits = tdata.load_dataset(tiny_data, FER4)
    assert set(splits) == {"train", "test"}
    train, test = splits["train"], splits["test"]
    # 'sadness' is read as sad, 'contempt' is skipped, the copied test faces count as train faces
    expected_train = [TRAIN_PER_CLASS] * 4
    expected_train[FER4.index("happy")] += COPIED_TEST_FACES
    assert train.counts(4) == expected_train
    assert test.counts(4) == [TEST_PER_CLASS] * 4
    assert train.x.shape == (sum(expected_train), 48, 48) and train.x.dtype == np.uint8
    assert all("contempt" not in s for s in train.sources)
    sad = [s for s, y in zip(train.sources, train.y) if y == FER4.index("sad")]
    assert sad and all("/sadness/" in s for s in sad)
    # the quadrant pattern survives JPEG: the label's quadrant is the brightest one in every face
    quads = train.x.reshape(-1, 2, 24, 2, 24).mean(axis=(2, 4)).reshape(-1, 4)
    assert (quads.argmax(axis=1) == train.y).all()


def test_validation_folder_is_used(tmp_path):
    root = make_folder_dataset(tmp_path / "fer", with_val=True, seed=1)
    splits = tdata.load_dataset(root, FER4)
    assert splits["val"].counts(4) == [VAL_PER_CLASS] * 4
    prepared = tdata.prepare(splits, 0.5, seed=0, num_classes=4)
    assert prepared.report["validation"] == "folder"
    assert len(prepared.val) == 4 * VAL_PER_CLASS  # not carved out of train
    assert prepared.report["sizes"]["train"] == 4 * TRAIN_PER_CLASS  # only the copies of test faces dropped


def test_seven_class_option_needs_every_class_folder(tiny_data):
    with pytest.raises(DataError, match="no folder for class"):
        tdata.load_dataset(tiny_data, FER7)


def test_csv_splits_and_class_filtering(tmp_path):
    path, expected = make_csv(tmp_path / "fer2013.csv")
    splits = tdata.load_dataset(path, FER4)
    assert set(splits) == {"train", "test", "private"}
    for name, split in splits.items():
        want = [FER4.index(label) for label in expected[name] if label in FER4]
        assert sorted(split.y.tolist()) == sorted(want)
        assert split.x.shape[1:] == (48, 48)
        assert all(s.startswith(f"{path}:") for s in split.sources)
    seven = tdata.load_dataset(path, FER7)
    assert {k: len(v) for k, v in seven.items()} == {k: len(v) for k, v in expected.items()}
    # pixels land where the CSV put them: row 2 of the file is the first training face
    first = np.array(path.read_text().splitlines()[1].split(",")[1].split(), dtype=np.uint8).reshape(48, 48)
    assert any(np.array_equal(first, face) for face in seven["train"].x)


# -------------------------------------------------------------------------------------------- data errors

def test_unknown_class_folder_is_named(tmp_path):
    root = make_folder_dataset(tmp_path / "fer")
    (root / "train" / "bored").mkdir()
    with pytest.raises(DataError, match="unknown class folder 'bored'"):
        tdata.load_dataset(root, FER4)


def test_empty_class_folder_is_named(tmp_path):
    root = make_folder_dataset(tmp_path / "fer")
    for f in (root / "test" / "surprise").iterdir():
        f.unlink()
    with pytest.raises(DataError, match="empty class folder") as err:
        tdata.load_dataset(root, FER4)
    assert str(root / "test" / "surprise") in str(err.value)


def test_unreadable_image_is_named(tmp_path):
    root = make_folder_dataset(tmp_path / "fer")
    junk = root / "test" / "neutral" / "junk.jpg"
    junk.write_bytes(b"this is not a JPEG at all" * 10)
    with pytest.raises(DataError, match="unreadable image") as err:
        tdata.load_dataset(root, FER4)
    assert str(junk) in str(err.value)


def test_missing_test_split_is_named(tmp_path):
    root = make_folder_dataset(tmp_path / "fer")
    shutil.rmtree(root / "test")
    with pytest.raises(DataError, match=r"missing split folder 'test/'") as err:
        tdata.load_dataset(root, FER4)
    assert str(root) in str(err.value)


def test_missing_path_and_wrong_file_type(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        tdata.load_dataset(tmp_path / "nope", FER4)
    (tmp_path / "faces.txt").write_text("x")
    with pytest.raises(DataError, match="Kaggle fer2013.csv"):
        tdata.load_dataset(tmp_path / "faces.txt", FER4)


@pytest.mark.parametrize("bad_row, what", [
    ("3,1 2 3,Training", "too few pixels"),
    ("9," + " ".join(["0"] * 2304) + ",Training", "emotion out of range"),
    ("3," + " ".join(["300"] * 2304) + ",Training", "pixel out of uint8 range"),
    ("x," + " ".join(["0"] * 2304) + ",Training", "non-numeric emotion"),
    ("-1," + " ".join(["0"] * 2304) + ",Training", "negative emotion (not neutral from the end)"),
    ("3", "no pixels column"),
])
def test_bad_csv_row_is_named_with_line(tmp_path, bad_row, what):
    path, _ = make_csv(tmp_path / "fer2013.csv")
    lines = path.read_text().splitlines()
    lines.insert(3, bad_row)  # file line 4
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=rf"{path}:4: bad row"):
        tdata.load_dataset(path, FER4)


def test_csv_without_test_rows_or_columns(tmp_path):
    path = tmp_path / "train_only.csv"
    path.write_text(csv_text([(3, np.zeros((48, 48), np.uint8) + i, "Training") for i in range(3)]))
    with pytest.raises(DataError, match="no rows with Usage for split 'test'"):
        tdata.load_dataset(path, FER4)
    path.write_text("label,image\n1,2\n")
    with pytest.raises(DataError, match="expected CSV columns"):
        tdata.load_dataset(path, FER4)


# ------------------------------------------------------------------------------------------ honest splits

def _split_with_duplicates(seed: int = 0) -> Split:
    """Unbalanced classes (40/12/60/24 faces) where some faces occur 2 or 3 times, as in FER2013."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for c, n_unique in enumerate((30, 9, 45, 18)):
        for _ in range(n_unique):
            face = rng.integers(0, 256, (48, 48), dtype=np.uint8)
            copies = int(rng.choice([1, 1, 2, 3]))
            xs += [face] * copies
            ys += [c] * copies
    order = rng.permutation(len(ys))
    return Split(np.stack(xs)[order], np.array(ys, dtype=np.int64)[order])


def test_split_validation_is_stratified_and_duplicate_free():
    full = _split_with_duplicates()
    assert len(set(full.hashes)) < len(full)  # the fixture really has duplicates
    fraction = 0.25
    train, val = tdata.split_validation(full, fraction, seed=7, num_classes=4)
    assert len(train) + len(val) == len(full)
    assert sorted(np.concatenate([train.hashes, val.hashes])) == sorted(full.hashes)  # a partition
    assert not set(val.hashes) & set(train.hashes)  # no val face has an exact copy in train
    biggest_group = max(np.unique(full.hashes, return_counts=True)[1])
    for c, (n_val, n_all) in enumerate(zip(val.counts(4), full.counts(4))):
        target = round(fraction * n_all)
        assert target <= n_val <= target + biggest_group - 1, (c, n_val, n_all)
    # a fixed seed gives the same split; another seed a different one
    again = tdata.split_validation(full, fraction, seed=7, num_classes=4)[1]
    assert sorted(again.hashes) == sorted(val.hashes)
    other = tdata.split_validation(full, fraction, seed=8, num_classes=4)[1]
    assert sorted(other.hashes) != sorted(val.hashes)


def test_prepare_drops_train_copies_of_test_faces_and_blank_faces():
    rng = np.random.default_rng(3)
    test_x = rng.integers(0, 256, (12, 48, 48), dtype=np.uint8)
    test = Split(test_x, np.arange(12, dtype=np.int64) % 4)
    train_x = rng.integers(0, 256, (80, 48, 48), dtype=np.uint8)
    train_y = np.arange(80, dtype=np.int64) % 4
    # test face 0 twice and test face 5 once inside train, plus one blank (constant) face
    train_x[[10, 20, 30, 40]] = [test_x[0], test_x[0], test_x[5], np.full((48, 48), 128, np.uint8)]
    prepared = tdata.prepare({"train": Split(train_x, train_y), "test": test}, 0.25, seed=0, num_classes=4)
    report = prepared.report
    assert report["train_copies_of_test_faces_dropped"] == 3
    assert report["test_faces_with_exact_copy_in_train"] == 2
    assert report["blank_train_faces_dropped"] == 1
    assert len(prepared.train) + len(prepared.val) == 80 - 3 - 1
    kept = set(prepared.train.hashes) | set(prepared.val.hashes)
    assert not kept & set(test.hashes)
    assert report["sizes"] == {"train": len(prepared.train), "val": len(prepared.val), "test": 12}
    assert "stratified 25%" in report["validation"]
    subset = tdata.prepare({"train": Split(train_x, train_y), "test": test}, 0.25, seed=0, num_classes=4,
                           max_train=20)
    assert len(subset.train) == 20 and subset.report["train_subset"] == 20


def test_fingerprint_is_order_independent_and_label_sensitive():
    full = _split_with_duplicates()
    test = Split(full.x[:5], full.y[:5])
    shuffled = full.take(np.random.default_rng(0).permutation(len(full)))
    assert tdata.fingerprint({"train": full, "test": test}) == tdata.fingerprint({"train": shuffled, "test": test})
    relabelled = Split(full.x, (full.y + 1) % 4)
    assert tdata.fingerprint({"train": full, "test": test}) != tdata.fingerprint({"train": relabelled, "test": test})


# --------------------------------------------------------------------------------------------- registry

REGISTRY_CASES = [
    ("model1", {}, 8),
    ("model2", {}, 8),
    ("final", {"width": 4}, 8),
    ("final", {"width": 4, "activation": "relu"}, 8),
    ("final", {"width": 4, "activation": "prelu", "dropout": "both"}, 8),
    ("final", {"width": 4, "output_activation": "sigmoid", "optimizer": "sgd"}, 8),
    ("vgg16", {}, 8),
    ("efficientnet", {"optimizer": "rmsprop"}, 8),
    ("inception_resnet_v2", {}, 2),  # 75 px input and 54M parameters: one batch of two is enough
]


def test_registry_cases_cover_every_model():
    assert {name for name, _, _ in REGISTRY_CASES} == set(REGISTRY)


@pytest.mark.parametrize("name, options, batch", REGISTRY_CASES,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in o.items())}" for n, o, _ in REGISTRY_CASES])
def test_every_registry_model_builds_and_trains_one_step(name, options, batch):
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    transfer = name in ("vgg16", "efficientnet", "inception_resnet_v2")
    cfg = TrainConfig(model=name, epochs=1, batch_size=batch, color="rgb" if transfer else "gray", **options)
    shape = (48, 48, 3 if transfer else 1)
    parts = build(cfg, shape, 4)
    model = parts.model
    assert model.input_shape == (None, *shape) and model.output_shape == (None, 4)
    if transfer:
        assert parts.extractor is not None and parts.head is not None
        if name == "inception_resnet_v2":  # upsized to the base's 75 px minimum
            assert model.get_layer("extractor").get_layer("resize").output_shape[1:3] == (75, 75)
    if options.get("activation") == "relu":
        assert not any(isinstance(layer, keras.layers.LeakyReLU) for layer in model.layers)
        assert sum(isinstance(layer, keras.layers.ReLU) for layer in model.layers) == 9
    if options.get("activation") == "prelu":
        prelus = [layer for layer in model.layers if isinstance(layer, keras.layers.PReLU)]
        assert len(prelus) == 9 and all(p.shared_axes == [1, 2] for p in prelus[:-1])
    if name == "final" and "activation" not in options:
        assert sum(isinstance(layer, keras.layers.LeakyReLU) for layer in model.layers) == 9

    faces, y = synthetic_faces(batch, seed=4)
    x = faces.astype(np.float32)[..., None] / 255.0
    if transfer:
        x = np.repeat(x, 3, axis=-1)
    target = keras.utils.to_categorical(y, 4)
    # run_eagerly: the same train_step without tracing it into a graph, which alone takes 1-2 minutes for
    # Inception-ResNet-V2 on two CPU cores
    model.compile(make_optimizer(cfg, steps_per_epoch=1), make_loss(cfg), metrics=["accuracy"], run_eagerly=True)
    before = model.trainable_weights[-2].numpy().copy()  # the new classifier's kernel
    loss, acc = model.train_on_batch(x, target)
    assert np.isfinite(loss) and 0.0 <= acc <= 1.0
    assert not np.array_equal(before, model.trainable_weights[-2].numpy())
    probs = model(x, training=False).numpy()
    assert probs.shape == (batch, 4) and np.isfinite(probs).all()
    if cfg.output_activation == "softmax":
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-4)
    keras.backend.clear_session()


def test_unknown_model_and_activation_are_config_errors():
    with pytest.raises(ModelConfigError, match="unknown model 'resnet9'"):
        build(TrainConfig(model="resnet9"), (48, 48, 1), 4)
    with pytest.raises(ModelConfigError, match="unknown activation"):
        build(TrainConfig(model="final", width=4, activation="gelu"), (48, 48, 1), 4)


def test_missing_local_weights_file_is_a_config_error(tmp_path):
    missing = tmp_path / "nonexistent.h5"
    with pytest.raises(ModelConfigError, match="weights file not found") as err:
        build(TrainConfig(model="vgg16", weights=str(missing)), (48, 48, 3), 4)
    assert str(missing) in str(err.value)
    keras.backend.clear_session()


def test_local_weights_file_that_does_not_fit_is_a_config_error(tmp_path):
    wrong = tmp_path / "efficientnet.weights.h5"
    build(TrainConfig(model="final", width=4), (48, 48, 1), 4).model.save_weights(str(wrong))
    with pytest.raises(ModelConfigError, match="does not fit vgg16"):
        build(TrainConfig(model="vgg16", weights=str(wrong)), (48, 48, 3), 4)
    keras.backend.clear_session()


def test_imagenet_weights_offline_is_a_one_line_error():
    cached = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models"
    try:
        build(TrainConfig(model="vgg16", weights="imagenet"), (48, 48, 3), 4)
    except ModelConfigError as exc:
        message = str(exc)
        assert "\n" not in message
        assert "ImageNet" in message and "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in message
        assert "--weights PATH" in message
    else:
        pytest.skip(f"ImageNet weights downloaded or cached in {cached}: the offline path cannot be exercised")
    finally:
        keras.backend.clear_session()


# ----------------------------------------------------------------------------------------- training runs

def test_frozen_base_trains_head_on_features_and_writes_model(tiny_data, tmp_path):
    out = tmp_path / "vgg_frozen"
    cfg = TrainConfig(model="vgg16", data=str(tiny_data), out=str(out), epochs=1, batch_size=8, freeze_base=True,
                      val_fraction=0.2, verbose=0, color="gray")
    metrics = run(cfg)
    assert cfg.color == "rgb"  # transfer models are fed RGB
    assert (out / "model.keras").is_file()
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == 1 and "val_accuracy" in history
    assert metrics["test"]["accuracy"]["n"] == 4 * TEST_PER_CLASS
    with zipfile.ZipFile(out / "model.keras") as archive:  # the whole model: base, extractor and head
        config = json.loads(archive.read("config.json"))
    layers = {layer["name"] for layer in config["config"]["layers"]}
    assert {"extractor", "head"} <= layers
    keras.backend.clear_session()


def test_cli_final_one_epoch_writes_every_artifact(tmp_path_factory):
    out, done = tiny_run_result(tmp_path_factory)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("config.json", "versions.json", "data.json", "history.json", "metrics.json", "curves.png",
                 "confusion.png", "model.keras"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["model"] == "final" and cfg["width"] == 4 and cfg["epochs"] == 1 and cfg["batch_size"] == 8
    assert TrainConfig.load(out / "config.json").width == 4
    versions = json.loads((out / "versions.json").read_text())
    assert {"tensorflow", "tf_keras", "tfmot", "numpy", "opencv"} <= set(versions)

    data = json.loads((out / "data.json").read_text())
    assert data["labels"] == list(FER4) and len(data["fingerprint"]) == 64
    assert data["train_copies_of_test_faces_dropped"] == COPIED_TEST_FACES
    assert data["test_faces_with_exact_copy_in_train"] == COPIED_TEST_FACES
    assert sum(data["sizes"].values()) == 4 * (TRAIN_PER_CLASS + TEST_PER_CLASS)

    history = json.loads((out / "history.json").read_text())
    assert set(history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 1 for v in history.values())

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == "final" and metrics["epochs_run"] == 1 and metrics["best_epoch"] == 1
    for split in ("train", "val", "test"):
        acc = metrics[split]["accuracy"]
        assert acc["n"] == data["sizes"][split]
        lo, hi = acc["ci95"]
        assert 0.0 <= lo <= acc["value"] <= hi <= 1.0
        assert acc["correct"] == round(acc["value"] * acc["n"])
    test = metrics["test"]
    assert np.array(test["confusion"]).sum() == test["accuracy"]["n"]
    assert [c["label"] for c in test["per_class"]] == list(FER4)
    assert "test_flip_tta" in metrics
    for png in ("curves.png", "confusion.png"):
        assert cv2.imread(str(out / png)) is not None

    model = keras.models.load_model(out / "model.keras", compile=False)
    assert model.input_shape == (None, 48, 48, 1) and model.output_shape == (None, 4)
    assert model.count_params() == metrics["params"]
    assert "final test:" in done.stdout and f"n={4 * TEST_PER_CLASS}" in done.stdout
    keras.backend.clear_session()


def test_cli_bad_data_exits_2_with_one_error_line(tmp_path):
    root = make_folder_dataset(tmp_path / "fer")
    (root / "train" / "bored").mkdir()
    done = train_cli("final", "--data", root, "--out", tmp_path / "run", "--epochs", "1", "--verbose", "0",
                     timeout=300)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("train: error:")]
    assert len(errors) == 1 and "unknown class folder 'bored'" in errors[0]
    assert not (tmp_path / "run" / "model.keras").exists()
