"""Problem sources: the formats that synthesis reads problems from (method section 2).

A source turns one file (or, for ``codeio``, the data a package ships) into ``Problem`` values and
names every record it could not use, with the file, the line, row or key, and the field. It only
checks that a record is well formed: whether a problem is worth synthesizing (enough C++ / Python 3
solutions, an Input section, a unique output ...) is the pre-filter's and the extractor's call, so
a well-formed record with no usable solution is still a problem here, with no solutions.

A file that cannot be read at all raises ``PoolError``; a bad record never fails the whole read.
Ids must be unique within one read, because recordings and journals are keyed by them: a repeated
id is a rejection naming the record it repeats.

Sources:

- ``codecontests``: DeepMind CodeContests records (JSON Lines, optionally gzipped, or Parquet with
  the ``parquet`` extra), or a folder of such files such as the dataset's Parquet shards.
- ``scaler-official``: the official SCALER pool JSON; its metadata and generators are ``declared``.
- ``codeio``: the CodeI/O tasks that the ``reasoning-gym`` package ships (the ``codeio`` extra), or
  a file in the same layout.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol, cast, runtime_checkable

import attrs

from scaler.errors import PoolError, ScalerError
from scaler.model import Limits, Program, ScaleParam
from scaler.official_pool import LANGUAGE_IDS, OFFICIAL_LIMITS, statement_narrative
from scaler.registry import Kind
from scaler.synth.problem import Declared, Problem, SourceRejection, SourceResult

_BIG = sys.float_info.max
#: The generator contract of CodeI/O input generators; see ``CodeIOSource``.
CODEIO_CONTRACT = "codeio"
#: ``CodeIOSource.read`` values that name the data inside the installed reasoning-gym package.
CODEIO_PACKAGED: dict[str, str] = {
    "reasoning-gym": "codeio.jsonl.gz",
    "reasoning-gym:hq": "codeio-hq.jsonl.gz",
}

#: A record, or why the file's reader could not produce one (bad JSON, bad UTF-8).
_Item = tuple[str, str, Any, str | None]


@runtime_checkable
class ProblemSource(Protocol):
    """What ``scaler_register_sources`` registers: a named reader of one problem format."""

    name: str
    description: str

    def read(self, path: str | Path) -> SourceResult: ...


#: Problem sources for synthesis (``scaler_register_sources``), by format name.
SOURCES: Kind[ProblemSource] = Kind("sources", "source")


class _Reject(ValueError):
    """A record is not well formed; the message names the field and says why."""


# -- shared record checks ---------------------------------------------------------------------


def _text(record: Mapping[str, Any], field: str, *, required: bool = True) -> str | None:
    value = record.get(field)
    if value is None:
        if required:
            raise _Reject(f"missing field {field!r}")
        return None
    if not isinstance(value, str):
        raise _Reject(f"field {field!r} must be a string, got {type(value).__name__}")
    if required and not value.strip():
        raise _Reject(f"field {field!r} is empty")
    return value


def _record_id(record: Mapping[str, Any]) -> str:
    """The record's ``name``, or its ``id`` when it has no name, exactly as given."""
    for field in ("name", "id"):
        value = record.get(field)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise _Reject(f"field {field!r} must be a string, got {type(value).__name__}")
        if str(value).strip():
            return str(value)
        raise _Reject(f"field {field!r} is empty")
    raise _Reject("missing field 'name' (or 'id')")


def _parallel(value: Any, field: str, keys: tuple[str, str]) -> tuple[list[Any], list[Any]]:
    """CodeContests' ``{key: [...], key: [...]}`` columns, which must have equal lengths."""
    if not isinstance(value, Mapping):
        raise _Reject(f"field {field!r} must be an object, got {type(value).__name__}")
    columns: list[list[Any]] = []
    for key in keys:
        column = value.get(key)
        if column is None:
            column = []
        if not isinstance(column, list | tuple):
            raise _Reject(f"field '{field}.{key}' must be a list, got {type(column).__name__}")
        columns.append(list(column))
    first, second = columns
    if len(first) != len(second):
        raise _Reject(
            f"'{field}.{keys[0]}' has {len(first)} items but '{field}.{keys[1]}' has {len(second)}"
        )
    return first, second


