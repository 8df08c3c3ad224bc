from __future__ import annotations

from typing import Any

from scaler import hookimpl
from scaler.evaluate.policies import POLICIES, OpenAIPolicy
from scaler.plugins import Plugins


class EchoPolicy:
    name = "echo"

    def __init__(self, model: str) -> None:
        self.model = model
        self.settings: dict[str, Any] = {}

    def generate(self, prompts: list[Any], n: int) -> list[list[str]]:
        return [[self.model] * n for _ in prompts]


class EchoPlugin:
    @hookimpl
    def scaler_register_policies(self, register: Any) -> None:
        register("echo", EchoPolicy)


def test_policies_resolve_by_name() -> None:
    plugins = Plugins.load(environ={})
    assert isinstance(plugins.get(POLICIES, "openai")("m", base_url="http://x"), OpenAIPolicy)
    plugins.register(EchoPlugin(), "echo-plugin")
    policy = plugins.get(POLICIES, "echo")("fixed")
    assert policy.generate([[{"role": "user", "content": "q"}]], 2) == [["fixed", "fixed"]]
    assert plugins.registry(POLICIES)["echo"].plugin == "echo-plugin"
