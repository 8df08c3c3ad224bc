"""The embedded environment pack: classic competitive-programming problems, written for scaler.

Each environment is a directory under ``envs/`` (``env.toml``, ``generator.py`` and the
reference solutions); ``levels.json`` holds the level tables calibrated by the method's rules
(regenerate it with ``python scripts/calibrate_builtin.py``). The pack registers itself through
the ``scaler`` entry point, exactly as a third-party pack would.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

from scaler import hookimpl
from scaler.compat import tomllib
from scaler.levels import with_bases
from scaler.model import EnvSpec, Language, Limits, Program, Provenance, ScaleParam

ENVS_DIR = Path(__file__).parent / "envs"
LEVELS_FILE = Path(__file__).parent / "levels.json"
_LANGUAGES: dict[str, Language] = {".py": "python", ".cpp": "cpp"}


def unwrap(text: str) -> str:
    """Joins the hard-wrapped lines of each paragraph: TOML files wrap, prompts should not."""
    paragraphs = (" ".join(line.strip() for line in p.splitlines()) for p in text.split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p)


def read_env(directory: Path, levels: tuple[int, ...] = (0,)) -> EnvSpec:
    """One environment directory as an EnvSpec (with the given level table)."""
    meta = tomllib.loads((directory / "env.toml").read_text(encoding="utf-8"))
    params = with_bases(
        [ScaleParam(p["name"], int(p["min"]), int(p["max"])) for p in meta["scale_params"]]
    )
    solutions = tuple(
        Program(_LANGUAGES[Path(name).suffix], (directory / name).read_text(encoding="utf-8"))
        for name in meta["solutions"]
    )
    return EnvSpec(
        id=meta["id"],
        name=meta["name"],
        statement=unwrap(meta["statement"]),
        output_spec=unwrap(meta["output_spec"]),
        output_type=meta["output_type"],
        scale_params=params,
        levels=levels,
        generator=Program("python", (directory / "generator.py").read_text(encoding="utf-8")),
        solutions=solutions,
        limits=Limits(**meta.get("limits", {})),
        provenance=Provenance(source="scaler-envs-builtin", origin=directory.name),
    )


@functools.cache
def builtin_envs() -> tuple[EnvSpec, ...]:
    tables: dict[str, list[int]] = json.loads(LEVELS_FILE.read_text(encoding="utf-8"))
    envs = []
    for directory in sorted(p for p in ENVS_DIR.iterdir() if (p / "env.toml").is_file()):
        if directory.name not in tables:
            raise RuntimeError(
                f"{LEVELS_FILE}: no level table for {directory.name!r}; "
                "run scripts/calibrate_builtin.py"
            )
        envs.append(read_env(directory, tuple(tables[directory.name])))
    return tuple(envs)


@hookimpl
def scaler_register_environments(register: Callable[[EnvSpec], None]) -> None:
    for env in builtin_envs():
        register(env)
