"""Curation policies: the paper's retirement rules, replacements, and the other policies.

The loop below calls a policy as the scheduler does: ``start(pool, rng)``, then per step
``before_step`` (retire and replace), the controllers' updates, and ``after_step``.
"""

from __future__ import annotations

import json
import random
import statistics
from collections import Counter
from collections.abc import Callable, Mapping

import pytest

from scaler.curriculum.controllers import Controller, FixedController, ScalerController
from scaler.curriculum.curation import (
    CURATION,
    NO_PROGRESS,
    SATURATED,
    ZERO_ACCURACY,
    AllEnvironments,
    Curation,
    ProgressWindow,
    Retirement,
    ScalerWindow,
    slope,
)
from scaler.errors import ConfigError
from scaler.plugins import Plugins

NEVER = 1000  # a k that no test reaches


class Loop:
    """A policy driven the way the scheduler drives it; controllers are made per env on entry."""

    def __init__(
        self,
        policy: Curation,
        pool: list[str],
        make: Callable[[str], Controller] = lambda env: ScalerController(4),
        seed: int = 0,
        start: bool = True,
    ) -> None:
        self.policy = policy
        self.make = make
        self.rng = random.Random(seed)
        self.controllers: dict[str, Controller] = {}
        self.step = 0
        if start:
            policy.start(pool, self.rng)
            self._ensure()

    def _ensure(self) -> None:
        for env_id in self.policy.active:
            if env_id not in self.controllers:
                self.controllers[env_id] = self.make(env_id)

    def before(self) -> tuple[list[Retirement], list[str]]:
        self.step += 1
        retired, added = self.policy.before_step(self.step, self.rng, self.controllers)
        self._ensure()
        return retired, added

    def after(self, accuracy: Mapping[str, float]) -> None:
        for env_id, acc in accuracy.items():
            controller = self.controllers[env_id]
            controller.update(acc, 8, controller.levels(1))
        self.policy.after_step(self.step, dict(accuracy), self.controllers)

    def run(self, acc: Callable[[str], float] | float) -> tuple[list[Retirement], list[str]]:
        """One whole step: every active env plays and gets ``acc`` (a value or env -> value)."""
        retired, added = self.before()
        self.after({e: acc(e) if callable(acc) else acc for e in self.policy.active})
        return retired, added


def with_active(cls: type[ScalerWindow], active: list[str], pool: list[str], **options) -> Curation:
    """A fresh policy whose active set is ``active`` and whose pool is ``pool``."""
    policy = cls(window=len(active), **options)
    policy.start(active, random.Random(0))
    policy.restore(pool, json.loads(json.dumps(policy.state())))
    assert policy.active == active
    return policy


def check_retirement(retirement: Retirement, env_id: str, reason: str, step: int) -> None:
    assert (retirement.env_id, retirement.reason, retirement.step) == (env_id, reason, step)
    assert isinstance(retirement.detail, str)
    assert retirement.detail.strip()
    assert retirement.to_dict() == {
        "env_id": env_id,
        "reason": reason,
        "detail": retirement.detail,
        "step": step,
    }


def test_registry_returns_the_curation_classes() -> None:
    plugins = Plugins.load(environ={})
    assert plugins.get(CURATION, "scaler-window") is ScalerWindow
    assert plugins.get(CURATION, "all") is AllEnvironments
    assert plugins.get(CURATION, "progress-window") is ProgressWindow
    built = plugins.get(CURATION, "scaler-window")(window=3, k_zero=2)
    assert (built.window, built.k_zero, built.k_sat, built.k_slope) == (3, 2, 5, 10)


def test_paper_defaults() -> None:
    policy = ScalerWindow()
    assert (policy.window, policy.k_zero, policy.k_sat, policy.k_slope) == (64, 5, 5, 10)


# --- start -----------------------------------------------------------------------------------


def test_start_draws_a_window_of_distinct_envs() -> None:
    pool = [f"e{i}" for i in range(20)]
    for seed in range(20):
        active = ScalerWindow(window=6).start(pool, random.Random(seed))
        assert len(active) == len(set(active)) == 6
        assert set(active) <= set(pool)
    assert ScalerWindow(window=6).start(pool[:4], random.Random(0)) == pool[:4]


