"""The curriculum for a training loop of your own: prompts out, rollout correctness in.

``scaler run`` and the verl bridge each drive a Scheduler in their own way; a researcher with
another trainer should not have to learn either. ``Curriculum`` composes the same parts from
names (as a run config does) or from objects, and takes results in the shape a training loop
has at hand: per prompt, whether each rollout was right. Everything it decides is the
Scheduler's, so a run through it and a run through ``scaler run`` plan the same steps.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Mapping, Sequence
from types import SimpleNamespace, TracebackType
from typing import Any, TypeAlias

import attrs

from scaler.catalog import resolve_envs
from scaler.config import Component, RunConfig
from scaler.curriculum.controllers import CONTROLLERS
from scaler.curriculum.curation import CURATION
from scaler.curriculum.scheduler import RolloutResult, Scheduler, StepPlan, StepReport
from scaler.curriculum.state import CurriculumState
from scaler.errors import ConfigError, EnvSpecError, ScalerError, UnknownName
from scaler.hookspecs import hookimpl
from scaler.instances import InstanceFactory
from scaler.model import EnvSpec, Instance, Verdict
from scaler.plugins import Plugins
from scaler.pool import check_env
from scaler.registry import Kind, PluginSet, Register
from scaler.sandbox.jobs import Sandbox
from scaler.sandbox.selection import build_sandbox
from scaler.verify import VERIFIERS, verify

#: Where pools come from: None (every registered environment), pool files, or EnvSpecs.
Pool: TypeAlias = (
    "str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | Sequence[EnvSpec] | None"
)


@attrs.frozen
class Prompt:
    """One prompt of a step; equal prompts are the same (env, level, seed), as the Scheduler
    keys its groups, so a Prompt can key a results mapping (an Instance holds dicts and cannot).
    """

    env_id: str
    level: int
    seed: int
    instance: Instance = attrs.field(eq=False, repr=False)

    @property
    def messages(self) -> list[dict[str, str]]:
        """Chat messages for a tokenizer's chat template (fresh copies: templates may mutate)."""
        return [dict(message) for message in self.instance.messages]


@attrs.frozen
class Step:
    #: In the order ``Curriculum.report`` takes a sequence of results.
    prompts: tuple[Prompt, ...]
    #: The Scheduler's plan: active set, environments added and retired, time spent waiting.
    plan: StepPlan

    @property
    def number(self) -> int:
        return self.plan.step


#: A step's results: per prompt, in step order or keyed by Prompt, each rollout's correctness.
Results: TypeAlias = "Sequence[Sequence[float]] | Mapping[Prompt, Sequence[float]]"


