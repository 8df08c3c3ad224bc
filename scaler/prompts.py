"""Rendering an instance into chat messages, in the paper's format (method section 3).

The policy writes no code: it is shown the narrative and the concrete input, and has to reason
to what the reference program would print.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from scaler.model import EnvSpec
from scaler.registry import Kind

#: ``template(env, shown_input) -> chat messages``: an instance rendered for the policy.
PromptTemplate = Callable[[EnvSpec, Any], list[dict[str, str]]]
#: Prompt templates (``scaler_register_prompts``); a run picks one with ``prompt``.
PROMPTS: Kind[PromptTemplate] = Kind("prompts", "prompt")

SYSTEM_PROMPT = "Please reason step by step, and put your final answer within \\boxed{}."

INSTRUCTION = (
    "Treat everything above as one fully specified problem about this concrete input instance. "
    "Ignore any mention of programs, input or output formats, time limits or multiple test "
    "cases: compute the answer for this single instance, reasoning step by step."
)

ANSWER_FORMATS = {
    "number": "Put the final answer, a single number, within \\boxed{}.",
    "array": "Put the final answer within \\boxed{} as a bracketed list, like \\boxed{[a, b, c]}.",
    "string": "Put the final answer, exactly as it would be printed, within \\boxed{}.",
}


def show_input(shown_input: Any) -> str:
    if isinstance(shown_input, str):
        return shown_input.strip()
    return json.dumps(shown_input, ensure_ascii=False)


def paper_prompt(env: EnvSpec, shown_input: Any) -> list[dict[str, str]]:
    answer_format = ANSWER_FORMATS.get(env.output_type, "Put the final answer within \\boxed{}.")
    user = (
        f"# {env.name} Problem Description:\n{env.statement.strip()}\n\n"
        f"# Input Instance:\n{show_input(shown_input)}\n\n"
        f"# Instruction\n{env.output_spec.strip()}\n\n{INSTRUCTION}\n{answer_format}"
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]
