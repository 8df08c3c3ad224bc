"""Difficulty controllers: one per environment, each keeps success near a target rate.

A controller holds a continuous difficulty ``d`` in ``[0, max_level]``. Before a step it turns
``d`` into integer levels for that environment's prompts; after the step it moves ``d`` with the
accuracy over the environment's rollouts. Controllers are registered by name through
``scaler_register_controllers`` as factories ``factory(max_level, **options)``; the options come
from the ``[controller]`` table of a run config, so every parameter is configurable.
"""

from __future__ import annotations

import math
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import attrs

from scaler.errors import ConfigError
from scaler.registry import Kind

#: What the registries hold: ``factory(max_level, **options) -> Controller``.
ControllerFactory = Callable[..., "Controller"]
#: Difficulty controllers (``scaler_register_controllers``); a run picks one with ``[controller]``.
CONTROLLERS: Kind[ControllerFactory] = Kind("controllers", "controller")


def mix_levels(d: float, n: int, max_level: int) -> list[int]:
    """``n`` levels from floor(d) and ceil(d) whose mean is as close to ``d`` as n allows.

    n_hi = round(n * (d - floor(d))), rounding halves up (Python's round() would send 0.5 to 0,
    so one prompt at d = 2.5 would always play level 2). The harder levels come first.
    """
    low = min(math.floor(d), max_level)
    n_high = math.floor(n * (d - low) + 0.5) if low < max_level else 0
    return [low + 1] * n_high + [low] * (n - n_high)


def _within(d: float, reach: float, max_level: int) -> range:
    """Every level that floor/ceil mixing can pick for a difficulty within ``reach`` of d."""
    return range(max(0, math.floor(d - reach)), min(max_level, math.ceil(d + reach)) + 1)


def _check(
    name: str, value: object, low: float, high: float = math.inf, integer: bool = False
) -> None:
    kinds = (int,) if integer else (int, float)
    if not isinstance(value, kinds) or isinstance(value, bool):
        what = "a whole number" if integer else "a number"
        raise ConfigError(f"must be {what}, got {value!r}", field=name)
    # abs() <= the largest float refuses NaN, the infinities and ints no float can hold.
    if not integer and not abs(value) <= sys.float_info.max:
        raise ConfigError(f"must be a finite number, got {value!r}", field=name)
    if not low <= value <= high:
        span = f">= {low}" if high == math.inf else f"in [{low}, {high}]"
        raise ConfigError(f"must be {span}, got {value!r}", field=name)