class Curriculum:
    """Adaptive difficulty over a pool of environments, one step at a time.

    Every component is given by name (resolved through ``plugins``, the process's plugin set,
    ``scaler.Plugins.load()``) or as an object: a pool as EnvSpecs, a sandbox, a controller or
    curation factory (registered in a copy of the plugin set under its qualified name, which
    the state records). A sandbox made here from its name is closed by ``close()``; a given one
    is the caller's. Options left as None take what ``RunConfig()`` gives that name, so
    ``Curriculum(plugins=plugins)`` is the curriculum of ``scaler run`` without a config.
    """

    def __init__(
        self,
        pool: Pool = None,
        *,
        plugins: Plugins,
        envs: Sequence[str] = (),
        controller: str | Callable[..., Any] = "scaler",
        controller_options: Mapping[str, Any] | None = None,
        curation: str | Callable[..., Any] = "scaler-window",
        curation_options: Mapping[str, Any] | None = None,
        sandbox: str | Sandbox = "auto",
        sandbox_options: Mapping[str, Any] | None = None,
        prompt: str = "scaler",
        batch_size: int = 8,
        seed: int = 0,
        prefetch: bool = True,
    ) -> None:
        given: dict[Kind[Any], tuple[str, Callable[..., Any]]] = {}
        names: dict[str, str] = {}
        for kind, table, value in (
            (CONTROLLERS, "controller", controller),
            (CURATION, "curation", curation),
        ):
            if isinstance(value, str):
                names[table] = value
            elif callable(value):
                names[table] = _qualified_name(value)
                given[kind] = (names[table], value)
            else:
                raise ConfigError(f"must be a name or a factory, got {value!r}", field=table)
        if given:
            plugins = _with_given(plugins, given)
        paths, specs = _split_pool(pool, envs, plugins)
        default = RunConfig()
        config = RunConfig(
            seed=seed,
            batch_size=batch_size,
            prefetch=prefetch,
            pool_paths=paths,
            pool_envs=tuple(envs),
            sandbox=_sandbox_component(default.sandbox, sandbox, sandbox_options),
            prompt=Component(prompt),
            controller=_component(default.controller, names["controller"], controller_options),
            curation=_component(default.curation, names["curation"], curation_options),
        )
        self._open(config, plugins, specs, None if isinstance(sandbox, str) else sandbox)

    @classmethod
    def from_config(
        cls,
        config: RunConfig | str | os.PathLike[str],
        *,
        plugins: PluginSet,
        sandbox: Sandbox | None = None,
    ) -> Curriculum:
        """The curriculum of a run config (or its TOML file); its trainer and steps are yours."""
        if not isinstance(config, RunConfig):
            config = RunConfig.load(config)
        curriculum = cls.__new__(cls)
        curriculum._open(config, plugins, None, sandbox)
        return curriculum

    def _open(
        self,
        config: RunConfig,
        plugins: PluginSet,
        envs: list[EnvSpec] | None,
        sandbox: Sandbox | None,
    ) -> None:
        self.config = config
        self.plugins = plugins
        if envs is None:
            try:
                envs = resolve_envs(config, plugins)
            except UnknownName as exc:
                raise ConfigError(str(exc), path=config.source, field="pool.envs") from exc
        self.envs: list[EnvSpec] = envs
        self._owns_sandbox = sandbox is None
        if sandbox is None:
            sandbox = build_sandbox(
                plugins, config.sandbox.name, config.sandbox.options, source=config.source
            )
        self.sandbox: Sandbox = sandbox
        self._pending: Step | None = None
        try:
            try:
                self.factory = InstanceFactory(sandbox, plugins, config.prompt.name)
            except UnknownName as exc:
                raise ConfigError(str(exc), path=config.source, field="prompt.name") from exc
            self.scheduler = self._scheduler(None)
        except BaseException:
            if self._owns_sandbox:
                sandbox.close()
            raise

    def _scheduler(self, state: CurriculumState | None) -> Scheduler:
        try:
            return Scheduler(self.envs, self.config.curriculum(), self.factory, self.plugins, state)
        except ConfigError as exc:
            raise ConfigError(exc.message, path=self.config.source, field=exc.field) from exc

    @property
    def step(self) -> int:
        """The last step whose results were reported (0 before the first)."""
        return self.scheduler.step

    def next_step(self) -> Step:
        """The next step's prompts; report their results before asking for another."""
        plan = self.scheduler.next_step()
        prompts = tuple(Prompt(g.env_id, g.level, g.seed, g.instance) for g in plan.groups)
        self._pending = Step(prompts, plan)
        return self._pending

    def report(self, results: Results) -> StepReport:
        """Close the step: per prompt, each rollout's correctness (a bool, or a number in
        [0, 1]), as a sequence in the step's order or a mapping from Prompt. Every prompt of the
        step must be there; give a prompt whose rollouts were all dropped an empty list."""
        step = self._pending
        if step is None:
            raise ScalerError("report() without a step: call next_step() first")
        rollouts = _rollouts(step, results)
        report = self.scheduler.report(
            RolloutResult(prompt.env_id, prompt.level, prompt.seed, acc)
            for prompt, accs in zip(step.prompts, rollouts, strict=True)
            for acc in accs
        )
        self._pending = None
        return report

    def score(self, response: str, instance: Instance | Prompt) -> Verdict:
        """A response checked by the verifier this curriculum's plugins register for its type."""
        if isinstance(instance, Prompt):
            instance = instance.instance
        return verify(response, instance, self.plugins)

    def sample(self, env_id: str, level: int, seed: int = 0, n: int = 1) -> list[Instance]:
        """``n`` instances of one environment at one level (seeds ``seed`` .. ``seed + n - 1``),
        outside the curriculum: for a held-out evaluation set, say."""
        envs = {env.id: env for env in self.envs}
        if env_id not in envs:
            raise UnknownName("environment", env_id, list(envs))
        return self.factory.sample(envs[env_id], level, seed, n)

    def state(self) -> dict[str, Any]:
        """Plain JSON data after the last reported step; ``restore`` continues from it."""
        data: dict[str, Any] = json.loads(self.scheduler.state().to_json())
        return data

    def restore(self, state: Mapping[str, Any] | CurriculumState) -> None:
        """Continue from ``state`` as if never stopped (a step planned but not reported is
        dropped). The pool, the seed and the component names must be those it was saved with.
        """
        data = state.to_dict() if isinstance(state, CurriculumState) else dict(state)
        saved = CurriculumState.from_dict(copy.deepcopy(data))
        if saved.seed != self.config.seed:
            raise ConfigError(
                f"the saved curriculum used seed {saved.seed}; this one has {self.config.seed}",
                path=self.config.source,
                field="seed",
            )
        scheduler = self._scheduler(saved)
        self.scheduler.close()
        self.scheduler = scheduler
        self._pending = None

    def close(self) -> None:
        self.scheduler.close()
        if self._owns_sandbox:
            self.sandbox.close()

    def __enter__(self) -> Curriculum:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _qualified_name(factory: Callable[..., Any]) -> str:
    """The name a given factory is registered and saved under: stable across processes that
    import it from the same place, unlike its id."""
    module = getattr(factory, "__module__", None) or type(factory).__module__
    name = getattr(factory, "__qualname__", None) or type(factory).__qualname__
    return f"{module}.{name}"


