"""Policies: what answers evaluation prompts, with the decoding settings recorded beside results.

An evaluation compares a model against itself over time (and against the paper), so every
scored answer must say how it was sampled; that is why a policy carries its ``settings``. The
OpenAI-compatible policy reuses the synthesis client (``scaler.synth.llm_openai``) for its
retries, backoff and bounded concurrency, so vLLM, SGLang and hosted APIs are covered by one
HTTP code path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, runtime_checkable

from scaler.registry import Kind
from scaler.synth.llm import LLMRequest
from scaler.synth.llm_openai import OpenAIClient

#: One chat: ``{"role": ..., "content": ...}`` messages, system prompt first.
Messages = Sequence[Mapping[str, str]]

#: The paper's decoding defaults for evaluation.
DEFAULT_TEMPERATURE = 0.6
DEFAULT_TOP_P = 0.95

#: The stage name evaluation requests carry (it only shows in the client's retry logs).
STAGE = "evaluate"


def check_samples(n: Any) -> None:
    """Samples per prompt must be a whole number >= 1 (``True`` is not one)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a whole number >= 1, got {n!r}")


def recorded(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings as results record them: option groups left empty are dropped, so that a run
    given ``chat_template_kwargs={}`` matches (and resumes) one given nothing."""
    return {key: value for key, value in settings.items() if value != {}}


@runtime_checkable
class Policy(Protocol):
    """Something that samples answers to chats; safe to call from one thread at a time."""

    #: Recorded with every result: which model answered.
    name: str

    @property
    def settings(self) -> dict[str, Any]:
        """Decoding settings (JSON-serializable), recorded with every result."""

    def generate(self, messages_list: Sequence[Messages], n: int) -> list[list[str]]:
        """``n`` sampled answers per chat, in the order of ``messages_list``."""


#: What the registries hold: ``factory(model, **options) -> Policy``.
PolicyFactory = Callable[..., Policy]
#: Policies to evaluate (``scaler_register_policies``), chosen as ``scaler eval NAME:MODEL``.
POLICIES: Kind[PolicyFactory] = Kind("policies", "policy")


class OpenAIPolicy:
    """A model behind an OpenAI-compatible chat-completions server.

    Every sample is its own request (servers differ in whether they honour ``n``, and one
    failed sample should not cost its siblings); requests run on up to ``concurrency``
    threads, and the shared client keeps no more than that many in flight.
    """

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        temperature: float = DEFAULT_TEMPERATURE,
        top_p: float | None = DEFAULT_TOP_P,
        max_tokens: int | None = None,
        concurrency: int = 8,
        timeout_s: float = 600.0,
        retries: int = 5,
        extra_body: Mapping[str, Any] | None = None,
    ) -> None:
        self.client = OpenAIClient(
            model,
            base_url=base_url,
            api_key=api_key,
            timeout_s=timeout_s,
            retries=retries,
            concurrency=concurrency,
            temperature=temperature,
            max_tokens=max_tokens,
            top_p=top_p,
            extra_body=extra_body,
        )
        self.name = model
        self.concurrency = self.client.concurrency

    @property
    def settings(self) -> dict[str, Any]:
        """What decides the sampling distribution; the URL and key do not, so they are left out."""
        settings: dict[str, Any] = {
            "temperature": self.client.temperature,
            "top_p": self.client.top_p,
            "max_tokens": self.client.max_tokens,
        }
        if self.client.extra_body:
            settings["extra_body"] = dict(self.client.extra_body)
        return settings

    def generate(self, messages_list: Sequence[Messages], n: int) -> list[list[str]]:
        check_samples(n)
        requests = [
            LLMRequest(f"prompt-{index}", STAGE, sample, tuple(dict(m) for m in messages))
            for index, messages in enumerate(messages_list)
            for sample in range(n)
        ]
        if not requests:
            return []
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests))) as pool:
            texts = [completion.text for completion in pool.map(self.client.complete, requests)]
        return [texts[index * n : (index + 1) * n] for index in range(len(messages_list))]

    @property
    def usage(self) -> dict[str, int]:
        """The client's running totals: tokens, requests sent, retries."""
        return self.client.usage

    def close(self) -> None:
        self.client.close()
