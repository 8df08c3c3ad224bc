"""``import scaler``: every exported name resolves, and importing it stays cheap."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys

import pytest

import scaler
from scaler import hookspecs
from scaler.curriculum.controllers import Controller
from scaler.curriculum_loop import Curriculum
from scaler.errors import ScalerError
from tests.conftest import ROOT

#: What a reward function that imports scaler must not pay for.
HEAVY = ("matplotlib", "torch", "docker", "structlog", "rich", "click")


def test_all_is_sorted_complete_and_resolves() -> None:
    assert scaler.__all__ == sorted(scaler.__all__)
    public = {name for name in dir(scaler) if not name.startswith("_")}
    public -= {"annotations", "importlib", "TYPE_CHECKING", "Any"}
    public -= {name for name in public if type(getattr(scaler, name)).__name__ == "module"}
    assert public == set(scaler.__all__) - {"__version__"}
    for name in scaler.__all__:
        assert getattr(scaler, name) is not None
    assert scaler.Curriculum is Curriculum and scaler.Controller is Controller
    assert issubclass(scaler.ConfigError, ScalerError)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        _ = scaler.Nothing  # type: ignore[attr-defined]


def test_import_loads_nothing_heavy() -> None:
    code = (
        "import sys, scaler\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
        "scaler.Curriculum\n"
        "print(sorted(m for m in ('matplotlib', 'torch', 'docker') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines() == ["[]", "[]"]


#: What a plugin implements for each hook, or must return from it (docs/api.md, "For plugin
#: authors"); a hook's plain functions (verifiers, prompt templates), the click group and the
#: event hooks' arguments name nothing of their own.
INTERFACES = {
    "scaler_register_environments": ("EnvSpec",),
    "scaler_register_importers": ("ImportResult",),
    "scaler_register_sources": ("ProblemSource", "SourceResult"),
    "scaler_register_llms": ("LLMClient", "Completion"),
    "scaler_register_extractors": ("Extractor", "Meta"),
    "scaler_register_generators": ("Synthesizer", "Draft"),
    "scaler_register_checks": ("Check", "CheckResult"),
    "scaler_register_verifiers": (),
    "scaler_register_prompts": (),
    "scaler_register_controllers": ("Controller",),
    "scaler_register_curation": ("Curation",),
    "scaler_register_sandboxes": ("Sandbox", "Job", "JobResult"),
    "scaler_register_trainers": ("Trainer", "LoopOwner"),
    "scaler_register_policies": ("Policy",),
    "scaler_register_commands": (),
    "scaler_instances_generated": ("Instance",),
    "scaler_step_end": ("StepReport",),
    "scaler_env_retired": (),
}


def test_every_hook_has_its_interface_exported() -> None:
    hooks = {name for name in vars(hookspecs) if name.startswith("scaler_")}
    assert hooks == set(INTERFACES), "a hook was added or removed: say what it takes here"
    for names in INTERFACES.values():
        assert set(names) <= set(scaler.__all__)


def test_what_the_hook_docstrings_name_is_exported_as_itself() -> None:
    """``scaler.curriculum.controllers.Controller`` in a hook's docstring: ``scaler.Controller``
    is that very class."""
    named = {
        match.groups()
        for hook in INTERFACES
        for match in re.finditer(
            r"\b(scaler(?:\.[a-z_]+)+)\.([A-Z]\w*)", getattr(hookspecs, hook).__doc__ or ""
        )
    }
    assert ("scaler.official_pool", "ImportResult") in named  # also inside a longer example
    for module, name in named:
        assert getattr(scaler, name) is getattr(importlib.import_module(module), name)


def test_the_plugin_authors_table_lists_every_interface_with_its_module() -> None:
    table = (
        (ROOT / "docs" / "api.md").read_text(encoding="utf-8").split("### For plugin authors")[1]
    )
    for names in INTERFACES.values():
        for name in names:
            module = scaler._LAZY.get(name) or getattr(scaler, name).__module__
            assert f"| `{name}` | `{module}` |" in table, name