def _with_given(
    plugins: Plugins, given: Mapping[Kind[Any], tuple[str, Callable[..., Any]]]
) -> Plugins:
    """A copy of ``plugins`` that also registers the factories given in code.

    The Scheduler resolves components by name, so that its state can name them; registering
    in a copy leaves the caller's set (often the whole process's) as it was.
    """
    extended = Plugins(plugins.spec)
    origins = {info.name: info.origin for info in plugins.info()}
    for name, plugin in plugins.pm.list_name_plugin():
        extended.register(plugin, name, origins[name])
    hooks = {
        kind.hook: hookimpl(_registering(name, factory)) for kind, (name, factory) in given.items()
    }
    extended.register(SimpleNamespace(**hooks), "scaler.curriculum_loop", "Curriculum(...)")
    return extended


def _registering(
    name: str, factory: Callable[..., Any]
) -> Callable[[Register[Callable[..., Any]]], None]:
    """A registration hook (pluggy takes plain functions as a plugin's hooks) for one factory."""

    def register_given(register: Register[Callable[..., Any]]) -> None:
        register(name, factory)

    return register_given


def _split_pool(
    pool: Pool, envs: Sequence[str], plugins: PluginSet
) -> tuple[tuple[str, ...], list[EnvSpec] | None]:
    """Pool paths for the run config, or the EnvSpecs given (checked as a plugin's are)."""
    if pool is None:
        return (), None
    if isinstance(pool, (str, os.PathLike)):
        return (os.fspath(pool),), None
    items = list(pool)
    paths = tuple(os.fspath(item) for item in items if isinstance(item, (str, os.PathLike)))
    specs = [item for item in items if isinstance(item, EnvSpec)]
    if items and len(paths) == len(items):
        return paths, None
    if not items or len(specs) != len(items):
        raise ConfigError(
            "must be None, pool paths or EnvSpecs (one kind), "
            f"got {[type(item).__name__ for item in items]}",
            field="pool",
        )
    if envs:
        raise ConfigError(
            "filters loaded pools; filter a list of EnvSpecs yourself", field="pool.envs"
        )
    output_types = set(plugins.registry(VERIFIERS))
    seen: set[str] = set()
    for index, env in enumerate(specs):
        if env.id in seen:
            raise ConfigError(f"environment {env.id!r} is given twice", field=f"pool[{index}]")
        seen.add(env.id)
        try:
            check_env(env, output_types)
        except EnvSpecError as exc:
            raise ConfigError(f"{env.id!r}: {exc}", field=f"pool[{index}]") from exc
    return (), specs


def _sandbox_component(
    default: Component, sandbox: str | Sandbox, options: Mapping[str, Any] | None
) -> Component:
    """What the run config records of the sandbox: a given one is only named, not made."""
    if isinstance(sandbox, str):
        return _component(default, sandbox, options)
    if options is not None:
        raise ConfigError(
            "options are for a sandbox made by name, not a given one", field="sandbox"
        )
    return Component(sandbox.name)


def _component(default: Component, name: str, options: Mapping[str, Any] | None) -> Component:
    """``name`` with its options; None takes the run config's default options for that name."""
    if options is None:
        options = default.options if name == default.name else {}
    return Component(name, dict(options))


def _rollouts(step: Step, results: Results) -> list[list[float]]:
    """Each prompt's rollout results in step order, or a ScalerError saying what is amiss."""
    where = f"step {step.number}"
    if isinstance(results, Mapping):
        prompts = set(step.prompts)
        unknown = [key for key in results if key not in prompts]
        if unknown:
            raise ScalerError(
                f"{where}: results for {unknown[0]!r}, which is not one of its prompts"
            )
        missing = [prompt for prompt in step.prompts if prompt not in results]
        if missing:
            raise ScalerError(
                f"{where}: no results for {len(missing)} of its {len(step.prompts)} prompts, "
                f"first {missing[0]!r} (give [] for a prompt whose rollouts were dropped)"
            )
        ordered = [results[prompt] for prompt in step.prompts]
    else:
        ordered = list(results)
        if len(ordered) != len(step.prompts):
            raise ScalerError(
                f"{where} has {len(step.prompts)} prompts, got results for {len(ordered)}"
            )
    return [_accuracies(where, index, values) for index, values in enumerate(ordered)]


def _accuracies(where: str, index: int, values: Any) -> list[float]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ScalerError(
            f"{where}, prompt {index}: expected each rollout's correctness (a list), got {values!r}"
        )
    accs = []
    for value in values:
        if not isinstance(value, (bool, int, float)) or not 0 <= value <= 1:
            raise ScalerError(
                f"{where}, prompt {index}: a rollout's correctness must be a bool or a number "
                f"in [0, 1], got {value!r}"
            )
        accs.append(float(value))
    return accs
