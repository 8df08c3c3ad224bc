from __future__ import annotations

from scaler.hookspecs import hookimpl
from scaler.official_pool import Importer, import_official
from scaler.registry import Register


@hookimpl
def scaler_register_importers(register: Register[Importer]) -> None:
    register("scaler-official", import_official)
