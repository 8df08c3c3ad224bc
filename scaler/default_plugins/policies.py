"""The policies `scaler eval` evaluates, as plugins."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scaler.hookspecs import hookimpl

if TYPE_CHECKING:
    from scaler.evaluate.policies import Policy


def openai_policy(model: str, **options: Any) -> Policy:
    from scaler.evaluate.policies import OpenAIPolicy

    return OpenAIPolicy(model, **options)


def transformers_policy(model: str, **options: Any) -> Policy:
    from scaler.evaluate.transformers_policy import TransformersPolicy

    return TransformersPolicy(model, **options)


def vllm_policy(model: str, **options: Any) -> Policy:
    from scaler.evaluate.vllm_policy import VLLMPolicy

    return VLLMPolicy(model, **options)


@hookimpl
def scaler_register_policies(register: Any) -> None:
    register("openai", openai_policy)
    register("hf", transformers_policy)
    register("vllm", vllm_policy)
