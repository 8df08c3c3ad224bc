"""LLM clients for synthesis: the interface, recordings, and replaying them.

A client answers one request at a time and is called from several threads at once (the
pipeline overlaps LLM calls with sandbox work). Clients are registered by name through
``scaler_register_llms`` as factories ``factory(model, **options)`` and chosen on the command
line as ``--llm NAME:MODEL``.

Every request names the problem, the stage (``extract``, ``generator``, ``repair``) and the
attempt (from 0 per problem and stage), which is also the key of a recording: a JSONL file of
``{"problem_id", "stage", "attempt", "response"}`` lines. Any client can write one
(``Recorder``); the ``replay`` client answers from one, which is how the tests run the whole
pipeline offline, with answers recorded, not invented.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import attrs

from scaler.errors import ConfigError, ScalerError
from scaler.registry import Kind


def number_option(name: str, value: Any, *, minimum: float, strict: bool) -> float:
    """A client option that must be a finite number above (or at) ``minimum``."""
    # abs() <= the largest float refuses NaN, the infinities and ints no float can hold.
    ok = (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and abs(value) <= sys.float_info.max
    )
    if not ok or value < minimum or (strict and value == minimum):
        bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
        raise ConfigError(f"must be a number {bound}, got {value!r}", field=name)
    return float(value)


def whole_option(name: str, value: Any, *, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"must be a whole number >= {minimum}, got {value!r}", field=name)
    return value


def check_sampling(
    temperature: Any, top_p: Any, max_tokens: Any
) -> tuple[float, float | None, int | None]:
    """The sampling options every LLM client and evaluation policy takes, checked alike:
    temperature >= 0, top_p in (0, 1] or None, max_tokens >= 1 or None."""
    temperature = number_option("temperature", temperature, minimum=0, strict=False)
    if top_p is not None:
        top_p = number_option("top_p", top_p, minimum=0, strict=True)
        if top_p > 1:
            raise ConfigError(f"must be a number in (0, 1], got {top_p!r}", field="top_p")
    if max_tokens is not None:
        max_tokens = whole_option("max_tokens", max_tokens, minimum=1)
    return temperature, top_p, max_tokens


STAGES = ("extract", "generator", "repair")


class LLMError(ScalerError):
    """A request could not be answered (after the client's retries)."""


@attrs.frozen
class LLMRequest:
    problem_id: str
    stage: str
    attempt: int
    #: Chat messages: ``{"role": "system" | "user" | "assistant", "content": str}``.
    messages: tuple[Mapping[str, str], ...]


@attrs.frozen
class Completion:
    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class LLMClient(Protocol):
    model: str

    def complete(self, request: LLMRequest) -> Completion:
        """The model's answer; raises LLMError when there is none. Safe to call from threads."""

    def close(self) -> None: ...


#: What the registries hold: ``factory(model, **options) -> LLMClient``.
LLMFactory = Callable[..., LLMClient]
#: LLM clients for synthesis (``scaler_register_llms``), chosen with ``--llm NAME:MODEL``.
LLMS: Kind[LLMFactory] = Kind("llms", "LLM client")


def parse_llm_spec(spec: str) -> tuple[str, str]:
    """``NAME:MODEL`` -> (name, model); the model part may itself hold colons (paths, tags)."""
    name, sep, model = spec.partition(":")
    if not sep or not name or not model:
        raise ScalerError(
            f"--llm {spec!r}: expected NAME:MODEL, e.g. openai:Qwen/Qwen3-8B or "
            "replay:recordings.jsonl"
        )
    return name, model


def _record_key(data: Any, where: str) -> tuple[str, str, int]:
    if not isinstance(data, dict):
        raise ScalerError(f"{where}: a recording line must be a JSON object")
    problem_id, stage, attempt = data.get("problem_id"), data.get("stage"), data.get("attempt")
    if not isinstance(problem_id, str) or not problem_id:
        raise ScalerError(f"{where}: field 'problem_id' must be a non-empty string")
    if stage not in STAGES:
        raise ScalerError(f"{where}: field 'stage' must be one of {', '.join(STAGES)}")
    if not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 0:
        raise ScalerError(f"{where}: field 'attempt' must be a whole number >= 0")
    if not isinstance(data.get("response"), str):
        raise ScalerError(f"{where}: field 'response' must be a string")
    return problem_id, stage, attempt


def read_recording(path: str | Path) -> dict[tuple[str, str, int], Completion]:
    file = Path(path)
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ScalerError(f"{file}: cannot read the recording: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ScalerError(f"{file}: not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    answers: dict[tuple[str, str, int], Completion] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{file}, line {number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ScalerError(f"{where}: not valid JSON ({exc.msg})") from exc
        except RecursionError as exc:
            raise ScalerError(f"{where}: JSON nested too deeply to read") from exc
        key = _record_key(data, where)
        if key in answers:
            raise ScalerError(f"{where}: a second answer for {key}")
        answers[key] = Completion(
            data["response"], data.get("prompt_tokens"), data.get("completion_tokens")
        )
    return answers


class ReplayClient:
    """``replay:FILE``: answers recorded earlier (by ``--record`` or written for tests)."""

    def __init__(self, model: str, **options: Any) -> None:
        if options:
            raise ScalerError(f"replay takes no options, got {', '.join(options)}")
        self.model = model
        self.answers = read_recording(model)

    def complete(self, request: LLMRequest) -> Completion:
        key = (request.problem_id, request.stage, request.attempt)
        if key not in self.answers:
            raise LLMError(
                f"{self.model}: no recorded answer for problem {request.problem_id!r}, "
                f"stage {request.stage}, attempt {request.attempt}"
            )
        return self.answers[key]

    def close(self) -> None:
        """Nothing to release."""


class Recorder:
    """Wraps a client and appends every answer to a recording in the replay format."""

    def __init__(self, client: LLMClient, path: str | Path) -> None:
        self.client = client
        self.model = client.model
        self.path = Path(path)
        self._lock = threading.Lock()

    def complete(self, request: LLMRequest) -> Completion:
        completion = self.client.complete(request)
        line = {
            "problem_id": request.problem_id,
            "stage": request.stage,
            "attempt": request.attempt,
            "response": completion.text,
            "model": self.model,
            "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": completion.completion_tokens,
        }
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        return completion

    def close(self) -> None:
        self.client.close()


def messages(
    system: str, user: str, history: Sequence[Mapping[str, str]] = ()
) -> tuple[Mapping[str, str], ...]:
    """A chat: the system prompt, earlier turns, then the user's message."""
    return ({"role": "system", "content": system}, *history, {"role": "user", "content": user})
