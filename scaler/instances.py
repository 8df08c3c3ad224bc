"""(env, level, seed) -> Instance, in batches that cost one parallel round of sandbox calls.

Each instance is one chain in the sandbox (generators are untrusted code): its generator, then
the reference solution on the input the generator produced, in one request to one worker.
Generators get a random source seeded from (env id, level, seed), and the module ``random`` is
seeded the same way (a generator that uses it by mistake stays replayable), so an instance is
a pure function of the environment's content and those two numbers: replayable on any
machine, with any backend.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from scaler.errors import InstanceError, ScalerError
from scaler.model import EnvSpec, Instance, Limits, Program
from scaler.prompts import PROMPTS
from scaler.sandbox.jobs import Chain, Job, JobResult, Sandbox, run_chains
from scaler.verify import canonical_answer, parse_array, parse_number

if TYPE_CHECKING:
    from scaler.registry import PluginSet

#: Generators get generous limits: they build inputs, they are not the thing being timed.
GENERATOR_LIMITS = Limits(cpu_s=10.0, wall_s=20.0, memory_mb=1024, output_bytes=16 * 1024 * 1024)

_HARNESS = """\
import json
import random
import sys

GENERATOR = {source!r}


def main():
    request = json.loads(sys.stdin.read())
    params, seed = request["params"], request["seed"]
    namespace = {{"__name__": "scaler_generator"}}
    exec(compile(GENERATOR, "<generator>", "exec"), namespace)
    random.seed(seed)
    if {official!r}:
        result = namespace["generate_testcase"](dict(params))
    else:
        result = namespace["generate"](dict(params), random.Random(seed))
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError("the generator must return (stdin_text, shown_input), got %r" % (result,))
    stdin_text, shown = result
    if not isinstance(stdin_text, str):
        raise TypeError("stdin_text must be a str, got %s" % type(stdin_text).__name__)
    sys.stdout.write(json.dumps({{"stdin": stdin_text, "shown_input": shown}}))


main()
"""


def harness(generator: Program, contract: str = "native") -> Program:
    """The program that runs a generator for one (params, seed) request read from stdin.

    It prints ``{"stdin": ..., "shown_input": ...}``. Contracts: ``native``
    (``generate(params, rng)``) and ``scaler-official`` (``generate_testcase(params)`` with the
    global ``random`` seeded first).
    """
    if generator.language != "python":
        raise ScalerError(f"generators are Python programs, got {generator.language!r}")
    official = contract == "scaler-official"
    return Program("python", _HARNESS.format(source=generator.source, official=official))


def generator_harness(env: EnvSpec) -> Program:
    """The program that runs an environment's generator for one (params, seed) request."""
    return harness(env.generator, env.generator_contract)


def derive_seed(env_id: str, level: int, seed: int) -> int:
    """Decorrelates levels: seed 7 at level 3 and at level 4 are unrelated inputs."""
    digest = hashlib.sha256(f"{env_id}\0{level}\0{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@attrs.frozen
class Request:
    env: EnvSpec
    level: int
    seed: int


def check_level(env: EnvSpec, level: int) -> None:
    if not 0 <= level <= env.max_level:
        raise ScalerError(
            f"level {level} is out of range for {env.id!r}: levels are 0..{env.max_level}"
        )


def _failure(request: Request, stage: str, result: JobResult) -> str:
    detail = (result.stderr.strip().splitlines() or [""])[-1][:300]
    return (
        f"{request.env.id} level {request.level} seed {request.seed}: {stage} ended with "
        f"{result.status} (exit {result.exit_code}){': ' + detail if detail else ''}"
    )


def answer_problem(output_type: str, answer: str) -> str | None:
    if not answer:
        return "the reference solution printed nothing"
    if output_type == "number" and parse_number(answer) is None:
        return f"the reference solution printed {answer[:80]!r}, not a number"
    if output_type == "array" and parse_array(answer) is None:
        return f"the reference solution printed {answer[:80]!r}, not an array of numbers"
    if output_type == "string" and len(answer.split()) != 1:
        return f"the reference solution printed {answer[:80]!r}, not a single token"
    return None


class InstanceFactory:
    """Materializes instances through a sandbox; the prompt template is a plugin."""

    def __init__(self, sandbox: Sandbox, plugins: PluginSet, prompt: str = "scaler") -> None:
        self.sandbox = sandbox
        self.plugins = plugins
        self.render = plugins.get(PROMPTS, prompt)
        self._harnesses: dict[str, Program] = {}

    def _harness(self, env: EnvSpec) -> Program:
        if env.version not in self._harnesses:
            self._harnesses[env.version] = generator_harness(env)
        return self._harnesses[env.version]

    def make(self, requests: Sequence[Request]) -> list[Instance]:
        """One instance per request, in order; any failure raises InstanceError naming all."""
        made = self.make_each(requests)
        errors = [str(item) for item in made if isinstance(item, InstanceError)]
        if errors:
            raise InstanceError("; ".join(errors))
        return [item for item in made if isinstance(item, Instance)]

    def make_each(self, requests: Sequence[Request]) -> list[Instance | InstanceError]:
        """One result per request, in order: the instance, or the error that stopped it.

        A training run uses this form: one bad seed should cost one prompt, not the step.
        """
        for request in requests:
            check_level(request.env, request.level)
        chains = [
            Chain(
                (
                    Job(
                        self._harness(r.env),
                        json.dumps(
                            {
                                "params": r.env.params_at(r.level),
                                "seed": derive_seed(r.env.id, r.level, r.seed),
                            }
                        ),
                        GENERATOR_LIMITS,
                    ),
                    Job(r.env.solutions[0], "", r.env.limits),
                )
            )
            for r in requests
        ]
        results: list[Instance | InstanceError] = []
        for request, ran in zip(requests, run_chains(self.sandbox, chains), strict=True):
            results.append(self._made(request, ran))
        instances = [item for item in results if isinstance(item, Instance)]
        if instances:
            self.plugins.hook.scaler_instances_generated(instances=instances)
        return results

    def _made(self, request: Request, ran: list[JobResult]) -> Instance | InstanceError:
        """The instance from its chain's results (generator, then reference solution)."""
        where = f"{request.env.id} level {request.level} seed {request.seed}"
        if not ran[0].ok:
            return InstanceError(_failure(request, "the generator", ran[0]))
        try:
            data = json.loads(ran[0].stdout)
        except json.JSONDecodeError:
            return InstanceError(f"{where}: the generator harness printed invalid JSON")
        if len(ran) < 2:
            return InstanceError(f"{where}: the generator harness printed no stdin")
        return self._instance(request, data, ran[1])

    def _instance(
        self, request: Request, data: dict[str, Any], result: JobResult
    ) -> Instance | InstanceError:
        env = request.env
        if not result.ok:
            return InstanceError(_failure(request, "the reference solution", result))
        answer = canonical_answer(env.output_type, result.stdout)
        problem = answer_problem(env.output_type, answer)
        if problem:
            return InstanceError(f"{env.id} level {request.level} seed {request.seed}: {problem}")
        return Instance(
            env_id=env.id,
            env_version=env.version,
            level=request.level,
            seed=request.seed,
            params=env.params_at(request.level),
            stdin=data["stdin"],
            shown_input=data["shown_input"],
            answer=answer,
            output_type=env.output_type,
            messages=tuple(self.render(env, data["shown_input"])),
        )

    def sample(self, env: EnvSpec, level: int, seed: int, n: int = 1) -> list[Instance]:
        """``n`` instances of one env at one level, seeds ``seed .. seed + n - 1``."""
        return self.make([Request(env, level, seed + i) for i in range(n)])
