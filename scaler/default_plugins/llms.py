from __future__ import annotations

from typing import Any

from scaler.hookspecs import hookimpl
from scaler.synth.llm import ReplayClient


def openai_client(model: str, **options: Any) -> Any:
    from scaler.synth.llm_openai import OpenAIClient

    return OpenAIClient(model, **options)


def vllm_client(model: str, **options: Any) -> Any:
    """Imported on use: vLLM is optional, and the client module says how to install it."""
    from scaler.synth.llm_vllm import VLLMClient

    return VLLMClient(model, **options)


@hookimpl
def scaler_register_llms(register: Any) -> None:
    register("openai", openai_client)
    register("vllm", vllm_client)
    register("replay", ReplayClient)