# --- slope -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 2, 4], 1.5),  # x mean 1, y mean 7/3: (4/3 + 5/3) / 2
        ([0, 0, 0, 1], 0.3),  # 1.5 / 5
        ([0, 1, 2, 3], 1.0),
        ([4, 3, 2], -1.0),
        ([3, 3, 3, 3], 0.0),
        ([1, 2, 1], 0.0),
        ([2, 1, 2], 0.0),
        ([5, 7], 2.0),
    ],
)
def test_slope_by_hand(values: list[float], expected: float) -> None:
    assert slope(values) == pytest.approx(expected, abs=1e-12)


def test_slope_matches_least_squares_and_is_positive_for_rising_values() -> None:
    rng = random.Random(2)
    for _ in range(200):
        n = rng.randrange(2, 15)
        values = [rng.uniform(0, 10) for _ in range(n)]
        expected = statistics.linear_regression(range(n), values).slope
        assert slope(values) == pytest.approx(expected, abs=1e-9)
        rising = [0.0]
        for _ in range(n - 1):
            rising.append(rising[-1] + rng.choice([1e-3, 0.25, 1.0, 3.0]))
        assert slope(rising) > 0


# --- the retirement rules --------------------------------------------------------------------


@pytest.mark.parametrize("k_zero", [1, 2, 5])
def test_zero_accuracy_retires_after_exactly_k_zero_steps(k_zero: int) -> None:
    loop = Loop(ScalerWindow(window=1, k_zero=k_zero, k_sat=NEVER, k_slope=NEVER), ["e"])
    for _ in range(k_zero):
        retired, _ = loop.run(0.0)
        assert retired == []  # after k_zero - 1 zero steps (or fewer) it stays
    retired, added = loop.before()
    assert len(retired) == 1
    check_retirement(retired[0], "e", ZERO_ACCURACY, k_zero + 1)
    assert added == []
    assert loop.policy.active == []


def test_zero_accuracy_count_is_reset_by_one_nonzero_step() -> None:
    loop = Loop(ScalerWindow(window=1, k_zero=5, k_sat=NEVER, k_slope=NEVER), ["e"])
    for acc in [0.0, 0.0, 0.0, 0.0, 0.125, 0.0, 0.0, 0.0, 0.0]:
        retired, _ = loop.run(acc)
        assert retired == []
    retired, _ = loop.run(0.001)  # not exactly zero
    assert retired == []
    for _ in range(4):
        retired, _ = loop.run(0.0)
        assert retired == []
    retired, _ = loop.run(0.0)
    assert retired == []
    retired, _ = loop.before()
    check_retirement(retired[0], "e", ZERO_ACCURACY, 16)


@pytest.mark.parametrize("k_sat", [1, 3, 5])
def test_saturated_retires_after_exactly_k_sat_steps_at_max(k_sat: int) -> None:
    policy = ScalerWindow(window=1, k_zero=NEVER, k_sat=k_sat, k_slope=NEVER)
    loop = Loop(policy, ["e"], make=lambda env: FixedController(3, level=3))
    for _ in range(k_sat):
        retired, _ = loop.run(0.5)
        assert retired == []
    retired, _ = loop.before()
    assert len(retired) == 1
    check_retirement(retired[0], "e", SATURATED, k_sat + 1)


def test_saturated_counts_steps_with_d_at_max_after_the_update() -> None:
    policy = ScalerWindow(window=1, k_zero=NEVER, k_sat=5, k_slope=NEVER)
    loop = Loop(policy, ["e"], make=lambda env: ScalerController(3))
    # d after each step: 1 2 3 3 3 3 | 2 | 3 3 3 3 3
    for acc in [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0]:
        retired, _ = loop.run(acc)
        assert retired == []
    assert loop.controllers["e"].difficulty == 3.0
    retired, _ = loop.run(1.0)  # the 5th step at D since the dip
    assert retired == []
    retired, _ = loop.before()
    check_retirement(retired[0], "e", SATURATED, 13)


