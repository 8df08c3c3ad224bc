from __future__ import annotations

import json
import math
import random
from collections import Counter

import pytest

from scaler.curriculum.simulator import (
    PROFILES,
    SimulatedLearner,
    SimulateTrainer,
    profile,
    wrong_answer,
)
from scaler.errors import ConfigError
from scaler.model import Instance
from scaler.plugins import Plugins
from scaler.verify import verify


def _instance(answer: str, output_type: str) -> Instance:
    return Instance(
        env_id="e",
        env_version="v",
        level=0,
        seed=0,
        params={},
        stdin="",
        shown_input="",
        answer=answer,
        output_type=output_type,
        messages=(),
    )


def test_profiles_follow_their_shares_and_are_stable() -> None:
    kinds = Counter(profile(0, f"env-{i}", 20).kind for i in range(4000))
    for kind, share in PROFILES.items():
        assert abs(kinds[kind] / 4000 - share) < 0.03, kind
    assert profile(0, "a", 20) == profile(0, "a", 20)
    assert any(profile(0, f"e{i}", 20) != profile(1, f"e{i}", 20) for i in range(10))


def test_profile_traits() -> None:
    by_kind = {}
    for i in range(400):
        traits = profile(0, f"env-{i}", 20)
        by_kind.setdefault(traits.kind, traits)
        assert traits.start <= traits.ceiling or traits.kind == "unlearnable"
    assert by_kind["unlearnable"].rate == 0 and by_kind["unlearnable"].start < -3
    assert by_kind["saturating"].ceiling > 20
    assert by_kind["stalling"].ceiling - by_kind["stalling"].start <= 1.5
    assert by_kind["learnable"].ceiling <= 0.9 * 20


def test_probability_is_logistic_in_skill_minus_level() -> None:
    learner = SimulatedLearner(temperature=0.5)
    learner.skill["a"] = 3.0
    assert learner.p_correct("a", 20, 3) == pytest.approx(0.5)
    assert learner.p_correct("a", 20, 4) == pytest.approx(1 / (1 + math.exp(2)))
    assert learner.p_correct("a", 20, 0) > 0.99


def test_learning_comes_only_from_groups_that_disagree() -> None:
    learner = SimulatedLearner()
    traits = learner.profile("env-1", 20)
    learner.skill["env-1"] = start = min(traits.start, traits.ceiling - 1)
    for accuracy in (0.0, 1.0):
        learner.learn("env-1", 20, accuracy)
        assert learner.skill["env-1"] == start
    learner.learn("env-1", 20, 0.5)
    assert learner.skill["env-1"] == pytest.approx(min(traits.ceiling, start + traits.rate))
    for _ in range(1000):
        learner.learn("env-1", 20, 0.5)
    assert learner.skill["env-1"] == traits.ceiling


@pytest.mark.parametrize(
    ("answer", "output_type"),
    [("42", "number"), ("0", "number"), ("1 2 3", "array"), ("abc", "string"), ("a", "string")],
)
def test_wrong_answers_are_scored_wrong_by_the_real_verifier(
    answer: str, output_type: str, plugins: Plugins
) -> None:
    instance = _instance(answer, output_type)
    rng = random.Random(0)
    for _ in range(50):
        response = f"\\boxed{{{wrong_answer(instance, rng)}}}"
        assert verify(response, instance, plugins).acc == 0.0
    assert verify(f"\\boxed{{{answer}}}", instance, plugins).acc == 1.0


def test_answers_follow_the_probability() -> None:
    learner = SimulatedLearner(seed=3)
    instance = _instance("7", "number")
    right = sum("\\boxed{7}" in learner.answer(instance, 0.3) for _ in range(4000))
    assert abs(right / 4000 - 0.3) < 0.03


def test_state_round_trip_continues_identically() -> None:
    first = SimulatedLearner(seed=5)
    instance = _instance("9", "number")
    for level in range(5):
        first.learn("x", 20, first.p_correct("x", 20, level))
        first.answer(instance, 0.5)
    second = SimulatedLearner(seed=5)
    second.restore(json.loads(json.dumps(first.state())))
    assert [first.answer(instance, 0.5) for _ in range(20)] == [
        second.answer(instance, 0.5) for _ in range(20)
    ]
    assert first.state() == second.state()
    assert first.gained() == pytest.approx(first.skill["x"] - first.start["x"])
    assert first.gained() > 0
    with pytest.raises(ConfigError, match="seed"):
        SimulatedLearner(seed=6).restore(first.state())


@pytest.mark.parametrize(
    ("options", "field"),
    [({"temperature": 0}, "temperature"), ({"rollouts": 0}, "rollouts"),
     ({"generation_s": -1}, "generation_s")],
)  # fmt: skip
def test_bad_options_name_the_field(options: dict[str, float], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        SimulateTrainer(**options)
    assert caught.value.field == field