def _solutions(record: Mapping[str, Any]) -> tuple[Program, ...]:
    """The C++ (2) and Python 3 (3) solutions; other languages and empty sources are dropped."""
    value = record.get("solutions")
    if value is None:
        return ()
    languages, sources = _parallel(value, "solutions", ("language", "solution"))
    programs: list[Program] = []
    for index, (language, source) in enumerate(zip(languages, sources, strict=True)):
        if isinstance(language, bool) or not isinstance(language, int):
            raise _Reject(
                f"'solutions.language[{index}]' must be a CodeContests language id (an integer), "
                f"got {language!r}"
            )
        if not isinstance(source, str):
            raise _Reject(
                f"'solutions.solution[{index}]' must be a string, got {type(source).__name__}"
            )
        if language in LANGUAGE_IDS and source.strip():
            programs.append(Program(LANGUAGE_IDS[language], source))
    return tuple(programs)


def _tests(record: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for field in ("public_tests", "private_tests"):
        value = record.get(field)
        if value is None:
            continue
        inputs, outputs = _parallel(value, field, ("input", "output"))
        for index, (stdin, stdout) in enumerate(zip(inputs, outputs, strict=True)):
            if not isinstance(stdin, str) or not isinstance(stdout, str):
                raise _Reject(f"'{field}' item {index} must be a pair of strings")
            pairs.append((stdin, stdout))
    return tuple(pairs)


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _Reject(f"field {field!r} must be a non-negative number, got {value!r}")
    return float(value)


def _limits(record: Mapping[str, Any]) -> Limits:
    """The judge's limits where the record states them; 0 means unstated in CodeContests."""
    limits = Limits()
    time_limit = record.get("time_limit")
    if time_limit is not None:
        if not isinstance(time_limit, Mapping):
            raise _Reject(
                "field 'time_limit' must be an object {seconds, nanos}, "
                f"got {type(time_limit).__name__}"
            )
        seconds = _number(time_limit.get("seconds") or 0, "time_limit.seconds")
        seconds += _number(time_limit.get("nanos") or 0, "time_limit.nanos") / 1e9
        if seconds > 0:
            limits = attrs.evolve(limits, cpu_s=seconds, wall_s=2 * seconds)
    memory = record.get("memory_limit_bytes")
    if memory is not None:
        megabytes = math.ceil(_number(memory, "memory_limit_bytes") / 2**20)
        if megabytes > 0:
            limits = attrs.evolve(limits, memory_mb=megabytes)
    return limits


_SURROGATE = "holds a lone surrogate (a \\ud800-\\udfff escape), which UTF-8 cannot store"


def _is_unicode(record: Mapping[str, Any]) -> bool:
    """Whether the journal and the LLM requests, both UTF-8, can carry the record's text."""
    try:
        json.dumps(record, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _collect(items: Iterable[_Item], convert: Callable[[Any, str], Problem]) -> SourceResult:
    """Problems from ``(where, origin, record, error)`` items, with a rejection for each bad one."""
    problems: list[Problem] = []
    rejected: list[SourceRejection] = []
    seen: dict[str, str] = {}
    for where, origin, record, error in items:
        if error is not None:
            rejected.append(SourceRejection(where, error))
            continue
        if not isinstance(record, Mapping):
            rejected.append(
                SourceRejection(where, f"record is a {type(record).__name__}, not an object")
            )
            continue
        if not _is_unicode(record):
            rejected.append(SourceRejection(where, _SURROGATE))
            continue
        try:
            problem = convert(record, origin)
        except _Reject as exc:
            rejected.append(SourceRejection(where, str(exc)))
            continue
        if problem.id in seen:
            rejected.append(SourceRejection(where, f"id {problem.id!r} repeats {seen[problem.id]}"))
            continue
        seen[problem.id] = where
        problems.append(problem)
    return SourceResult(tuple(problems), tuple(rejected))


# -- file readers -----------------------------------------------------------------------------


def _unreadable(file: Path, exc: OSError | EOFError) -> PoolError:
    if isinstance(exc, FileNotFoundError):
        return PoolError(str(file), "does not exist")
    if isinstance(exc, IsADirectoryError):
        return PoolError(str(file), "is a folder, not a file")
    if isinstance(exc, gzip.BadGzipFile | EOFError):
        return PoolError(str(file), f"is not a valid gzip file: {exc}")
    return PoolError(str(file), f"cannot be read: {getattr(exc, 'strerror', None) or exc}")


def _read_bytes(file: Path) -> bytes:
    try:
        data = file.read_bytes()
        return gzip.decompress(data) if file.name.endswith(".gz") else data
    except (OSError, EOFError) as exc:
        raise _unreadable(file, exc) from exc


def _stream_lines(file: Path) -> Iterator[bytes]:
    """The file's lines, read as they are needed: CodeContests files run to gigabytes."""
    try:
        opener = gzip.open if file.name.endswith(".gz") else open
        with opener(file, "rb") as stream:
            yield from stream
    except (OSError, EOFError) as exc:
        raise _unreadable(file, exc) from exc


def _json_lines(lines: Iterable[bytes], shown: str) -> Iterator[_Item]:
    """One item per non-blank line, numbered from 1 as an editor shows them."""
    for number, raw in enumerate(lines, start=1):
        where, origin = f"{shown}, line {number}", f"{shown}#{number}"
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield where, origin, None, f"not UTF-8 text: {exc.reason} at byte {exc.start}"
            continue
        if not line.strip():
            continue
        try:
            yield where, origin, json.loads(line), None
        except json.JSONDecodeError as exc:
            yield where, origin, None, f"not valid JSON: {exc.msg} (column {exc.colno})"
        except RecursionError:
            yield where, origin, None, "JSON nested too deeply to read"


def _json_array(data: bytes, file: Path, shown: str) -> Iterator[_Item]:
    """One item per element of a top-level JSON array, numbered from 0 as Python indexes it."""
    try:
        records = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise PoolError(str(file), f"is not UTF-8 text: {exc.reason}") from exc
    except json.JSONDecodeError as exc:
        raise PoolError(str(file), f"is not valid JSON: {exc.msg}", line=exc.lineno) from exc
    except RecursionError as exc:
        raise PoolError(str(file), "nests JSON too deeply to read") from exc
    for index, record in enumerate(records):
        yield f"{shown}, item {index}", f"{shown}#{index}", record, None


def _parquet_rows(file: Path, columns: tuple[str, ...]) -> Iterator[_Item]:
    """One item per row, numbered from 0 as dataframes index them; only ``columns`` are read."""
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ScalerError(
            f"{file}: reading Parquet needs pyarrow, which is not installed: "
            "pip install 'scaler[parquet]'"
        ) from exc
    try:
        table = pq.ParquetFile(file)
        present = [c for c in columns if c in table.schema_arrow.names]
        row = 0
        for batch in table.iter_batches(batch_size=256, columns=present):
            for record in batch.to_pylist():
                yield f"{file.name}, row {row}", f"{file.name}#{row}", record, None
                row += 1
    except OSError as exc:
        raise _unreadable(file, exc) from exc
    except Exception as exc:  # pyarrow's own errors (ArrowInvalid ...) are not OSErrors
        raise PoolError(str(file), f"is not a readable Parquet file: {exc}") from exc


# -- codecontests -----------------------------------------------------------------------------

_CODECONTESTS_COLUMNS = (
    "name",
    "id",
    "description",
    "solutions",
    "public_tests",
    "private_tests",
    "time_limit",
    "memory_limit_bytes",
)
_CODECONTESTS_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")


class CodeContestsSource:
    """DeepMind CodeContests records: ``name``, ``description``, ``solutions`` and tests.

    ``solutions`` is ``{"language": [id, ...], "solution": [source, ...]}`` with CodeContests'
    language ids (1 Python 2, 2 C++, 3 Python 3, 4 Java); only C++ and Python 3 become programs,
    since nothing else has a runner. ``public_tests`` and ``private_tests`` become the problem's
    tests (``generated_tests`` are not read: they are large and made by mutation, not by setters).
    ``time_limit`` ``{seconds, nanos}`` and ``memory_limit_bytes`` become its limits; they are the
    judge's limits, set for C++ on the judge's hardware.

    ``path`` is a ``.jsonl`` (or ``.jsonl.gz``) file, a ``.parquet`` file, or a folder whose files
    with those suffixes are read in name order (the dataset's Parquet shards).
    """

    name = "codecontests"
    description = "DeepMind CodeContests records (JSON Lines or Parquet)"

    def read(self, path: str | Path) -> SourceResult:
        return _collect(self._items(Path(path)), self._problem)

    def _items(self, path: Path) -> Iterator[_Item]:
        if path.is_dir():
            files = sorted(
                p for p in path.iterdir() if p.is_file() and p.name.endswith(_CODECONTESTS_SUFFIXES)
            )
            if not files:
                raise PoolError(
                    str(path), f"holds no {', '.join(_CODECONTESTS_SUFFIXES)} file to read"
                )
            for file in files:
                yield from self._file_items(file)
        else:
            yield from self._file_items(path)

    def _file_items(self, file: Path) -> Iterator[_Item]:
        if file.name.endswith(".parquet"):
            yield from _parquet_rows(file, _CODECONTESTS_COLUMNS)
        else:
            yield from _json_lines(_stream_lines(file), file.name)

    def _problem(self, record: Mapping[str, Any], origin: str) -> Problem:
        problem_id = _record_id(record)
        description = cast(str, _text(record, "description"))
        name = record.get("name")
        return Problem(
            id=problem_id,
            name=str(name) if name is not None else problem_id,
            statement=description,
            solutions=_solutions(record),
            source=self.name,
            origin=origin,
            tests=_tests(record),
            limits=_limits(record),
        )


# -- scaler-official --------------------------------------------------------------------------

_OFFICIAL_FIELDS = (
    "name",
    "raw_description",
    "solutions",
    "instruction",
    "generate_testcase",
    "output_type",
    "params",
    "difficulty_dict",
)


def _scale_params(params: Any) -> tuple[ScaleParam, ...]:
    if not isinstance(params, Mapping):
        raise _Reject(f"field 'params' must be an object, got {type(params).__name__}")
    found: list[ScaleParam] = []
    for name, spec in params.items():
        if name == "difficulty":  # the controller's settings, not a scale parameter
            continue
        if not isinstance(spec, Mapping) or not {"min", "max"} <= spec.keys():
            raise _Reject(f"'params.{name}' needs min and max, got {spec!r}")
        low, high, base = spec["min"], spec["max"], spec.get("base", 1.0)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)):
            raise _Reject(f"'params.{name}' min and max must be integers, got {spec!r}")
        if low > high:
            raise _Reject(f"'params.{name}' has min {low} above max {high}")
        # abs() <= the largest float refuses NaN, the infinities and ints no float can hold.
        if isinstance(base, bool) or not isinstance(base, int | float) or not abs(base) <= _BIG:
            raise _Reject(f"'params.{name}.base' must be a finite number, got {base!r}")
        found.append(ScaleParam(str(name), low, high, float(base)))
    return tuple(found)


