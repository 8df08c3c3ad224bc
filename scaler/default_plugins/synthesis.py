"""The synthesis stages the core ships: extractors and generator synthesizers."""

from __future__ import annotations

from scaler.hookspecs import hookimpl
from scaler.registry import Register
from scaler.synth.stages import (
    DeclaredSynthesizer,
    Extractor,
    LLMSynthesizer,
    Synthesizer,
    declared_extractor,
    llm_extractor,
)


@hookimpl
def scaler_register_extractors(register: Register[Extractor]) -> None:
    register("llm", llm_extractor)
    register("declared", declared_extractor)


@hookimpl
def scaler_register_generators(register: Register[Synthesizer]) -> None:
    register("llm", LLMSynthesizer())
    register("declared", DeclaredSynthesizer())
