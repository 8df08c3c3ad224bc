from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import scaler
from scaler.config import RunConfig
from scaler.curriculum.controllers import CONTROLLERS, ScalerController
from scaler.curriculum_loop import Curriculum
from scaler.errors import ConfigError, UnknownName
from scaler.evaluate.policies import POLICIES
from scaler.instances import InstanceFactory
from scaler.model import ENVIRONMENTS
from scaler.official_pool import IMPORTERS
from scaler.plugins import (
    DEFAULT_PLUGINS,
    KINDS,
    PluginError,
    Plugins,
    process_plugins,
)
from scaler.prompts import PROMPTS
from scaler.registry import PluginSpec
from scaler.sandbox.jobs import SANDBOXES
from scaler.sandbox.selection import auto_sandbox, diagnose
from scaler.verify import VERIFIERS, compute_score, verify

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
    assert set(plugins.registry(VERIFIERS)) >= {"number", "array", "string"}
    assert "process" in plugins.registry(SANDBOXES)
    assert "scaler-official" in plugins.registry(IMPORTERS)
    assert "scaler" in plugins.registry(PROMPTS)


def test_builtin_pack_comes_from_the_entry_point() -> None:
    plugins = Plugins.load(environ=CLEAN_ENV)
    info = {i.name: i for i in plugins.info()}["builtin-envs"]
    assert info.origin == "entry point of scaler" and info.version
    assert info.hooks == ("scaler_register_environments",)
    entry = plugins.registry(ENVIRONMENTS)["lis-length"]
    assert entry.plugin == "builtin-envs"


def test_every_registration_hook_fills_its_registry(probe_path: Path) -> None:
    plugins = Plugins.load([str(probe_path)], environ=CLEAN_ENV)
    name = "scaler_plugin_probe_plugin"
    for kind in KINDS:
        if kind == ENVIRONMENTS:
            continue
        entry = plugins.registry(kind)["probe"]
        assert entry.plugin == name, kind
    number = plugins.registry(VERIFIERS)["number"]
    assert number.plugin == name
    assert number.replaced == ("scaler.default_plugins.verifiers",)
    info = {i.name: i for i in plugins.info()}[name]
    assert info.origin == f"--plugin {probe_path}"


def test_block_and_load_only(probe_path: Path) -> None:
    blocked = Plugins.load(environ={"SCALER_BLOCK_PLUGINS": "builtin-envs"})
    assert "lis-length" not in blocked.registry(ENVIRONMENTS)
    none = Plugins.load(environ={"SCALER_LOAD_PLUGINS": ""})
    assert none.registry(ENVIRONMENTS) == {}
    only = Plugins.load(environ={"SCALER_LOAD_PLUGINS": "builtin-envs"})
    assert "lis-length" in only.registry(ENVIRONMENTS)
    no_verifiers = Plugins.load(
        environ={"SCALER_BLOCK_PLUGINS": "scaler.default_plugins.verifiers"}
    )
    assert no_verifiers.registry(VERIFIERS) == {}


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
        plugins.registry(ENVIRONMENTS)


def test_unknown_names_list_the_known_ones() -> None:
    plugins = Plugins.load(environ=CLEAN_ENV)
    with pytest.raises(UnknownName, match="unknown sandbox 'nope'; known: auto, docker, process"):
        plugins.get(SANDBOXES, "nope")


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


def test_unknown_names_in_load_and_block_are_errors_listing_the_installed() -> None:
    with pytest.raises(PluginError, match=r"SCALER_LOAD_PLUGINS names 'nosuch'.*builtin-envs"):
        Plugins.load(environ={"SCALER_LOAD_PLUGINS": "builtin-envs,nosuch"})
    with pytest.raises(PluginError, match=r"SCALER_BLOCK_PLUGINS names 'nosuch'.*builtin-envs"):
        Plugins.load(environ={"SCALER_BLOCK_PLUGINS": "nosuch"})
    # Distribution names count as installed names too.
    assert "lis-length" in Plugins.load(environ={"SCALER_LOAD_PLUGINS": "scaler"}).registry(
        ENVIRONMENTS
    )