@attrs.define
class Controller(ABC):
    """One environment's difficulty; ``state()`` and ``restore()`` round-trip through JSON."""

    max_level: int

    @property
    @abstractmethod
    def difficulty(self) -> float:
        """The continuous difficulty d, for reports and curation."""

    def levels(self, n: int) -> list[int]:
        """Levels for the ``n`` prompts this environment gets in the next step."""
        return mix_levels(self.difficulty, n, self.max_level)

    @abstractmethod
    def update(self, accuracy: float, rollouts: int, levels: list[int]) -> None:
        """Take one step's result: mean accuracy over ``rollouts`` on the given ``levels``."""

    def reachable_levels(self) -> range:
        """Levels the next step may ask for; the scheduler generates these ahead of time."""
        return _within(self.difficulty, 1.0, self.max_level)

    def state(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in attrs.fields(type(self)) if not f.init}

    def restore(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            setattr(self, key, value)


@attrs.define
class ScalerController(Controller):
    """The paper's law: d <- clip(d + clip(k (acc - tau), -step_cap, step_cap), 0, D)."""

    tau: float = 0.5
    k: float = 2.0
    step_cap: float = 1.0
    start: float = 0.0
    d: float = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        _check("tau", self.tau, 0.0, 1.0)
        _check("k", self.k, 0.0)
        _check("step_cap", self.step_cap, 0.0)
        _check("start", self.start, 0.0)
        self.d = float(min(self.start, self.max_level))

    @property
    def difficulty(self) -> float:
        return self.d

    def update(self, accuracy: float, rollouts: int, levels: list[int]) -> None:
        step = max(-self.step_cap, min(self.step_cap, self.k * (accuracy - self.tau)))
        self.d = max(0.0, min(float(self.max_level), self.d + step))

    def reachable_levels(self) -> range:
        return _within(self.d, self.step_cap, self.max_level)


@attrs.define
class FixedController(Controller):
    """Always the same level (clipped to the environment's range): a baseline, and for evals."""

    level: int = 0

    def __attrs_post_init__(self) -> None:
        _check("level", self.level, 0, integer=True)

    @property
    def difficulty(self) -> float:
        return float(min(self.level, self.max_level))

    def update(self, accuracy: float, rollouts: int, levels: list[int]) -> None:
        """A fixed level does not move."""

    def reachable_levels(self) -> range:
        level = min(self.level, self.max_level)
        return range(level, level + 1)


@attrs.define
class RatchetController(Controller):
    """RLVE's rule: one level up once accuracy at the current level over a window is high enough.

    Results at the current level are kept until at least ``window`` rollouts are in; the
    newest results covering ``window`` rollouts are judged after each update, older ones slide
    out. When their accuracy reaches ``threshold`` the level goes up by one and the window
    starts empty. It never goes down.
    """

    threshold: float = 0.9
    window: int = 32
    level: int = attrs.field(init=False, default=0)
    #: (accuracy, rollouts) of the updates at the current level, oldest first.
    recent: list[list[float]] = attrs.field(init=False, factory=list)

    def __attrs_post_init__(self) -> None:
        _check("threshold", self.threshold, 0.0, 1.0)
        _check("window", self.window, 1, integer=True)

    @property
    def difficulty(self) -> float:
        return float(self.level)

    def update(self, accuracy: float, rollouts: int, levels: list[int]) -> None:
        self.recent.append([accuracy, rollouts])
        total = sum(n for _, n in self.recent)
        while total - self.recent[0][1] >= self.window:
            total -= self.recent.pop(0)[1]
        if total < self.window or self.level >= self.max_level:
            return
        if sum(a * n for a, n in self.recent) / total >= self.threshold:
            self.level += 1
            self.recent = []

    def reachable_levels(self) -> range:
        return range(self.level, min(self.level + 1, self.max_level) + 1)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


@attrs.define
class EloController(Controller):
    """Estimates the level where the policy succeeds with probability tau, and plays there.

    The policy's skill ``theta`` is rated against the levels it actually played, as in Elo or a
    one-parameter IRT model: the expected accuracy at level L is sigmoid((theta - L) / scale), and
    theta moves by ``k`` times the surprise (observed minus expected). Unlike the paper's law it
    credits what was played: an easy level answered right says little, a hard one says much,
    and with one prompt per step the rounding of d to a level no longer biases the estimate.
    d is the level with expected accuracy tau: theta - scale * logit(tau).
    """

    tau: float = 0.5
    k: float = 1.5
    scale: float = 1.0
    step_cap: float = 1.0
    start: float = 0.0
    theta: float = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        _check("tau", self.tau, 0.01, 0.99)
        _check("k", self.k, 0.0)
        _check("scale", self.scale, 1e-6)
        _check("step_cap", self.step_cap, 0.0)
        _check("start", self.start, 0.0)
        self.theta = float(self.start) + self._offset()

    def _offset(self) -> float:
        return self.scale * math.log(self.tau / (1.0 - self.tau))

    @property
    def difficulty(self) -> float:
        return max(0.0, min(float(self.max_level), self.theta - self._offset()))

    def update(self, accuracy: float, rollouts: int, levels: list[int]) -> None:
        if not levels:
            return
        expected = sum(_sigmoid((self.theta - level) / self.scale) for level in levels)
        surprise = accuracy - expected / len(levels)
        step = max(-self.step_cap, min(self.step_cap, self.k * surprise * self.scale))
        low, high = self._offset(), self.max_level + self._offset()
        self.theta = max(low - self.scale, min(high + self.scale, self.theta + step))

    def reachable_levels(self) -> range:
        return _within(self.difficulty, self.step_cap, self.max_level)
