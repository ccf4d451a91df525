"""The stages between frame and label, each on its own: detection, crops, tracking, smoothing, pipeline."""
import cv2
import numpy as np
import pytest

from fer_edge import (
    Classifier, FacePipeline, HaarDetector, IouTracker, ModelError, PipelineOptions, Smoother, SmoothingOptions,
    YuNetDetector, crop_faces, square_box,
)
from fer_edge.sources import Frame


def test_haar_finds_the_sample_faces(examples_dir):
    detector = HaarDetector()
    assert len(detector.detect(cv2.imread(str(examples_dir / "astronaut.jpg")))) == 1
    assert len(detector.detect(cv2.imread(str(examples_dir / "group.jpg")))) >= 2
    assert detector.detect(np.full((240, 320, 3), 127, np.uint8)) == []


def test_yunet_needs_a_real_onnx_file(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        YuNetDetector(tmp_path / "missing.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not onnx")
    with pytest.raises(ModelError, match="cannot load YuNet"):
        YuNetDetector(junk)


@pytest.mark.parametrize("box", [(0, 0, 30, 50), (90, 70, 30, 30), (40, 30, 200, 10), (10, 10, 20, 20)])
def test_square_box_is_square_and_inside(box):
    x, y, w, h = square_box(box, 0.2, (100, 120))
    assert w == h and x >= 0 and y >= 0 and x + w <= 120 and y + h <= 100


def test_crops_are_model_sized_gray(examples_dir):
    gray = cv2.imread(str(examples_dir / "astronaut.jpg"), cv2.IMREAD_GRAYSCALE)
    crops = crop_faces(gray, [(176, 65, 95, 95), (500, 500, 40, 40)], (48, 48))
    assert crops.shape == (2, 48, 48) and crops.dtype == np.uint8
    assert crop_faces(gray, [], (48, 48)).shape == (0, 48, 48)


def test_tracker_keeps_ids_for_moving_faces_and_survives_a_miss():
    tracker = IouTracker(max_missed=2)
    ids = []
    for step in range(10):
        boxes = [(10 + 3 * step, 20, 50, 50), (200 - 2 * step, 40, 60, 60)]
        if step == 5:
            boxes = boxes[1:]  # the first face is missed once
        if step % 2:
            boxes = boxes[::-1]  # detector order must not matter
        ids.append({t.box[0] < 120: t.id for t in tracker.update(boxes)})
    assert [frame.get(True) for frame in ids] == [1] * 5 + [None] + [1] * 4
    assert all(frame[False] == 2 for frame in ids)
    assert [t.id for t in tracker.update([(400, 300, 50, 50)])] == [3]


def test_tracker_forgets_after_max_missed():
    tracker = IouTracker(max_missed=1)
    tracker.update([(0, 0, 50, 50)])
    tracker.update([])
    tracker.update([])
    assert tracker.alive_ids == set()
    assert [t.id for t in tracker.update([(0, 0, 50, 50)])] == [2]


def _flips(labels):
    return int(np.sum(labels[1:] != labels[:-1]))


@pytest.mark.parametrize("spec", ["ema:0.3", "window:5"])
def test_smoothing_reduces_label_flips(spec):
    rng = np.random.default_rng(0)
    truth = np.array([0.4, 0.3, 0.2, 0.1])
    noisy = np.clip(truth + rng.normal(0, 0.12, (200, 4)), 0, None)
    smoother = Smoother(SmoothingOptions.parse(spec))
    smoothed = np.array([smoother.update(7, p) for p in noisy])
    assert _flips(smoothed.argmax(1)) < _flips(noisy.argmax(1)) / 3
    off = Smoother(SmoothingOptions.parse("off"))
    np.testing.assert_array_equal([off.update(7, p) for p in noisy], noisy)


def test_smoother_keeps_tracks_apart_and_forgets():
    smoother = Smoother(SmoothingOptions("ema", alpha=0.5))
    smoother.update(1, np.array([1.0, 0.0]))
    np.testing.assert_allclose(smoother.update(2, np.array([0.0, 1.0])), [0.0, 1.0])
    smoother.keep({2})
    np.testing.assert_allclose(smoother.update(1, np.array([0.0, 1.0])), [0.0, 1.0])


@pytest.mark.parametrize("text", ["ema:2", "window:0", "window:x", "median", "off:3"])
def test_bad_smoothing_spec(text):
    with pytest.raises(ValueError):
        SmoothingOptions.parse(text)


def test_pipeline_detects_every_n_frames_and_keeps_the_track(int8_model, examples_dir):
    capture = cv2.VideoCapture(str(examples_dir / "astronaut.mp4"))
    pipeline = FacePipeline(HaarDetector(), Classifier(int8_model), PipelineOptions(detect_every=3))
    results = []
    for index in range(9):
        ok, image = capture.read()
        assert ok
        results.append(pipeline.process(Frame(index, index / 15, image)))
    assert [r.ms.detect is not None for r in results] == [True, False, False] * 3
    assert {f.track for r in results for f in r.faces} == {1}
    face = results[-1].faces[0]
    assert face.label in face.probs and abs(sum(face.probs.values()) - 1) < 1e-4


def test_still_images_do_not_share_tracks(int8_model, examples_dir):
    pipeline = FacePipeline(HaarDetector(), Classifier(int8_model))
    image = cv2.imread(str(examples_dir / "group.jpg"))
    first = pipeline.process(Frame(0, 0.0, image, still=True))
    second = pipeline.process(Frame(1, 0.1, image, still=True))
    assert [f.track for f in first.faces] == [f.track for f in second.faces]
    assert [f.box for f in first.faces] == [f.box for f in second.faces]  # detector order is reproducible
    assert [f.probs for f in first.faces] == [f.probs for f in second.faces]  # no smoothing across photos
