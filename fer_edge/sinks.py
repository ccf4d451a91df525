"""Where results go: JSON lines or CSV (text, flushed every frame so a killed run loses nothing), an
annotated video (the only sink that writes image data, so only on request), and a window."""
from __future__ import annotations

import csv
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, Protocol, TextIO

import cv2

from .annotate import draw_faces
from .errors import SinkError
from .results import Face, FrameResult
from .sources import Frame

log = logging.getLogger("fer_edge")


class Sink(Protocol):
    def write(self, frame: Frame, result: FrameResult) -> None: ...

    def close(self) -> None: ...


class StopRequested(Exception):
    """Raised by a sink when the user asks to stop (q or Esc in the window); the loop ends like on Ctrl-C."""


def face_record(result: FrameResult, face: Face) -> dict[str, Any]:
    """The output line contract (DESIGN.md); `image` is added for still images so folder runs stay traceable."""
    record: dict[str, Any] = {"frame": result.index, "t": round(result.t, 3)}
    if result.name is not None:
        record["image"] = result.name
    record.update(
        track=face.track,
        box=list(face.box),
        label=face.label,
        probs={label: round(p, 4) for label, p in face.probs.items()},
        ms={
            "detect": None if result.ms.detect is None else round(result.ms.detect, 2),
            "classify": round(result.ms.classify, 2),
            "frame": round(result.ms.frame, 2),
        },
    )
    return record


def open_text(path: str | Path | None) -> TextIO:
    """stdout when `path` is None or "-", else a new file (line-buffered)."""
    if path is None or str(path) == "-":
        return sys.stdout
    try:
        return open(path, "w", encoding="utf-8", newline="", buffering=1)
    except OSError as exc:
        raise SinkError(f"cannot write {path}: {exc.strerror}") from None


class JsonLinesSink:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, frame: Frame, result: FrameResult) -> None:
        for face in result.faces:
            self._stream.write(json.dumps(face_record(result, face)) + "\n")
        self._stream.flush()

    def close(self) -> None:
        _close_unless_std(self._stream)


class CsvSink:
    """One row per face per frame; probabilities as one column per label so spreadsheets need no parsing."""

    def __init__(self, stream: TextIO, labels: list[str]) -> None:
        self._stream = stream
        self._labels = labels
        self._writer = csv.writer(stream, lineterminator="\n")
        self._writer.writerow(
            ["frame", "t", "image", "track", "x", "y", "w", "h", "label"]
            + [f"p_{label}" for label in labels]
            + ["detect_ms", "classify_ms", "frame_ms"]
        )
        stream.flush()

    def write(self, frame: Frame, result: FrameResult) -> None:
        for face in result.faces:
            r = face_record(result, face)
            ms = r["ms"]
            self._writer.writerow(
                [r["frame"], r["t"], r.get("image", ""), r["track"], *r["box"], r["label"]]
                + [r["probs"][label] for label in self._labels]
                + ["" if ms["detect"] is None else ms["detect"], ms["classify"], ms["frame"]]
            )
        self._stream.flush()

    def close(self) -> None:
        _close_unless_std(self._stream)


class VideoSink:
    """Annotated frames to a video; the writer opens on the first frame, when the size is known.
    `.avi` gets MJPG, anything else mp4v (both ship with the opencv-python wheels)."""

    def __init__(self, path: str | Path, fps: float | None) -> None:
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise SinkError(f"cannot write video {self.path}: folder {self.path.parent} does not exist")
        self.fps = fps or 10.0
        self._writer: cv2.VideoWriter | None = None
        self._size: tuple[int, int] | None = None

    def write(self, frame: Frame, result: FrameResult) -> None:
        image = draw_faces(frame.image, result)
        if self._writer is None:
            self._size = (image.shape[1], image.shape[0])
            codec = "MJPG" if self.path.suffix.lower() == ".avi" else "mp4v"
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*codec), self.fps, self._size)
            if not self._writer.isOpened():
                raise SinkError(f"cannot write video {self.path} with codec {codec}")
        if (image.shape[1], image.shape[0]) != self._size:
            image = cv2.resize(image, self._size)  # still images of mixed sizes share one video
        self._writer.write(image)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()


class WindowSink:
    """Live preview; q or Esc stops the run."""

    TITLE = "fer-edge"

    def write(self, frame: Frame, result: FrameResult) -> None:
        cv2.imshow(self.TITLE, draw_faces(frame.image, result))
        if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
            raise StopRequested

    def close(self) -> None:
        cv2.destroyAllWindows()


def window_sink_if_possible() -> WindowSink | None:
    """A window needs a display and an OpenCV built with GUI support (not the -headless wheel); without them
    the run goes on without a window, with a warning, because the text output is the real product."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        log.warning("--display ignored: no display (DISPLAY is not set)")
        return None
    try:
        cv2.namedWindow(WindowSink.TITLE)
    except cv2.error:
        log.warning("--display ignored: this OpenCV has no GUI support (opencv-python-headless)")
        return None
    return WindowSink()


def _close_unless_std(stream: TextIO) -> None:
    if stream not in (sys.stdout, sys.stderr):
        stream.close()
    else:
        stream.flush()

