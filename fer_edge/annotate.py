"""Draw boxes and labels on a copy of a frame, for the saved video and the window."""
from __future__ import annotations

import cv2
import numpy as np

from .results import FrameResult

GREEN = (0, 200, 0)


def draw_faces(image: np.ndarray, result: FrameResult) -> np.ndarray:
    canvas = image.copy()
    for face in result.faces:
        x, y, w, h = face.box
        cv2.rectangle(canvas, (x, y), (x + w, y + h), GREEN, 2)
        text = f"#{face.track} {face.label} {face.probs[face.label]:.2f}"
        cv2.putText(canvas, text, (x, max(12, y - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, GREEN, 1, cv2.LINE_AA)
    return canvas
