"""fer_edge: facial emotion recognition on small devices (Raspberry Pi, Coral), TFLite only, never TensorFlow."""
from .classifier import DEFAULT_MODEL, Classifier
from .crops import crop_faces, square_box
from .detect import DetectorOptions, HaarDetector, YuNetDetector, make_detector
from .errors import DelegateError, FerEdgeError, ModelError, SinkError, SourceError
from .pipeline import FacePipeline, PipelineOptions
from .results import Face, FrameResult, Timing
from .sidecar import read_labels, read_sidecar, sidecar_path
from .smoothing import Smoother, SmoothingOptions
from .tracking import IouTracker, Track
from . import loop

__all__ = [
    "DEFAULT_MODEL",
    "Classifier",
    "DelegateError",
    "DetectorOptions",
    "Face",
    "FacePipeline",
    "FerEdgeError",
    "FrameResult",
    "HaarDetector",
    "IouTracker",
    "ModelError",
    "PipelineOptions",
    "SinkError",
    "Smoother",
    "SmoothingOptions",
    "SourceError",
    "Timing",
    "Track",
    "YuNetDetector",
    "crop_faces",
    "loop",
    "make_detector",
    "read_labels",
    "read_sidecar",
    "sidecar_path",
    "square_box",
]
