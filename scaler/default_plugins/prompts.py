from __future__ import annotations

from typing import Any

from scaler.hookspecs import hookimpl
from scaler.prompts import paper_prompt


@hookimpl
def scaler_register_prompts(register: Any) -> None:
    register("scaler", paper_prompt)
