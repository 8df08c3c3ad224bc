"""The native pool format: JSONL, one EnvSpec per line (schema in docs/formats.md).

Loading is strict and all-or-nothing: the first bad record raises a PoolError that names the
file, the line, the field and the value, and no partial pool is returned. A training run that
silently dropped half its environments would be worse than one that refused to start.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from scaler.errors import EnvSpecError, PoolError
from scaler.files import write_atomic
from scaler.model import (
    GENERATOR_CONTRACTS,
    LANGUAGES,
    EnvSpec,
    Limits,
    Program,
    Provenance,
    ScaleParam,
)

#: Output types the core verifiers understand; plugins may register verifiers for more.
CORE_OUTPUT_TYPES = ("number", "array", "string")

#: Each field of Limits and the JSON type it takes (``model.py`` annotates them as strings).
_LIMIT_TYPES: dict[str, type] = {
    "cpu_s": float,
    "wall_s": float,
    "memory_mb": int,
    "processes": int,
    "output_bytes": int,
}


def _wrong_type(value: Any, kind: type | tuple[type, ...]) -> str | None:
    """Why ``value`` is not of ``kind``, or None: a bool is no number, an int is a float."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    fits = isinstance(value, kinds) or (float in kinds and isinstance(value, int))
    if fits and (bool in kinds or not isinstance(value, bool)):
        return None
    return f"must be of type {' or '.join(k.__name__ for k in kinds)}"


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _Record:
    """Typed access to one JSON object, raising PoolError with the full location on misuse."""

    def __init__(self, data: Any, path: str, line: int | None, prefix: str = "") -> None:
        self.path, self.line, self.prefix = path, line, prefix
        if not isinstance(data, Mapping):
            raise self.error("expected a JSON object", value=data)
        self.data = data

    def error(self, message: str, field: str | None = None, value: Any = None) -> PoolError:
        name = f"{self.prefix}{field}" if field is not None else (self.prefix.rstrip(".") or None)
        return PoolError(self.path, message, line=self.line, field=name, value=value)

    def get(self, field: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if field not in self.data:
            if default is ...:
                raise self.error("is missing", field)
            return default
        value = self.data[field]
        wrong = _wrong_type(value, kind)
        if wrong is not None:
            raise self.error(wrong, field, value)
        if kind is float:
            # abs() <= the largest float refuses NaN, the infinities and ints no float can hold.
            if not abs(value) <= sys.float_info.max:
                raise self.error("must be a finite number", field, value)
            return float(value)
        if isinstance(value, str) and not _is_unicode(value):
            raise self.error("holds a lone surrogate, which no UTF-8 file can store", field, value)
        return value

    def child(self, field: str, data: Any) -> _Record:
        return _Record(data, self.path, self.line, f"{self.prefix}{field}.")


def _program(record: _Record) -> Program:
    return Program(record.get("language", str), record.get("source", str))


def _typed(field: str, value: Any, kind: type | tuple[type, ...]) -> None:
    wrong = _wrong_type(value, kind)
    if wrong is not None:
        raise EnvSpecError(field, wrong, value)


def _text(field: str, value: Any) -> None:
    _typed(field, value, str)
    if not value.strip():
        raise EnvSpecError(field, "must not be empty", value)
    if not _is_unicode(value):
        raise EnvSpecError(field, "holds a lone surrogate, which no UTF-8 file can store", value)


def _check_program(field: str, program: Any) -> None:
    _typed(field, program, Program)
    _text(f"{field}.language", program.language)
    if program.language not in LANGUAGES:
        raise EnvSpecError(
            f"{field}.language", f"must be one of {', '.join(LANGUAGES)}", program.language
        )
    _text(f"{field}.source", program.source)


def check_env(env: EnvSpec, output_types: Collection[str] | None = None) -> None:
    """Raise EnvSpecError for the first rule ``env`` breaks.

    Pool records and plugin registrations both pass through here, so an environment is refused
    for the same faults, in the same words, wherever it came from. ``output_types`` are the
    types some loaded verifier understands; None skips that check, for callers that hold no
    plugins (the env must still meet one before it is sampled).
    """
    for field in ("id", "name", "statement", "output_spec", "output_type"):
        _text(field, getattr(env, field))
    if any(c.isspace() for c in env.id):
        raise EnvSpecError("id", "must not contain whitespace", env.id)

    _typed("scale_params", env.scale_params, (tuple, list))
    if not env.scale_params:
        raise EnvSpecError(
            "scale_params", "needs at least one scale parameter", list(env.scale_params)
        )
    for i, param in enumerate(env.scale_params):
        where = f"scale_params[{i}]"
        _typed(where, param, ScaleParam)
        _text(f"{where}.name", param.name)
        _typed(f"{where}.min", param.min, int)
        _typed(f"{where}.max", param.max, int)
        _typed(f"{where}.base", param.base, float)
        # abs() <= the largest float refuses NaN, the infinities and ints no float can hold.
        if not abs(param.base) <= sys.float_info.max:
            raise EnvSpecError(f"{where}.base", "must be a finite number", param.base)
        if param.max < param.min:
            raise EnvSpecError(f"{where}.max", f"must be >= min ({param.min})", param.max)
    names = [p.name for p in env.scale_params]
    if len(set(names)) != len(names):
        raise EnvSpecError("scale_params", "has duplicate names", names)

    _typed("levels", env.levels, (tuple, list))
    levels = list(env.levels)
    if not levels or any(_wrong_type(v, int) or v < 0 for v in levels):
        raise EnvSpecError("levels", "must be a non-empty list of non-negative integers", levels)
    if any(b < a for a, b in itertools.pairwise(levels)):
        raise EnvSpecError("levels", "must not decrease from one level to the next", levels)
    for i, param in enumerate(env.scale_params):
        try:
            param.value_at(levels[-1])
        except OverflowError:
            raise EnvSpecError(
                f"scale_params[{i}]",
                f"is too large to compute at the top level (offset {levels[-1]})",
                param.to_dict(),
            ) from None

    _typed("generator_contract", env.generator_contract, str)
    if env.generator_contract not in GENERATOR_CONTRACTS:
        raise EnvSpecError(
            "generator_contract",
            f"must be one of {', '.join(GENERATOR_CONTRACTS)}",
            env.generator_contract,
        )
    _check_program("generator", env.generator)
    if env.generator.language != "python":
        raise EnvSpecError("generator.language", "must be a Python program", env.generator.language)
    _typed("solutions", env.solutions, (tuple, list))
    if not env.solutions:
        raise EnvSpecError(
            "solutions", "needs at least one reference solution", list(env.solutions)
        )
    for i, solution in enumerate(env.solutions):
        _check_program(f"solutions[{i}]", solution)

    _typed("limits", env.limits, Limits)
    for field, kind in _LIMIT_TYPES.items():
        value = getattr(env.limits, field)
        _typed(f"limits.{field}", value, kind)
        if field != "processes" and value <= 0:
            raise EnvSpecError(f"limits.{field}", "must be positive", value)

    _typed("provenance", env.provenance, Provenance)
    _typed("provenance.source", env.provenance.source, str)
    for field in ("llm", "created", "origin"):
        _typed(f"provenance.{field}", getattr(env.provenance, field), (str, type(None)))

    if output_types is not None and env.output_type not in output_types:
        raise EnvSpecError(
            "output_type",
            f"has no verifier (known: {', '.join(sorted(output_types))}); "
            "install a plugin that registers one",
            env.output_type,
        )


def env_from_dict(
    data: Any,
    path: str = "<dict>",
    line: int | None = None,
    output_types: Collection[str] | None = None,
) -> EnvSpec:
    """Build an EnvSpec from its native dict form, checked by ``check_env``.

    Only the JSON types are checked here; every rule about the values is ``check_env``'s, the
    one a plugin's registered environments meet too.
    """
    rec = _Record(data, path, line)
    params = []
    for i, raw in enumerate(rec.get("scale_params", list)):
        p = rec.child(f"scale_params[{i}]", raw)
        params.append(
            ScaleParam(
                p.get("name", str), p.get("min", int), p.get("max", int), p.get("base", float, 1.0)
            )
        )
    lim = rec.child("limits", rec.get("limits", dict, {}))
    default = Limits()
    prov = rec.child("provenance", rec.get("provenance", dict, {}))
    env = EnvSpec(
        id=rec.get("id", str),
        name=rec.get("name", str),
        statement=rec.get("statement", str),
        output_spec=rec.get("output_spec", str),
        output_type=rec.get("output_type", str),
        scale_params=tuple(params),
        levels=tuple(rec.get("levels", list)),
        generator=_program(rec.child("generator", rec.get("generator", dict))),
        generator_contract=rec.get("generator_contract", str, "native"),
        solutions=tuple(
            _program(rec.child(f"solutions[{i}]", s))
            for i, s in enumerate(rec.get("solutions", list))
        ),
        limits=Limits(
            **{
                field: lim.get(field, kind, getattr(default, field))
                for field, kind in _LIMIT_TYPES.items()
            }
        ),
        provenance=Provenance(
            source=prov.get("source", str, "unknown"),
            llm=prov.get("llm", (str, type(None)), None),
            created=prov.get("created", (str, type(None)), None),
            origin=prov.get("origin", (str, type(None)), None),
        ),
    )
    try:
        check_env(env, output_types)
    except EnvSpecError as exc:
        raise rec.error(exc.message, exc.field, exc.value) from None
    stated = rec.get("version", str, None)
    if stated is not None and stated != env.version:
        raise rec.error(
            f"does not match the content (computed {env.version}); the record was edited "
            "by hand: remove the field to accept the edit",
            "version",
            stated,
        )
    return env


def _jsonl_records(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise PoolError(
                    str(path), f"is not UTF-8 text: {exc.reason} at byte {exc.start}", line=number
                ) from exc
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise PoolError(str(path), f"is not valid JSON: {exc.msg}", line=number) from exc
            except RecursionError as exc:
                raise PoolError(str(path), "nests JSON too deeply to read", line=number) from exc


def load_pool(
    path: str | os.PathLike[str], output_types: Collection[str] | None = None
) -> list[EnvSpec]:
    """Every EnvSpec of a JSONL pool file, or of every ``*.jsonl`` in a directory.

    ``output_types``: the types the loaded verifiers know (see ``check_env``).
    """
    root = Path(path)
    if not root.exists():
        raise PoolError(str(root), "does not exist")
    files = sorted(root.glob("*.jsonl")) if root.is_dir() else [root]
    if root.is_dir() and not files:
        raise PoolError(str(root), "is a directory with no *.jsonl pool files")
    envs: list[EnvSpec] = []
    seen: dict[str, str] = {}
    for file in files:
        for number, data in _jsonl_records(file):
            env = env_from_dict(data, str(file), number, output_types)
            if env.id in seen:
                raise PoolError(
                    str(file),
                    f"repeats an id already defined at {seen[env.id]}",
                    line=number,
                    field="id",
                    value=env.id,
                )
            seen[env.id] = f"{file}:{number}"
            envs.append(env)
    if not envs:
        raise PoolError(str(root), "holds no environments")
    return envs


def write_pool(envs: Iterable[EnvSpec], path: str | os.PathLike[str]) -> int:
    """Write envs as JSONL atomically (a crash never leaves a half-written pool)."""
    lines = [json.dumps(env.to_dict(), ensure_ascii=False) + "\n" for env in envs]
    write_atomic(path, "".join(lines))
    return len(lines)
