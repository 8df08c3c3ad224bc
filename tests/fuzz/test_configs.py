"""Run configurations: ``RunConfig`` from dicts and TOML files, and the component options in them.

A config is either a RunConfig that reads back equal from its own dict, or a ConfigError naming
the file and the field. The options of the controller, curation and trainer tables are checked
by the component itself when the run starts; an accepted set of options must survive the
component's first steps, since a value that passes the check and fails later (a step cap of
infinity) only shows up mid-run.
"""

from __future__ import annotations

import inspect
import json
import math
import random
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from scaler.config import Component, RunConfig
from scaler.curriculum.controllers import CONTROLLERS, Controller, ScalerController
from scaler.curriculum.curation import CURATION
from scaler.errors import ConfigError
from scaler.plugins import Plugins
from scaler.registry import Kind
from scaler.run import build_trainer
from scaler.trainer import TRAINERS, LoopOwner
from tests.fuzz.seeds import CONFIG_SEEDS
from tests.fuzz.strategies import damaged, file_holding, mutated, one_of_seeds, toml_text

PLUGINS = Plugins.load(environ={})


def checked(config: RunConfig) -> None:
    """An accepted config is well typed and survives its own round trip."""
    assert RunConfig.from_dict(config.to_dict()) == config
    assert config.steps >= 1 and config.batch_size >= 1
    assert all(isinstance(p, str) and p for p in (*config.pool_paths, *config.pool_envs))


@given(one_of_seeds(CONFIG_SEEDS).flatmap(mutated))
@example(None)  # was a TypeError: a run's config.json may hold any JSON
@example({"": None})  # TOML allows [""]; the error named no table
def test_config_dict_is_a_config_or_names_the_field(data: Any) -> None:
    try:
        config = RunConfig.from_dict(data, source="run.toml")
    except ConfigError as exc:
        assert exc.path == "run.toml" and str(exc).startswith("run.toml")
        if isinstance(data, dict):
            assert exc.field is not None and f"field {exc.field!r}" in str(exc)
        return
    checked(config)


toml_files = one_of_seeds(CONFIG_SEEDS).flatmap(mutated).map(toml_text)


@given(toml_files.map(str.encode) | toml_files.flatmap(lambda text: damaged(text.encode())))
def test_config_file_is_a_config_or_names_the_file(content: bytes) -> None:
    with file_holding(content, "run.toml") as path:
        try:
            config = RunConfig.load(path)
        except ConfigError as exc:
            assert exc.path == str(path) and str(exc).startswith(str(path))
            return
        checked(config)


def _options(kind: Kind[Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name, options) of every registered component of a kind: every option the factory takes,
    at its default, so that mutations hit real option names."""
    pairs = []
    for name, entry in PLUGINS.registry(kind).items():
        if isinstance(entry.obj, LoopOwner):  # verl's options are checked by its own launcher
            continue
        parameters = inspect.signature(entry.obj).parameters.values()
        defaults = {p.name: p.default for p in parameters if p.default is not p.empty}
        pairs.append((name, defaults))
    return pairs


def _is_options(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and k for k in value)


def _options_of(kind: Kind[Any]) -> st.SearchStrategy[tuple[str, Any]]:
    return one_of_seeds(_options(kind)).flatmap(
        lambda pair: st.tuples(st.just(pair[0]), mutated(pair[1]).filter(_is_options))
    )


def built(kind: Kind[Any], name: str, options: dict[str, Any], **args: Any) -> Any:
    """The component as the scheduler builds it, or None where its options were refused."""
    table = kind.name.removesuffix("s")
    try:
        return PLUGINS.build(kind, name, options, table=table, **args)
    except ConfigError as exc:  # named by the config's table: [controller], [curation]
        assert str(exc.field).startswith(table)
        return None


def exercise_controller(controller: Controller) -> None:
    for accuracy in (0.0, 0.5, 1.0):
        controller.update(accuracy, 8, controller.levels(4))
        assert set(controller.reachable_levels()) <= set(range(controller.max_level + 1))
    json.dumps(controller.state())


@given(_options_of(CONTROLLERS))
@example(("elo", {"step_cap": float("inf")}))  # accepted, then an OverflowError at the first step
@example(("scaler", {"k": 10**400}))  # accepted, then an OverflowError in update
def test_controller_options_make_a_working_controller_or_name_the_option(
    case: tuple[str, dict[str, Any]],
) -> None:
    controller = built(CONTROLLERS, *case, max_level=5)
    if controller is not None:
        exercise_controller(controller)


@given(_options_of(CURATION))
def test_curation_options_make_a_working_policy_or_name_the_option(
    case: tuple[str, dict[str, Any]],
) -> None:
    curation = built(CURATION, *case)
    if curation is None:
        return
    rng = random.Random(0)
    pool = [f"env{i}" for i in range(6)]
    controllers = {env_id: ScalerController(max_level=5) for env_id in pool}
    assert set(curation.start(pool, rng)) <= set(pool)
    for step in range(1, 4):
        curation.before_step(step, rng, controllers)
        curation.after_step(step, dict.fromkeys(curation.active, 0.0), controllers)
    json.dumps(curation.state())


@given(_options_of(TRAINERS))
@example(("simulate", {"seed": "\ud800"}))  # a UnicodeEncodeError from random.Random
@example(("simulate", {"generation_s": float("inf")}))  # accepted; time.sleep(inf) raises
def test_trainer_options_make_a_trainer_or_a_located_error(
    case: tuple[str, dict[str, Any]],
) -> None:
    name, options = case
    try:
        trainer = build_trainer(Component(name, options), PLUGINS, "run.toml")
    except ConfigError as exc:
        assert exc.path == "run.toml" and str(exc.field).startswith("trainer")
        return
    # Each step sleeps this long; time.sleep refuses what is not finite.
    assert math.isfinite(getattr(trainer, "generation_s", 0.0))
