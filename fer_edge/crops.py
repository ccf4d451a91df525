"""Cut each face box into the model's input: square (faces are not distorted), a little margin (FER2013
crops include the chin and brow), grayscale, resized to the model's size."""
from __future__ import annotations

import cv2
import numpy as np

from .boxes import Box


def square_box(box: Box, margin: float, frame_shape: tuple[int, ...]) -> Box:
    """The box grown by `margin` per side and made square around its centre, shifted to stay inside the frame."""
    x, y, w, h = box
    height, width = frame_shape[:2]
    side = min(int(round(max(w, h) * (1 + 2 * margin))), width, height)
    cx, cy = x + w / 2, y + h / 2
    left = int(round(min(max(cx - side / 2, 0), width - side)))
    top = int(round(min(max(cy - side / 2, 0), height - side)))
    return left, top, side, side


def crop_faces(gray: np.ndarray, boxes: list[Box], size: tuple[int, int], margin: float = 0.1) -> np.ndarray:
    """uint8 [N, height, width] crops from a grayscale frame; `size` is (height, width) as the model reports it."""
    crops = np.empty((len(boxes), *size), dtype=np.uint8)
    for i, box in enumerate(boxes):
        x, y, w, h = square_box(box, margin, gray.shape)
        crops[i] = cv2.resize(gray[y : y + h, x : x + w], (size[1], size[0]), interpolation=cv2.INTER_AREA)
    return crops
