"""Every hook is tested and documented: adding a hook without both fails here."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from scaler import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS = sorted(
    name
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
    if name.startswith("scaler_") and hasattr(fn, "scaler_spec")
)


def test_there_are_hooks_for_every_role_of_the_design() -> None:
    roles = [
        "environments",
        "sources",
        "llms",
        "extractors",
        "generators",
        "checks",
        "verifiers",
        "controllers",
        "curation",
        "sandboxes",
        "trainers",
        "commands",
    ]
    for role in roles:
        assert f"scaler_register_{role}" in HOOKS
    assert {"scaler_step_end", "scaler_env_retired", "scaler_instances_generated"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_docstring(hook: str) -> None:
    assert (getattr(hookspecs, hook).__doc__ or "").strip()


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented(hook: str) -> None:
    docs = (ROOT / "docs" / "plugins.md").read_text()
    assert re.search(rf"^### `{hook}\(", docs, re.MULTILINE), f"no section for {hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_exercised_by_a_test(hook: str) -> None:
    here = Path(__file__).resolve()
    users = [
        p
        for p in (ROOT / "tests").rglob("test_*.py")
        if p.resolve() != here and re.search(rf"\bdef {hook}\(", p.read_text())
    ]
    assert users, f"no test implements {hook}"
