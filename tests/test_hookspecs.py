"""Every hook is tested and documented: adding a hook without both fails here."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from scaler import hookspecs
from scaler.plugins import KINDS
from scaler.registry import Kind

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


def test_every_registration_hook_fills_a_kind_of_registry() -> None:
    registering = {hook for hook in HOOKS if hook.startswith("scaler_register_")}
    assert {kind.hook for kind in KINDS} == registering - {"scaler_register_commands"}
    assert len({kind.name for kind in KINDS}) == len(KINDS)


def _register_type(kind: Kind[object]) -> str:
    """The annotation of the hook's ``register``, as written (annotations are not evaluated)."""
    return str(inspect.signature(getattr(hookspecs, kind.hook)).parameters["register"].annotation)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_a_registration_hook_says_what_it_registers_and_where(kind: Kind[object]) -> None:
    """The hook's docstring and its docs/plugins.md section name the ``register`` type, and the
    docstring the constant to look the names up with."""
    typed = _register_type(kind)
    assert typed.startswith("Register[") or kind.name == "environments", typed
    doc = getattr(hookspecs, kind.hook).__doc__ or ""
    assert f"``{typed}``" in doc and f"``{kind.name.upper()}``" in doc
    docs = (ROOT / "docs" / "plugins.md").read_text()
    section = docs.split(f"### `{kind.hook}(", 1)[1].split("\n### ", 1)[0]
    assert f"`{typed}`" in section and f"`{kind.name.upper()}`" in section
