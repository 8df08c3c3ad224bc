"""What a curriculum is made of: its controller, curation, batch size and seed, by name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs


@attrs.frozen
class CurriculumConfig:
    """The names (resolved through the plugin registries) and options of one curriculum."""

    controller: str = "scaler"
    controller_options: Mapping[str, Any] = attrs.field(factory=dict)
    curation: str = "scaler-window"
    curation_options: Mapping[str, Any] = attrs.field(factory=dict)
    #: Prompts per step, split as evenly as possible over the active set.
    batch_size: int = 64
    seed: int = 0
    #: Make the next step's instances in the background while the trainer works.
    prefetch: bool = True
