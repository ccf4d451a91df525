"""Timing and framing shared by the benchmarks and the peer scripts.

Standard library, numpy and OpenCV only: `fer_peer.py` and `interp_peer.py` run as scripts inside other venvs
(fer's, tflite-runtime's) that have neither fer_edge nor the project's test dependencies.
"""
from __future__ import annotations

import statistics
import time

import numpy as np


def timeit(fn, max_time: float = 1.0, min_rounds: int = 5, warmup: int = 3, max_rounds: int = 100_000) -> dict:
    """Median and IQR of `fn()` over at least `min_rounds` calls and `max_time` seconds, after a warm-up."""
    for _ in range(warmup):
        fn()
    times, start = [], time.perf_counter()
    while len(times) < min_rounds or (time.perf_counter() - start) < max_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if len(times) >= max_rounds:
            break
    q = statistics.quantiles(times, n=4) if len(times) >= 2 else [times[0]] * 3
    return {"median": statistics.median(times), "iqr": q[2] - q[0], "min": min(times), "rounds": len(times)}


def letterbox(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale `img` to fit (w, h) = size keeping its aspect, centred on a mid-grey canvas."""
    import cv2

    w, h = size
    s = min(w / img.shape[1], h / img.shape[0])
    nw, nh = max(1, round(img.shape[1] * s)), max(1, round(img.shape[0] * s))
    canvas = np.full((h, w) + img.shape[2:], 128, np.uint8)
    x, y = (w - nw) // 2, (h - nh) // 2
    canvas[y:y + nh, x:x + nw] = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
    return canvas
