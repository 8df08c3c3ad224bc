"""A stand-in for the ``vllm`` module: vLLM cannot run on these CPU-only machines, so the tests
of the vLLM client, policy and shared engine drive them through an engine that records what it
is asked and answers ``<last message>#<sample>`` with made-up token ids."""

from __future__ import annotations

import sys
import types
from typing import Any, ClassVar

import pytest


class Engine:
    """Stands in for ``vllm.LLM``: records its options and each chat call."""

    made: ClassVar[list[dict[str, Any]]] = []
    calls: ClassVar[list[tuple[list[Any], Any, dict[str, Any]]]] = []

    def __init__(self, **options: Any) -> None:
        self.made.append(options)

    def chat(self, chats: list[Any], sampling: Any, **options: Any) -> list[Any]:
        self.calls.append((chats, sampling, options))
        return [
            types.SimpleNamespace(
                prompt_token_ids=list(range(len(chat))),
                outputs=[
                    types.SimpleNamespace(
                        text=f"{chat[-1]['content']}#{i}", token_ids=list(range(i + 1))
                    )
                    for i in range(sampling.n)
                ],
            )
            for chat in chats
        ]


def install(monkeypatch: pytest.MonkeyPatch, engine: type[Engine] = Engine) -> type[Engine]:
    """Make ``import vllm`` give a module whose ``LLM`` is ``engine``, with fresh records."""
    module = types.ModuleType("vllm")
    module.LLM = engine  # type: ignore[attr-defined]
    module.SamplingParams = types.SimpleNamespace  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vllm", module)
    engine.made, engine.calls = [], []
    return engine
