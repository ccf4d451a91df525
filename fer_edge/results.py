"""What the pipeline hands to sinks and the summary: small typed objects, one per face and per frame."""
from __future__ import annotations

from dataclasses import dataclass, field

from .boxes import Box


@dataclass(frozen=True)
class Face:
    track: int
    box: Box
    label: str
    probs: dict[str, float]


@dataclass(frozen=True)
class Timing:
    """Milliseconds per stage; `detect` is None on frames where tracking stood in for the detector."""

    detect: float | None
    classify: float
    frame: float


@dataclass(frozen=True)
class FrameResult:
    index: int
    t: float
    ms: Timing
    faces: list[Face] = field(default_factory=list)
    name: str | None = None
