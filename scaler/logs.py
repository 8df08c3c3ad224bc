"""Logging setup for the command line; the library only ever calls ``structlog.get_logger``."""

from __future__ import annotations

import logging
import sys

import structlog


def configure(verbosity: int = 0, fmt: str = "console") -> None:
    """Structured logs to stderr, so stdout carries only data."""
    level = logging.WARNING - 10 * verbosity
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(max(level, logging.DEBUG)),
        # Resolved per call, not cached: whoever replaced sys.stderr (a test, an embedding
        # application) gets the logs, and nothing writes to a stream that was closed.
        logger_factory=lambda *_: structlog.PrintLogger(sys.stderr),
        cache_logger_on_first_use=False,
    )
