"""TensorBoard event files of a run's curriculum figures, where tensorboard is installed.

``scaler run`` writes them into the run directory, so that ``tensorboard --logdir runs/`` shows
every run's active set, difficulties, accuracies and informative share over its steps. They are
written with tensorboard's own event writer and protos (what torch's SummaryWriter uses), so
neither torch nor TensorFlow is needed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path


class EventWriter:
    """Scalars per step, appended to an event file of its own in ``directory``."""

    def __init__(self, directory: Path) -> None:
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self._writer = EventFileWriter(str(directory))

    def add_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
        """One event for the step, flushed: a killed run keeps every step it wrote."""
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary

        values = [Summary.Value(tag=tag, simple_value=float(v)) for tag, v in scalars.items()]
        event = Event(wall_time=time.time(), step=step, summary=Summary(value=values))
        self._writer.add_event(event)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


def event_writer(directory: Path) -> EventWriter | None:
    """A writer into ``directory``, or None where tensorboard is not installed."""
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return None
    return EventWriter(directory)
