"""A plugin's environments meet the pool format's rules: the same check, the same words."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from scaler import hookimpl
from scaler.errors import PoolError
from scaler.model import ENVIRONMENTS, EnvSpec
from scaler.plugins import PluginError, Plugins
from scaler.pool import load_pool
from scaler_envs_builtin import builtin_envs
from tests.test_model import make_env
from tests.test_pool import record, write_lines

#: The faults of issue 12: (EnvSpec changes, the same fault in a pool record, field, message).
FAULTS = [
    pytest.param(
        {"id": "has space"},
        {"id": "has space"},
        "field 'id' must not contain whitespace (value 'has space')",
        id="id-with-space",
    ),
    pytest.param(
        {"levels": (0, 5, 3)},
        {"levels": [0, 5, 3]},
        "field 'levels' must not decrease from one level to the next (value [0, 5, 3])",
        id="decreasing-levels",
    ),
    pytest.param(
        {"output_type": "graph"},
        {"output_type": "graph"},
        "field 'output_type' has no verifier (known: array, number, string); "
        "install a plugin that registers one (value 'graph')",
        id="unknown-output-type",
    ),
]


class EnvPlugin:
    """A plugin object that registers the envs it is given."""

    def __init__(self, *envs: EnvSpec) -> None:
        self.envs = envs

    @hookimpl
    def scaler_register_environments(self, register: Any) -> None:
        for env in self.envs:
            register(env)


def registry_with(*envs: EnvSpec) -> dict[str, Any]:
    plugins = Plugins.load(environ={"SCALER_LOAD_PLUGINS": ""})
    plugins.register(EnvPlugin(*envs), "bad-envs")
    return plugins.registry(ENVIRONMENTS)


@pytest.mark.parametrize(("changes", "pool_changes", "fault"), FAULTS)
def test_plugin_env_is_refused_naming_plugin_env_field_value(
    changes: dict[str, Any], pool_changes: dict[str, Any], fault: str
) -> None:
    env = make_env(**changes)
    with pytest.raises(PluginError) as info:
        registry_with(make_env(id="fine"), env)
    assert str(info.value) == f"plugin 'bad-envs': environment {env.id!r}: {fault}"


@pytest.mark.parametrize(("changes", "pool_changes", "fault"), FAULTS)
def test_pool_refuses_the_same_faults_in_the_same_words(
    tmp_path: Path, changes: dict[str, Any], pool_changes: dict[str, Any], fault: str
) -> None:
    path = write_lines(tmp_path / "p.jsonl", [record(id="fine"), record(**pool_changes)])
    with pytest.raises(PoolError) as info:
        load_pool(path, output_types={"number", "array", "string"})
    assert str(info.value) == f"{path}, line 2: {fault}"
    with pytest.raises(PluginError) as registered:
        registry_with(make_env(**changes))
    assert str(registered.value).endswith(f": {fault}")


def test_envs_list_refuses_a_plugin_env_with_exit_2(run, tmp_path: Path) -> None:
    plugin = tmp_path / "spaced.py"
    plugin.write_text(
        textwrap.dedent(
            """
            from scaler import hookimpl
            from tests.test_model import make_env


            @hookimpl
            def scaler_register_environments(register):
                register(make_env(id="two words"))
            """
        )
    )
    code, out, err = run("--plugin", str(plugin), "envs", "list", "--json")
    assert code == 2 and out == ""
    assert (
        "error: plugin 'scaler_plugin_spaced': environment 'two words': "
        "field 'id' must not contain whitespace (value 'two words')"
    ) in err


def test_builtin_pack_and_valid_plugin_envs_still_register() -> None:
    envs = registry_with(make_env(), make_env(id="other", levels=(0, 0, 4)))
    assert sorted(envs) == ["double", "other"]
    plugins = Plugins.load(environ={"SCALER_LOAD_PLUGINS": "builtin-envs"})
    assert set(plugins.registry(ENVIRONMENTS)) == {env.id for env in builtin_envs()}
