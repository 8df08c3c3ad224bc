from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import scaler.plugins
from scaler.cli import main
from scaler.plugins import Plugins

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
OFFICIAL_POOL = SHARED / "data" / "scaler-official" / "SCALER-8.json"


def _docker_unavailable() -> str | None:
    """Why Docker tests cannot run here (no package, no engine, no current image), or None."""
    from scaler.errors import ScalerError

    try:
        from scaler.sandbox.image import docker_client, image_status

        status = image_status(docker_client())
    except ScalerError as exc:
        return str(exc)
    if not status.usable:
        return f"{status.tag}: {status.stale_reason or 'not built'}; run scaler sandbox build-image"
    return None


_DOCKER_STATE: list[str | None] = []


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Docker tests skip, saying why, where no engine is reachable; under CI they fail."""
    if item.get_closest_marker("docker") is None:
        return
    if not _DOCKER_STATE:
        _DOCKER_STATE.append(_docker_unavailable())
    reason = _DOCKER_STATE[0]
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true requires the Docker tests to run, but: {reason}", pytrace=False)
    pytest.skip(f"Docker unavailable: {reason}")


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


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """Call the command line in-process: ``run(*args) -> (exit code, stdout, stderr)``."""
    for name in ("SCALER_PLUGINS", "SCALER_LOAD_PLUGINS", "SCALER_BLOCK_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    # The command line makes what it loaded this process's plugin set; each call starts anew.
    monkeypatch.setattr(scaler.plugins, "_process", None)

    def invoke(*args: str) -> tuple[int, str, str]:
        code = 0
        try:
            main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


@pytest.fixture
def no_openai_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither a developer's OpenAI settings nor a proxy may reach a test's local server."""
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
