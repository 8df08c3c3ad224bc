"""The synthesis stages the core ships: extractors and generator synthesizers."""

from __future__ import annotations

from typing import Any

from scaler.hookspecs import hookimpl
from scaler.synth.stages import (
    DeclaredSynthesizer,
    LLMSynthesizer,
    declared_extractor,
    llm_extractor,
)


@hookimpl
def scaler_register_extractors(register: Any) -> None:
    register("llm", llm_extractor)
    register("declared", declared_extractor)


@hookimpl
def scaler_register_generators(register: Any) -> None:
    register("llm", LLMSynthesizer())
    register("declared", DeclaredSynthesizer())