def test_unknown_load_name_fails_the_command(run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCALER_LOAD_PLUGINS", "builtin-env")
    code, out, err = run("envs", "list")
    assert code == 2 and out == ""
    assert "'builtin-env'" in err and "installed: builtin-envs" in err


@pytest.mark.parametrize("form", ["name", "dir", "dir-slash"])
def test_plugin_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    """`--plugin NAME` finds NAME.py in the working directory; `--plugin ./pkg` a package,
    named after its directory, whose relative imports work."""
    monkeypatch.chdir(tmp_path)
    if form == "name":
        (tmp_path / "cwd_probe.py").write_text(PROBE)
        spec, name = "cwd_probe", "scaler_plugin_cwd_probe"
    else:
        package = tmp_path / "probe_pkg"
        package.mkdir()
        (package / "__init__.py").write_text("from .hooks import *  # noqa: F403\n")
        (package / "hooks.py").write_text(PROBE)
        spec = "./probe_pkg" + ("/" if form == "dir-slash" else "")
        name = "scaler_plugin_probe_pkg"
    plugins = Plugins.load([spec], environ=CLEAN_ENV)
    assert plugins.registry(VERIFIERS)["probe"].plugin == name
    assert plugins.spec.extra == (str(Path(spec if form != "name" else "cwd_probe.py").resolve()),)


def test_a_spec_gives_the_same_set_in_another_process(probe_path: Path, tmp_path: Path) -> None:
    spec = PluginSpec.from_environ([str(probe_path)], {"SCALER_LOAD_PLUGINS": "builtin-envs"})
    environ = spec.to_environ()
    assert PluginSpec.from_environ(environ=environ) == spec
    code = (
        "from scaler.model import ENVIRONMENTS\n"
        "from scaler.plugins import process_plugins\n"
        "from scaler.verify import VERIFIERS\n"
        "p = process_plugins()\n"
        "print(p.registry(VERIFIERS)['probe'].plugin, 'lis-length' in p.registry(ENVIRONMENTS))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin", **environ},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["scaler_plugin_probe_plugin", "True"]


def test_process_plugins_is_what_the_command_line_loaded(run: Any, probe_path: Path) -> None:
    code, _, err = run("--plugin", str(probe_path), "plugins", "--json")
    assert code == 0, err
    assert process_plugins().registry(VERIFIERS)["probe"].plugin == "scaler_plugin_probe_plugin"
    assert process_plugins().spec.extra == (str(probe_path),)


def test_every_registry_names_its_entries_in_the_singular() -> None:
    plugins = Plugins.load(environ=CLEAN_ENV)
    with pytest.raises(UnknownName, match="unknown policy 'foo'; known: hf, openai, vllm"):
        plugins.get(POLICIES, "foo")
    for kind in KINDS:
        with pytest.raises(UnknownName) as info:
            plugins.get(kind, "no-such-name")
        assert (info.value.kind, info.value.name) == (kind.singular, "no-such-name")
        known = sorted(plugins.registry(kind))
        listed = ", ".join(known[:20]) or "none registered"
        assert str(info.value).endswith(f"known: {listed}{' ...' * (len(known) > 20)}")


def test_a_lookup_is_the_registered_object_and_a_build_what_its_factory_makes() -> None:
    plugins = Plugins.load(environ={"SCALER_LOAD_PLUGINS": ""})
    assert plugins.get(CONTROLLERS, "scaler") is ScalerController
    assert plugins.registry(CONTROLLERS)["scaler"].obj is ScalerController
    built = plugins.build(CONTROLLERS, "scaler", {"tau": 0.25}, table="controller", max_level=6)
    assert isinstance(built, ScalerController) and (built.max_level, built.tau) == (6, 0.25)


def test_build_names_the_config_file_and_field_of_bad_input() -> None:
    plugins = Plugins.load(environ={"SCALER_LOAD_PLUGINS": ""})
    with pytest.raises(ConfigError) as unknown:
        plugins.build(CONTROLLERS, "nope", {}, table="controller", source="run.toml", max_level=3)
    assert (unknown.value.path, unknown.value.field) == ("run.toml", "controller.name")
    assert "unknown controller 'nope'; known: elo, fixed, ratchet, scaler" in str(unknown.value)
    with pytest.raises(ConfigError) as untaken:
        plugins.build(
            CONTROLLERS, "scaler", {"speed": 2}, table="controller", source="run.toml", max_level=3
        )
    assert (untaken.value.path, untaken.value.field) == ("run.toml", "controller")
    assert "'scaler' does not take these options" in str(untaken.value)
    assert "speed" in str(untaken.value)
    with pytest.raises(ConfigError) as refused:
        plugins.build(CONTROLLERS, "scaler", {"tau": 2.0}, table="controller", max_level=3)
    assert str(refused.value.field).startswith("controller.")


def test_threads_asking_at_once_get_one_whole_plugin_set(tmp_path: Path) -> None:
    """verl scores a batch from many threads: the first call loads the set while the others
    wait, none sees a plugin module half executed (it once registered none of its hooks)."""
    slow = tmp_path / "slow_plugin.py"
    slow.write_text("import time\ntime.sleep(0.5)\n" + PROBE)
    code = textwrap.dedent(
        """
        from concurrent.futures import ThreadPoolExecutor
        from scaler.plugins import process_plugins
        from scaler.verify import VERIFIERS

        def probe(_):
            plugins = process_plugins()
            return id(plugins), "probe" in plugins.registry(VERIFIERS)

        with ThreadPoolExecutor(8) as pool:
            seen = set(pool.map(probe, range(8)))
        print(len({i for i, _ in seen}), all(found for _, found in seen))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin", "SCALER_PLUGINS": str(slow)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["1", "True"], done.stderr


def test_library_code_is_handed_its_plugin_set(sandbox: Any) -> None:
    """Nothing in the library falls back to a process-wide set: each of these needs one."""
    instance = {"output_type": "number", "answer": "1"}
    calls: list[Callable[[], object]] = [
        lambda: InstanceFactory(sandbox),
        lambda: verify("\\boxed{1}", instance),
        lambda: compute_score("\\boxed{1}", instance),
        lambda: Curriculum(),
        lambda: Curriculum.from_config(RunConfig()),
        lambda: auto_sandbox(workers=1),
        lambda: diagnose(),
    ]
    for call in calls:
        with pytest.raises(TypeError, match="plugins"):
            call()


#: The entry points with no caller to hand them a plugin set: the command line, which loads it,
#: and what verl and Ray start (the reward function, the curriculum actor).
PROCESS_EDGES = {"scaler.plugins", "scaler.cli", "scaler.train.reward", "scaler.train.bridge"}


def test_only_the_process_edges_use_the_process_plugin_set() -> None:
    package = Path(scaler.__file__).parent
    users = set()
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        if names & {"process_plugins", "use_process_plugins"}:
            module = path.relative_to(package.parent).with_suffix("").parts
            users.add(".".join(module))
    commands = {user for user in users if user.startswith("scaler.commands.")}
    assert users - commands <= PROCESS_EDGES
