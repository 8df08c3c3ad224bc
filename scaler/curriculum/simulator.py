"""A simulated learner, to study curricula in seconds instead of GPU-days.

The model, per environment:

- The learner has a skill s, in levels: at level L it answers right with probability
  p = sigmoid((s - L) / temperature). Skill 3 means level 3 is a coin flip.
- It learns only from groups whose rollouts disagree, as GRPO does (a group all right or all
  wrong has zero advantage): after a group with accuracy a, s grows by rate * 4 a (1 - a),
  up to the environment's ceiling. Practice near the frontier (a near 1/2) teaches most;
  far from it (a near 0 or 1) teaches nothing.
- Each environment draws a profile from a hash of (seed, env id):
  ``learnable`` (half of them): slow growth to a ceiling between 40% and 90% of the top level;
  ``saturating`` (15%): fast growth past the top level;
  ``stalling`` (20%): a ceiling barely above where it starts;
  ``unlearnable`` (15%): skill far below level 0 and no growth.

The learner answers real instances: a right answer boxes the instance's answer, a wrong one
boxes a corrupted answer, and the real verifier scores both, so the whole reward path runs.
"""

from __future__ import annotations

import hashlib
import math
import random
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from scaler.curriculum.scheduler import Group, RolloutResult, Scheduler, StepReport
from scaler.curriculum.state import rng_state, set_rng_state
from scaler.errors import ConfigError
from scaler.model import Instance
from scaler.verify import verify

#: Profile name -> share of environments.
PROFILES: dict[str, float] = {
    "learnable": 0.50,
    "saturating": 0.15,
    "stalling": 0.20,
    "unlearnable": 0.15,
}


@attrs.frozen
class Profile:
    kind: str
    start: float
    ceiling: float
    rate: float


def _uniforms(seed: int, env_id: str) -> list[float]:
    digest = hashlib.sha256(f"{seed}\0{env_id}".encode()).digest()
    return [int.from_bytes(digest[i : i + 4], "big") / 2**32 for i in range(0, 16, 4)]


