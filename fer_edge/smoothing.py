"""Per-track smoothing of probabilities so a label does not flicker frame to frame on a still face."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SmoothingOptions:
    """mode "ema": new = alpha * probs + (1 - alpha) * old; "window": mean of the last `window` frames;
    "off": raw probabilities."""

    mode: str = "ema"
    alpha: float = 0.5
    window: int = 5

    def __post_init__(self) -> None:
        if self.mode not in ("ema", "window", "off"):
            raise ValueError(f"smoothing mode must be ema, window or off, not {self.mode!r}")
        if not 0.0 < self.alpha <= 1.0:
            raise ValueError(f"ema alpha must be in (0, 1], not {self.alpha}")
        if self.window < 1:
            raise ValueError(f"window must be >= 1, not {self.window}")

    @classmethod
    def parse(cls, text: str) -> SmoothingOptions:
        """`off`, `ema`, `ema:0.3`, `window`, `window:8` (the CLI's --smooth)."""
        mode, _, value = text.strip().lower().partition(":")
        try:
            if mode == "ema" and value:
                return cls(mode, alpha=float(value))
            if mode == "window" and value:
                return cls(mode, window=int(value))
        except ValueError:
            raise ValueError(f"bad smoothing {text!r}: use off, ema[:ALPHA] or window[:N]") from None
        if value:
            raise ValueError(f"bad smoothing {text!r}: use off, ema[:ALPHA] or window[:N]")
        return cls(mode)


class Smoother:
    def __init__(self, options: SmoothingOptions = SmoothingOptions()) -> None:
        self.options = options
        self._ema: dict[int, np.ndarray] = {}
        self._history: dict[int, deque[np.ndarray]] = {}

    def update(self, track_id: int, probs: np.ndarray) -> np.ndarray:
        opts = self.options
        if opts.mode == "ema":
            old = self._ema.get(track_id)
            self._ema[track_id] = probs if old is None else opts.alpha * probs + (1 - opts.alpha) * old
            return self._ema[track_id]
        if opts.mode == "window":
            history = self._history.setdefault(track_id, deque(maxlen=opts.window))
            history.append(probs)
            return np.mean(history, axis=0)
        return probs

    def keep(self, track_ids: set[int]) -> None:
        """Forget tracks the tracker dropped, so memory stays flat on a long camera run."""
        for state in (self._ema, self._history):
            for gone in set(state) - track_ids:
                del state[gone]

    def reset(self) -> None:
        self._ema.clear()
        self._history.clear()