def _levels(table: Any) -> tuple[int, ...]:
    if not isinstance(table, Mapping) or not table:
        raise _Reject("field 'difficulty_dict' must be a non-empty object")
    try:
        levels = tuple(int(table[str(i)]) for i in range(len(table)))
    except KeyError as exc:
        raise _Reject(
            f"'difficulty_dict' keys must be 0..{len(table) - 1}; {exc.args[0]!r} is missing"
        ) from exc
    except (TypeError, ValueError, OverflowError) as exc:
        raise _Reject(f"'difficulty_dict' values must be integers: {exc}") from exc
    if any(level < 0 for level in levels):
        raise _Reject(f"'difficulty_dict' values must be >= 0, got {list(levels)}")
    return levels


class OfficialSource:
    """The official SCALER pool (``SCALER-*.json``, method section 6), as problems.

    The statement is ``raw_description``; ``params`` (less the controller's ``difficulty``
    settings), ``output_type``, ``is_output_unique``, the narrative, ``instruction`` (the Output
    section), ``generate_testcase`` and ``difficulty_dict`` become ``declared``, so synthesis can
    re-validate and re-calibrate the official environments without asking an LLM anything. Whether
    the declared values make an environment (kept output types, unique output, enough solutions)
    is the pipeline's decision, not this reader's.
    """

    name = "scaler-official"
    description = "the official SCALER environment pool JSON, metadata and generators declared"

    def read(self, path: str | Path) -> SourceResult:
        file = Path(path)
        try:
            data = json.loads(_read_bytes(file).decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise PoolError(str(file), f"is not UTF-8 text: {exc.reason}") from exc
        except json.JSONDecodeError as exc:
            raise PoolError(str(file), f"is not valid JSON: {exc.msg}", line=exc.lineno) from exc
        except RecursionError as exc:
            raise PoolError(str(file), "nests JSON too deeply to read") from exc
        if not isinstance(data, Mapping):
            raise PoolError(str(file), "must be a JSON object keyed by environment name")
        items = (
            (f"{file.name}#{key}", f"{file.name}#{key}", entry, None) for key, entry in data.items()
        )
        return _collect(items, self._problem)

    def _problem(self, entry: Mapping[str, Any], origin: str) -> Problem:
        missing = [f for f in _OFFICIAL_FIELDS if f not in entry]
        if missing:
            raise _Reject(f"missing field(s): {', '.join(missing)}")
        name = cast(str, _text(entry, "name"))
        statement = cast(str, _text(entry, "raw_description"))
        output_spec = cast(str, _text(entry, "instruction")).strip()
        output_type = cast(str, _text(entry, "output_type"))
        generator = cast(str, _text(entry, "generate_testcase"))
        if "def generate_testcase" not in generator:
            raise _Reject("field 'generate_testcase' does not define generate_testcase(json_obj)")
        unique = entry.get("is_output_unique")
        if unique is not None and not isinstance(unique, bool):
            raise _Reject(f"field 'is_output_unique' must be true or false, got {unique!r}")
        declared = Declared(
            scale_params=_scale_params(entry["params"]),
            output_type=output_type,
            is_output_unique=unique,
            narrative=statement_narrative(entry),
            output_spec=output_spec,
            generator=Program("python", generator),
            generator_contract="scaler-official",
            levels=_levels(entry["difficulty_dict"]),
        )
        return Problem(
            id=name,
            name=name,
            statement=statement,
            solutions=_solutions(entry),
            source=self.name,
            origin=origin,
            limits=OFFICIAL_LIMITS,
            declared=declared,
        )


# -- codeio -----------------------------------------------------------------------------------

_SPEC_SECTIONS = re.compile(r"^\s*Input:\s*\n(?P<input>.*?)\n\s*Output:\s*\n(?P<output>.*)$", re.S)
_GENERATE = re.compile(r"^def (generate_inputs?)\(", re.M)

#: Appended to a CodeI/O reference function so it is a stdin-to-stdout program. Prints inside the
#: function are swallowed, so they cannot corrupt the answer; numpy values are written as plain
#: JSON through ``tolist``, the one conversion numpy's arrays and scalars share.
_CODEIO_MAIN = """

# --- scaler: run main_solution on one JSON object read from stdin, print its result as JSON ---
def _scaler_plain(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _scaler_main():
    import contextlib as _contextlib
    import io as _io
    import json as _json
    import sys as _sys

    _inputs = _json.loads(_sys.stdin.read())
    with _contextlib.redirect_stdout(_io.StringIO()):
        _result = main_solution(**_inputs)
    _sys.stdout.write(_json.dumps(_result, default=_scaler_plain) + "\\n")


_scaler_main()
"""

#: Makes ``Random`` a global, as reasoning-gym provides it when it runs the generator.
_CODEIO_GENERATOR_PRELUDE = "from random import Random\n\n"

_CODEIO_INPUT_NOTE = (
    "The input is a single line: a JSON object whose keys are the input variables below."
)
_CODEIO_OUTPUT_NOTE = "Print the return value described below as a single JSON value."


def codeio_stdin(inputs: Mapping[str, Any]) -> str:
    """The stdin the wrapped CodeI/O reference solution reads: ``generate_inputs``' dict as JSON.

    A harness for the ``codeio`` generator contract writes exactly this, so that the generator and
    the reference solution agree on one encoding.
    """
    return json.dumps(dict(inputs)) + "\n"


def _packaged_codeio(value: str) -> tuple[Path, str]:
    """The reasoning-gym data file a special value names, found without importing the package
    (which imports every one of its datasets), and the name origins give it."""
    spec = importlib.util.find_spec("reasoning_gym")
    if spec is None or not spec.submodule_search_locations:
        raise ScalerError(
            f"the codeio source reads {value!r} from the reasoning-gym package, which is not "
            "installed: pip install 'scaler[codeio]' (or give the path of a CodeI/O JSONL file)"
        )
    try:
        version = importlib.metadata.version("reasoning-gym")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    data_name = CODEIO_PACKAGED[value]
    file = Path(next(iter(spec.submodule_search_locations))) / "data" / data_name
    if not file.is_file():
        raise ScalerError(
            f"reasoning-gym {version} does not ship data/{data_name} (read by the codeio source "
            f"as {value!r}); reasoning-gym 0.1.25 does"
        )
    return file, f"reasoning-gym-{version}/{data_name}"


class CodeIOSource:
    """CodeI/O tasks: a statement, a reference function and an input generator, no scale params.

    ``path`` is ``"reasoning-gym"`` for the tasks the installed reasoning-gym package ships and
    uses itself (``reasoning_gym/data/codeio.jsonl.gz``), ``"reasoning-gym:hq"`` for the package's
    other file (``codeio-hq.jsonl.gz``, despite its name one JSON array), or the path of a file in
    either layout (JSON Lines or a JSON array, optionally gzipped).

    A record has ``task_description`` (the problem), ``input_output_spec`` (``Input:`` and
    ``Output:`` sections naming the arguments and the return value), ``code_sample`` (defining
    ``main_solution(**inputs)``) and ``input_generator`` (defining ``generate_inputs(rng)``, which
    the -hq file spells ``generate_input``: the declared generator then aliases it).
    Records have no name: a problem's id is the record's ``name`` or ``id`` where a file gives one,
    else ``codeio-`` and a hash of its content, which stays the same across package releases that
    reorder the file.

    The one reference solution is ``code_sample`` wrapped to read the input from stdin as one JSON
    object (``codeio_stdin``) and print ``main_solution``'s result as JSON. The declared generator
    follows the ``codeio`` contract: its source defines ``generate_inputs(rng: random.Random) ->
    dict`` of ``main_solution``'s keyword arguments, and the stdin is ``codeio_stdin`` of that
    dict. The source is ``code_sample`` followed by ``input_generator``, as reasoning-gym runs
    them in one namespace with ``Random`` defined (generators use the sample's imports). It takes
    no scale parameters: the LLM stages must find them and parameterize it into a ``native``
    generator; it cannot be run as an environment's generator as it is.
    """

    name = "codeio"
    description = "CodeI/O tasks shipped with reasoning-gym (statement, function, input generator)"

    def read(self, path: str | Path) -> SourceResult:
        if isinstance(path, str) and path in CODEIO_PACKAGED:
            file, shown = _packaged_codeio(path)
        else:
            file = Path(path)
            shown = file.name
        data = _read_bytes(file)
        if data.lstrip()[:1] == b"[":
            items = _json_array(data, file, shown)
        else:
            items = _json_lines(io.BytesIO(data), shown)
        return _collect(items, self._problem)

    def _problem(self, record: Mapping[str, Any], origin: str) -> Problem:
        texts = {
            field: cast(str, _text(record, field))
            for field in ("task_description", "input_output_spec", "code_sample", "input_generator")
        }
        if "def main_solution(" not in texts["code_sample"]:
            raise _Reject("field 'code_sample' does not define main_solution()")
        defined = _GENERATE.search(texts["input_generator"])
        if defined is None:
            raise _Reject("field 'input_generator' does not define generate_inputs()")
        sections = _SPEC_SECTIONS.match(texts["input_output_spec"])
        if sections is None:
            raise _Reject("field 'input_output_spec' has no 'Input:' and 'Output:' sections")
        if "name" in record or "id" in record:
            problem_id = _record_id(record)
        else:
            content = json.dumps([texts[f] for f in sorted(texts)])
            problem_id = "codeio-" + hashlib.sha256(content.encode()).hexdigest()[:12]
        narrative = texts["task_description"].strip()
        output_spec = f"{_CODEIO_OUTPUT_NOTE}\n{sections['output'].rstrip()}"
        statement = (
            f"{narrative}\n\nInput\n{_CODEIO_INPUT_NOTE}\n{sections['input'].rstrip()}\n\n"
            f"Output\n{output_spec}\n"
        )
        code = texts["code_sample"].rstrip()
        generator = f"{_CODEIO_GENERATOR_PRELUDE}{code}\n\n\n{texts['input_generator'].rstrip()}\n"
        if defined.group(1) == "generate_input":  # the -hq file's spelling
            generator += "\n\ngenerate_inputs = generate_input\n"
        name = record.get("name")
        return Problem(
            id=problem_id,
            name=str(name) if name is not None else _short(narrative),
            statement=statement,
            solutions=(Program("python", code + "\n" + _CODEIO_MAIN),),
            source=self.name,
            origin=origin,
            declared=Declared(
                narrative=narrative,
                output_spec=output_spec,
                generator=Program("python", generator),
                generator_contract=CODEIO_CONTRACT,
                min_solutions=1,
            ),
        )


def _short(text: str, limit: int = 80) -> str:
    """A display name: the description's first line, cut at a word near ``limit`` characters."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    if len(line) <= limit:
        return line
    return line[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + " ..."
