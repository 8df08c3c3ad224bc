"""The Scheduler: one curriculum step at a time, for any trainer.

``next_step()`` asks curation for the active set (retiring and replacing first), splits the
batch over it, asks each controller for levels and returns the step's instances. ``report()``
takes the per-rollout results, updates controllers and curation and returns a StepReport.
Between the two, while the trainer generates and scores rollouts, the next step's instances
are made in the background for every level the controllers can reach.

Everything random is drawn from one generator whose state is part of the CurriculumState, and
instance seeds are a function of (run seed, step, env, slot), so a restored run replays the
same instances and the same decisions.
"""

from __future__ import annotations

import copy
import hashlib
import math
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from scaler.curriculum.buffer import InstanceBuffer
from scaler.curriculum.config import CurriculumConfig
from scaler.curriculum.controllers import CONTROLLERS, Controller
from scaler.curriculum.curation import CURATION, INSTANCE_FAILURE, Retirement
from scaler.curriculum.state import FORMAT, CurriculumState, rng_state, set_rng_state
from scaler.errors import ConfigError, InstanceError, ScalerError
from scaler.instances import InstanceFactory, Request
from scaler.logs import get_logger
from scaler.model import EnvSpec, Instance

if TYPE_CHECKING:
    from scaler.registry import PluginSet

log = get_logger(__name__)

#: Other seeds tried for a group whose instance cannot be built, before the env is retired.
RETRIES = 2


@attrs.frozen
class Group:
    """One prompt of a step; the trainer samples several rollouts for it."""

    env_id: str
    level: int
    seed: int
    instance: Instance


@attrs.frozen
class StepPlan:
    step: int
    groups: tuple[Group, ...]
    active: tuple[str, ...]
    added: tuple[str, ...]
    retired: tuple[Retirement, ...]
    instance_wait_s: float


@attrs.frozen
class RolloutResult:
    """One scored rollout: which group it answered, and whether it was right (acc 1 or 0)."""

    env_id: str
    level: int
    seed: int
    acc: float


@attrs.frozen
class EnvStep:
    difficulty_before: float
    difficulty: float
    max_level: int
    levels: tuple[int, ...]
    accuracy: float | None
    rollouts: int
    prompts: int
    informative_groups: int


@attrs.frozen
class StepReport:
    step: int
    active: tuple[str, ...]
    added: tuple[str, ...]
    retired: tuple[Retirement, ...]
    envs: Mapping[str, EnvStep]
    groups: int
    #: Share of groups whose rollouts disagree (0 < acc < 1): the ones GRPO learns from.
    informative_fraction: float
    mean_accuracy: float
    instance_wait_s: float
    step_s: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "active": list(self.active),
            "added": list(self.added),
            "retired": [r.to_dict() for r in self.retired],
            "envs": {
                env_id: {**attrs.asdict(s), "levels": list(s.levels)}
                for env_id, s in self.envs.items()
            },
            "groups": self.groups,
            "informative_fraction": self.informative_fraction,
            "mean_accuracy": self.mean_accuracy,
            "instance_wait_s": self.instance_wait_s,
            "step_s": self.step_s,
        }


def instance_seed(run_seed: int, step: int, env_id: str, slot: int, attempt: int = 0) -> int:
    text = f"{run_seed}\0{step}\0{env_id}\0{slot}\0{attempt}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") >> 1


def split_batch(batch_size: int, active: Sequence[str], step: int) -> dict[str, int]:
    """Prompts per active env: as even as possible, the remainder rotating with the step."""
    if not active:
        return {}
    base, extra = divmod(batch_size, len(active))
    return {
        env_id: base + (1 if (i - step) % len(active) < extra else 0)
        for i, env_id in enumerate(active)
    }


