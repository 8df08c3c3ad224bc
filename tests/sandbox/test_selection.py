from __future__ import annotations

from typing import Any

import pytest

from scaler.plugins import Plugins
from scaler.sandbox import selection
from scaler.sandbox.process import ProcessSandbox
from scaler.sandbox.selection import Check, diagnose


def plugins_with_docker(factory: Any) -> Plugins:
    class DockerPlugin:
        from scaler import hookimpl

        @hookimpl
        def scaler_register_sandboxes(self, register: Any) -> None:
            register("docker", factory)

    plugins = Plugins.load(environ={"SCALER_LOAD_PLUGINS": ""})
    plugins.register(DockerPlugin(), "fake-docker")
    return plugins


def test_without_a_docker_backend_auto_picks_process() -> None:
    class ProcessOnly:
        from scaler import hookimpl

        @hookimpl
        def scaler_register_sandboxes(self, register: Any) -> None:
            register("process", object)

    plugins = Plugins.load(
        environ={
            "SCALER_LOAD_PLUGINS": "",
            "SCALER_BLOCK_PLUGINS": "scaler.default_plugins.sandboxes",
        }
    )
    plugins.register(ProcessOnly(), "process-only")
    checks, choice = diagnose(plugins)
    assert choice.backend == "process" and "no docker backend" in choice.reason
    assert any(c.name == "docker backend" and not c.ok for c in checks)


def test_docker_is_chosen_when_engine_and_image_are_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        selection, "_docker_checks", lambda tag: ([Check("docker engine", True, "up")], True, False)
    )
    _, choice = diagnose(plugins_with_docker(object))
    assert choice.backend == "docker"


def test_a_missing_image_falls_back_and_offers_a_build(monkeypatch: pytest.MonkeyPatch) -> None:
    checks = [Check("docker engine", True, "up"), Check("sandbox image", False, "not built")]
    monkeypatch.setattr(selection, "_docker_checks", lambda tag: (checks, False, True))
    _, choice = diagnose(plugins_with_docker(object))
    assert (choice.backend, choice.can_build_image) == ("process", True)
    assert choice.reason == "sandbox image: not built"


def test_auto_sandbox_warns_and_runs_on_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        selection,
        "_docker_checks",
        lambda tag: ([Check("docker engine", False, "down")], False, False),
    )
    warnings: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(selection.log, "warning", lambda msg, **kw: warnings.append((msg, kw)))
    plugins = plugins_with_docker(lambda **_: pytest.fail("docker must not be used"))
    sandbox = selection.auto_sandbox(plugins=plugins, workers=1)
    try:
        assert isinstance(sandbox, ProcessSandbox)
    finally:
        sandbox.close()
    assert warnings == [(selection.PROCESS_WARNING, {"reason": "docker engine: down"})]


def test_non_root_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selection.os, "geteuid", lambda: 1000)
    checks, _ = diagnose(Plugins.load(environ={"SCALER_LOAD_PLUGINS": ""}))
    (root,) = [c for c in checks if c.name == "root"]
    assert not root.ok and "run as you" in root.detail


def test_a_stale_image_is_still_used_and_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    from scaler.sandbox import image

    class Client:
        def version(self) -> dict[str, str]:
            return {"Version": "20.10"}

    stale = image.ImageStatus("scaler-sandbox:x", True, {image.LABEL_RUNNER: "old"})
    monkeypatch.setattr(image, "docker_client", Client)
    monkeypatch.setattr(image, "image_status", lambda client, tag: stale)
    checks, choice = diagnose(plugins_with_docker(object))
    assert choice.backend == "docker"
    (check,) = [c for c in checks if c.name == "sandbox image"]
    assert check.ok and "stale" in check.detail and "usable" in check.detail


def test_a_sandbox_factory_is_handed_the_set_it_was_found_in() -> None:
    handed: list[object] = []

    def recording(*, plugins: object, **options: object) -> object:
        handed.append((plugins, options))
        return "a sandbox"

    plugins = plugins_with_docker(recording)
    assert selection.build_sandbox(plugins, "docker", {"workers": 2}) == "a sandbox"
    assert handed == [(plugins, {"workers": 2})]


@pytest.mark.parametrize(
    ("options", "kept"), [({}, True), ({"keep_warm": False}, False), ({"keep_warm": True}, True)]
)
def test_a_named_sandbox_keeps_warm_children_unless_its_options_say_not(
    options: dict[str, Any], kept: bool
) -> None:
    """Whoever opens a sandbox by name (a command, the curriculum, a library call) sends batch
    after batch; `[sandbox] keep_warm = false` is still obeyed."""
    plugins = Plugins.load(environ={"SCALER_LOAD_PLUGINS": ""})
    sandbox = selection.build_sandbox(plugins, "process", {"workers": 1, **options})
    try:
        assert isinstance(sandbox, ProcessSandbox) and sandbox.keep_warm is kept
    finally:
        sandbox.close()
