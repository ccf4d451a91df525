"""Classification metrics that always carry their sample size and uncertainty.

Lives in the device package (numpy only) so that training, quantisation, benchmarks and the on-device
check all report accuracy the same way: with n and a 95% Wilson interval, because a bare percentage on a
few hundred faces hides a spread of several points.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from math import sqrt
from typing import Sequence

import numpy as np

Z95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval: unlike the normal approximation it stays inside [0, 1] near 0% and 100%."""
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Accuracy:
    correct: int
    n: int

    @property
    def value(self) -> float:
        return self.correct / self.n if self.n else float("nan")

    @property
    def ci95(self) -> tuple[float, float]:
        return wilson_interval(self.correct, self.n)

    def __str__(self) -> str:
        lo, hi = self.ci95
        return f"{100 * self.value:.1f}% (n={self.n}, 95% CI {100 * lo:.1f}-{100 * hi:.1f})"

    def to_dict(self) -> dict:
        lo, hi = self.ci95
        return {"value": self.value, "correct": self.correct, "n": self.n, "ci95": [lo, hi]}


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> Accuracy:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return Accuracy(int((y_true == y_pred).sum()), int(y_true.size))


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Rows are true classes, columns predictions."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return cm


@dataclass(frozen=True)
class ClassReport:
    label: str
    precision: float
    recall: float
    f1: float
    support: int
    recall_ci95: tuple[float, float]


def per_class(cm: np.ndarray, labels: Sequence[str]) -> list[ClassReport]:
    out = []
    for i, label in enumerate(labels):
        tp = int(cm[i, i])
        support = int(cm[i].sum())
        predicted = int(cm[:, i].sum())
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out.append(ClassReport(label, precision, recall, f1, support, wilson_interval(tp, support)))
    return out


def classification_report(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str]) -> dict:
    """Everything a results table needs, JSON-ready."""
    cm = confusion_matrix(y_true, y_pred, len(labels))
    return {
        "accuracy": accuracy(y_true, y_pred).to_dict(),
        "per_class": [asdict(r) for r in per_class(cm, labels)],
        "confusion": cm.tolist(),
        "labels": list(labels),
    }


def agreement(pred_a: np.ndarray, pred_b: np.ndarray) -> Accuracy:
    """Top-1 agreement between two models, as an Accuracy so it carries n and an interval too."""
    return accuracy(pred_a, pred_b)
