"""Run totals for the end-of-run summary: what was seen and how fast each stage ran."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .results import FrameResult

STAGES = ("detect", "classify", "frame")


@dataclass(frozen=True)
class Summary:
    frames: int
    faces: int
    labels: dict[str, int]
    latency_ms: dict[str, tuple[float, float]]  # stage -> (p50, p95), over frames where the stage ran
    seconds: float
    interrupted: bool = False

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


@dataclass
class RunStats:
    frames: int = 0
    faces: int = 0
    labels: Counter = field(default_factory=Counter)
    _ms: dict[str, list[float]] = field(default_factory=lambda: {stage: [] for stage in STAGES})

    def add(self, result: FrameResult) -> None:
        self.frames += 1
        self.faces += len(result.faces)
        self.labels.update(face.label for face in result.faces)
        for stage in STAGES:
            value = getattr(result.ms, stage)
            if value is not None:
                self._ms[stage].append(value)

    def summary(self, seconds: float, interrupted: bool = False) -> Summary:
        latency = {
            stage: (float(np.percentile(v, 50)), float(np.percentile(v, 95))) for stage, v in self._ms.items() if v
        }
        return Summary(self.frames, self.faces, dict(self.labels.most_common()), latency, seconds, interrupted)


def format_summary(summary: Summary) -> str:
    head = "interrupted: " if summary.interrupted else ""
    lines = [
        f"{head}{summary.frames} frames, {summary.faces} faces, {summary.fps:.1f} FPS over {summary.seconds:.2f} s",
        "labels: " + (", ".join(f"{label} {n}" for label, n in summary.labels.items()) or "none"),
        "latency ms (p50 / p95): "
        + (", ".join(f"{stage} {p50:.2f} / {p95:.2f}" for stage, (p50, p95) in summary.latency_ms.items()) or "none"),
    ]
    return "\n".join(lines)
