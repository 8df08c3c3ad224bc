"""Standard-library modules that newer Pythons have and 3.10 (the oldest scaler supports) lacks.

``tomllib`` is in the standard library from 3.11; on 3.10 the same parser is the ``tomli``
package (a dependency there, see pyproject.toml). Import it from here: ``from scaler.compat
import tomllib``.
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

__all__ = ["tomllib"]
