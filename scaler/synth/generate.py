"""The generator stage's reply: one fenced Python block with the native generator contract."""

from __future__ import annotations

import ast
import re

from scaler.model import Program
from scaler.synth.extract import Malformed

_PYTHON_BLOCK = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)


def parse_generator(reply: str) -> Program:
    """The generator program in the reply; Malformed when there is none (or more than one)."""
    blocks = [b for b in _PYTHON_BLOCK.findall(reply) if b.strip()]
    if not blocks:
        raise Malformed("no ```python block in the reply")
    if len(blocks) > 1:
        raise Malformed(f"{len(blocks)} code blocks in the reply; expected exactly one")
    source = blocks[0]
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise Malformed(f"the generator does not parse: {exc.msg} (line {exc.lineno})") from exc
    except (ValueError, RecursionError, MemoryError) as exc:
        # Null bytes (a ValueError before Python 3.12) and nesting too deep for the parser.
        raise Malformed(f"the generator does not parse: {type(exc).__name__}") from exc
    defines = {
        node.name: len(node.args.args) for node in tree.body if isinstance(node, ast.FunctionDef)
    }
    if defines.get("generate") != 2:
        raise Malformed("the block must define generate(params, rng) at top level")
    return Program("python", source)
