"""Accuracy of a policy per environment and level, and the level where it stops coping.

For each environment and level, instances at seeds ``seed .. seed + n - 1`` are asked once each
(k = 1) and verified. With n around 8, a raw accuracy is noisy, so every accuracy comes with a
Wilson 95% interval (which, unlike the normal approximation, stays inside [0, 1] and is not
degenerate at 0/n or n/n).

The **frontier** of an environment is found by scanning the evaluated levels upward from the
lowest: it is the last level of the unbroken run whose accuracy is >= 0.5, and None when the
lowest evaluated level is already below 0.5. A scan, not an interpolated crossing, because
accuracy over levels is noisy and not always monotone; a lucky high level after a failed one
should not move the frontier up.

Evaluations of a real model take hours, so every scored instance is appended to a JSONL results
file as soon as its call is verified, and a second run with the same file asks only what the
file lacks: a killed run resumes where it stopped. Calls hold whole (env, level) groups (up to
``batch`` prompts), so a kill loses only the groups of the call in flight: one group where
``batch`` is at most ``n``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from scaler.errors import ScalerError
from scaler.instances import InstanceFactory, Request, check_level
from scaler.model import EnvSpec
from scaler.verify import verify

if TYPE_CHECKING:
    from scaler.evaluate.policies import Policy
    from scaler.registry import PluginSet

#: z for a two-sided 95% interval.
Z95 = 1.959963984540054

#: The accuracy an environment's frontier level must reach.
FRONTIER_ACCURACY = 0.5

#: Instances asked per call of the policy at most: enough to keep a server busy or a batched
#: policy's rows full, few enough that a killed run loses little (results are written after
#: each call).
DEFAULT_BATCH = 64

#: A results-file line's identity: (env id, env version, level, seed).
Key = tuple[str, str, int, int]


def wilson_interval(correct: float, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of ``correct`` successes in ``n`` trials; (0, 1) for n = 0."""
    if n <= 0:
        return 0.0, 1.0
    p = correct / n
    denominator = 1.0 + z * z / n
    center = (p + z * z / (2 * n)) / denominator
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, center - margin), min(1.0, center + margin)


def frontier_level(accuracies: Mapping[int, float]) -> int | None:
    """The last level of the unbroken run, from the lowest level up, with accuracy >= 0.5."""
    frontier = None
    for level in sorted(accuracies):
        if accuracies[level] < FRONTIER_ACCURACY:
            break
        frontier = level
    return frontier


@attrs.frozen
class LevelResult:
    level: int
    n: int
    correct: float
    acc: float
    low: float
    high: float
    #: Mean response length in characters: a cheap signal of truncation or rambling.
    mean_response_chars: float

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class EnvResult:
    env_id: str
    env_version: str
    levels: tuple[LevelResult, ...]
    frontier: int | None

    @property
    def acc(self) -> float:
        """Mean accuracy over the evaluated levels (each level weighs the same)."""
        return sum(r.acc for r in self.levels) / len(self.levels) if self.levels else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "env_id": self.env_id,
            "env_version": self.env_version,
            "acc": self.acc,
            "frontier": self.frontier,
            "levels": [r.to_dict() for r in self.levels],
        }


@attrs.frozen
class EnvEvaluation:
    policy: str
    settings: dict[str, Any]
    n: int
    seed: int
    envs: tuple[EnvResult, ...]
    #: Instances asked of the policy in this run, and those taken from the results file.
    asked: int
    resumed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "settings": self.settings,
            "n": self.n,
            "seed": self.seed,
            "k": 1,
            "frontier_rule": f"last level of the run from the lowest with acc >= "
            f"{FRONTIER_ACCURACY}",
            "asked": self.asked,
            "resumed": self.resumed,
            "envs": [e.to_dict() for e in self.envs],
        }