def test_saturated_needs_the_maximum_not_just_a_high_level() -> None:
    policy = ScalerWindow(window=1, k_zero=NEVER, k_sat=2, k_slope=NEVER)
    loop = Loop(policy, ["e"], make=lambda env: FixedController(3, level=2))
    for _ in range(10):
        retired, _ = loop.run(1.0)
        assert retired == []


@pytest.mark.parametrize("k_slope", [2, 3, 10])
def test_no_progress_retires_once_k_slope_flat_steps_exist(k_slope: int) -> None:
    policy = ScalerWindow(window=1, k_zero=NEVER, k_sat=NEVER, k_slope=k_slope)
    loop = Loop(policy, ["e"], make=lambda env: FixedController(10, level=2))
    for _ in range(k_slope):
        retired, _ = loop.run(0.5)
        assert retired == []  # with k_slope - 1 flat steps (or fewer): not yet
    retired, _ = loop.before()
    assert len(retired) == 1
    check_retirement(retired[0], "e", NO_PROGRESS, k_slope + 1)


@pytest.mark.parametrize(
    ("accs", "retires"),
    [
        ([1.0, 1.0, 0.0], True),  # d 1 2 1: slope exactly 0 retires (<= 0)
        ([1.0, 0.0, 1.0], True),  # d 1 0 1: slope 0
        ([1.0, 1.0, 0.5], False),  # d 1 2 2: slope +0.5
        ([1.0, 1.0, 0.25], False),  # d 1 2 1.5: slope +0.25, though d fell last step
        ([1.0, 1.0, 0.375], False),  # d 1 2 1.75: slope +0.375
        ([1.0, 0.25, 0.25], True),  # d 1 0.5 0: falling
    ],
)
def test_no_progress_uses_the_least_squares_slope(accs: list[float], retires: bool) -> None:
    policy = ScalerWindow(window=1, k_zero=NEVER, k_sat=NEVER, k_slope=3)
    loop = Loop(policy, ["e"], make=lambda env: ScalerController(10))
    ds = []
    for acc in accs:
        retired, _ = loop.run(acc)
        assert retired == []
        ds.append(loop.controllers["e"].difficulty)
    assert (slope(ds) <= 0) == retires
    retired, _ = loop.before()
    assert [r.reason for r in retired] == ([NO_PROGRESS] if retires else [])


def test_strictly_rising_difficulty_is_never_retired_for_no_progress() -> None:
    rng = random.Random(4)
    policy = ScalerWindow(window=1, k_zero=NEVER, k_sat=NEVER, k_slope=4)
    loop = Loop(policy, ["e"], make=lambda env: ScalerController(1000))
    previous = 0.0
    for _ in range(150):
        retired, _ = loop.run(rng.choice([0.5625, 0.625, 0.75, 0.875, 1.0]))
        assert retired == []
        assert loop.controllers["e"].difficulty > previous
        previous = loop.controllers["e"].difficulty


def test_k_slope_of_one_is_rejected_or_handled() -> None:
    """A slope over one point is undefined: refuse k_slope = 1 up front, or never crash on it."""
    try:
        policy = ScalerWindow(window=1, k_zero=NEVER, k_sat=NEVER, k_slope=1)
    except ConfigError as exc:
        assert "k_slope" in str(exc)
        return
    loop = Loop(policy, ["e"], make=lambda env: FixedController(10, level=2))
    loop.run(0.5)
    loop.before()  # must not raise ZeroDivisionError


@pytest.mark.parametrize(
    ("acc", "level", "reason"),
    [
        (0.0, 3, ZERO_ACCURACY),  # zero, saturated and flat all hold
        (1.0, 3, SATURATED),  # saturated and flat hold
        (0.0, 1, ZERO_ACCURACY),  # zero and flat hold
        (0.5, 1, NO_PROGRESS),
    ],
)
def test_rule_priority(acc: float, level: int, reason: str) -> None:
    policy = ScalerWindow(window=1, k_zero=3, k_sat=3, k_slope=3)
    loop = Loop(policy, ["e"], make=lambda env: FixedController(3, level=level))
    for _ in range(3):
        retired, _ = loop.run(acc)
        assert retired == []
    retired, _ = loop.before()
    assert len(retired) == 1  # one retirement, whatever the number of rules that hold
    check_retirement(retired[0], "e", reason, 4)


