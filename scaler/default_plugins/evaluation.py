"""The policies `scaler eval` evaluates, as plugins."""

from __future__ import annotations

from typing import Any

from scaler.hookspecs import hookimpl


def openai_policy(model: str, **options: Any) -> Any:
    from scaler.evaluate.policies import OpenAIPolicy

    return OpenAIPolicy(model, **options)


@hookimpl
def scaler_register_policies(register: Any) -> None:
    register("openai", openai_policy)
