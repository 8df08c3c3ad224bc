from __future__ import annotations

from pathlib import Path

import pytest

from scaler.config import Component, RunConfig
from scaler.errors import ConfigError
from tests.conftest import ROOT


def test_default_file_spells_out_the_embedded_default() -> None:
    assert RunConfig.load(ROOT / "configs" / "default.toml") == RunConfig()


def test_round_trip_through_dict() -> None:
    config = RunConfig(steps=3, controller=Component("elo", {"k": 1.0}), pool_envs=("a",))
    assert RunConfig.from_dict(config.to_dict()) == config


def test_components_take_their_options(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[controller]\nname = "ratchet"\nthreshold = 0.8\n'
        '[curation]\nname = "all"\n[pool]\npaths = ["pools/a.jsonl"]\n'
    )
    config = RunConfig.load(path)
    assert config.controller == Component("ratchet", {"threshold": 0.8})
    assert config.curation == Component("all")
    assert config.pool_paths == (str(tmp_path / "pools" / "a.jsonl"),)
    assert config.trainer == RunConfig().trainer


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[run]\nsteps = 'many'\n", "field 'run.steps': must be a int, got 'many'"),
        ("[run]\nsteps = 0\n", "field 'run.steps': must be >= 1, got 0"),
        ("[run]\nstep = 3\n", "field 'run.step': unknown key; [run] takes steps"),
        ("[runs]\nsteps = 3\n", "field 'runs': unknown table"),
        ("[controller]\ntau = 0.4\n", "field 'controller.name': must name the controller"),
        ("[pool]\nenvs = [1]\n", "field 'pool.envs': must be a list of non-empty strings"),
        ("[run]\nprefetch = 1\n", "field 'run.prefetch': must be a bool, got 1"),
        ("[run\n", "not valid TOML"),
    ],
)
def test_errors_name_the_file_field_and_value(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        RunConfig.load(path)
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read it"):
        RunConfig.load(tmp_path / "nope.toml")
