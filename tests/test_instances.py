from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import attrs
import pytest

from scaler import hookimpl
from scaler.errors import InstanceError, ScalerError
from scaler.instances import InstanceFactory, Request, derive_seed
from scaler.model import ENVIRONMENTS, EnvSpec, Program
from scaler.plugins import Plugins
from scaler.prompts import SYSTEM_PROMPT
from scaler.sandbox.jobs import Job, JobResult
from tests.test_model import make_env

DOUBLE = make_env(
    generator=Program(
        "python",
        "def generate(params, rng):\n"
        "    n = rng.randint(1, params['n'])\n"
        "    return f'{n}\\n', {'n': n}\n",
    ),
    solutions=(Program("python", "print(2 * int(input()))"),),
)


class CountingSandbox:
    """Wraps the real sandbox to count rounds, so batching is observable."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.batches: list[int] = []

    def run_batch(self, jobs: Sequence[Job]) -> list[JobResult]:
        self.batches.append(len(jobs))
        return self.inner.run_batch(jobs)

    def close(self) -> None:
        pass


def test_batch_costs_two_parallel_rounds(sandbox: Any, plugins: Plugins) -> None:
    counting = CountingSandbox(sandbox)
    instances = InstanceFactory(counting, plugins).sample(DOUBLE, 2, 0, n=12)
    assert counting.batches == [12, 12]
    for instance in instances:
        assert instance.answer == str(2 * instance.shown_input["n"])
        assert instance.params == {"n": 100}
    assert len({i.stdin for i in instances}) > 1


def test_instance_fields_and_prompt(sandbox: Any, plugins: Plugins) -> None:
    (instance,) = InstanceFactory(sandbox, plugins).sample(DOUBLE, 1, 7)
    assert (instance.env_id, instance.level, instance.seed) == ("double", 1, 7)
    assert instance.env_version == DOUBLE.version
    system, user = instance.messages
    assert system == {"role": "system", "content": SYSTEM_PROMPT}
    content = user["content"]
    assert content.startswith("# Double Problem Description:\nGiven n, print 2n.")
    assert f"# Input Instance:\n{json.dumps(instance.shown_input)}" in content
    assert "# Instruction\nPrint one integer." in content
    assert instance.extra_info["answer"] == instance.answer


def test_same_request_same_bytes_different_seed_differs(sandbox: Any, plugins: Plugins) -> None:
    factory = InstanceFactory(sandbox, plugins)
    first = factory.make([Request(DOUBLE, 2, s) for s in range(8)])
    again = factory.make([Request(DOUBLE, 2, s) for s in range(8)])
    assert [i.to_dict() for i in first] == [i.to_dict() for i in again]
    assert len({i.stdin for i in first}) > 1
    assert derive_seed("double", 2, 0) != derive_seed("double", 3, 0)


def test_official_contract_is_seeded(sandbox: Any, plugins: Plugins) -> None:
    env = attrs.evolve(
        DOUBLE,
        generator_contract="scaler-official",
        generator=Program(
            "python",
            "from random import *\nimport random\n"
            "def generate_testcase(json_obj):\n"
            "    n = randint(1, json_obj['n']) + random.randint(0, 0)\n"
            "    return f'{n}\\n', {'n': n}\n",
        ),
    )
    factory = InstanceFactory(sandbox, plugins)
    runs = [[i.stdin for i in factory.sample(env, 2, 0, n=6)] for _ in range(2)]
    assert runs[0] == runs[1] and len(set(runs[0])) > 1


def test_level_out_of_range(sandbox: Any, plugins: Plugins) -> None:
    with pytest.raises(ScalerError, match=r"level 3 is out of range for 'double': levels are 0..2"):
        InstanceFactory(sandbox, plugins).sample(DOUBLE, 3, 0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {
                "generator": Program(
                    "python", "def generate(params, rng):\n    raise ValueError('no')\n"
                )
            },
            r"double level 0 seed 0: the generator ended with runtime-error .*ValueError: no",
        ),
        (
            {"generator": Program("python", "def generate(params, rng):\n    return 5\n")},
            "must return",
        ),
        (
            {"solutions": (Program("cpp", "int main( { return 0; }"),)},
            "the reference solution ended with compile-error",
        ),
        (
            {"solutions": (Program("python", "print('many words here')"),)},
            "not a number",
        ),
    ],
)
def test_failures_name_env_level_seed_and_stage(
    sandbox: Any, plugins: Plugins, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(InstanceError, match=message):
        InstanceFactory(sandbox, plugins).sample(attrs.evolve(DOUBLE, **changes), 0, 0)


def test_instances_generated_event(sandbox: Any) -> None:
    seen: list[list[str]] = []

    class Observer:
        @hookimpl
        def scaler_instances_generated(self, instances: list[Any]) -> None:
            seen.append([i.env_id for i in instances])

    plugins = Plugins.load(environ={"SCALER_LOAD_PLUGINS": ""})
    plugins.register(Observer(), "observer")
    InstanceFactory(sandbox, plugins).sample(DOUBLE, 0, 0, n=3)
    assert seen == [["double"] * 3]


def sample_in_fresh_process(env_id: str, level: int, seed: int) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scaler",
            "envs",
            "sample",
            env_id,
            "--level",
            str(level),
            "--seed",
            str(seed),
            "-n",
            "3",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.mark.parametrize("env_id", ["lis-length", "josephus-order", "minimal-rotation"])
def test_two_processes_give_identical_json(env_id: str) -> None:
    first = sample_in_fresh_process(env_id, 2, 11)
    assert first == sample_in_fresh_process(env_id, 2, 11)
    assert json.loads(first)[0]["env_id"] == env_id


def test_builtin_envs_are_env_specs(plugins: Plugins) -> None:
    envs = plugins.registry(ENVIRONMENTS)
    assert all(isinstance(e.obj, EnvSpec) for e in envs.values())
