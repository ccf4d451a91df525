"""The accuracy gate: float Keras, float .tflite and int8 .tflite scored on the same faces.

The .tflite models are run through fer_edge.Classifier, the code the device runs, so quantisation handling
(scale, zero point, renormalisation) is tested as shipped rather than re-implemented here.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from fer_edge import Classifier
from fer_edge.metrics import agreement, classification_report


@dataclass
class Comparison:
    reports: dict[str, dict]       # model name -> classification_report
    agreement: dict                # int8 vs float keras top-1 agreement (Accuracy dict)
    prob_diff: dict[str, float]    # int8 vs float keras probabilities
    drop_points: float             # float keras accuracy minus int8 accuracy, in points

    def to_dict(self) -> dict:
        return {"reports": self.reports, "agreement_int8_vs_float": self.agreement,
                "prob_abs_diff_int8_vs_float": self.prob_diff, "drop_points": self.drop_points}


def tflite_probs(model_path: Path, faces: np.ndarray) -> np.ndarray:
    return Classifier(model_path).predict(faces)


def compare(float_probs: dict[str, np.ndarray], int8_key: str, reference_key: str, y: np.ndarray,
            labels: Sequence[str]) -> Comparison:
    """`float_probs` maps a model name to its probabilities on the faces; int8 is judged against the reference."""
    reports = {name: classification_report(y, p.argmax(axis=1), labels) for name, p in float_probs.items()}
    ref, q = float_probs[reference_key], float_probs[int8_key]
    diff = np.abs(ref - q)
    drop = 100 * (reports[reference_key]["accuracy"]["value"] - reports[int8_key]["accuracy"]["value"])
    return Comparison(reports, agreement(ref.argmax(axis=1), q.argmax(axis=1)).to_dict(),
                      {"mean": float(diff.mean()), "max": float(diff.max())}, round(drop, 3))
