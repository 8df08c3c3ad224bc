from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from scaler.errors import UnknownName
from scaler.plugins import DEFAULT_PLUGINS, REGISTRIES, PluginError, Plugins

CLEAN_ENV: dict[str, str] = {}

PROBE = textwrap.dedent(
    """
    from scaler import hookimpl

    PROBE = object()

    @hookimpl
    def scaler_register_importers(register):
        register("probe", PROBE)

    @hookimpl
    def scaler_register_sources(register):
        register("probe", PROBE)

    @hookimpl
    def scaler_register_llms(register):
        register("probe", PROBE)

    @hookimpl
    def scaler_register_extractors(register):
        register("probe", PROBE)

    @hookimpl
    def scaler_register_generators(register):
        register("probe", PROBE)

    @hookimpl
    def scaler_register_checks(register):
        register("probe", PROBE)

    @hookimpl
    def scaler_register_verifiers(register):
        register("probe", PROBE)
        register("number", PROBE)

    @hookimpl
    def scaler_register_prompts(register):
        register("probe", PROBE)

    @hookimpl
    def scaler_register_controllers(register):
        register("probe", PROBE)

    @hookimpl
    def scaler_register_curation(register):
        register("probe", PROBE)

    @hookimpl
    def scaler_register_sandboxes(register):
        register("probe", PROBE)

    @hookimpl
    def scaler_register_trainers(register):
        register("probe", PROBE)

    @hookimpl
    def scaler_register_policies(register):
        register("probe", PROBE)
    """
)


@pytest.fixture
def probe_path(tmp_path: Path) -> Path:
    path = tmp_path / "probe_plugin.py"
    path.write_text(PROBE)
    return path


def test_default_plugins_load_first_with_origin() -> None:
    plugins = Plugins.load(environ=CLEAN_ENV)
    infos = plugins.info()
    assert [i.name for i in infos[: len(DEFAULT_PLUGINS)]] == list(DEFAULT_PLUGINS)
    assert all(i.origin == "default" for i in infos[: len(DEFAULT_PLUGINS)])
    assert set(plugins.registry("verifiers")) >= {"number", "array", "string"}
    assert "process" in plugins.registry("sandboxes")
    assert "scaler-official" in plugins.registry("importers")
    assert "scaler" in plugins.registry("prompts")


def test_builtin_pack_comes_from_the_entry_point() -> None:
    plugins = Plugins.load(environ=CLEAN_ENV)
    info = {i.name: i for i in plugins.info()}["builtin-envs"]
    assert info.origin == "entry point of scaler" and info.version
    assert info.hooks == ("scaler_register_environments",)
    entry = plugins.registry("environments")["lis-length"]
    assert entry.plugin == "builtin-envs"


def test_every_registration_hook_fills_its_registry(probe_path: Path) -> None:
    plugins = Plugins.load([str(probe_path)], environ=CLEAN_ENV)
    name = "scaler_plugin_probe_plugin"
    for kind in REGISTRIES:
        if kind == "environments":
            continue
        entry = plugins.registry(kind)["probe"]
        assert entry.plugin == name, kind
    number = plugins.registry("verifiers")["number"]
    assert number.plugin == name
    assert number.replaced == ("scaler.default_plugins.verifiers",)
    info = {i.name: i for i in plugins.info()}[name]
    assert info.origin == f"--plugin {probe_path}"


def test_block_and_load_only(probe_path: Path) -> None:
    blocked = Plugins.load(environ={"SCALER_BLOCK_PLUGINS": "builtin-envs"})
    assert "lis-length" not in blocked.registry("environments")
    none = Plugins.load(environ={"SCALER_LOAD_PLUGINS": ""})
    assert none.registry("environments") == {}
    only = Plugins.load(environ={"SCALER_LOAD_PLUGINS": "builtin-envs"})
    assert "lis-length" in only.registry("environments")
    no_verifiers = Plugins.load(
        environ={"SCALER_BLOCK_PLUGINS": "scaler.default_plugins.verifiers"}
    )
    assert no_verifiers.registry("verifiers") == {}


def test_misspelled_hook_fails_check_pending(tmp_path: Path) -> None:
    path = tmp_path / "typo.py"
    path.write_text(
        "from scaler import hookimpl\n\n@hookimpl\ndef scaler_register_verifier(register):\n"
        "    pass\n"
    )
    with pytest.raises(PluginError, match="scaler_register_verifier"):
        Plugins.load([str(path)], environ=CLEAN_ENV)


def test_bad_plugin_arguments(tmp_path: Path) -> None:
    with pytest.raises(PluginError, match="no such file"):
        Plugins.load([str(tmp_path / "missing.py")], environ=CLEAN_ENV)
    with pytest.raises(PluginError, match="cannot import"):
        Plugins.load(["no_such_module_anywhere"], environ=CLEAN_ENV)
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom')\n")
    with pytest.raises(PluginError, match="boom"):
        Plugins.load([str(broken)], environ=CLEAN_ENV)


def test_bad_registration_is_named(tmp_path: Path) -> None:
    path = tmp_path / "badreg.py"
    path.write_text(
        "from scaler import hookimpl\n\n@hookimpl\ndef scaler_register_environments(register):\n"
        "    register('not an env')\n"
    )
    plugins = Plugins.load([str(path)], environ={"SCALER_LOAD_PLUGINS": ""})
    with pytest.raises(PluginError, match="takes one EnvSpec"):
        plugins.registry("environments")


def test_unknown_names_list_the_known_ones() -> None:
    plugins = Plugins.load(environ=CLEAN_ENV)
    with pytest.raises(UnknownName, match="unknown sandbox 'nope'; known: auto, docker, process"):
        plugins.get("sandboxes", "nope")


def test_observer_events_reach_plugins() -> None:
    seen: list[tuple[str, object]] = []

    class Observer:
        from scaler import hookimpl

        @hookimpl
        def scaler_step_end(self, report: object) -> None:
            seen.append(("step", report))

        @hookimpl
        def scaler_env_retired(self, env_id: str, reason: str, step: int) -> None:
            seen.append(("retired", (env_id, reason, step)))

    plugins = Plugins.load(environ={"SCALER_LOAD_PLUGINS": ""})
    plugins.register(Observer(), "observer")
    plugins.hook.scaler_step_end(report={"step": 1})
    plugins.hook.scaler_env_retired(env_id="e", reason="saturated", step=3)
    assert seen == [("step", {"step": 1}), ("retired", ("e", "saturated", 3))]
