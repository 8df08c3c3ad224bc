"""The curriculum as a trainer outside our process sees it: rows out, scored rollouts in.

verl pulls prompts one at a time through its dataset and scores rollouts in separate reward
workers; neither knows about steps. This service turns that into the Scheduler's protocol: the
first pull of a step plans it, each reported rollout is tallied against its group (by the env,
level and seed in ``extra_info``), and the step closes the moment the last rollout of its
prompts is in, updating controllers and curation, and saving its state: before the trainer
updates the model and checkpoints that step. The training bridge runs it as a named Ray
actor (threaded, so a pull can wait for reports still on their way); tests and other trainers
use it directly.

If a pull finds the step's prompts handed out but rollouts missing (a trainer that drops or
filters samples), it waits up to ``grace_s`` for them, then closes the step with what arrived.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scaler.curriculum.metrics import FILE_NAME as METRICS_FILE
from scaler.curriculum.metrics import append_metrics, keep_metrics_until, read_metrics
from scaler.curriculum.scheduler import RolloutResult, Scheduler, StepReport
from scaler.curriculum.state import CurriculumState
from scaler.errors import ScalerError
from scaler.files import write_atomic
from scaler.logs import get_logger
from scaler.train.rows import verl_row

log = get_logger(__name__)

STATE_FILE = "curriculum_state.json"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def state_file(directory: Path, step: int) -> Path:
    return directory / f"step_{step}.json"


def resume_state(checkpoint_root: str | Path, state_dir: str | Path) -> Path | None:
    """The curriculum state matching the trainer's latest checkpoint, if there is one.

    verl records its latest checkpoint's step in ``latest_checkpointed_iteration.txt`` under
    ``trainer.default_local_dir``; the curriculum kept the state of that step.
    """
    marker = Path(checkpoint_root) / "latest_checkpointed_iteration.txt"
    if not marker.exists():
        return None
    step = int(marker.read_text().strip())
    path = state_file(Path(state_dir), step)
    if not path.exists():
        raise ScalerError(
            f"{marker} says step {step}, but {path} is missing: the curriculum state of that "
            "checkpoint was not kept"
        )
    return path


class CurriculumService:
    def __init__(
        self,
        scheduler: Scheduler,
        rollouts_per_prompt: int,
        grace_s: float = 30.0,
        state_dir: str | Path | None = None,
        keep_every: int = 1,
    ):
        if rollouts_per_prompt < 1:
            raise ScalerError(f"rollouts per prompt must be >= 1, got {rollouts_per_prompt}")
        self.scheduler = scheduler
        #: Where the state of every closed step goes (``step_<n>.json``); the trainer's
        #: checkpoint of step n is resumed with the file of step n. Files of steps that are
        #: not multiples of ``keep_every`` (the trainer's checkpoint frequency) are pruned
        #: once a later step is saved.
        self.state_dir = None if state_dir is None else Path(state_dir)
        self.keep_every = max(1, keep_every)
        self.rollouts = rollouts_per_prompt
        self.grace_s = grace_s
        self._lock = threading.Condition()
        self._queue: deque[dict[str, Any]] = deque()
        self._expected = 0
        self._results: list[RolloutResult] = []
        self._groups: set[tuple[str, int, int]] = set()
        self._step = 0
        self._open = False
        self.reports: list[StepReport] = []
        if self.state_dir is not None:
            # Resumed from a checkpoint of step n: the steps after n are done again.
            keep_metrics_until(self.state_dir / METRICS_FILE, scheduler.step)

    def next_row(self) -> dict[str, Any]:
        """The next prompt as a verl row; plans a step when the last one is closed."""
        with self._lock:
            if not self._queue:
                self._plan_after_closing()
            return self._queue.popleft()

    def next_step_rows(self) -> list[dict[str, Any]]:
        """Every row of the next step at once, for a trainer that generates a step together
        (TRL): the step may hold fewer prompts than ``batch_size`` when instances failed."""
        with self._lock:
            if self._queue:
                raise ScalerError(
                    f"step {self._step} is being handed out row by row: "
                    f"{len(self._queue)} rows left"
                )
            self._plan_after_closing()
            rows = list(self._queue)
            self._queue.clear()
            return rows

    def _plan_after_closing(self) -> None:
        if self._open:
            self._wait_for_results()
            if self._open:
                self._close()
        self._plan()

    def _plan(self) -> None:
        plan = self.scheduler.next_step()
        self._step = plan.step
        self._open = True
        self._groups = {(g.env_id, g.level, g.seed) for g in plan.groups}
        self._expected = len(plan.groups) * self.rollouts
        self._results = []
        for group in plan.groups:
            row = verl_row(group.instance)
            row["extra_info"] = {**row["extra_info"], "step": plan.step}
            self._queue.append(row)

    def _wait_for_results(self) -> None:
        deadline = time.monotonic() + self.grace_s
        while self._open:
            left = deadline - time.monotonic()
            if left <= 0:
                log.warning(
                    "closing a step with rollouts missing",
                    step=self._step,
                    got=len(self._results),
                    expected=self._expected,
                )
                return
            self._lock.wait(left)

    def report(self, extra_info: Mapping[str, Any], acc: float) -> None:
        """One scored rollout, identified by the ``extra_info`` of its row."""
        key = (str(extra_info["env_id"]), int(extra_info["level"]), int(extra_info["seed"]))
        with self._lock:
            if not self._open or extra_info.get("step") != self._step or key not in self._groups:
                log.warning(
                    "a rollout of another step", step=extra_info.get("step"), now=self._step
                )
                return
            self._results.append(RolloutResult(*key, float(acc)))
            if len(self._results) >= self._expected:
                self._close()
            self._lock.notify_all()

    def _close(self) -> None:
        report = self.scheduler.report(self._results)
        self.reports.append(report)
        log.info(
            "curriculum step",
            step=report.step,
            accuracy=round(report.mean_accuracy, 3),
            informative=round(report.informative_fraction, 3),
            retired=[f"{r.env_id}:{r.reason}" for r in report.retired],
            # per env: difficulty d after the step, and this step's accuracy
            envs={
                env_id: f"d={env.difficulty:.2f} acc={_rate(env.accuracy)}"
                for env_id, env in sorted(report.envs.items())
            },
        )
        self._results = []
        self._expected = 0
        self._open = False
        if self.state_dir is not None:
            self._save_step(self.state_dir, report.step)
            with (self.state_dir / METRICS_FILE).open("a", encoding="utf-8") as metrics:
                append_metrics(metrics, report)

    def _save_step(self, directory: Path, step: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.state().save(state_file(directory, step))
        previous = step - 1
        if previous > 0 and previous % self.keep_every:
            state_file(directory, previous).unlink(missing_ok=True)

    def finish(self, title: str = "") -> list[Path]:
        """The run's report.md and plots from its metrics.jsonl, written into ``state_dir``.

        The same report and plots ``scaler run`` writes, for the whole run (resumed runs
        included, since the file holds every step kept so far).
        """
        from scaler.curriculum.plots import plot_run
        from scaler.curriculum.report import render_report

        if self.state_dir is None:
            raise ScalerError("this curriculum keeps no files (no state_dir)")
        metrics = read_metrics(self.state_dir / METRICS_FILE)
        if not metrics:
            return []
        plots = plot_run(metrics, self.state_dir, title=title)
        report = self.state_dir / "report.md"
        info = {"steps": metrics[-1]["step"], "rollouts per prompt": self.rollouts}
        write_atomic(report, render_report(metrics, info, plots))
        return [report, self.state_dir / METRICS_FILE, *plots]

    def state(self) -> CurriculumState:
        """The state after the last closed step: what a checkpoint keeps."""
        return self.scheduler.state()

    def save(self, directory: str | Path) -> Path:
        """Save beside a trainer checkpoint (``directory`` is the checkpoint's folder)."""
        path = Path(directory) / STATE_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        self.state().save(path)
        return path
