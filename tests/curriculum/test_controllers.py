"""Difficulty controllers: the paper's update law, the level mix, and the baselines.

These pin method.md section 4: d <- clip(d + clip(k (acc - tau), -cap, cap), 0, D), and with n
prompts in a step the levels floor(d) and ceil(d) mixed with n_hi = round-half-up(n (d - floor d)).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from fractions import Fraction

import pytest

from scaler.curriculum.controllers import (
    CONTROLLERS,
    Controller,
    EloController,
    FixedController,
    RatchetController,
    ScalerController,
    mix_levels,
)
from scaler.errors import ConfigError
from scaler.plugins import Plugins

EIGHTHS = [i / 8 for i in range(9)]


def test_registry_returns_the_controller_classes() -> None:
    plugins = Plugins.load(environ={})
    expected = {
        "scaler": ScalerController,
        "fixed": FixedController,
        "ratchet": RatchetController,
        "elo": EloController,
    }
    for name, cls in expected.items():
        assert plugins.get(CONTROLLERS, name) is cls
    built = plugins.get(CONTROLLERS, "scaler")(6, tau=0.25)
    assert isinstance(built, ScalerController)
    assert (built.max_level, built.tau, built.difficulty) == (6, 0.25, 0.0)


# --- ScalerController: the update law -------------------------------------------------------


def test_scaler_starts_at_zero_or_at_start() -> None:
    assert ScalerController(10).difficulty == 0.0
    assert ScalerController(10, start=3.5).difficulty == 3.5
    assert ScalerController(10, start=12).difficulty == 10.0


@pytest.mark.parametrize(
    ("acc", "delta"),
    [(0.0, -1.0), (0.25, -0.5), (0.5, 0.0), (0.625, 0.25), (1.0, 1.0), (0.375, -0.25)],
)
def test_scaler_default_law_exact_steps(acc: float, delta: float) -> None:
    controller = ScalerController(10, start=5)
    controller.update(acc, 8, controller.levels(1))
    assert controller.difficulty == 5 + delta


@pytest.mark.parametrize(
    ("options", "acc", "delta"),
    [
        ({"k": 4}, 1.0, 1.0),  # 4 * 0.5 = 2, the cap binds
        ({"k": 4}, 0.0, -1.0),  # -2, the cap binds
        ({"k": 4}, 0.625, 0.5),
        ({"k": 3, "step_cap": 0.5}, 0.75, 0.5),  # 0.75 capped to 0.5
        ({"k": 0.5, "step_cap": 2}, 1.0, 0.25),
        ({"k": 4, "step_cap": 1.5}, 1.0, 1.5),
        ({"tau": 0.75, "k": 1}, 0.25, -0.5),
        ({"tau": 0.25}, 0.5, 0.5),
        ({"tau": 0.25}, 0.25, 0.0),
        ({"k": 0}, 1.0, 0.0),
        ({"step_cap": 0}, 1.0, 0.0),
    ],
)
def test_scaler_law_with_other_k_tau_cap(options: dict, acc: float, delta: float) -> None:
    controller = ScalerController(10, start=5, **options)
    controller.update(acc, 8, controller.levels(1))
    assert controller.difficulty == pytest.approx(5 + delta, abs=1e-12)


@pytest.mark.parametrize(
    ("tau", "k", "cap", "max_level"), [(0.5, 2, 1, 10), (0.3, 5, 0.75, 4), (0.8, 1, 2, 7)]
)
def test_scaler_follows_the_law_over_a_long_sequence(
    tau: float, k: float, cap: float, max_level: int
) -> None:
    rng = random.Random(7)
    controller = ScalerController(max_level, tau=tau, k=k, step_cap=cap)
    expected = 0.0
    for _ in range(200):
        acc = rng.choice(EIGHTHS)
        controller.update(acc, 8, controller.levels(1))
        expected = min(max(expected + min(max(k * (acc - tau), -cap), cap), 0.0), max_level)
        assert controller.difficulty == pytest.approx(expected, abs=1e-9)
        assert 0.0 <= controller.difficulty <= max_level


@pytest.mark.parametrize(
    ("start", "acc", "after"),
    [
        (0.0, 0.0, 0.0),
        (0.5, 0.0, 0.0),  # -1 from 0.5 stops at 0
        (0.25, 0.25, 0.0),
        (10.0, 1.0, 10.0),
        (9.5, 1.0, 10.0),  # +1 from 9.5 stops at D
        (9.75, 0.625, 10.0),
        (10.0, 0.0, 9.0),
    ],
)
def test_scaler_is_clipped_to_zero_and_max(start: float, acc: float, after: float) -> None:
    controller = ScalerController(10, start=start)
    controller.update(acc, 8, controller.levels(1))
    assert controller.difficulty == after
    for _ in range(5):
        controller.update(acc, 8, controller.levels(1))
        assert 0.0 <= controller.difficulty <= 10.0


def test_scaler_ignores_rollouts_and_levels() -> None:
    a, b = ScalerController(10, start=3), ScalerController(10, start=3)
    a.update(0.75, 1, [3])
    b.update(0.75, 64, [9, 9, 9])
    assert a.difficulty == b.difficulty == 3.5


# --- the level mix ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "n", "expected"),
    [
        (2.25, 4, [2, 2, 2, 3]),
        (3.5, 2, [3, 4]),
        (2.5, 1, [3]),  # halves round up
        (0.5, 1, [1]),
        (2.5, 3, [2, 3, 3]),  # 1.5 -> 2 prompts at 3
        (2.4, 1, [2]),
        (4.0, 3, [4, 4, 4]),
        (10.0, 5, [10] * 5),  # d = D: never D + 1
        (9.5, 1, [10]),
        (0.0, 2, [0, 0]),
    ],
)
def test_mix_levels_examples(d: float, n: int, expected: list[int]) -> None:
    levels = mix_levels(d, n, 10)
    assert sorted(levels) == expected


def test_mix_levels_matches_the_rule_over_a_grid() -> None:
    max_level = 5
    for i in range(8 * max_level + 1):
        d = Fraction(i, 8)
        for n in range(1, 10):
            levels = mix_levels(float(d), n, max_level)
            low = math.floor(d)
            assert len(levels) == n
            assert set(levels) <= {low, math.ceil(d)}, (d, n, levels)
            assert max(levels) <= max_level
            n_hi = math.floor(n * (d - low) + Fraction(1, 2))
            assert sum(1 for level in levels if level > low) == n_hi, (d, n, levels)
            if (n * (d - low)).denominator == 1:
                assert sum(levels) == n * float(d), (d, n, levels)
            assert abs(Fraction(sum(levels), n) - d) <= Fraction(1, 2 * n), (d, n, levels)


def test_mix_levels_mean_is_within_half_a_prompt_for_decimal_difficulties() -> None:
    max_level = 6
    for i in range(10 * max_level + 1):
        d = i / 10
        for n in range(1, 10):
            levels = mix_levels(d, n, max_level)
            assert set(levels) <= {math.floor(d), math.ceil(d)}
            assert abs(sum(levels) / n - d) <= 1 / (2 * n) + 1e-9, (d, n, levels)


def test_controller_levels_use_the_mix() -> None:
    controller = ScalerController(6, start=2.25)
    assert sorted(controller.levels(4)) == [2, 2, 2, 3]
    assert controller.levels(1) == [2]
    controller.update(0.875, 8, controller.levels(1))  # +0.75 -> 3.0
    assert controller.levels(3) == [3, 3, 3]
    top = ScalerController(6, start=6)
    assert top.levels(4) == [6] * 4


# --- reachable levels ------------------------------------------------------------------------

CONTROLLER_FACTORIES: dict[str, Callable[[], Controller]] = {
    "scaler": lambda: ScalerController(6),
    "scaler-k4": lambda: ScalerController(6, k=4, step_cap=2.5, tau=0.3),
    "scaler-slow": lambda: ScalerController(6, k=0.5, step_cap=0.25),
    "fixed": lambda: FixedController(6, level=2),
    "ratchet": lambda: RatchetController(6, threshold=0.75, window=8),
    "elo": lambda: EloController(6),
    "elo-steep": lambda: EloController(6, tau=0.7, k=3, scale=0.5, step_cap=1.5),
}


def _copy(controller: Controller, factory: Callable[[], Controller]) -> Controller:
    twin = factory()
    twin.restore(json.loads(json.dumps(controller.state())))
    return twin


@pytest.mark.parametrize("name", sorted(CONTROLLER_FACTORIES))
def test_reachable_levels_cover_every_level_after_one_update(name: str) -> None:
    factory = CONTROLLER_FACTORIES[name]
    rng = random.Random(3)
    controller = factory()
    checked = 0
    for _ in range(40):
        reachable = set(controller.reachable_levels())
        assert reachable <= set(range(controller.max_level + 1))
        for n in range(1, 5):
            played = controller.levels(n)
            assert set(played) <= reachable
            for acc in EIGHTHS:
                twin = _copy(controller, factory)
                twin.update(acc, 8 * n, played)
                for m in range(1, 5):
                    assert set(twin.levels(m)) <= reachable, (name, controller.state(), acc, m)
                    checked += 1
        controller.update(rng.choice(EIGHTHS), 8, controller.levels(1))
    assert checked > 0


def test_scaler_reachable_levels_at_fractional_d_and_bounds() -> None:
    assert list(ScalerController(10, start=4.5).reachable_levels()) == [3, 4, 5, 6]
    assert list(ScalerController(10, start=0).reachable_levels()) == [0, 1]
    assert list(ScalerController(10, start=10).reachable_levels()) == [9, 10]


# --- FixedController -------------------------------------------------------------------------


def test_fixed_never_moves() -> None:
    controller = FixedController(8, level=3)
    for acc in [0.0, 1.0, 1.0, 0.0, 0.5] * 4:
        controller.update(acc, 8, controller.levels(1))
        assert controller.difficulty == 3.0
        assert controller.levels(3) == [3, 3, 3]
    assert list(controller.reachable_levels()) == [3]


def test_fixed_level_is_clipped_to_max_level() -> None:
    controller = FixedController(4, level=9)
    assert controller.difficulty == 4.0
    assert controller.levels(2) == [4, 4]
    assert list(controller.reachable_levels()) == [4]
    assert FixedController(4).difficulty == 0.0


# --- RatchetController -----------------------------------------------------------------------


def _ratchet_run(controller: RatchetController, accs: list[float], rollouts: int) -> list[int]:
    levels = []
    for acc in accs:
        controller.update(acc, rollouts, controller.levels(1))
        levels.append(controller.level)
    return levels


def test_ratchet_moves_only_once_a_full_window_reaches_the_threshold() -> None:
    controller = RatchetController(10, threshold=0.9, window=16)
    assert controller.difficulty == 0.0
    controller.update(1.0, 8, [0])
    assert controller.difficulty == 0.0  # 8 rollouts < window 16: not yet
    controller.update(1.0, 8, [0])
    assert controller.difficulty == 1.0
    # the count starts again at the new level
    controller.update(1.0, 8, [1])
    assert controller.difficulty == 1.0
    controller.update(1.0, 8, [1])
    assert controller.difficulty == 2.0


@pytest.mark.parametrize(("rollouts", "moves_after"), [(4, 4), (16, 1), (5, 4), (32, 1)])
def test_ratchet_waits_for_at_least_window_rollouts(rollouts: int, moves_after: int) -> None:
    controller = RatchetController(10, threshold=0.9, window=16)
    levels = _ratchet_run(controller, [1.0] * moves_after, rollouts)
    assert levels == [0] * (moves_after - 1) + [1]


@pytest.mark.parametrize(
    ("accs", "moves"),
    [
        ([0.75, 0.75], True),  # exactly the threshold: moves
        ([0.75, 0.625], False),  # 11 / 16 < 0.75
        ([1.0, 0.5], True),  # 12 / 16 = 0.75
        ([0.5, 0.875], False),
    ],
)
def test_ratchet_threshold_is_inclusive(accs: list[float], moves: bool) -> None:
    controller = RatchetController(10, threshold=0.75, window=16)
    levels = _ratchet_run(controller, accs, 8)
    assert levels[0] == 0
    assert levels[-1] == (1 if moves else 0)


@pytest.mark.parametrize(
    ("accs", "levels"),
    [
        # the last 16 rollouts (steps 2 and 3) are all right: the 8 wrong ones slid out
        ([0.0, 1.0, 1.0], [0, 0, 1]),
        # the last 16 rollouts are 14 / 16 = 0.875 < 0.9: the 8 right ones of step 1 slid out
        ([1.0, 0.75, 1.0], [0, 0, 0]),
    ],
)
def test_ratchet_window_slides_the_oldest_results_out(accs: list[float], levels: list[int]) -> None:
    """The docstring: "otherwise the oldest results slide out" (a window over recent rollouts)."""
    controller = RatchetController(10, threshold=0.9, window=16)
    assert _ratchet_run(controller, accs, 8) == levels


def test_ratchet_never_goes_down_and_stops_at_max_level() -> None:
    controller = RatchetController(2, threshold=0.5, window=8)
    assert _ratchet_run(controller, [1.0, 1.0], 8) == [1, 2]
    assert _ratchet_run(controller, [1.0] * 10, 8) == [2] * 10
    assert controller.levels(3) == [2, 2, 2]
    assert list(controller.reachable_levels()) == [2]
    falling = RatchetController(5, threshold=0.5, window=8)
    _ratchet_run(falling, [1.0], 8)
    assert _ratchet_run(falling, [0.0] * 10, 8) == [1] * 10


# --- EloController ---------------------------------------------------------------------------


def test_elo_moves_up_on_success_and_down_on_failure() -> None:
    up, down = EloController(10, start=5), EloController(10, start=5)
    up.update(1.0, 8, [5])
    down.update(0.0, 8, [5])
    assert up.difficulty > 5.0 > down.difficulty


def test_elo_moves_more_after_a_surprising_result() -> None:
    def moved(acc: float, level: int) -> float:
        controller = EloController(10, start=5, step_cap=2)  # k = 1.5: the cap never binds
        controller.update(acc, 8, [level])
        return controller.difficulty - 5.0

    assert moved(1.0, 9) > moved(1.0, 1) > 0.0  # success far above d says more
    assert moved(0.0, 1) < moved(0.0, 9) < 0.0  # failure far below d says more
    assert moved(1.0, 7) > moved(1.0, 6) > moved(1.0, 5)


def test_elo_stays_within_zero_and_max_level() -> None:
    rng = random.Random(11)
    for start in (0.0, 0.5, 9.5, 10.0):
        controller = EloController(10, start=start, k=4, step_cap=3)
        for _ in range(200):
            acc = rng.choice([0.0, 1.0, rng.random()])
            controller.update(acc, 8, [rng.randrange(11)])
            assert 0.0 <= controller.difficulty <= 10.0
    low = EloController(10)
    for _ in range(20):
        low.update(0.0, 8, [0])
    assert low.difficulty == 0.0
    for _ in range(2):
        low.update(1.0, 8, [3])
    assert low.difficulty > 0.0  # successes after many failures still move it up


def test_elo_step_is_capped() -> None:
    controller = EloController(10, start=5, k=10, step_cap=0.5)
    controller.update(1.0, 8, [10])
    assert controller.difficulty == pytest.approx(5.5)


# --- state and restore -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CONTROLLER_FACTORIES))
def test_state_round_trips_through_json_and_restores_behaviour(name: str) -> None:
    factory = CONTROLLER_FACTORIES[name]
    rng = random.Random(5)

    def step(controller: Controller, acc: float) -> tuple:
        played = controller.levels(2)
        controller.update(acc, 16, played)
        return (controller.difficulty, controller.levels(1), controller.levels(3), played)

    original = factory()
    for _ in range(10):
        step(original, rng.choice(EIGHTHS))
    saved = json.dumps(original.state())
    restored = factory()
    restored.restore(json.loads(saved))
    assert restored.difficulty == original.difficulty
    assert list(restored.reachable_levels()) == list(original.reachable_levels())
    for _ in range(30):
        acc = rng.choice(EIGHTHS)
        assert step(restored, acc) == step(original, acc)
        assert restored.state() == original.state()
        assert list(restored.reachable_levels()) == list(original.reachable_levels())


def test_restore_carries_the_scaler_difficulty() -> None:
    original = ScalerController(10)
    for acc in (1.0, 1.0, 0.75):
        original.update(acc, 8, original.levels(1))
    fresh = ScalerController(10)
    fresh.restore(json.loads(json.dumps(original.state())))
    assert fresh.difficulty == 2.5


# --- options ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "option", "value"),
    [
        (ScalerController, "tau", 1.5),
        (ScalerController, "tau", -0.1),
        (ScalerController, "k", -1),
        (ScalerController, "step_cap", -0.5),
        (ScalerController, "start", -1),
        (FixedController, "level", -1),
        (RatchetController, "threshold", 1.5),
        (RatchetController, "window", 0),
        (EloController, "tau", 1.0),
        (EloController, "tau", 0.0),
        (EloController, "k", -1),
        (EloController, "scale", 0),
        (EloController, "step_cap", -1),
    ],
)
def test_bad_options_raise_config_error_naming_the_option(
    cls: type[Controller], option: str, value: object
) -> None:
    with pytest.raises(ConfigError) as info:
        cls(8, **{option: value})
    assert info.value.field == option
    assert option in str(info.value)


@pytest.mark.parametrize(
    ("cls", "option", "value"),
    [
        (ScalerController, "tau", "0.5"),
        (ScalerController, "k", "2"),
        (RatchetController, "window", "8"),
        (EloController, "scale", "1"),
    ],
)
def test_options_of_the_wrong_type_raise_config_error(
    cls: type[Controller], option: str, value: object
) -> None:
    """Options come untyped from a config's [controller] table; a string is a user's mistake."""
    with pytest.raises(ConfigError) as info:
        cls(8, **{option: value})
    assert option in str(info.value)
