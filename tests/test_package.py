"""``import scaler``: every exported name resolves, and importing it stays cheap."""

from __future__ import annotations

import subprocess
import sys

import pytest

import scaler
from scaler.curriculum.controllers import Controller
from scaler.curriculum_loop import Curriculum
from scaler.errors import ScalerError

#: What a reward function that imports scaler must not pay for.
HEAVY = ("matplotlib", "torch", "docker", "structlog", "rich", "click")


def test_all_is_sorted_complete_and_resolves() -> None:
    assert scaler.__all__ == sorted(scaler.__all__)
    public = {name for name in dir(scaler) if not name.startswith("_")}
    public -= {"annotations", "importlib", "TYPE_CHECKING", "Any"}
    public -= {name for name in public if type(getattr(scaler, name)).__name__ == "module"}
    assert public == set(scaler.__all__) - {"__version__"}
    for name in scaler.__all__:
        assert getattr(scaler, name) is not None
    assert scaler.Curriculum is Curriculum and scaler.Controller is Controller
    assert issubclass(scaler.ConfigError, ScalerError)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        _ = scaler.Nothing  # type: ignore[attr-defined]


def test_import_loads_nothing_heavy() -> None:
    code = (
        "import sys, scaler\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
        "scaler.Curriculum\n"
        "print(sorted(m for m in ('matplotlib', 'torch', 'docker') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines() == ["[]", "[]"]
