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

import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from scaler.catalog import resolve_envs
from scaler.config import Component, RunConfig
from scaler.curriculum.metrics import append_metrics, keep_metrics_until, read_metrics
from scaler.curriculum.scheduler import Scheduler, StepReport
from scaler.curriculum.state import CurriculumState
from scaler.errors import ConfigError, ScalerError
from scaler.files import write_atomic
from scaler.instances import InstanceFactory
from scaler.trainer import TRAINERS, Trainer

if TYPE_CHECKING:
    from scaler.registry import PluginSet
    from scaler.sandbox.jobs import Sandbox

STATE_FORMAT = 1


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

    def execute(self, steps: int, on_step: Callable[[StepReport], None] | None = None) -> RunInfo:
        """Run ``steps`` more steps, saving after each; then write the report and the plots."""
        metrics_file = self.directory / "metrics.jsonl"
        self._write_info(steps_planned=self.step + steps)
        with metrics_file.open("a", encoding="utf-8") as metrics:

            def saved(report: StepReport) -> None:
                append_metrics(metrics, report)
                self.save()
                if on_step is not None:
                    on_step(report)

            self.trainer.train(self.scheduler, steps, saved)
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


def compare_configs(base: RunConfig, items: Sequence[str]) -> dict[str, RunConfig]:
    """``--compare`` items: a controller name, or ``controller@curation``."""
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