class Scheduler:
    def __init__(
        self,
        envs: Sequence[EnvSpec],
        config: CurriculumConfig,
        factory: InstanceFactory,
        plugins: PluginSet,
        state: CurriculumState | None = None,
    ) -> None:
        if not envs:
            raise ScalerError("the curriculum needs at least one environment")
        if config.batch_size < 1:
            raise ConfigError(f"must be >= 1, got {config.batch_size!r}", field="batch_size")
        self.envs = {env.id: env for env in envs}
        self.config = config
        self.plugins = plugins
        self.buffer = InstanceBuffer(factory)
        self.rng = random.Random(config.seed)
        self.curation = plugins.build(
            CURATION, config.curation, config.curation_options, table="curation"
        )
        self.controllers: dict[str, Controller] = {}
        self.step = 0
        self._new_controller(next(iter(self.envs)))
        self._pending: StepPlan | None = None
        self._started_at = self._planned_at = 0.0
        #: How long the trainer held the last step: speculation pays only if it hides the
        #: instance making, so a trainer quicker than the sandbox gets none (it would only
        #: compete with the next step's own instances for the workers).
        self._trainer_s = math.inf
        self._versions = {env_id: env.version for env_id, env in sorted(self.envs.items())}
        #: Controller states as of the last snapshot; entries are replaced, never mutated.
        self._saved_controllers: dict[str, dict[str, Any]] = {}
        if state is None:
            self.curation.start(list(self.envs), self.rng)
            self._ensure_controllers()
        else:
            self._restore(state)
        self._snapshot = self._capture(self.controllers)

    def _new_controller(self, env_id: str) -> Controller:
        return self.plugins.build(
            CONTROLLERS,
            self.config.controller,
            self.config.controller_options,
            table="controller",
            max_level=self.envs[env_id].max_level,
        )

    def _ensure_controllers(self) -> None:
        for env_id in self.curation.active:
            if env_id not in self.controllers:
                self.controllers[env_id] = self._new_controller(env_id)

    def next_step(self) -> StepPlan:
        """Plan the next step and return its instances (made ahead when the guess was right)."""
        if self._pending is not None:
            raise ScalerError(f"step {self._pending.step} was planned but its results not reported")
        self._started_at = time.perf_counter()
        step = self.step + 1
        retired, added = self.curation.before_step(step, self.rng, self.controllers)
        self._ensure_controllers()
        for retirement in retired:
            log.info("env retired", env=retirement.env_id, reason=retirement.reason, step=step)
            self.plugins.hook.scaler_env_retired(
                env_id=retirement.env_id, reason=retirement.reason, step=step
            )
        if not self.curation.active:
            raise ScalerError(f"step {step}: no environment is left in the active set")
        requests = self._requests(step)
        began = time.perf_counter()
        made = self.buffer.take(requests)
        groups = self._groups(step, requests, made)
        waited = time.perf_counter() - began
        added_all = tuple(self.curation.active) if step == 1 else tuple(added)
        self._pending = StepPlan(
            step, tuple(groups), tuple(self.curation.active), added_all, tuple(retired), waited
        )
        if self.config.prefetch and self._trainer_s >= waited:
            self.buffer.prefetch(self._guess(step + 1))
        self._planned_at = time.perf_counter()
        return self._pending

    def _requests(self, step: int) -> list[Request]:
        counts = split_batch(self.config.batch_size, self.curation.active, step)
        requests = []
        for env_id, n in counts.items():
            levels = self.controllers[env_id].levels(n) if n else []
            env = self.envs[env_id]
            for slot, level in enumerate(levels):
                seed = instance_seed(self.config.seed, step, env_id, slot)
                requests.append(Request(env, level, seed))
        return requests

    def _guess(self, step: int) -> list[list[Request]]:
        """The next step's possible requests if curation keeps the active set, likeliest first.

        The first tier is what each controller would ask for if its difficulty did not move;
        the second, the other levels it can reach in one update.
        """
        counts = split_batch(self.config.batch_size, self.curation.active, step)
        likely: list[Request] = []
        possible: list[Request] = []
        for env_id, n in counts.items():
            env = self.envs[env_id]
            controller = self.controllers[env_id]
            seeds = [instance_seed(self.config.seed, step, env_id, slot) for slot in range(n)]
            now = controller.levels(n) if n else []
            likely.extend(Request(env, level, seed) for level, seed in zip(now, seeds, strict=True))
            for level in controller.reachable_levels():
                possible.extend(Request(env, level, seed) for seed in seeds)
        return [likely, possible]

    def _groups(
        self, step: int, requests: list[Request], made: list[Instance | InstanceError]
    ) -> list[Group]:
        """Groups in request order; a failed instance is retried with other seeds, then dropped."""
        failed = [i for i, item in enumerate(made) if isinstance(item, InstanceError)]
        for attempt in range(1, RETRIES + 1):
            if not failed:
                break
            retry = []
            for i in failed:
                r = requests[i]
                slot = sum(1 for q in requests[:i] if q.env.id == r.env.id)
                seed = instance_seed(self.config.seed, step, r.env.id, slot, attempt)
                retry.append(Request(r.env, r.level, seed))
            for i, request, item in zip(
                failed, retry, self.buffer.factory.make_each(retry), strict=True
            ):
                if isinstance(item, Instance):
                    requests[i], made[i] = request, item
            failed = [i for i in failed if isinstance(made[i], InstanceError)]
        for i in failed:
            log.warning("instance failed", step=step, error=str(made[i]))
        for env_id in dict.fromkeys(requests[i].env.id for i in failed):
            error = next(str(made[i]) for i in failed if requests[i].env.id == env_id)
            self.curation.retire(env_id, INSTANCE_FAILURE, error[:300])
        return [
            Group(r.env.id, r.level, r.seed, item)
            for r, item in zip(requests, made, strict=True)
            if isinstance(item, Instance)
        ]

    def report(self, results: Iterable[RolloutResult]) -> StepReport:
        """Close the planned step with its scored rollouts; updates controllers and curation."""
        plan = self._pending
        if plan is None:
            raise ScalerError("report() without a planned step: call next_step() first")
        self._trainer_s = time.perf_counter() - self._planned_at
        tally: dict[tuple[str, int, int], list[float]] = {
            (g.env_id, g.level, g.seed): [] for g in plan.groups
        }
        by_env: dict[str, list[tuple[str, int, int]]] = {}
        for key in tally:
            by_env.setdefault(key[0], []).append(key)
        for result in results:
            key = (result.env_id, result.level, result.seed)
            if key not in tally:
                raise ScalerError(
                    f"step {plan.step}: a result for {result.env_id} level {result.level} "
                    f"seed {result.seed}, which is not a group of this step"
                )
            tally[key].append(float(result.acc))
        envs: dict[str, EnvStep] = {}
        accuracy: dict[str, float] = {}
        informative_total = scored_groups = 0
        for env_id, keys in by_env.items():
            accs = [a for k in keys for a in tally[k]]
            scored = [k for k in keys if tally[k]]
            informative = sum(1 for k in scored if 0 < sum(tally[k]) < len(tally[k]))
            informative_total += informative
            scored_groups += len(scored)
            controller = self.controllers[env_id]
            before = controller.difficulty
            acc = sum(accs) / len(accs) if accs else None
            if acc is not None:
                accuracy[env_id] = acc
                controller.update(acc, len(accs), [k[1] for k in scored])
            envs[env_id] = EnvStep(
                difficulty_before=before,
                difficulty=controller.difficulty,
                max_level=controller.max_level,
                levels=tuple(k[1] for k in keys),
                accuracy=acc,
                rollouts=len(accs),
                prompts=len(keys),
                informative_groups=informative,
            )
        self.curation.after_step(plan.step, accuracy, self.controllers)
        self.step = plan.step
        self._pending = None
        all_accs = [a for values in tally.values() for a in values]
        report = StepReport(
            step=plan.step,
            active=plan.active,
            added=plan.added,
            retired=plan.retired,
            envs=envs,
            groups=scored_groups,
            informative_fraction=informative_total / scored_groups if scored_groups else 0.0,
            mean_accuracy=sum(all_accs) / len(all_accs) if all_accs else 0.0,
            instance_wait_s=plan.instance_wait_s,
            step_s=time.perf_counter() - self._started_at,
        )
        self._snapshot = self._capture(accuracy)
        self.plugins.hook.scaler_step_end(report=report)
        return report

    def state(self) -> CurriculumState:
        """The state after the last reported step (a planned, unreported step is not in it)."""
        snapshot = self._snapshot
        return CurriculumState.from_dict(
            {**snapshot, "controllers": dict(snapshot["controllers"]), "pool": dict(self._versions)}
        )

    def _capture(self, changed: Iterable[str]) -> dict[str, Any]:
        """A snapshot that copies only what a step can change: the pool can hold thousands."""
        for env_id in changed:
            self._saved_controllers[env_id] = copy.deepcopy(self.controllers[env_id].state())
        for env_id in self.curation.active:
            if env_id not in self._saved_controllers:
                self._saved_controllers[env_id] = copy.deepcopy(self.controllers[env_id].state())
        return {
            "format": FORMAT,
            "step": self.step,
            "seed": self.config.seed,
            "rng": rng_state(self.rng),
            "controller": {
                "name": self.config.controller,
                "options": dict(self.config.controller_options),
            },
            "curation": {
                "name": self.config.curation,
                "options": dict(self.config.curation_options),
            },
            "controllers": self._saved_controllers,
            "curation_state": self.curation.state(),
        }

    def _restore(self, state: CurriculumState) -> None:
        saved = (state.controller["name"], state.curation["name"])
        if saved != (self.config.controller, self.config.curation):
            raise ConfigError(
                f"the saved curriculum used controller {saved[0]!r} and curation {saved[1]!r}; "
                f"this run asks for {self.config.controller!r} and {self.config.curation!r}"
            )
        changed = sorted(
            env_id
            for env_id, version in state.pool.items()
            if env_id in self.envs and self.envs[env_id].version != version
        )
        missing = sorted(set(state.pool) - set(self.envs))
        if changed or missing:
            raise ScalerError(
                "the pool differs from the one the run was saved with: "
                + "; ".join(
                    part
                    for part in (
                        f"missing {', '.join(missing[:10])}" if missing else "",
                        f"changed {', '.join(changed[:10])}" if changed else "",
                    )
                    if part
                )
            )
        self.step = state.step
        set_rng_state(self.rng, state.rng)
        for env_id, saved_state in state.controllers.items():
            controller = self._new_controller(env_id)
            controller.restore(saved_state)
            self.controllers[env_id] = controller
        self.curation.restore(list(self.envs), state.curation_state or {"active": []})
        self._ensure_controllers()

    def close(self) -> None:
        self.buffer.close()