def test_envs_without_results_keep_their_history() -> None:
    policy = ScalerWindow(window=2, k_zero=2, k_sat=NEVER, k_slope=NEVER)
    loop = Loop(policy, ["a", "b"])
    loop.run(0.0)
    loop.before()
    loop.after({"a": 0.5})  # b not in this step's batch: neither zero nor a reset
    loop.before()
    loop.after({"b": 0.0, "a": 0.5})
    retired, _ = loop.before()
    assert [(r.env_id, r.reason) for r in retired] == [("b", ZERO_ACCURACY)]


# --- replacements ----------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [ScalerWindow, ProgressWindow])
def test_replacement_is_the_only_inactive_env(cls: type[ScalerWindow]) -> None:
    pool = [f"e{i}" for i in range(5)]
    for seed in range(30):
        policy = cls(window=4, k_zero=1, k_sat=NEVER, k_slope=NEVER)
        loop = Loop(policy, pool, seed=seed)
        (spare,) = set(pool) - set(policy.active)
        victim = policy.active[seed % 4]
        index = policy.active.index(victim)
        loop.after({e: 0.0 if e == victim else 0.5 for e in policy.active})
        retired, added = loop.before()
        check_retirement(retired[0], victim, ZERO_ACCURACY, 1)
        assert added == [spare]
        assert policy.active[index] == spare  # the replacement takes the freed slot
        assert sorted(policy.active) == sorted(set(pool) - {victim})


@pytest.mark.parametrize("cls", [ScalerWindow, ProgressWindow])
def test_replacements_never_bring_back_retiring_or_active_envs(cls: type[ScalerWindow]) -> None:
    pool = [f"e{i}" for i in range(12)]
    returns = 0
    for seed in range(40):
        policy = cls(
            window=5,
            k_zero=1,
            k_sat=NEVER,
            k_slope=NEVER,
            **({"cooldown": 2} if cls is ProgressWindow else {}),
        )
        accs = random.Random(1000 + seed)
        loop = Loop(policy, pool, seed=seed)
        ever_retired: set[str] = set()
        for _ in range(15):
            before = list(policy.active)
            retired, added = loop.run(lambda env, accs=accs: accs.choice([0.0, 0.0, 0.5, 1.0]))
            gone = {r.env_id for r in retired}
            assert len(gone) == len(retired)
            assert gone <= set(before)
            assert len(added) == len(set(added)) == len(retired)
            assert not set(added) & gone
            assert not set(added) & (set(before) - gone)
            assert len(policy.active) == len(set(policy.active)) == 5
            assert set(policy.active) == (set(before) - gone) | set(added)
            returns += len(set(added) & ever_retired)
            ever_retired |= gone
    assert returns > 0  # retired envs do come back, just not in the step they retire


def test_replacement_is_uniform_over_the_rest_of_the_pool() -> None:
    pool = ["a", "b", "c", "d", "e", "f"]
    counts: Counter[str] = Counter()
    controllers = {e: ScalerController(4) for e in pool}
    for seed in range(2000):
        policy = with_active(ScalerWindow, ["a", "b"], pool)
        policy.retire("a", "test", "forced")
        _, added = policy.before_step(1, random.Random(seed), controllers)
        counts.update(added)
    assert set(counts) == {"c", "d", "e", "f"}
    for env_id in "cdef":
        assert 420 <= counts[env_id] <= 580, counts  # 500 expected


def test_with_pool_equal_to_window_the_active_set_shrinks() -> None:
    pool = ["a", "b", "c"]
    policy = ScalerWindow(window=3, k_zero=2, k_sat=NEVER, k_slope=NEVER)
    loop = Loop(policy, pool)
    assert sorted(policy.active) == pool
    for _ in range(2):
        loop.run(lambda env: 0.0 if env in ("a", "c") else 0.5)
    retired, added = loop.before()
    assert sorted(r.env_id for r in retired) == ["a", "c"]
    assert added == []
    assert policy.active == ["b"]


