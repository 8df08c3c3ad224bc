from __future__ import annotations

from typing import Any

from scaler.hookspecs import hookimpl
from scaler.registry import Register
from scaler.synth.llm import LLMClient, LLMFactory, ReplayClient


def openai_client(model: str, **options: Any) -> LLMClient:
    from scaler.synth.llm_openai import OpenAIClient

    return OpenAIClient(model, **options)


def vllm_client(model: str, **options: Any) -> LLMClient:
    """Imported on use: vLLM is optional, and the client module says how to install it."""
    from scaler.synth.llm_vllm import VLLMClient

    return VLLMClient(model, **options)


@hookimpl
def scaler_register_llms(register: Register[LLMFactory]) -> None:
    register("openai", openai_client)
    register("vllm", vllm_client)
    register("replay", ReplayClient)
