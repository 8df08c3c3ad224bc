"""A run: a config composed into a curriculum and a trainer, writing into one directory.

The directory holds everything needed to read the run and to continue it:

    config.json     the resolved configuration (``RunConfig.to_dict()``)
    run.json        what ran: component names, pool size, steps done
    metrics.jsonl   one StepReport per line, appended as steps end
    state.json      curriculum and trainer state after the last finished step
    report.md       summary, per-env table, retirements, plots (rewritten at the end)
    *.png           difficulty per env, active set and retirements, learning signal

Metrics are appended before the state is replaced (atomically), so after a crash at any moment
the state names the last complete step and ``resume`` drops any metrics line beyond it.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from scaler.catalog import resolve_envs
from scaler.config import Component, RunConfig
from scaler.curriculum.metrics import append_metrics, keep_metrics_until, read_metrics, scalars
from scaler.curriculum.scheduler import Scheduler, StepReport
from scaler.curriculum.state import CurriculumState
from scaler.curriculum.tensorboard import event_writer
from scaler.errors import ConfigError, ScalerError, UnknownName
from scaler.files import write_atomic
from scaler.instances import InstanceFactory
from scaler.logs import get_logger
from scaler.trainer import TRAINERS, LoopOwner, Trainer

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from scaler.registry import PluginSet
    from scaler.sandbox.jobs import Sandbox

    #: Opens the sandbox a run names: ``open(component, source)``, ``source`` being the config
    #: file whose [sandbox] table the component came from. The caller's: the command line's
    #: builds a missing Docker image first, with a progress display.
    SandboxOpener = Callable[[Component, str | None], AbstractContextManager[Sandbox]]

STATE_FORMAT = 1

log = get_logger(__name__)


def build_trainer(component: Component, plugins: PluginSet, source: str | None) -> Trainer:
    return plugins.build(
        TRAINERS, component.name, component.options, table="trainer", source=source
    )


@attrs.frozen
class RunInfo:
    directory: Path
    steps_done: int
    summary: Mapping[str, Any]
    files: tuple[Path, ...]


class Run:
    """One run directory and the live objects that advance it."""

    def __init__(
        self,
        directory: Path,
        config: RunConfig,
        plugins: PluginSet,
        sandbox: Sandbox,
        state: Mapping[str, Any] | None = None,
        factory: InstanceFactory | None = None,
    ) -> None:
        self.directory = directory
        self.config = config
        self.plugins = plugins
        self.envs = resolve_envs(config, plugins)
        self.trainer = build_trainer(config.trainer, plugins, config.source)
        factory = factory or InstanceFactory(sandbox, plugins, config.prompt.name)
        curriculum = None
        if state is not None:
            curriculum = CurriculumState.from_dict(state["curriculum"], str(directory))
            self.trainer.restore(state["trainer"])
        try:
            self.scheduler = Scheduler(self.envs, config.curriculum(), factory, plugins, curriculum)
        except ConfigError as exc:
            raise ConfigError(exc.message, path=config.source, field=exc.field) from exc

    @classmethod
    def start(
        cls,
        config: RunConfig,
        plugins: PluginSet,
        sandbox: Sandbox,
        directory: str | Path | None = None,
        factory: InstanceFactory | None = None,
    ) -> Run:
        """A new run in ``directory`` (default: a fresh one under ``config.out``).

        ``factory`` replaces the instance factory built from the config's prompt (benchmarks
        use it to compare ways of making instances under the same run).
        """
        if directory is None:
            directory = _fresh_directory(Path(config.out))
        target = Path(directory)
        _refuse_a_used_directory(target)
        # Built before the directory is made, so a refused config leaves nothing behind.
        run = cls(target, config, plugins, sandbox, factory=factory)
        target.mkdir(parents=True, exist_ok=True)
        write_atomic(target / "config.json", json.dumps(config.to_dict(), indent=2) + "\n")
        (target / "metrics.jsonl").write_text("", encoding="utf-8")
        return run

    @classmethod
    def resume(
        cls, directory: str | Path, plugins: PluginSet, sandbox: Sandbox, config: RunConfig | None
    ) -> Run:
        """Continue the run saved in ``directory`` from its last finished step."""
        target = Path(directory)
        state_file = target / "state.json"
        if config is None:
            config = saved_config(target)
        state = json.loads(state_file.read_text(encoding="utf-8"))
        if state.get("format") != STATE_FORMAT:
            raise ScalerError(f"{state_file}: state format {state.get('format')!r} is unknown")
        keep_metrics_until(target / "metrics.jsonl", state["step"])
        return cls(target, config, plugins, sandbox, state)

    @property
    def step(self) -> int:
        return self.scheduler.step

    def steps_to_do(self, steps: int | None) -> int:
        """``steps`` more steps, or by default those left up to the config's ``run.steps``: all
        of them for a new run, none for a resumed one that already got there."""
        return steps or self.config.steps - self.step

    def execute(self, steps: int, on_step: Callable[[StepReport], None] | None = None) -> RunInfo:
        """Run ``steps`` more steps, saving after each; then write the report and the plots."""
        metrics_file = self.directory / "metrics.jsonl"
        self._write_info(steps_planned=self.step + steps)
        events = event_writer(self.directory)
        with metrics_file.open("a", encoding="utf-8") as metrics:

            def saved(report: StepReport) -> None:
                append_metrics(metrics, report)
                if events is not None:
                    events.add_scalars(report.step, scalars(report))
                self.save()
                if on_step is not None:
                    on_step(report)

            try:
                self.trainer.train(self.scheduler, steps, saved)
            finally:
                if events is not None:
                    events.close()
        return self.finish()

    def save(self) -> None:
        state = {
            "format": STATE_FORMAT,
            "step": self.scheduler.step,
            "curriculum": self.scheduler.state().to_dict(),
            "trainer": self.trainer.state(),
        }
        write_atomic(
            self.directory / "state.json",
            json.dumps(state, sort_keys=True, separators=(",", ":")) + "\n",
        )

    def info(self) -> dict[str, Any]:
        return {
            "controller": self.config.controller.name,
            "curation": self.config.curation.name,
            "trainer": self.config.trainer.name,
            "pool_size": len(self.envs),
            "window": self.config.curation.options.get("window"),
            "batch_size": self.config.batch_size,
            "rollouts": self.config.trainer.options.get("rollouts"),
            "seed": self.config.seed,
            "steps": self.step,
        }

    def _write_info(self, **extra: Any) -> None:
        data = {**self.info(), **extra, "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        write_atomic(self.directory / "run.json", json.dumps(data, indent=2) + "\n")

    def finish(self) -> RunInfo:
        from scaler.curriculum.plots import plot_run
        from scaler.curriculum.report import render_report, summarize

        metrics = read_metrics(self.directory / "metrics.jsonl")
        self._write_info()
        if not metrics:
            return RunInfo(self.directory, self.step, {}, ())
        plots = plot_run(metrics, self.directory, title=self._title())
        report = self.directory / "report.md"
        write_atomic(report, render_report(metrics, self.info(), plots))
        files = (report, self.directory / "metrics.jsonl", self.directory / "state.json", *plots)
        summary = summarize(metrics)
        trainer_summary = getattr(self.trainer, "summary", None)
        if callable(trainer_summary):
            summary["trainer"] = dict(trainer_summary())
        return RunInfo(self.directory, self.step, summary, files)

    def _title(self) -> str:
        return f"{self.config.controller.name} / {self.config.curation.name}"

    def close(self) -> None:
        self.scheduler.close()


def saved_config(directory: str | Path) -> RunConfig:
    """The configuration a saved run was started with."""
    target = Path(directory)
    if not (target / "state.json").exists():
        raise ScalerError(f"{target}: no state.json, so there is no run to resume here")
    path = target / "config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ScalerError(f"{path}: cannot read the run's configuration: {exc}") from exc
    return RunConfig.from_dict(data, str(path))


@contextlib.contextmanager
def started_run(
    config: RunConfig, plugins: PluginSet, open_sandbox: SandboxOpener, directory: Path | None
) -> Iterator[Run]:
    """A new run of ``config`` (see ``Run.start``) in the sandbox it names; the run and the
    sandbox are closed on leaving."""
    with open_sandbox(config.sandbox, config.source) as sandbox:
        run = Run.start(config, plugins, sandbox, directory)
        try:
            yield run
        finally:
            run.close()


@contextlib.contextmanager
def resumed_run(
    directory: Path, plugins: PluginSet, open_sandbox: SandboxOpener, backend: str | None = None
) -> Iterator[Run]:
    """The run saved in ``directory``, continued in the sandbox it was saved with, or in the
    backend ``backend`` when that names another one (then without the saved options, which
    belong to the saved backend); the run and the sandbox are closed on leaving."""
    saved = saved_config(directory)
    sandbox = saved.sandbox
    if backend is not None and backend != sandbox.name:
        sandbox = Component(backend)
    with open_sandbox(sandbox, saved.source) as box:
        run = Run.resume(directory, plugins, box, saved)
        try:
            yield run
        finally:
            run.close()


def launch_loop_owner(
    config: RunConfig, plugins: PluginSet, steps: int | None, out: Path | None
) -> bool:
    """Hand the run to a trainer that drives its own loop (verl); False for the others.

    ``scaler run`` takes every trainer's config, so a loop owner's is handed over whole:
    ``steps`` overrides ``run.steps``, ``out`` is its checkpoint directory (see ``LoopOwner``).
    """
    factory = plugins.get(TRAINERS, config.trainer.name)
    if not isinstance(factory, LoopOwner):
        return False
    log.info("launching", trainer=config.trainer.name, steps=steps or config.steps)
    factory.launch(config, steps=steps, out=out, plugins=plugins)
    return True


#: The config field that names each kind of component looked up by name outside
#: ``Plugins.build`` (which names the field itself), for errors about an unknown name.
_NAMING_FIELDS = {
    "environment": "pool.envs",
    "prompt": "prompt.name",
    "trainer": "trainer.name",
}


@contextlib.contextmanager
def names_located_in(config: RunConfig) -> Iterator[None]:
    """An unknown name that a config file gave is reported with the file and the field, as a
    ``ConfigError``; names not from a file (the defaults, command-line options) stay as they are."""
    try:
        yield
    except UnknownName as exc:
        field = _NAMING_FIELDS.get(exc.kind)
        if config.source is None or field is None:
            raise
        raise ConfigError(str(exc), path=config.source, field=field) from exc


def _refuse_a_used_directory(target: Path) -> None:
    if (target / "state.json").exists():
        raise ScalerError(
            f"{target} already holds a run; continue it with --resume {target}, "
            "or choose another directory"
        )


def _fresh_directory(parent: Path, prefix: str = "") -> Path:
    """A new directory name under ``parent``, from the start time: reruns never collide."""
    stamp = prefix + time.strftime("%Y%m%d-%H%M%S")
    candidate, n = parent / stamp, 1
    while candidate.exists():
        n += 1
        candidate = parent / f"{stamp}-{n}"
    return candidate


def compare(
    configs: Mapping[str, RunConfig],
    directory: str | Path | None,
    plugins: PluginSet,
    sandbox: Sandbox,
    on_step: Callable[[str, StepReport], None] | None = None,
) -> tuple[dict[str, RunInfo], Path]:
    """One run per label into ``directory/<label>``, then a side-by-side plot and report.

    ``directory`` defaults to a new ``compare-<labels>-<time>`` under the first config's
    ``out``. Every run's components are built (and so every name and option checked) before
    the first step of any, so a misspelt last item does not cost the others' time.
    """
    from scaler.curriculum.plots import plot_compare
    from scaler.curriculum.report import render_compare_report

    if not configs:
        raise ConfigError("nothing to compare", field="--compare")
    if directory is None:
        first = next(iter(configs.values()))
        directory = _fresh_directory(Path(first.out), "compare-" + "-".join(configs) + "-")
    target = Path(directory)
    for label, config in configs.items():
        _refuse_a_used_directory(target / label)
        Run(target / label, config, plugins, sandbox).close()
    target.mkdir(parents=True, exist_ok=True)
    results: dict[str, RunInfo] = {}
    for label, config in configs.items():
        run = Run.start(config, plugins, sandbox, target / label)
        try:
            callback = None if on_step is None else _labelled(on_step, label)
            results[label] = run.execute(config.steps, callback)
        finally:
            run.close()
    runs = {
        label: read_metrics(info.directory / "metrics.jsonl") for label, info in results.items()
    }
    plot = plot_compare(runs, target / "compare.png")
    report = target / "report.md"
    write_atomic(report, render_compare_report(runs, plot))
    return results, report


def _labelled(
    on_step: Callable[[str, StepReport], None], label: str
) -> Callable[[StepReport], None]:
    return lambda report: on_step(label, report)


def simulation_config(
    *,
    steps: int,
    seed: int,
    batch_size: int,
    pool: Path | None,
    backend: str,
    controller: str,
    curation: str,
    window: int,
) -> RunConfig:
    """The run ``scaler simulate`` makes of its options: the simulated learner on ``pool`` (every
    installed environment when None), written under runs/. ``window`` goes to every curation
    but ``all``, which takes no window."""
    window_options = {} if curation == "all" else {"window": window}
    return RunConfig(
        steps=steps,
        seed=seed,
        batch_size=batch_size,
        pool_paths=(str(pool),) if pool else (),
        sandbox=Component(backend),
        controller=Component(controller),
        curation=Component(curation, window_options),
        out="runs",
    )


def compare_configs(base: RunConfig, items: Sequence[str]) -> dict[str, RunConfig]:
    """``--compare`` items: a controller name, or ``controller@curation``.

    No item at all is refused here, before a sandbox is opened for runs that would not come.
    """
    if not items:
        raise ConfigError("nothing to compare", field="--compare")
    configs = {}
    for item in items:
        controller, _, curation = item.partition("@")
        if not controller:
            raise ConfigError(f"--compare item {item!r} names no controller")
        options = base.controller.options if controller == base.controller.name else {}
        config = attrs.evolve(base, controller=Component(controller, options))
        if curation:
            options = base.curation.options if curation == base.curation.name else {}
            window = base.curation.options.get("window")
            if window is not None and curation != "all":
                options = {"window": window, **options}
            config = attrs.evolve(config, curation=Component(curation, options))
        configs[item.replace("@", "+")] = config
    return configs