def test_two_retirements_with_one_spare_fill_one_slot() -> None:
    policy = with_active(
        ScalerWindow, ["a", "b", "c"], ["a", "b", "c", "d"], k_zero=1, k_sat=NEVER, k_slope=NEVER
    )
    controllers = {e: ScalerController(4) for e in "abcd"}
    policy.after_step(1, {"a": 0.0, "b": 0.0, "c": 0.5}, controllers)
    retired, added = policy.before_step(2, random.Random(0), controllers)
    assert [r.env_id for r in retired] == ["a", "b"]
    assert added == ["d"]
    assert sorted(policy.active) == ["c", "d"]


def test_returning_env_keeps_its_controller_and_starts_a_new_tenure() -> None:
    policy = ScalerWindow(window=1, k_zero=NEVER, k_sat=NEVER, k_slope=3)
    loop = Loop(policy, ["a", "b"], make=lambda env: ScalerController(10))
    first = policy.active[0]
    (other,) = {"a", "b"} - {first}
    controller = loop.controllers[first]
    for acc in [1.0, 1.0, 0.5, 0.5]:  # d 1 2 2 2: the last three are flat
        retired, _ = loop.run(acc)
        assert retired == []
    retired, added = loop.before()
    check_retirement(retired[0], first, NO_PROGRESS, 5)
    assert added == [other]
    loop.after({other: 0.5})
    policy.retire(other, "test", "make room")
    retired, added = loop.before()
    assert [r.env_id for r in retired] == [other]
    assert added == [first]
    assert loop.controllers[first] is controller
    assert controller.difficulty == 2.0  # the curation did not reset it
    assert controller.levels(1) == [2]
    for _ in range(2):
        loop.after({first: 0.5})  # flat again, but the tenure is new
        retired, _ = loop.before()
        assert retired == []
    loop.after({first: 0.5})
    retired, _ = loop.before()
    check_retirement(retired[0], first, NO_PROGRESS, loop.step)


# --- forced retirements and AllEnvironments --------------------------------------------------


def test_all_environments_keeps_every_env_and_never_retires_by_rule() -> None:
    pool = [f"e{i}" for i in range(7)]
    policy = AllEnvironments()
    loop = Loop(policy, pool, make=lambda env: FixedController(2, level=2))
    assert sorted(policy.active) == sorted(pool)
    for _ in range(30):
        retired, added = loop.run(0.0)
        assert (retired, added) == ([], [])
    assert sorted(policy.active) == sorted(pool)


@pytest.mark.parametrize("cls", [AllEnvironments, ScalerWindow, ProgressWindow])
def test_retire_forces_a_retirement_at_the_next_before_step(cls: type[Curation]) -> None:
    pool = ["a", "b", "c"]
    policy = cls() if cls is AllEnvironments else cls(window=2)
    loop = Loop(policy, pool)
    loop.run(0.5)
    target = policy.active[1]
    policy.retire(target, "instance-failure", "the generator raised ValueError")
    policy.retire(target, "instance-failure", "again")  # retired once
    policy.retire("nowhere", "instance-failure", "not active: ignored")
    assert target in policy.active  # nothing happens before the next step
    retired, added = loop.before()
    assert retired == [Retirement(target, "instance-failure", "the generator raised ValueError", 2)]
    assert target not in policy.active
    if cls is AllEnvironments:
        assert added == []
        assert sorted(policy.active) == sorted(set(pool) - {target})
    else:
        (spare,) = set(pool) - {target, policy.active[0]}
        assert added == [spare]
    loop.after({e: 0.5 for e in policy.active})
    assert loop.before() == ([], [])  # a forced retirement happens once


# --- ProgressWindow --------------------------------------------------------------------------


