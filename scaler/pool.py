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
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from scaler.errors import PoolError
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
        if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
            # abs() <= the largest float refuses NaN, the infinities and ints no float can hold.
            if not abs(value) <= sys.float_info.max:
                raise self.error("must be a finite number", field, value)
            return float(value)
        if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
            names = (
                kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            )
            raise self.error(f"must be of type {names}", field, value)
        if isinstance(value, str) and not _is_unicode(value):
            raise self.error("holds a lone surrogate, which no UTF-8 file can store", field, value)
        return value

    def text(self, field: str, *, allow_empty: bool = False) -> str:
        value = self.get(field, str)
        if not allow_empty and not value.strip():
            raise self.error("must not be empty", field, value)
        return value

    def child(self, field: str, data: Any) -> _Record:
        return _Record(data, self.path, self.line, f"{self.prefix}{field}.")


def _program(record: _Record) -> Program:
    language = record.text("language")
    if language not in LANGUAGES:
        raise record.error(f"must be one of {', '.join(LANGUAGES)}", "language", language)
    return Program(language, record.text("source"))  # type: ignore[arg-type]


def env_from_dict(data: Any, path: str = "<dict>", line: int | None = None) -> EnvSpec:
    """Build and validate an EnvSpec from its native dict form."""
    rec = _Record(data, path, line)
    env_id = rec.text("id")
    if any(c.isspace() for c in env_id):
        raise rec.error("must not contain whitespace", "id", env_id)
    output_type = rec.text("output_type")

    raw_params = rec.get("scale_params", list)
    if not raw_params:
        raise rec.error("needs at least one scale parameter", "scale_params", raw_params)
    params = []
    for i, raw in enumerate(raw_params):
        p = rec.child(f"scale_params[{i}]", raw)
        lo, hi = p.get("min", int), p.get("max", int)
        if hi < lo:
            raise p.error(f"must be >= min ({lo})", "max", hi)
        params.append(ScaleParam(p.text("name"), lo, hi, p.get("base", float, 1.0)))
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise rec.error("has duplicate names", "scale_params", names)

    levels = rec.get("levels", list)
    if not levels or any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in levels):
        raise rec.error("must be a non-empty list of non-negative integers", "levels", levels)
    if any(b < a for a, b in itertools.pairwise(levels)):
        raise rec.error("must not decrease from one level to the next", "levels", levels)

    contract = rec.get("generator_contract", str, "native")
    if contract not in GENERATOR_CONTRACTS:
        raise rec.error(
            f"must be one of {', '.join(GENERATOR_CONTRACTS)}", "generator_contract", contract
        )
    generator = _program(rec.child("generator", rec.get("generator", dict)))
    if generator.language != "python":
        raise rec.error("must be a Python program", "generator.language", generator.language)
    raw_solutions = rec.get("solutions", list)
    if not raw_solutions:
        raise rec.error("needs at least one reference solution", "solutions", raw_solutions)
    solutions = tuple(
        _program(rec.child(f"solutions[{i}]", s)) for i, s in enumerate(raw_solutions)
    )

    lim = rec.child("limits", rec.get("limits", dict, {}))
    default = Limits()
    limits = Limits(
        cpu_s=lim.get("cpu_s", float, default.cpu_s),
        wall_s=lim.get("wall_s", float, default.wall_s),
        memory_mb=lim.get("memory_mb", int, default.memory_mb),
        processes=lim.get("processes", int, default.processes),
        output_bytes=lim.get("output_bytes", int, default.output_bytes),
    )
    for field in ("cpu_s", "wall_s", "memory_mb", "output_bytes"):
        if getattr(limits, field) <= 0:
            raise lim.error("must be positive", field, getattr(limits, field))

    prov = rec.child("provenance", rec.get("provenance", dict, {}))
    provenance = Provenance(
        source=prov.get("source", str, "unknown"),
        llm=prov.get("llm", (str, type(None)), None),
        created=prov.get("created", (str, type(None)), None),
        origin=prov.get("origin", (str, type(None)), None),
    )
    env = EnvSpec(
        id=env_id,
        name=rec.text("name"),
        statement=rec.text("statement"),
        output_spec=rec.text("output_spec"),
        output_type=output_type,
        scale_params=tuple(params),
        levels=tuple(levels),
        generator=generator,
        generator_contract=contract,
        solutions=solutions,
        limits=limits,
        provenance=provenance,
    )
    for index, param in enumerate(params):
        try:
            param.value_at(env.levels[-1])
        except OverflowError:
            raise rec.error(
                f"is too large to compute at the top level (offset {env.levels[-1]})",
                f"scale_params[{index}]",
                param.to_dict(),
            ) from None
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


def load_pool(path: str | os.PathLike[str]) -> list[EnvSpec]:
    """Every EnvSpec of a JSONL pool file, or of every ``*.jsonl`` in a directory."""
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
            env = env_from_dict(data, str(file), number)
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
