"""`fer-edge-run`: build the pipeline from flags, run the device loop, print a summary to stderr.

Expected failures (bad model, bad input, missing delegate) become one `fer-edge-run: error: ...` line and
exit code 2; results go to stdout (or --output) and everything for humans to stderr, so output pipes cleanly.
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence

import cv2

from . import loop
from .classifier import Classifier
from .detect import DetectorOptions, make_detector
from .errors import DelegateError, FerEdgeError
from .pipeline import FacePipeline, PipelineOptions
from .sinks import CsvSink, JsonLinesSink, Sink, VideoSink, open_text, window_sink_if_possible
from .smoothing import SmoothingOptions
from .sources import CaptureSource, ImageSource, Source
from .stats import format_summary

PROG = "fer-edge-run"
log = logging.getLogger("fer_edge")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Facial emotion recognition on a camera, video or images.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--camera", type=int, metavar="N", help="camera index (0 is the first camera)")
    src.add_argument("--video", metavar="PATH", help="video file")
    src.add_argument("--image", nargs="+", metavar="PATH", help="image files and/or folders of images")
    p.add_argument("--model", metavar="PATH", help="int8/float .tflite with a sidecar .json (default: shipped model)")
    p.add_argument("--threads", type=_positive_int, default=1, help="interpreter threads (default 1)")
    p.add_argument("--edgetpu", action="store_true", help="use the Coral Edge TPU; falls back to the CPU with a warning")
    p.add_argument("--yunet", metavar="ONNX", help="YuNet face detector model instead of the built-in Haar cascade")
    p.add_argument("--min-face", type=_positive_int, default=40, metavar="PX", help="smallest face side (default 40)")
    p.add_argument("--detect-every", type=_positive_int, default=1, metavar="N",
                   help="run the detector every N frames, tracking boxes in between (default 1)")
    p.add_argument("--smooth", type=_smoothing, default=SmoothingOptions(), metavar="SPEC",
                   help="per-face smoothing: off, ema[:ALPHA] or window[:N] (default ema:0.5)")
    p.add_argument("--max-frames", type=_positive_int, metavar="N", help="stop after N frames")
    p.add_argument("--output", metavar="PATH", help="write results here instead of stdout")
    p.add_argument("--format", choices=("jsonl", "csv"), default="jsonl", help="result format (default jsonl)")
    p.add_argument("--save-video", metavar="PATH", help="write an annotated video (.mp4 or .avi)")
    p.add_argument("--display", action="store_true", help="show a window when a display is present (q quits)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging()
    try:
        classifier = _classifier(args)
        detector = make_detector(DetectorOptions(yunet=args.yunet, min_face=args.min_face))
        source = _source(args)
        sinks = _sinks(args, classifier.labels, source.fps)
        pipeline = FacePipeline(detector, classifier, PipelineOptions(args.detect_every, smoothing=args.smooth))
        summary = loop.run(source, pipeline, sinks, args.max_frames)
    except FerEdgeError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `| head`: the reader left; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    print(format_summary(summary), file=sys.stderr)
    return 130 if summary.interrupted else 0


def _classifier(args: argparse.Namespace) -> Classifier:
    try:
        with _native_stderr_silenced():
            return Classifier(args.model, threads=args.threads, edgetpu=args.edgetpu)
    except DelegateError as exc:
        log.warning("%s; running on the CPU", exc)
    with _native_stderr_silenced():
        return Classifier(args.model, threads=args.threads)


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """The TFLite runtime prints an INFO line from C++ when it builds its CPU delegate; keep stderr to our
    own one-line messages. Failures still arrive as Python exceptions."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _source(args: argparse.Namespace) -> Source:
    if args.image:
        return ImageSource(args.image)
    if args.video:
        return CaptureSource.video(args.video)
    return CaptureSource.camera(args.camera)


def _sinks(args: argparse.Namespace, labels: list[str], fps: float | None) -> list[Sink]:
    sinks: list[Sink] = []
    if args.save_video:
        sinks.append(VideoSink(args.save_video, fps))
    if args.display and (window := window_sink_if_possible()) is not None:
        sinks.append(window)
    stream = open_text(args.output)
    sinks.append(CsvSink(stream, labels) if args.format == "csv" else JsonLinesSink(stream))
    return sinks


def _setup_logging() -> None:
    """Our warnings as `fer-edge-run: warning: ...`; OpenCV's own backend chatter is silenced because every
    failure it would explain is reported by us in one line."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(levelname)s: %(message)s"))
    logging.addLevelName(logging.WARNING, "warning")
    log.addHandler(handler)
    log.setLevel(logging.WARNING)
    log.propagate = False
    cv_logging = getattr(cv2.utils, "logging", None)  # OpenCV 4.11 (numpy<2 boards) has only cv2.setLogLevel
    if cv_logging is not None:
        cv_logging.setLogLevel(cv_logging.LOG_LEVEL_SILENT)
    else:
        cv2.setLogLevel(0)
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET; read when FFmpeg first opens a file


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _smoothing(text: str) -> SmoothingOptions:
    try:
        return SmoothingOptions.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


if __name__ == "__main__":
    sys.exit(main())
