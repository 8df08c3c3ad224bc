"""CurriculumState: everything a curriculum needs to continue exactly where it stopped.

It holds the controller of every environment that was ever active (so a returning environment
keeps its difficulty), the curation policy's active set and histories, the random generator's
state, and the names and options they were built from. It is plain JSON: Python writes floats
with repr, which reads back to the same bits, so a run restored from it continues identically.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import attrs

from scaler.errors import ScalerError
from scaler.files import write_atomic

FORMAT = 1


def rng_state(rng: random.Random) -> list[Any]:
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def set_rng_state(rng: random.Random, state: list[Any]) -> None:
    version, internal, gauss = state
    rng.setstate((version, tuple(internal), gauss))


@attrs.define
class CurriculumState:
    #: The last step whose results were reported (0 before the first).
    step: int
    seed: int
    rng: list[Any]
    controller: dict[str, Any]
    curation: dict[str, Any]
    #: env id -> that env's controller state.
    controllers: dict[str, dict[str, Any]]
    #: env id -> env version, for every env in the pool the run was started with.
    pool: dict[str, str]
    curation_state: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The fields as they are (not copied): serialize it before the state moves on."""
        return {
            "format": FORMAT,
            **{f.name: getattr(self, f.name) for f in attrs.fields(CurriculumState)},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "state") -> CurriculumState:
        if data.get("format") != FORMAT:
            raise ScalerError(
                f"{source}: curriculum state format {data.get('format')!r} is not {FORMAT}"
            )
        fields = {f.name for f in attrs.fields(cls)}
        missing = sorted(n for n in fields if n not in data and n != "curation_state")
        if missing:
            raise ScalerError(f"{source}: curriculum state lacks {', '.join(missing)}")
        return cls(**{k: v for k, v in data.items() if k in fields})

    def save(self, path: str | os.PathLike[str]) -> None:
        write_atomic(path, self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CurriculumState:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ScalerError(f"{path}: cannot read the curriculum state: {exc}") from exc
        return cls.from_dict(data, str(path))
