"""Logging: the library logs through the standard ``logging`` module; the command line renders.

Library modules take their logger from ``get_logger(__name__)``: structlog's calls
(``log.warning("event", key=value)``) on top of ``logging.getLogger(name)``. A program that
imports scaler as a library and configures nothing gets no output from it (the ``scaler``
logger has a ``NullHandler``, as a library's should): structlog left unconfigured would print
to stdout, where a user's data goes. A program that configures ``logging`` gets scaler's
records like any library's; their message is the event dict, which a
``structlog.stdlib.ProcessorFormatter`` renders.

``configure`` is for the command line only: it renders those records, and what the CLI's own
``structlog.get_logger`` loggers write, to stderr, so stdout carries only data.
"""

from __future__ import annotations

import logging
import sys
from typing import cast

import structlog

#: What every rendered line carries, from the library's loggers and the CLI's alike.
_STAMPS: list[structlog.types.Processor] = [
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso"),
]

logging.getLogger("scaler").addHandler(logging.NullHandler())


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """The logger of library module ``name``. Calls below the ``logging`` logger's level stop
    at the first processor; the others reach ``logging`` with the event dict as the message."""
    return cast(
        structlog.stdlib.BoundLogger,
        structlog.wrap_logger(
            logging.getLogger(name),
            processors=[
                structlog.stdlib.filter_by_level,
                *_STAMPS,
                structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
            ],
            wrapper_class=structlog.stdlib.BoundLogger,
            cache_logger_on_first_use=True,
        ),
    )


class _Stderr(logging.Handler):
    """Writes each record on a line of whatever ``sys.stderr`` is at the time: whoever replaced
    it (a test, an embedding application) gets the logs, and nothing writes to a stream that
    was closed."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(self.format(record), file=sys.stderr, flush=True)
        except Exception:
            self.handleError(record)


def configure(verbosity: int = 0, fmt: str = "console") -> None:
    """Structured logs to stderr, so stdout carries only data: WARNING and up, one level more
    per ``verbosity``; ``fmt`` ``console`` or ``json``. Called again (each in-process CLI call),
    it replaces what it set before. The ``scaler`` logger stops propagating to the root logger:
    the command line renders its records itself, once, whatever else configured ``logging``."""
    level = max(logging.WARNING - 10 * verbosity, logging.DEBUG)
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    # The CLI's own loggers (and a plugin's) from structlog.get_logger.
    structlog.configure(
        processors=[*_STAMPS, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=lambda *_: structlog.PrintLogger(sys.stderr),
        cache_logger_on_first_use=False,
    )
    # The library's loggers, through logging.
    handler = _Stderr()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=_STAMPS,
        )
    )
    library = logging.getLogger("scaler")
    for old in [h for h in library.handlers if isinstance(h, _Stderr)]:
        library.removeHandler(old)
    library.addHandler(handler)
    library.setLevel(level)
    library.propagate = False
