"""Face boxes as plain (x, y, w, h) int tuples, matching OpenCV and the JSON output line."""
from __future__ import annotations

Box = tuple[int, int, int, int]


def iou(a: Box, b: Box) -> float:
    """Intersection over union; the tracker's only notion of "same face"."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0
