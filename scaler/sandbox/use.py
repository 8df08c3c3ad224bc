"""A sandbox for a library function: one the caller gives, or one it names.

A named one is made through the plugin set and closed when the work is done; a given one stays
the caller's, open, so that one sandbox (and its warm workers) can serve several calls.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from scaler.sandbox.selection import build_sandbox

if TYPE_CHECKING:
    from scaler.registry import PluginSet
    from scaler.sandbox.jobs import Sandbox


@contextlib.contextmanager
def use_sandbox(plugins: PluginSet, sandbox: Sandbox | str) -> Iterator[Sandbox]:
    """``sandbox`` itself, or the backend of that name (``auto``, ``process``, ``docker`` or a
    plugin's) with its default options, closed on leaving."""
    if not isinstance(sandbox, str):
        yield sandbox
        return
    made = build_sandbox(plugins, sandbox, {})
    try:
        yield made
    finally:
        made.close()