def test_progress_window_never_redraws_saturated_envs_while_others_can_come() -> None:
    pool = [f"e{i}" for i in range(9)]
    for seed in range(10):
        policy = ProgressWindow(window=2, k_zero=NEVER, k_sat=2, k_slope=NEVER)
        loop = Loop(policy, pool, make=lambda env: FixedController(3, level=3), seed=seed)
        seen = set(policy.active)
        saturated: set[str] = set()
        fills_after_exhaustion = 0
        for _ in range(20):
            unseen_before = set(pool) - seen
            retired, added = loop.run(0.5)
            for r in retired:
                assert r.reason == SATURATED
            saturated |= {r.env_id for r in retired}
            assert len(added) == len(retired)  # the window stays full
            for i, env_id in enumerate(added):
                if unseen_before - set(added[:i]):
                    assert env_id in unseen_before, (seed, env_id)
                else:
                    assert env_id in saturated  # all weights 0: still fills the slot
                    fills_after_exhaustion += 1
            seen |= set(added)
            assert len(policy.active) == 2
        assert seen == set(pool)
        assert fills_after_exhaustion > 0


def test_scaler_window_does_redraw_saturated_envs() -> None:
    """The contrast: the paper's uniform draw brings saturated envs back while others exist."""
    pool = [f"e{i}" for i in range(9)]
    redrawn = 0
    for seed in range(10):
        policy = ScalerWindow(window=2, k_zero=NEVER, k_sat=2, k_slope=NEVER)
        loop = Loop(policy, pool, make=lambda env: FixedController(3, level=3), seed=seed)
        seen = set(policy.active)
        for _ in range(6):
            unseen = set(pool) - seen
            _, added = loop.run(0.5)
            redrawn += len([e for e in added if e in seen and unseen])
            seen |= set(added)
    assert redrawn > 0


def _zero_retired_then_draw(seed: int, cooldown: int, wait: int) -> str:
    """z retires for zero accuracy at step 2; ``wait`` steps later the slot is freed again."""
    policy = with_active(
        ProgressWindow,
        ["z"],
        ["z", "u", "v"],
        k_zero=1,
        k_sat=NEVER,
        k_slope=NEVER,
        cooldown=cooldown,
    )
    rng = random.Random(seed)
    controllers = {e: ScalerController(4) for e in ("z", "u", "v")}
    policy.before_step(1, rng, controllers)
    policy.after_step(1, {"z": 0.0}, controllers)
    retired, added = policy.before_step(2, rng, controllers)
    assert [r.reason for r in retired] == [ZERO_ACCURACY]
    assert added[0] in ("u", "v")
    for step in range(3, 2 + wait):
        assert policy.before_step(step, rng, controllers) == ([], [])
        policy.after_step(step, {}, controllers)
    policy.retire(added[0], "test", "free the slot")
    _, again = policy.before_step(2 + wait, rng, controllers)
    return again[0]


def test_progress_window_does_not_redraw_a_zero_accuracy_env_right_away() -> None:
    for seed in range(300):
        assert _zero_retired_then_draw(seed, cooldown=10**6, wait=1) != "z"


@pytest.mark.parametrize(("wait", "share"), [(1, 0.1 / 1.1), (5, 0.5 / 1.5), (10, 0.5), (20, 0.5)])
def test_progress_window_zero_accuracy_env_regains_weight_over_cooldown(
    wait: int, share: float
) -> None:
    draws = [_zero_retired_then_draw(seed, cooldown=10, wait=wait) for seed in range(1200)]
    assert abs(draws.count("z") / len(draws) - share) < 0.04


def test_progress_window_prefers_a_cooling_env_over_saturated_ones() -> None:
    """With weight (step - retired) / cooldown > 0, z beats every saturated env (weight 0)."""
    for seed in range(50):
        policy = with_active(
            ProgressWindow,
            ["z", "s1", "s2", "s3"],
            ["z", "s1", "s2", "s3", "u"],
            k_zero=1,
            k_sat=1,
            k_slope=NEVER,
            cooldown=100,
        )
        rng = random.Random(seed)
        controllers = {e: FixedController(3, level=3) for e in ("s1", "s2", "s3")}
        controllers |= {"z": FixedController(3, level=1), "u": FixedController(3, level=1)}
        policy.before_step(1, rng, controllers)
        policy.after_step(1, {"z": 0.0, "s1": 0.5, "s2": 0.5, "s3": 0.5}, controllers)
        retired, added = policy.before_step(2, rng, controllers)
        assert [r.reason for r in retired] == [ZERO_ACCURACY, SATURATED, SATURATED, SATURATED]
        assert added == ["u"]  # the only candidate; the other slots stay empty
        assert policy.active == ["u"]
        policy.retire("u", "test", "free the slot")
        _, again = policy.before_step(3, rng, controllers)
        assert again == ["z"]


