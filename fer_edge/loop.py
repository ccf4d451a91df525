"""The device loop: frames from a source through the pipeline to the sinks, until the source ends, the
frame limit is reached, or the user stops it; always closes what it was given and returns a summary."""
from __future__ import annotations

import time
from collections.abc import Sequence

from .pipeline import FacePipeline
from .sinks import Sink, StopRequested
from .sources import Source
from .stats import RunStats, Summary


def run(source: Source, pipeline: FacePipeline, sinks: Sequence[Sink], max_frames: int | None = None) -> Summary:
    stats, start, interrupted = RunStats(), time.perf_counter(), False
    try:
        for frame in source:
            result = pipeline.process(frame)
            stats.add(result)
            for sink in sinks:
                sink.write(frame, result)
            if max_frames is not None and stats.frames >= max_frames:
                break
    except (KeyboardInterrupt, StopRequested):
        interrupted = True
    finally:
        source.close()
        for sink in sinks:
            sink.close()
    return stats.summary(time.perf_counter() - start, interrupted)
