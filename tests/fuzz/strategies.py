"""Bad input built from good input: valid records, mutated field by field, then damaged as text.

Random text alone rarely gets past a parser's first check (``json.loads``); a real record with
one field dropped, retyped or pushed to an edge value reaches the checks deep inside, which is
where the crashes hid.
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

#: Examples per target in the default profile (CLI targets: a fifth; see ``examples``).
DEFAULT_EXAMPLES = 150

#: Where a value sits in a record: dict keys and list indexes from the root.
Place = tuple[Any, ...]

#: Values that broke parsers before: out of float range, not finite, not encodable, empty.
EDGE_VALUES: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    -1,
    2**63,
    10**400,
    -(10**400),
    0.5,
    float("nan"),
    float("inf"),
    float("-inf"),
    "",
    " \t\n",
    "\x00",
    "\ud800",
    "é∞\u202e",
    "1" * 5000,
    (),
    (("k", None),),
)


def _thaw(value: Any) -> Any:
    """EDGE_VALUES keeps its containers immutable (tuples) so no example can alter another's."""
    if isinstance(value, tuple):
        if value and all(isinstance(item, tuple) and len(item) == 2 for item in value):
            return {key: _thaw(item) for key, item in value}
        return [_thaw(item) for item in value]
    return value


def edge_value() -> st.SearchStrategy[Any]:
    """One of EDGE_VALUES, drawn by index: hypothesis prints a strategy's repr in its reports,
    and these values' reprs run to kilobytes."""
    return st.integers(0, len(EDGE_VALUES) - 1).map(lambda index: _thaw(EDGE_VALUES[index]))


def junk() -> st.SearchStrategy[Any]:
    """Any JSON-like value, edge values weighted in."""
    atoms = st.one_of(
        edge_value(),
        st.integers(),
        st.floats(),
        st.text(max_size=12),
    )
    return st.recursive(
        atoms,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
        max_leaves=6,
    )


def paths(value: Any, prefix: Place = ()) -> Iterator[Place]:
    """Every place in a JSON-like value, the root first."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


def get(value: Any, path: Place) -> Any:
    for step in path:
        value = value[step]
    return value


def replaced(value: Any, path: Place, new: Any) -> Any:
    """A copy of ``value`` with ``path`` set to ``new``; the original and its parts stay intact."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = replaced(value[head], rest, new)
    return copy


def dropped(value: Any, path: Place) -> Any:
    """A copy of ``value`` without the item at ``path`` (a non-empty path)."""
    parent = get(value, path[:-1])
    if isinstance(parent, dict):
        smaller: Any = {k: v for k, v in parent.items() if k != path[-1]}
    else:
        smaller = parent[: path[-1]] + parent[path[-1] + 1 :]
    return replaced(value, path[:-1], smaller)


def _emptied(target: Any) -> Any:
    if isinstance(target, (dict, list, str)):
        return type(target)()
    return 0


@st.composite
def mutated(draw: st.DrawFn, seed: Any, most: int = 3) -> Any:
    """``seed`` with one to ``most`` changes: a field dropped, retyped, emptied, swapped with
    another part of the record, pushed to an edge value, or joined by an unexpected one."""
    value = seed
    for _ in range(draw(st.integers(1, most))):
        places = list(paths(value))
        path = draw(st.sampled_from(places))
        target = get(value, path)
        operation = draw(st.sampled_from(["drop", "junk", "edge", "swap", "empty", "extra"]))
        if operation == "drop" and path:
            value = dropped(value, path)
        elif operation == "swap":
            other = get(value, draw(st.sampled_from(places)))
            value = replaced(value, path, other)
        elif operation == "empty":
            value = replaced(value, path, _emptied(target))
        elif operation == "extra" and isinstance(target, dict):
            key = draw(st.text(max_size=8) | st.sampled_from(sorted(target) or ["x"]))
            value = replaced(value, path, {**target, key: draw(junk())})
        elif operation == "extra" and isinstance(target, list) and target:
            value = replaced(value, path, [*target, draw(st.sampled_from(target))])
        elif operation == "edge":
            value = replaced(value, path, draw(edge_value()))
        else:
            value = replaced(value, path, draw(junk()))
    return value


@st.composite
def damaged(draw: st.DrawFn, text: bytes) -> bytes:
    """``text`` cut short, with bytes that are not UTF-8, a BOM, or nesting deeper than any
    recursive parser goes."""
    at = draw(st.integers(0, len(text)))
    operation = draw(st.sampled_from(["truncate", "insert", "deep", "bom", "replace"]))
    if operation == "truncate":
        return text[:at]
    if operation == "insert":
        return text[:at] + draw(st.binary(min_size=1, max_size=6)) + text[at:]
    if operation == "deep":
        return text[:at] + draw(st.sampled_from([b"[", b"{", b'{"a":', b"[{"])) * 20_000
    if operation == "bom":
        return b"\xef\xbb\xbf" + text
    return draw(st.binary(max_size=64))


def json_bytes(value: Any, ensure_ascii: bool) -> bytes:
    """``value`` as JSON the way a careless writer stores it: NaN allowed, surrogates kept."""
    return json.dumps(value, ensure_ascii=ensure_ascii).encode("utf-8", "surrogatepass")


@st.composite
def json_document(draw: st.DrawFn, seed: Any) -> bytes:
    """A JSON file from ``seed``: mutated, and one time in four damaged as text as well."""
    text = json_bytes(draw(mutated(seed)), draw(st.booleans()))
    return draw(damaged(text)) if draw(st.integers(0, 3)) == 0 else text


def _key(key: Any) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", str(key)) else json.dumps(str(key))


def _value(value: Any) -> str:
    """A TOML literal; what TOML cannot hold (null, lone surrogates) comes out invalid on
    purpose, as a hand-edited file would."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(value), repr(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    return "null"


def toml_text(data: Any) -> str:
    """The document for ``data``: top-level values first, then one [table] per dict."""
    if not isinstance(data, dict):
        return _value(data) + "\n"
    lines = [f"{_key(k)} = {_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for name, table in data.items():
        if isinstance(table, dict):
            lines.append(f"[{_key(name)}]")
            lines.extend(f"{_key(k)} = {_value(v)}" for k, v in table.items())
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def file_holding(content: bytes, name: str) -> Iterator[Path]:
    """``content`` as the file ``name`` in a folder of its own, removed afterwards. Hypothesis
    runs a test once per input, and pytest's ``tmp_path`` would be shared by all of them."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        yield path


def one_of_seeds(seeds: list[Any]) -> st.SearchStrategy[Any]:
    """A seed by index: drawing it by value would print every seed in each failure report."""
    return st.integers(0, len(seeds) - 1).map(seeds.__getitem__)


def examples(share: float) -> int:
    """A target's example count as a share of the profile's, so one variable scales them all."""
    return max(1, int(settings.default.max_examples * share))
