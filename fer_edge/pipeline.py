"""One frame through the stages: faces (detector, every N frames) -> tracks -> crops -> classifier ->
smoothed labels. Holds the only state that spans frames: the tracker and the smoother."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from .classifier import Classifier
from .crops import crop_faces
from .detect import FaceDetector
from .results import Face, FrameResult, Timing
from .smoothing import Smoother, SmoothingOptions
from .sources import Frame
from .tracking import IouTracker, Track


@dataclass(frozen=True)
class PipelineOptions:
    """`detect_every`: run the detector on 1 frame in N and hold the tracked boxes in between (detection is
    the slow stage on a Pi); `margin`: extra context per side of a face box, as a fraction of its size."""

    detect_every: int = 1
    margin: float = 0.1
    iou_threshold: float = 0.3
    smoothing: SmoothingOptions = field(default_factory=SmoothingOptions)

    def __post_init__(self) -> None:
        if self.detect_every < 1:
            raise ValueError(f"detect_every must be >= 1, not {self.detect_every}")


class FacePipeline:
    def __init__(self, detector: FaceDetector, classifier: Classifier, options: PipelineOptions | None = None) -> None:
        self.detector = detector
        self.classifier = classifier
        self.options = options or PipelineOptions()
        self.tracker = IouTracker(self.options.iou_threshold)
        self.smoother = Smoother(self.options.smoothing)
        self.reset()

    def reset(self) -> None:
        """Forget all faces; used between unrelated still images."""
        self.tracker.reset()
        self.smoother.reset()
        self._tracks: list[Track] = []
        self._frames_since_detect = 0

    def process(self, frame: Frame) -> FrameResult:
        start = time.perf_counter()
        if frame.still:
            self.reset()
        detect_ms = None
        if self._frames_since_detect % self.options.detect_every == 0:
            self._tracks = self.tracker.update(self.detector.detect(frame.image))
            self.smoother.keep(self.tracker.alive_ids)
            detect_ms = _ms_since(start)
            self._frames_since_detect = 0
        self._frames_since_detect += 1
        classify_start = time.perf_counter()
        gray = cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY) if frame.image.ndim == 3 else frame.image
        crops = crop_faces(gray, [t.box for t in self._tracks], self.classifier.input_size, self.options.margin)
        probs = self.classifier.predict(crops)
        faces = [self._face(track, p) for track, p in zip(self._tracks, probs)]
        timing = Timing(detect=detect_ms, classify=_ms_since(classify_start), frame=_ms_since(start))
        return FrameResult(frame.index, frame.t, timing, faces, frame.name)

    def _face(self, track: Track, probs: np.ndarray) -> Face:
        smoothed = self.smoother.update(track.id, probs)
        labels = self.classifier.labels
        return Face(
            track=track.id,
            box=track.box,
            label=labels[int(np.argmax(smoothed))],
            probs={label: float(p) for label, p in zip(labels, smoothed)},
        )


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0
