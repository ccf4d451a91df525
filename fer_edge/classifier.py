"""Face crops in, emotion probabilities out; quantisation stays in here so callers never see it.

Kept apart like an OpenCV Zoo wrapper: `_preprocess` (pixels -> model tensor), `_forward` (one invoke per face,
since the contract's batch is 1 and the Edge TPU cannot resize), `_postprocess` (dequantise -> probabilities).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import ModelError
from .interpreter import TensorSpec, input_output_specs, load_interpreter
from .sidecar import read_labels

DEFAULT_MODEL = Path(__file__).resolve().parent / "models" / "fer_int8.tflite"


class Classifier:
    """`Classifier(model_path=None, threads=1, edgetpu=False)`; `None` loads the shipped int8 model.

    Raises ModelError for a missing/truncated/wrong-signature model or missing labels, and DelegateError when
    `edgetpu=True` but the Edge TPU runtime is absent (the caller decides whether to fall back to the CPU).
    """

    def __init__(self, model_path: str | Path | None = None, threads: int = 1, edgetpu: bool = False) -> None:
        if model_path is None and not DEFAULT_MODEL.is_file():
            raise ModelError(
                f"no shipped model at {DEFAULT_MODEL}: pass --model PATH "
                "(the quantize stage ships it with `python -m quantize.int8 runs/final --ship`)"
            )
        self.model_path = Path(model_path) if model_path is not None else DEFAULT_MODEL
        self.edgetpu = edgetpu
        self._interpreter = load_interpreter(self.model_path, threads=threads, edgetpu=edgetpu)
        self._input, self._output = input_output_specs(self._interpreter, self.model_path)
        self.labels: list[str] = read_labels(self.model_path)
        if len(self.labels) != self._output.shape[1]:
            raise ModelError(
                f"{self.model_path}: model has {self._output.shape[1]} outputs but the sidecar names "
                f"{len(self.labels)} labels"
            )

    @property
    def input_size(self) -> tuple[int, int]:
        """(height, width) read from the model, so crops match whatever the quantize stage shipped."""
        return self._input.shape[1], self._input.shape[2]

    @property
    def output_spec(self) -> TensorSpec:
        """Output dtype, scale and zero point: what a reference check needs to count quantisation steps."""
        return self._output

    def predict(self, faces: np.ndarray) -> np.ndarray:
        """uint8 grayscale faces [N, H, W] or one [H, W] -> float32 probabilities [N, C]."""
        return self._postprocess(self.predict_raw(faces))

    def predict_raw(self, faces: np.ndarray) -> np.ndarray:
        """The output tensor as the model wrote it (e.g. int8), for bit-exact reference checks."""
        tensor = self._preprocess(faces)
        return np.stack([self._forward(one[None]) for one in tensor]) if len(tensor) else self._empty_raw()

    def _preprocess(self, faces: np.ndarray) -> np.ndarray:
        faces = np.asarray(faces)
        if faces.ndim == 2:
            faces = faces[None]
        if faces.dtype != np.uint8 or faces.ndim != 3 or faces.shape[1:] != self.input_size:
            raise ValueError(
                f"faces must be uint8 [N, {self.input_size[0]}, {self.input_size[1]}], "
                f"got {faces.dtype} {list(faces.shape)}"
            )
        unit = faces[..., None].astype(np.float32) / 255.0
        spec = self._input
        if spec.dtype == np.float32:
            return unit
        info = np.iinfo(spec.dtype)
        return np.clip(np.round(unit / spec.scale + spec.zero_point), info.min, info.max).astype(spec.dtype)

    def _forward(self, tensor: np.ndarray) -> np.ndarray:
        self._interpreter.set_tensor(self._input.index, tensor)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output.index)[0].copy()

    def _postprocess(self, raw: np.ndarray) -> np.ndarray:
        spec = self._output
        probs = raw.astype(np.float32)
        if spec.dtype != np.float32:
            probs = (probs - spec.zero_point) * spec.scale
        # Quantised softmax rarely sums to exactly 1; renormalise so consumers can trust the numbers.
        probs = np.clip(probs, 0.0, None)
        total = probs.sum(axis=1, keepdims=True)
        uniform = np.full_like(probs, 1.0 / probs.shape[1])
        return np.where(total > 0, probs / np.where(total > 0, total, 1.0), uniform).astype(np.float32)

    def _empty_raw(self) -> np.ndarray:
        return np.zeros((0, self._output.shape[1]), dtype=self._output.dtype)
