"""Frames in: a camera, a video file, or still images (files or folders). Each source is an iterable of
Frames that ends cleanly when the input stops delivering, and raises SourceError for input that never could."""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .errors import SourceError

log = logging.getLogger("fer_edge")

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm"}


@dataclass(frozen=True)
class Frame:
    """`still`: an unrelated photo, so tracking and smoothing must not carry over from the previous frame."""

    index: int
    t: float
    image: np.ndarray
    still: bool = False
    name: str | None = None


class ImageSource:
    fps: float | None = None

    def __init__(self, paths: list[str | Path]) -> None:
        self.paths = [image for path in paths for image in _expand(Path(path))]

    def __iter__(self) -> Iterator[Frame]:
        start = time.perf_counter()
        for index, path in enumerate(self.paths):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise SourceError(f"cannot read image {path} (corrupt or not an image)")
            yield Frame(index, time.perf_counter() - start, image, still=True, name=str(path))

    def close(self) -> None:
        pass


class CaptureSource:
    """A cv2.VideoCapture: a video file (timestamps from its frame rate) or a camera (wall-clock timestamps)."""

    def __init__(self, capture: cv2.VideoCapture, description: str, live: bool) -> None:
        self._capture = capture
        self.description = description
        self.live = live
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and fps > 0 else None
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if not live else 0
        self.expected_frames = count if count > 0 else None

    @classmethod
    def camera(cls, index: int) -> CaptureSource:
        capture = cv2.VideoCapture(index)
        if not capture.isOpened():
            raise SourceError(f"cannot open camera {index}")
        return cls(capture, f"camera {index}", live=True)

    @classmethod
    def video(cls, path: str | Path) -> CaptureSource:
        path = Path(path)
        if not path.is_file():
            raise SourceError(f"video not found: {path}")
        capture = cv2.VideoCapture(str(path))
        if not capture.isOpened():
            raise SourceError(f"cannot open video {path} (corrupt or a format OpenCV cannot decode)")
        return cls(capture, f"video {path}", live=False)

    def __iter__(self) -> Iterator[Frame]:
        start = time.perf_counter()
        index = 0
        while True:
            ok, image = self._capture.read()
            if not ok or image is None:
                break
            t = time.perf_counter() - start if self.live or not self.fps else index / self.fps
            yield Frame(index, t, image)
            index += 1
        if index == 0:
            raise SourceError(f"{self.description} delivered no frames")
        if self.live:
            log.warning("%s stopped delivering frames after %d", self.description, index)
        elif self.expected_frames and index < self.expected_frames:
            log.warning("%s ended after %d of %d frames (truncated?)", self.description, index, self.expected_frames)

    def close(self) -> None:
        self._capture.release()


Source = ImageSource | CaptureSource


def _expand(path: Path) -> list[Path]:
    if path.is_dir():
        images = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not images:
            raise SourceError(f"no images in folder {path}")
        return images
    if not path.is_file():
        raise SourceError(f"image not found: {path}")
    return [path]
