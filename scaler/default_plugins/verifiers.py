from __future__ import annotations

from scaler.hookspecs import hookimpl
from scaler.registry import Register
from scaler.verify import Verifier, verify_array, verify_number, verify_string


@hookimpl
def scaler_register_verifiers(register: Register[Verifier]) -> None:
    register("number", verify_number)
    register("array", verify_array)
    register("string", verify_string)