def normalized_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings as they read back from JSON, so a fresh run compares equal to a stored one."""
    try:
        normalized: dict[str, Any] = json.loads(json.dumps(dict(settings), sort_keys=True))
    except (TypeError, ValueError) as exc:
        raise ScalerError(f"the policy's settings are not JSON-serializable: {exc}") from exc
    return normalized


def result_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) of a results file; a torn last line (a killed run) is skipped."""
    if not path.exists():
        return
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ScalerError(f"{path}: cannot read the results: {exc.strerror}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            if number == len(lines):
                return
            raise ScalerError(f"{path}, line {number}: not valid JSON ({exc.msg})") from exc


def read_results(path: Path, policy: str, settings: Mapping[str, Any]) -> dict[Key, dict[str, Any]]:
    """The scored instances a results file already holds, by (env, version, level, seed).

    A run killed while writing leaves a partial last line; it is skipped (and asked again).
    A file written for another policy or other settings is refused rather than mixed in.
    """
    records: dict[Key, dict[str, Any]] = {}
    for number, data in result_lines(path):
        try:
            key = (
                str(data["env"]),
                str(data["env_version"]),
                int(data["level"]),
                int(data["seed"]),
            )
            float(data["acc"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ScalerError(f"{path}, line {number}: not a results line ({exc})") from exc
        if data.get("policy") != policy or data.get("settings") != settings:
            raise ScalerError(
                f"{path}, line {number}: results of policy {data.get('policy')!r} with "
                f"settings {data.get('settings')!r}, not {policy!r} with {settings!r}; "
                "use one results file per policy and settings"
            )
        records[key] = data
    return records


def append_lines(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """Appends whole lines, first dropping a partial last line a killed run may have left.

    ``read_results`` skipped that line (its instance is asked again), and cutting it keeps
    every line of the file whole for the next run.
    """
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if not text:
        return
    with path.open("a+b") as handle:
        size = handle.seek(0, 2)
        if size:
            handle.seek(size - 1)
            if handle.read(1) != b"\n":
                # Only after a kill: the file is read whole to find the last complete line.
                handle.seek(0)
                handle.truncate(handle.read().rfind(b"\n") + 1)
        handle.write(text.encode("utf-8"))
        handle.flush()


def evaluate_envs(
    policy: Policy,
    envs: Sequence[EnvSpec],
    factory: InstanceFactory,
    plugins: PluginSet,
    levels: Sequence[int] | None = None,
    n: int = 8,
    seed: int = 0,
    results_path: str | Path | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    batch: int = DEFAULT_BATCH,
) -> EnvEvaluation:
    """Ask ``policy`` instances of every env at every level in ``levels`` (default: all levels).

    ``on_result`` gets each newly scored results line (progress; the library does not print).
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ScalerError(f"n must be a whole number >= 1, got {n!r}")
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise ScalerError(f"batch must be a whole number >= 1, got {batch!r}")
    ids = [env.id for env in envs]
    if len(set(ids)) != len(ids):
        raise ScalerError(f"an environment is listed twice: {ids}")
    plan: dict[str, list[int]] = {}
    for env in envs:
        chosen = sorted(set(levels)) if levels is not None else list(range(env.max_level + 1))
        for level in chosen:
            check_level(env, level)
        plan[env.id] = chosen

    settings = normalized_settings(policy.settings)
    path = Path(results_path) if results_path is not None else None
    records = read_results(path, policy.name, settings) if path is not None else {}
    wanted = [
        Request(env, level, s)
        for env in envs
        for level in plan[env.id]
        for s in range(seed, seed + n)
    ]
    pending = [r for r in wanted if (r.env.id, r.env.version, r.level, r.seed) not in records]
    resumed = len(wanted) - len(pending)

    for chunk in calls(pending, batch):
        instances = factory.make(chunk)
        answers = policy.generate([i.messages for i in instances], 1)
        if len(answers) != len(instances) or any(len(a) < 1 for a in answers):
            raise ScalerError(
                f"policy {policy.name!r} returned {len(answers)} answer lists for "
                f"{len(instances)} prompts"
            )
        fresh: list[dict[str, Any]] = []
        for instance, samples in zip(instances, answers, strict=True):
            response = samples[0]
            verdict = verify(response, instance, plugins)
            fresh.append(
                {
                    "env": instance.env_id,
                    "env_version": instance.env_version,
                    "level": instance.level,
                    "seed": instance.seed,
                    "acc": verdict.acc,
                    "extracted": verdict.extracted,
                    "reason": verdict.reason,
                    "response_chars": len(response),
                    "response": response,
                    "policy": policy.name,
                    "settings": settings,
                }
            )
        if path is not None:
            append_lines(path, fresh)
        for record in fresh:
            records[(record["env"], record["env_version"], record["level"], record["seed"])] = (
                record
            )
            if on_result is not None:
                on_result(record)

    results = []
    for env in envs:
        per_level = []
        for level in plan[env.id]:
            scored = [records[(env.id, env.version, level, s)] for s in range(seed, seed + n)]
            correct = sum(float(r["acc"]) for r in scored)
            low, high = wilson_interval(correct, n)
            chars = sum(int(r.get("response_chars", 0)) for r in scored) / n
            per_level.append(LevelResult(level, n, correct, correct / n, low, high, chars))
        frontier = frontier_level({r.level: r.acc for r in per_level})
        results.append(EnvResult(env.id, env.version, tuple(per_level), frontier))
    return EnvEvaluation(
        policy.name, settings, n, seed, tuple(results), asked=len(pending), resumed=resumed
    )


def calls(pending: Sequence[Request], batch: int) -> Iterator[list[Request]]:
    """``pending`` (in env, level, seed order) as the policy's calls: whole (env, level) groups
    packed up to ``batch`` prompts (a larger group split into calls of ``batch``), so that a
    killed evaluation loses only the groups of the call in flight, never part of one before."""
    chunk: list[Request] = []
    for group in by_group(pending):
        if chunk and len(chunk) + len(group) > batch:
            yield chunk
            chunk = []
        while len(group) > batch:
            yield group[:batch]
            group = group[batch:]
        chunk.extend(group)
    if chunk:
        yield chunk


def by_group(requests: Sequence[Request]) -> Iterator[list[Request]]:
    """Runs of ``requests`` of the same (env, level)."""
    run: list[Request] = []
    for request in requests:
        if run and (request.env.id, request.level) != (run[-1].env.id, run[-1].level):
            yield run
            run = []
        run.append(request)
    if run:
        yield run


def render_markdown(evaluation: EnvEvaluation) -> str:
    """A summary table (one row per env) and a detail table (one row per env and level)."""
    settings = ", ".join(f"{k}={v}" for k, v in sorted(evaluation.settings.items()))
    lines = [
        f"Policy `{evaluation.policy}` ({settings}); n={evaluation.n} per level from seed "
        f"{evaluation.seed}, k=1; frontier: last level from the lowest with acc >= "
        f"{FRONTIER_ACCURACY}.",
        "",
        "| env | version | mean acc | frontier |",
        "|---|---|---:|---:|",
    ]
    for env in evaluation.envs:
        frontier = "-" if env.frontier is None else str(env.frontier)
        lines.append(f"| {env.env_id} | {env.env_version} | {env.acc:.3f} | {frontier} |")
    lines += [
        "",
        "| env | level | n | acc | 95% CI | mean chars |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for env in evaluation.envs:
        for r in env.levels:
            lines.append(
                f"| {env.env_id} | {r.level} | {r.n} | {r.acc:.3f} | "
                f"[{r.low:.3f}, {r.high:.3f}] | {r.mean_response_chars:.0f} |"
            )
    return "\n".join(lines) + "\n"
