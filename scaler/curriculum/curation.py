"""Curation policies: which environments are active, and when one stops teaching.

A policy keeps the active set. Before each step it may retire environments (every retirement
carries a reason) and draw replacements from the pool; after each step it records what the step
showed. Policies are registered by name through ``scaler_register_curation`` as factories
``factory(**options)``; the options come from the ``[curation]`` table of a run config.

History is kept per tenure: when an environment (re)enters the active set its counters start
again, while its controller, and so its difficulty, is kept. Otherwise an environment retired for
a flat difficulty would be retired again the moment it returned, before it could show anything.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from scaler.curriculum.controllers import Controller
from scaler.errors import ConfigError
from scaler.registry import Kind

#: What the registries hold: ``factory(**options) -> Curation``.
CurationFactory = Callable[..., "Curation"]
#: Curation policies (``scaler_register_curation``); a run picks one with ``[curation]``.
CURATION: Kind[CurationFactory] = Kind("curation", "curation policy")

ZERO_ACCURACY = "zero-accuracy"
SATURATED = "saturated"
NO_PROGRESS = "no-progress"
INSTANCE_FAILURE = "instance-failure"

#: Rejection-sampling tries before a weighted draw scans the whole pool.
_TRIES = 64


@attrs.frozen
class Retirement:
    env_id: str
    reason: str
    detail: str
    step: int

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def slope(values: Sequence[float]) -> float:
    """Least-squares slope of ``values`` against 0, 1, 2, ..."""
    n = len(values)
    mean_x = (n - 1) / 2
    mean_y = sum(values) / n
    spread = sum((x - mean_x) ** 2 for x in range(n))
    return sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values)) / spread


def _whole(name: str, value: int, least: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise ConfigError(f"must be a whole number >= {least}, got {value!r}", field=name)
    return value


class Curation:
    """The active set and the rules that change it; ``state()`` round-trips through JSON.

    Subclasses override the underscored steps; the base keeps every env active, retires only
    what it is told to, and never replaces.
    """

    def __init__(self) -> None:
        self.pool: list[str] = []
        self.pool_set: frozenset[str] = frozenset()
        self.active: list[str] = []
        self._forced: list[tuple[str, str, str]] = []

    def start(self, pool: Sequence[str], rng: random.Random) -> list[str]:
        """Choose the first active set from ``pool`` (env ids); returns it."""
        self._set_pool(pool)
        self.active = self._initial(rng)
        for env_id in self.active:
            self._activated(env_id)
        return list(self.active)

    def _initial(self, rng: random.Random) -> list[str]:
        return list(self.pool)

    def retire(self, env_id: str, reason: str, detail: str) -> None:
        """Retire ``env_id`` before the next step whatever the rules say (it cannot be built)."""
        self._forced.append((env_id, reason, detail))

    def before_step(
        self, step: int, rng: random.Random, controllers: Mapping[str, Controller]
    ) -> tuple[list[Retirement], list[str]]:
        """Retire what no longer teaches and fill the gaps; returns (retirements, added)."""
        retirements: list[Retirement] = []
        seen: set[str] = set()
        for env_id, reason, detail in self._forced:
            if env_id in self.active and env_id not in seen:
                seen.add(env_id)
                retirements.append(Retirement(env_id, reason, detail, step))
        self._forced.clear()
        for env_id in self.active:
            if env_id in seen:
                continue
            verdict = self._verdict(env_id, controllers[env_id])
            if verdict is not None:
                seen.add(env_id)
                retirements.append(Retirement(env_id, verdict[0], verdict[1], step))
        added: list[str] = []
        for retirement in retirements:
            index = self.active.index(retirement.env_id)
            self._retired(retirement)
            replacement = self._replacement(rng, step, excluded=seen | set(self.active))
            if replacement is None:
                del self.active[index]
                continue
            self.active[index] = replacement
            self._activated(replacement)
            added.append(replacement)
        return retirements, added

    def _verdict(self, env_id: str, controller: Controller) -> tuple[str, str] | None:
        """(reason, detail) when ``env_id`` should retire now; the default never retires."""
        return None

    def _replacement(self, rng: random.Random, step: int, excluded: set[str]) -> str | None:
        """An env to take a freed slot; the default leaves it empty."""
        return None

    def _activated(self, env_id: str) -> None:
        """``env_id`` enters the active set: a new tenure."""

    def _retired(self, retirement: Retirement) -> None:
        """``retirement.env_id`` leaves the active set."""

    def after_step(
        self, step: int, accuracy: Mapping[str, float], controllers: Mapping[str, Controller]
    ) -> None:
        """Record the step: accuracy per env that got results, controllers already updated."""

    def state(self) -> dict[str, Any]:
        """JSON-ready, and a copy: the caller may keep it while the policy moves on."""
        return {"active": list(self.active), "forced": [list(f) for f in self._forced]}

    def _set_pool(self, pool: Sequence[str]) -> None:
        self.pool = list(pool)
        self.pool_set = frozenset(self.pool)

    def restore(self, pool: Sequence[str], state: Mapping[str, Any]) -> None:
        self._set_pool(pool)
        self.active = list(state["active"])
        self._forced = [(a, b, c) for a, b, c in state.get("forced", [])]


class AllEnvironments(Curation):
    """Every environment in every step; nothing retires unless it cannot be built."""


class ScalerWindow(Curation):
    """The paper's policy: a window of W envs, retired on zero accuracy, saturation or no progress.

    Before each step an active env retires if its accuracy was exactly 0 in the last ``k_zero``
    steps, or its difficulty sat at the maximum level in the last ``k_sat`` steps, or the
    least-squares slope of its difficulty over the last ``k_slope`` steps is <= 0 (only once
    that much history exists). The replacement is drawn uniformly from the pool, never the env
    that retires, never one already active.
    """

    def __init__(self, window: int = 64, k_zero: int = 5, k_sat: int = 5, k_slope: int = 10):
        super().__init__()
        self.window = _whole("window", window)
        self.k_zero = _whole("k_zero", k_zero)
        self.k_sat = _whole("k_sat", k_sat)
        self.k_slope = _whole("k_slope", k_slope, least=2)
        self._keep = max(self.k_zero, self.k_sat, self.k_slope)
        #: env id -> (accuracy history, difficulty history) of its current tenure, newest last.
        self.history: dict[str, tuple[list[float], list[float]]] = {}

    def _initial(self, rng: random.Random) -> list[str]:
        if len(self.pool) <= self.window:
            return list(self.pool)
        return rng.sample(self.pool, self.window)

    def _activated(self, env_id: str) -> None:
        self.history[env_id] = ([], [])

    def _retired(self, retirement: Retirement) -> None:
        self.history.pop(retirement.env_id, None)

    def after_step(
        self, step: int, accuracy: Mapping[str, float], controllers: Mapping[str, Controller]
    ) -> None:
        for env_id, acc in accuracy.items():
            if env_id not in self.history:
                continue
            accs, ds = self.history[env_id]
            accs.append(acc)
            ds.append(controllers[env_id].difficulty)
            del accs[: -self._keep], ds[: -self._keep]

    def _verdict(self, env_id: str, controller: Controller) -> tuple[str, str] | None:
        accs, ds = self.history[env_id]
        if len(accs) >= self.k_zero and all(a == 0 for a in accs[-self.k_zero :]):
            return ZERO_ACCURACY, f"accuracy 0 in each of the last {self.k_zero} steps"
        top = controller.max_level
        if len(ds) >= self.k_sat and all(d >= top for d in ds[-self.k_sat :]):
            return SATURATED, f"difficulty at the maximum level {top} for {self.k_sat} steps"
        if len(ds) >= self.k_slope:
            trend = slope(ds[-self.k_slope :])
            if trend <= 0:
                return (
                    NO_PROGRESS,
                    f"difficulty slope {trend:+.3f} per step over the last {self.k_slope} steps",
                )
        return None

    def _replacement(self, rng: random.Random, step: int, excluded: set[str]) -> str | None:
        if len(self.pool) <= len(excluded & self.pool_set):
            return None
        while True:
            env_id = self.pool[rng.randrange(len(self.pool))]
            if env_id not in excluded:
                return env_id

    def state(self) -> dict[str, Any]:
        history = {
            env: {"accuracy": list(accs), "difficulty": list(ds)}
            for env, (accs, ds) in self.history.items()
        }
        return {**super().state(), "history": history}

    def restore(self, pool: Sequence[str], state: Mapping[str, Any]) -> None:
        super().restore(pool, state)
        self.history = {
            env: (list(h["accuracy"]), list(h["difficulty"])) for env, h in state["history"].items()
        }


class ProgressWindow(ScalerWindow):
    """The paper's window and retirement rules, with replacements drawn by what is left to learn.

    The paper draws replacements uniformly, so an env retired as saturated comes back, sits at
    its maximum level for k_sat steps and retires again: a slot spent teaching nothing. Here an
    env never active before has weight 1; one retired as saturated (or unbuildable) has weight 0;
    one retired for zero accuracy or no progress regains weight linearly over ``cooldown`` steps,
    since the policy may have learnt enough elsewhere to make it teach again. When every
    candidate has weight 0 the draw falls back to uniform, so the window stays full.
    """

    def __init__(
        self,
        window: int = 64,
        k_zero: int = 5,
        k_sat: int = 5,
        k_slope: int = 10,
        cooldown: int = 50,
    ):
        super().__init__(window, k_zero, k_sat, k_slope)
        self.cooldown = _whole("cooldown", cooldown)
        #: env id -> (step, reason) of its last retirement.
        self.retired: dict[str, tuple[int, str]] = {}

    def _retired(self, retirement: Retirement) -> None:
        super()._retired(retirement)
        self.retired[retirement.env_id] = (retirement.step, retirement.reason)

    def _weight(self, env_id: str, step: int) -> float:
        if env_id not in self.retired:
            return 1.0
        when, reason = self.retired[env_id]
        if reason in (SATURATED, INSTANCE_FAILURE):
            return 0.0
        return min(1.0, (step - when) / self.cooldown)

    def _replacement(self, rng: random.Random, step: int, excluded: set[str]) -> str | None:
        """A draw with probability proportional to weight among the candidates.

        Rejection sampling (a uniform pick, kept with probability equal to its weight, all
        weights <= 1) costs O(1) per try while most of the pool is fresh; after
        ``_TRIES`` misses the exact scan over the pool takes over, which gives the same
        distribution.
        """
        if len(self.pool) <= len(excluded & self.pool_set):
            return None
        for _ in range(_TRIES):
            env_id = self.pool[rng.randrange(len(self.pool))]
            if env_id not in excluded and rng.random() < self._weight(env_id, step):
                return env_id
        candidates = [env_id for env_id in self.pool if env_id not in excluded]
        weights = [self._weight(env_id, step) for env_id in candidates]
        if sum(weights) <= 0:
            return candidates[rng.randrange(len(candidates))]
        return rng.choices(candidates, weights=weights)[0]

    def state(self) -> dict[str, Any]:
        retired = {env: [when, reason] for env, (when, reason) in self.retired.items()}
        return {**super().state(), "retired": retired}

    def restore(self, pool: Sequence[str], state: Mapping[str, Any]) -> None:
        super().restore(pool, state)
        self.retired = {env: (when, reason) for env, (when, reason) in state["retired"].items()}
