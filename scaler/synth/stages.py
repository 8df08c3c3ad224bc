"""The LLM-facing stages as plugins: meta extractors and generator synthesizers.

An extractor turns a problem into ``Meta`` (scale parameters, output type, uniqueness); a
synthesizer writes a generator and rewrites it when a check fails. Each is registered by name
(``scaler_register_extractors`` / ``scaler_register_generators``); the core registers ``llm``
(ask the model) and ``declared`` (use what the source states). They talk to the LLM only
through ``ask(stage, attempt, messages) -> reply``, which the pipeline journals, so a stage
plugin gets resumability for free.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import attrs

from scaler.model import Program
from scaler.registry import Kind
from scaler.synth import prompts
from scaler.synth.extract import Malformed, Meta, declared_meta, parse_meta
from scaler.synth.generate import parse_generator
from scaler.synth.problem import Problem

Ask = Callable[[str, int, Sequence[Mapping[str, str]]], str]

#: Declared generators the harness runs as they are; others (CodeI/O's, which take no scale
#: parameters) are shown to the LLM as a starting point instead.
RUNNABLE_CONTRACTS = ("native", "scaler-official")


class Rejected(Exception):
    """The problem cannot become an environment: the stage, the reason, and the check."""

    def __init__(self, stage: str, reason: str, check: str = "") -> None:
        super().__init__(reason)
        self.stage, self.reason, self.check = stage, reason, check


class Extractor(Protocol):
    def __call__(self, problem: Problem, ask: Ask, attempts: int) -> Meta | None:
        """Meta for the problem; None when this extractor has nothing to say about it."""


#: Meta-information extractors (``scaler_register_extractors``).
EXTRACTORS: Kind[Extractor] = Kind("extractors", "extractor")


def llm_extractor(problem: Problem, ask: Ask, attempts: int) -> Meta:
    """Ask the model; a malformed reply is asked again, up to ``attempts`` times."""
    error = ""
    for attempt in range(attempts):
        reply = ask("extract", attempt, prompts.extract_messages(problem))
        try:
            return parse_meta(reply)
        except Malformed as exc:
            error = str(exc)
    raise Rejected("extract", f"malformed answer after {attempts} tries: {error}")


def declared_extractor(problem: Problem, ask: Ask, attempts: int) -> Meta | None:
    """What the source declared (the official pool's params and output type)."""
    return declared_meta(problem)


@attrs.frozen
class Draft:
    """One generator the synthesizer proposes: the program, or why the reply is unusable."""

    reply: str
    program: Program | None
    contract: str = "native"
    error: str = ""


def _draft(reply: str) -> Draft:
    try:
        return Draft(reply, parse_generator(reply))
    except Malformed as exc:
        return Draft(reply, None, error=f"unusable answer: {exc}")


class Synthesizer(Protocol):
    def first(self, problem: Problem, meta: Meta, ask: Ask) -> Draft | None:
        """The first generator; None when this synthesizer has none for the problem."""

    def repair(
        self, problem: Problem, meta: Meta, previous: Draft, feedback: str, attempt: int, ask: Ask
    ) -> Draft | None:
        """A new generator after ``previous`` failed with ``feedback``; None: cannot repair."""


#: Test-case generator synthesizers (``scaler_register_generators``).
GENERATORS: Kind[Synthesizer] = Kind("generators", "generator synthesizer")


class LLMSynthesizer:
    """The method's generator stage, and a repair loop that shows the model what failed."""

    def first(self, problem: Problem, meta: Meta, ask: Ask) -> Draft:
        return _draft(ask("generator", 0, prompts.generator_messages(problem, meta.scale_params)))

    def repair(
        self, problem: Problem, meta: Meta, previous: Draft, feedback: str, attempt: int, ask: Ask
    ) -> Draft:
        messages = prompts.repair_messages(problem, meta.scale_params, previous.reply, feedback)
        return _draft(ask("repair", attempt, messages))


class DeclaredSynthesizer:
    """The generator the source ships, when the harness can run it; it cannot be repaired."""

    def first(self, problem: Problem, meta: Meta, ask: Ask) -> Draft | None:
        declared = problem.declared
        if declared is None or declared.generator is None:
            return None
        if declared.generator_contract not in RUNNABLE_CONTRACTS:
            return None
        return Draft("", declared.generator, declared.generator_contract)

    def repair(
        self, problem: Problem, meta: Meta, previous: Draft, feedback: str, attempt: int, ask: Ask
    ) -> Draft | None:
        return None
