from __future__ import annotations

from typing import Any

from scaler.hookspecs import hookimpl
from scaler.official_pool import import_official


@hookimpl
def scaler_register_importers(register: Any) -> None:
    register("scaler-official", import_official)