# --- state and restore -----------------------------------------------------------------------

POOL = [f"{kind}{i}" for kind in ("hard", "easy", "flat", "mid") for i in range(4)]


def _acc(env_id: str, step: int) -> float:
    if env_id.startswith("hard"):
        return 0.0
    if env_id.startswith("easy"):
        return 1.0
    if env_id.startswith("flat"):
        return 0.5
    return random.Random(f"{env_id}/{step}").choice([0.0, 0.25, 0.5, 0.625, 0.75, 1.0])


def _advance(loop: Loop, steps: int) -> list:
    log = []
    for _ in range(steps):
        retired, added = loop.before()
        loop.after({e: _acc(e, loop.step) for e in loop.policy.active})
        ds = {e: loop.controllers[e].difficulty for e in loop.policy.active}
        log.append(([r.to_dict() for r in retired], added, list(loop.policy.active), ds))
    return log


POLICIES: dict[str, Callable[[], Curation]] = {
    "scaler-window": lambda: ScalerWindow(window=5, k_zero=3, k_sat=3, k_slope=4),
    "progress-window": lambda: ProgressWindow(window=5, k_zero=3, k_sat=3, k_slope=4, cooldown=6),
    "all": AllEnvironments,
}


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_state_round_trips_and_restore_continues_identically(name: str) -> None:
    factory = POLICIES[name]
    loop = Loop(factory(), POOL, seed=9)
    _advance(loop, 20)
    loop.policy.retire(loop.policy.active[0], "instance-failure", "pending at the checkpoint")
    saved = json.dumps(loop.policy.state())
    controllers = json.dumps({e: c.state() for e, c in loop.controllers.items()})
    rng_state = loop.rng.getstate()

    expected = _advance(loop, 30)
    assert sum(len(retired) for retired, *_ in expected) >= (1 if name == "all" else 5)
    assert expected[0][0][0]["reason"] == "instance-failure"

    policy = factory()
    policy.restore(list(POOL), json.loads(saved))
    resumed = Loop(policy, list(POOL), start=False)
    resumed.rng.setstate(rng_state)
    resumed.step = 20
    for env_id, state in json.loads(controllers).items():
        resumed.controllers[env_id] = loop.make(env_id)
        resumed.controllers[env_id].restore(state)
    assert _advance(resumed, 30) == expected


def test_scaler_window_run_exercises_every_rule() -> None:
    loop = Loop(POLICIES["scaler-window"](), POOL, seed=9)
    reasons = Counter(r["reason"] for retired, *_ in _advance(loop, 50) for r in retired)
    assert reasons[ZERO_ACCURACY] and reasons[SATURATED] and reasons[NO_PROGRESS]


# --- options ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "option", "value"),
    [
        (ScalerWindow, "window", 0),
        (ScalerWindow, "window", "8"),
        (ScalerWindow, "window", 8.0),
        (ScalerWindow, "window", True),
        (ScalerWindow, "k_zero", -1),
        (ScalerWindow, "k_sat", 0),
        (ScalerWindow, "k_slope", 2.5),
        (ProgressWindow, "window", 0),
        (ProgressWindow, "cooldown", 0),
        (ProgressWindow, "cooldown", "50"),
    ],
)
def test_bad_options_raise_config_error_naming_the_option(
    cls: type[Curation], option: str, value: object
) -> None:
    with pytest.raises(ConfigError) as info:
        cls(**{option: value})
    assert info.value.field == option
    assert option in str(info.value)
