from __future__ import annotations

from typing import Any

from scaler.hookspecs import hookimpl
from scaler.verify import verify_array, verify_number, verify_string


@hookimpl
def scaler_register_verifiers(register: Any) -> None:
    register("number", verify_number)
    register("array", verify_array)
    register("string", verify_string)
