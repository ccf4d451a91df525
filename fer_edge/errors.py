"""Errors a user can cause and fix, so the CLI can print them as one line instead of a traceback."""


class FerEdgeError(Exception):
    """Base class: anything expected (bad model, bad input) that the CLI reports as `error: ...`."""


class ModelError(FerEdgeError):
    """The model file or its sidecar is missing, unreadable, or breaks the model contract."""


class DelegateError(FerEdgeError):
    """A hardware delegate (Edge TPU) could not be loaded."""


class SourceError(FerEdgeError):
    """A camera, video, image or folder cannot deliver frames."""


class SinkError(FerEdgeError):
    """An output (file, video writer, window) cannot be opened."""
