"""The per-frame work of the device loop (decode excluded): detect (every N frames) -> track -> crop ->
classify -> smooth, composed from fer_edge's public parts so each stage can be timed on its own too."""
from __future__ import annotations

import cv2

from fer_edge.crops import crop_faces
from fer_edge.detect import HaarDetector
from fer_edge.smoothing import Smoother, SmoothingOptions
from fer_edge.tracking import IouTracker


class FrameStep:
    def __init__(self, classifier, detect_every: int = 1, smoothing: str = "ema", detector=None):
        self.classifier = classifier
        self.detector = detector or HaarDetector()
        self.tracker = IouTracker()
        self.smoother = Smoother(SmoothingOptions.parse(smoothing))
        self.detect_every = max(1, detect_every)
        self.index = 0
        self.tracks = []

    def __call__(self, frame):
        if self.index % self.detect_every == 0:
            self.tracks = self.tracker.update(self.detector.detect(frame))
            self.smoother.keep(self.tracker.alive_ids)
        self.index += 1
        if not self.tracks:
            return []
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        probs = self.classifier.predict(crop_faces(gray, [t.box for t in self.tracks], self.classifier.input_size))
        return [(t.id, t.box, self.smoother.update(t.id, p)) for t, p in zip(self.tracks, probs)]
