"""Give each face a stable id across frames by IoU matching, so smoothing and the output follow a person,
not a position in a list. Cheap enough to run between detections on a Pi."""
from __future__ import annotations

from dataclasses import dataclass
from itertools import count

from .boxes import Box, iou


@dataclass(eq=False)
class Track:
    id: int
    box: Box
    missed: int = 0


class IouTracker:
    """Greedy IoU matching. A track survives `max_missed` detections without a match, so a face lost for a
    frame or two keeps its id; it is only reported while matched."""

    def __init__(self, iou_threshold: float = 0.3, max_missed: int = 5) -> None:
        self.iou_threshold = iou_threshold
        self.max_missed = max_missed
        self.reset()

    def reset(self) -> None:
        self._tracks: list[Track] = []
        self._ids = count(1)

    def update(self, boxes: list[Box]) -> list[Track]:
        """Match fresh detections to tracks; returns the tracks seen now, in the order of `boxes`."""
        pairs = sorted(
            ((iou(track.box, box), t, b) for t, track in enumerate(self._tracks) for b, box in enumerate(boxes)),
            reverse=True,
        )
        owner: dict[int, Track] = {}
        taken: set[int] = set()
        for overlap, t, b in pairs:
            if overlap < self.iou_threshold:
                break
            if t not in taken and b not in owner:
                taken.add(t)
                owner[b] = self._tracks[t]
        for t, track in enumerate(self._tracks):
            track.missed = 0 if t in taken else track.missed + 1
        seen = []
        for b, box in enumerate(boxes):
            track = owner.get(b)
            if track is None:
                track = Track(next(self._ids), box)
                self._tracks.append(track)
            track.box = box
            seen.append(track)
        self._tracks = [t for t in self._tracks if t.missed <= self.max_missed]
        return seen

    @property
    def alive_ids(self) -> set[int]:
        return {t.id for t in self._tracks}
