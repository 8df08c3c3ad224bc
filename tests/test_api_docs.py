"""Every ``python`` block of docs/api.md runs, each on its own in an empty directory."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import scaler.plugins
from tests.conftest import ROOT

DOC = ROOT / "docs" / "api.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _blocks() -> list[tuple[int, str]]:
    """(line of the block's first code line, code) for each block."""
    text = DOC.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in _BLOCK.finditer(text)]


def test_the_page_has_its_examples() -> None:
    blocks = [code for _, code in _blocks()]
    assert DOC.read_text(encoding="utf-8").count("```python") == len(blocks) >= 7
    assert any("curriculum.report(results)" in code for code in blocks)


@pytest.mark.parametrize(
    ("line", "code"), [pytest.param(*block, id=f"line-{block[0]}") for block in _blocks()]
)
def test_example_runs(
    line: int, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SCALER_PLUGINS", "SCALER_LOAD_PLUGINS", "SCALER_BLOCK_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(scaler.plugins, "_process", None)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"{DOC}:{line}", "exec"), {"__name__": "__main__"})
