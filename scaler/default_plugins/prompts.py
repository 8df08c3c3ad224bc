from __future__ import annotations

from scaler.hookspecs import hookimpl
from scaler.prompts import PromptTemplate, paper_prompt
from scaler.registry import Register


@hookimpl
def scaler_register_prompts(register: Register[PromptTemplate]) -> None:
    register("scaler", paper_prompt)
