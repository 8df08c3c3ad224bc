from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from scaler.plugins import Plugins

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
OFFICIAL_POOL = SHARED / "data" / "scaler-official" / "SCALER-8.json"


def require_shared(path: Path) -> Path:
    """Tests that read ../shared skip, saying why, on a checkout that has none beside it."""
    if not path.exists():
        pytest.skip(f"{path} is absent: this test reads the shared test data beside the checkout")
    return path


@pytest.fixture(scope="session")
def plugins() -> Plugins:
    return Plugins.load(
        environ={k: v for k, v in os.environ.items() if not k.startswith("SCALER_")}
    )


@pytest.fixture(scope="session")
def sandbox() -> Iterator[object]:
    """One process backend for the session: workers stay warm, C++ builds stay in the user's
    cache across runs (the official pool's 80 reference solutions take minutes to compile)."""
    from scaler.sandbox.process import ProcessSandbox

    with ProcessSandbox(workers=2) as box:
        yield box