def profile(seed: int, env_id: str, max_level: int) -> Profile:
    """The hidden traits of one environment for one simulated learner."""
    u_kind, u_start, u_ceiling, u_rate = _uniforms(seed, env_id)
    threshold = 0.0
    kind = "learnable"
    for name, share in PROFILES.items():
        threshold += share
        if u_kind < threshold:
            kind = name
            break
    if kind == "unlearnable":
        return Profile(kind, -4.0, -4.0, 0.0)
    if kind == "saturating":
        return Profile(kind, 1.0 + 2 * u_start, max_level + 3.0, 0.6 + 0.4 * u_rate)
    if kind == "stalling":
        start = 0.5 + 1.5 * u_start
        return Profile(kind, start, start + 0.5 + u_ceiling, 0.2 + 0.2 * u_rate)
    ceiling = max_level * (0.4 + 0.5 * u_ceiling)
    return Profile(kind, -0.5 + 1.5 * u_start, ceiling, 0.15 + 0.25 * u_rate)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def wrong_answer(instance: Instance, rng: random.Random) -> str:
    """An answer of the right shape that is not the instance's answer."""
    tokens = instance.answer.split()
    if not tokens:
        return "?"
    index = rng.randrange(len(tokens))
    token = tokens[index]
    try:
        tokens[index] = str(int(token) + rng.choice((-1, 1)) * rng.randint(1, 9))
    except ValueError:
        tokens[index] = token[::-1] + "x" if len(token) > 1 else token + "x"
    return " ".join(tokens)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    """A number a float holds: not NaN, not infinite, no int beyond the float range."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and abs(value) <= sys.float_info.max
    )


class SimulatedLearner:
    def __init__(self, seed: int = 0, temperature: float = 0.7, rollouts: int = 8) -> None:
        if not _whole(seed):
            raise ConfigError(f"must be a whole number, got {seed!r}", field="seed")
        if not _finite(temperature) or temperature <= 0:
            raise ConfigError(f"must be a number > 0, got {temperature!r}", field="temperature")
        if not _whole(rollouts) or rollouts < 1:
            raise ConfigError(f"must be a whole number >= 1, got {rollouts!r}", field="rollouts")
        self.seed = seed
        self.temperature = temperature
        self.rollouts = rollouts
        self.rng = random.Random(seed)
        self.skill: dict[str, float] = {}
        #: Skill at first practice, per env: what ``gained`` counts from.
        self.start: dict[str, float] = {}
        self._profiles: dict[str, Profile] = {}

    def profile(self, env_id: str, max_level: int) -> Profile:
        if env_id not in self._profiles:
            self._profiles[env_id] = profile(self.seed, env_id, max_level)
        return self._profiles[env_id]

    def _skill(self, env_id: str, max_level: int) -> float:
        if env_id not in self.skill:
            self.skill[env_id] = self.start[env_id] = self.profile(env_id, max_level).start
        return self.skill[env_id]

    def p_correct(self, env_id: str, max_level: int, level: int) -> float:
        skill = self._skill(env_id, max_level)
        return _sigmoid((skill - level) / self.temperature)

    def answer(self, instance: Instance, p: float) -> str:
        if self.rng.random() < p:
            return f"Following the procedure on this input gives \\boxed{{{instance.answer}}}."
        return f"I think the output is \\boxed{{{wrong_answer(instance, self.rng)}}}."

    def learn(self, env_id: str, max_level: int, group_accuracy: float) -> None:
        traits = self.profile(env_id, max_level)
        gain = traits.rate * 4 * group_accuracy * (1 - group_accuracy)
        skill = self._skill(env_id, max_level)
        self.skill[env_id] = min(traits.ceiling, skill + gain)

    def gained(self) -> float:
        """Levels of skill learnt, summed over environments: what a curriculum is for."""
        # In id order: a float sum depends on its order, and a restored run must match bit
        # for bit one never interrupted (whose dict is in the order envs were first met).
        return sum(self.skill[env_id] - self.start[env_id] for env_id in sorted(self.skill))

    def state(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "rng": rng_state(self.rng),
            "skill": dict(sorted(self.skill.items())),
            "start": dict(sorted(self.start.items())),
            "gained": self.gained(),
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        if state["seed"] != self.seed:
            raise ConfigError(
                f"the saved simulator used seed {state['seed']}, this run {self.seed}",
                field="trainer.seed",
            )
        set_rng_state(self.rng, state["rng"])
        self.skill = dict(state["skill"])
        self.start = dict(state["start"])


class SimulateTrainer:
    """``trainer = "simulate"``: the simulated learner answers each step's real instances.

    ``generation_s`` stands for the time a real policy spends generating rollouts: the
    trainer waits that long per step, which is when the scheduler makes the next step's
    instances. It changes timings only, never results.
    """

    def __init__(
        self, seed: int = 0, temperature: float = 0.7, rollouts: int = 8, generation_s: float = 0.0
    ) -> None:
        if not _finite(generation_s) or generation_s < 0:
            raise ConfigError(f"must be a number >= 0, got {generation_s!r}", field="generation_s")
        self.learner = SimulatedLearner(seed, temperature, rollouts)
        self.generation_s = float(generation_s)

    def train(
        self, scheduler: Scheduler, steps: int, on_step: Callable[[StepReport], None]
    ) -> None:
        for _ in range(steps):
            plan = scheduler.next_step()
            time.sleep(self.generation_s)
            results = []
            for group in plan.groups:
                results.extend(self._rollouts(scheduler, group))
            on_step(scheduler.report(results))

    def _rollouts(self, scheduler: Scheduler, group: Group) -> list[RolloutResult]:
        learner = self.learner
        max_level = scheduler.envs[group.env_id].max_level
        p = learner.p_correct(group.env_id, max_level, group.level)
        accs = []
        for _ in range(learner.rollouts):
            response = learner.answer(group.instance, p)
            accs.append(verify(response, group.instance, scheduler.plugins).acc)
        learner.learn(group.env_id, max_level, sum(accs) / len(accs))
        return [RolloutResult(group.env_id, group.level, group.seed, acc) for acc in accs]

    def summary(self) -> dict[str, Any]:
        """What only a simulator knows: how much the learner actually learnt."""
        return {"skill_gained": self.learner.gained()}

    def state(self) -> dict[str, Any]:
        return self.learner.state()

    def restore(self, state: Mapping[str, Any]) -> None:
        self.learner.restore(state)
