"""The curriculum's figures in verl's tracker, beside verl's own curves.

verl builds its ``Tracking`` (console, tensorboard, wandb, file ... as ``trainer.logger``
says) inside ``RayPPOTrainer.fit``, in its TaskRunner process, and offers no hook to add
metrics. ``scaler train`` loads this module into every verl process through
``VERL_USE_EXTERNAL_MODULES``; importing it wraps ``Tracking.log`` so that verl's record of step
n also carries the curriculum's figures of step n (``curriculum.metrics.scalars``: the active
set, the informative share, per env its level and accuracy, retirements by reason), asked of the
curriculum actor. Its step n closed when the last rollout of verl's step n was scored, before
verl logs that step. A step the actor has not closed (rollouts still missing) adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from scaler.errors import ScalerError

#: The name verl imports: ``VERL_USE_EXTERNAL_MODULES`` holds it (comma-separated with others).
MODULE = __name__

Figures = Callable[[int], Mapping[str, float]]


def install(figures: Figures) -> None:
    """Wrap ``verl.utils.tracking.Tracking.log`` to add ``figures(step)`` to every record
    (once per process: a second call replaces the source, not the wrapper)."""
    from verl.utils.tracking import Tracking

    original = getattr(Tracking.log, "__wrapped__", Tracking.log)

    def log(self: Any, data: Mapping[str, Any], step: int, backend: Any = None) -> Any:
        return original(self, {**data, **figures(step)}, step, backend)

    log.__wrapped__ = original  # type: ignore[attr-defined]
    Tracking.log = log


def actor_figures(step: int) -> Mapping[str, float]:
    """The curriculum actor's figures of ``step``; none outside a ``scaler train`` run."""
    import ray

    from scaler.train.bridge import find_actor

    try:
        actor = find_actor()
    except ScalerError:
        return {}
    figures: Mapping[str, float] = ray.get(actor.scalars.remote(step))
    return figures


install(actor_figures)
