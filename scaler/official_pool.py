"""Importer for the official SCALER pool JSON (method section 6).

An entry becomes an EnvSpec whose generator keeps the ``scaler-official`` contract: the harness
seeds the global ``random`` before calling ``generate_testcase``, which makes the official,
unseeded generators replayable. Entries that cannot become an environment are reported with
their reason instead of being dropped silently or failing the whole import.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from scaler.errors import PoolError
from scaler.model import EnvSpec, Language, Limits, Program, Provenance, ScaleParam
from scaler.pool import env_from_dict
from scaler.registry import Kind

#: CodeContests language ids: 2 is C++, 3 is Python 3 (1 Python 2 and 4 Java have no runner).
LANGUAGE_IDS: dict[int, Language] = {2: "cpp", 3: "python"}
OUTPUT_TYPES = ("number", "array", "string")
#: The official reference code runs solutions with a 10 s limit during validation.
OFFICIAL_LIMITS = Limits(cpu_s=10.0, wall_s=20.0, memory_mb=1024)
_MAX_FLOAT = sys.float_info.max


@attrs.frozen
class Rejection:
    key: str
    reason: str


@attrs.frozen
class ImportResult:
    envs: tuple[EnvSpec, ...]
    rejected: tuple[Rejection, ...]


#: ``importer(path) -> ImportResult``: a foreign pool file as EnvSpecs, and what it rejected.
Importer = Callable[[Path], ImportResult]
#: Pool importers by format (``scaler_register_importers``): ``scaler pool import --format``.
IMPORTERS: Kind[Importer] = Kind("importers", "importer")


def slug(name: str) -> str:
    """A command-line friendly id: ``"1003_F. Abbreviation"`` -> ``"1003_f-abbreviation"``."""
    return re.sub(r"[^a-z0-9_]+", "-", name.lower()).strip("-")


def statement_narrative(entry: Mapping[str, Any]) -> str:
    """The text before the Input section, which is what the policy is shown."""
    text = entry.get("logic_description")
    if isinstance(text, str) and text.strip():
        return text.strip()
    raw = str(entry.get("raw_description", ""))
    return re.split(r"\n\s*Input\s*\n", raw, maxsplit=1)[0].strip()


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _convert(key: str, entry: Any, path: str) -> EnvSpec:
    """One entry to an EnvSpec; a ValueError carries the reason it cannot be converted."""
    if not isinstance(entry, Mapping):
        raise ValueError(f"entry is a {type(entry).__name__}, not an object")
    missing = [
        f
        for f in ("name", "solutions", "instruction", "generate_testcase", "output_type", "params")
        if f not in entry
    ]
    if missing:
        raise ValueError(f"missing field(s): {', '.join(missing)}")
    output_type = entry["output_type"]
    if output_type not in OUTPUT_TYPES:
        raise ValueError(f"output_type {output_type!r} is not one of {', '.join(OUTPUT_TYPES)}")
    if entry.get("is_output_unique") is False:
        raise ValueError("is_output_unique is false: answers could not be verified")

    solutions = entry["solutions"]
    if not isinstance(solutions, Mapping):
        raise ValueError(f"solutions must be an object, got {type(solutions).__name__}")
    sources, languages = solutions.get("solution", []), solutions.get("language", [])
    if not isinstance(sources, list) or not isinstance(languages, list):
        raise ValueError("solutions.solution and solutions.language must be lists")
    if len(sources) != len(languages):
        raise ValueError(
            f"solutions.solution has {len(sources)} items but solutions.language {len(languages)}"
        )
    programs = tuple(
        Program(LANGUAGE_IDS[lang], src)
        for src, lang in zip(sources, languages, strict=True)
        if isinstance(lang, int) and lang in LANGUAGE_IDS and isinstance(src, str) and src.strip()
    )
    if not programs:
        raise ValueError(
            f"no C++ (2) or Python 3 (3) reference solution; languages given: {languages}"
        )

    if not isinstance(entry["params"], Mapping):
        raise ValueError(f"params must be an object, got {type(entry['params']).__name__}")
    params: list[ScaleParam] = []
    for name, spec in entry["params"].items():
        if name == "difficulty":
            continue
        if not isinstance(spec, Mapping) or not {"min", "max"} <= spec.keys():
            raise ValueError(f"params.{name} needs min and max, got {spec!r}")
        if not all(_integer(spec[f]) for f in ("min", "max")):
            raise ValueError(f"params.{name}.min/max must be integers, got {spec!r}")
        base = spec.get("base", 1.0)
        # abs() <= the largest float refuses NaN, the infinities and ints no float can hold.
        if (
            isinstance(base, bool)
            or not isinstance(base, int | float)
            or not abs(base) <= _MAX_FLOAT
        ):
            raise ValueError(f"params.{name}.base must be a finite number, got {base!r}")
        params.append(ScaleParam(name, spec["min"], spec["max"], float(base)))
    if not params:
        raise ValueError("no scale parameters")

    table = entry.get("difficulty_dict")
    if not isinstance(table, Mapping) or not table:
        raise ValueError("difficulty_dict is missing or empty")
    try:
        levels = tuple(table[str(i)] for i in range(len(table)))
    except KeyError as exc:
        raise ValueError(f"difficulty_dict keys must be 0..{len(table) - 1}: {exc}") from exc
    if not all(_integer(level) for level in levels):
        raise ValueError(f"difficulty_dict values must be integers, got {list(levels)!r}")

    generator = entry["generate_testcase"]
    if not isinstance(generator, str) or "def generate_testcase" not in generator:
        raise ValueError("generate_testcase does not define generate_testcase(json_obj)")
    instruction = str(entry["instruction"]).strip()
    if not instruction:
        raise ValueError("instruction (the Output section) is empty")

    env = EnvSpec(
        id=slug(str(entry["name"])) or slug(key),
        name=str(entry["name"]),
        statement=statement_narrative(entry),
        output_spec=instruction,
        output_type=output_type,
        scale_params=tuple(params),
        levels=levels,
        generator=Program("python", generator),
        generator_contract="scaler-official",
        solutions=programs,
        limits=OFFICIAL_LIMITS,
        provenance=Provenance(source="scaler-official", origin=f"{Path(path).name}#{key}"),
    )
    # The native reader's checks (ids, ranges, level order, text) decide what a pool may hold:
    # an entry that passes here but fails there would make a pool that cannot be loaded.
    try:
        return env_from_dict({**env.defining_dict(), "provenance": env.provenance.to_dict()})
    except PoolError as exc:
        raise ValueError(str(exc).removeprefix("<dict>: ")) from exc


def import_official(path: str | Path) -> ImportResult:
    """Convert an official pool file; per-entry problems become rejections, file problems raise."""
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PoolError(str(file), "does not exist") from exc
    except UnicodeDecodeError as exc:
        raise PoolError(str(file), f"is not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    except json.JSONDecodeError as exc:
        raise PoolError(str(file), f"is not valid JSON: {exc.msg}", line=exc.lineno) from exc
    except RecursionError as exc:
        raise PoolError(str(file), "nests JSON too deeply to read") from exc
    if not isinstance(data, Mapping):
        raise PoolError(str(file), "must be a JSON object keyed by environment name")
    envs: list[EnvSpec] = []
    rejected: list[Rejection] = []
    seen: set[str] = set()
    for key, entry in data.items():
        try:
            env = _convert(key, entry, str(file))
        except ValueError as exc:
            rejected.append(Rejection(key, str(exc)))
            continue
        if env.id in seen:
            rejected.append(Rejection(key, f"id {env.id!r} repeats an earlier entry"))
            continue
        seen.add(env.id)
        envs.append(env)
    return ImportResult(tuple(envs), tuple(rejected))
