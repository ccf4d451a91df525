"""Find faces in a BGR frame. Haar ships inside OpenCV, so it is the default that needs no download;
YuNet is better on turned or small faces but needs its ONNX file, so it is opt-in."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from .boxes import Box
from .errors import ModelError

HAAR_CASCADE = "haarcascade_frontalface_default.xml"


class FaceDetector(Protocol):
    def detect(self, frame: np.ndarray) -> list[Box]: ...


@dataclass(frozen=True)
class DetectorOptions:
    """`yunet`: path to a YuNet ONNX file; None means the Haar cascade bundled with OpenCV."""

    yunet: str | Path | None = None
    min_face: int = 40
    score_threshold: float = 0.7


class HaarDetector:
    def __init__(self, min_face: int = 40) -> None:
        data = getattr(cv2, "data", None)
        path = Path(data.haarcascades) / HAAR_CASCADE if data is not None else None
        self._cascade = cv2.CascadeClassifier(str(path)) if path is not None and path.is_file() else None
        if self._cascade is None or self._cascade.empty():
            raise ModelError(f"OpenCV ships no {HAAR_CASCADE} here; install opencv-python-headless<5 or use --yunet")
        self.min_face = min_face

    def detect(self, frame: np.ndarray) -> list[Box]:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        found = self._cascade.detectMultiScale(
            cv2.equalizeHist(gray), scaleFactor=1.1, minNeighbors=5, minSize=(self.min_face, self.min_face)
        )
        # detectMultiScale runs in parallel and its order varies from run to run; sort so ids are reproducible.
        return sorted(tuple(int(v) for v in box) for box in found)


class YuNetDetector:
    def __init__(self, onnx_path: str | Path, min_face: int = 40, score_threshold: float = 0.7) -> None:
        path = Path(onnx_path)
        if not path.is_file():
            raise ModelError(f"YuNet model not found: {path}")
        try:
            self._net = cv2.FaceDetectorYN.create(str(path), "", (320, 320), score_threshold)
        except cv2.error as exc:
            raise ModelError(f"cannot load YuNet model {path}: {str(exc).strip().splitlines()[-1]}") from None
        self.min_face = min_face

    def detect(self, frame: np.ndarray) -> list[Box]:
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        self._net.setInputSize((frame.shape[1], frame.shape[0]))
        _, faces = self._net.detect(frame)
        boxes = [] if faces is None else [tuple(int(round(v)) for v in face[:4]) for face in faces]
        return sorted(b for b in boxes if min(b[2], b[3]) >= self.min_face)


def make_detector(options: DetectorOptions) -> FaceDetector:
    if options.yunet is not None:
        return YuNetDetector(options.yunet, options.min_face, options.score_threshold)
    return HaarDetector(options.min_face)
