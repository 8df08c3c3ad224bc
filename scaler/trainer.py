"""What a trainer is to scaler: something that runs curriculum steps and reports the results.

Trainers are registered by name through ``scaler_register_trainers`` as factories
``factory(**options)``, the options coming from the ``[trainer]`` table of a run config. The
simulator is the default one; verl and TRL are the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from scaler.registry import Kind

if TYPE_CHECKING:
    from scaler.config import RunConfig
    from scaler.curriculum.scheduler import Scheduler, StepReport
    from scaler.registry import PluginSet


class Trainer(Protocol):
    def train(
        self, scheduler: Scheduler, steps: int, on_step: Callable[[StepReport], None]
    ) -> None:
        """Run ``steps`` steps: ``scheduler.next_step()``, rollouts, ``scheduler.report()``.

        ``on_step`` gets each step's report; the run saves its state there, so a trainer that
        calls it once per reported step can be stopped and resumed at any step.
        """

    def state(self) -> Mapping[str, Any]:
        """JSON state that, restored, makes the next steps the same as if never stopped."""

    def restore(self, state: Mapping[str, Any]) -> None: ...


#: Optional on a trainer: ``summary() -> Mapping[str, Any]``, figures only the trainer knows
#: (the simulator: skill gained), added to the run's summary under "trainer".


@runtime_checkable
class LoopOwner(Protocol):
    """A trainer factory whose framework runs the training loop itself (verl, TRL).

    Such a trainer cannot be stepped by ``scaler run``'s loop: its framework pulls rows and
    reports scores on its own schedule. ``scaler run`` sees the ``launch`` attribute on the
    registered factory and hands it the whole run, so a run config means the same thing
    whichever trainer it names.
    """

    def launch(
        self,
        config: RunConfig,
        *,
        steps: int | None,
        out: Path | None,
        plugins: PluginSet,
    ) -> None:
        """Run ``config`` to the end: ``steps`` overrides ``run.steps``; ``out`` is where
        checkpoints and the curriculum state go (a rerun with the same ``out`` resumes);
        ``plugins`` is the run's plugin set (its ``spec`` is what other processes load)."""


#: What the registries hold: ``factory(**options) -> Trainer``, options from ``[trainer]``.
TrainerFactory = Callable[..., Trainer]
#: Trainers (``scaler_register_trainers``); a run picks one with ``[trainer]``.
TRAINERS: Kind[TrainerFactory] = Kind("trainers", "trainer")
