"""The ``ray`` backend's options, checked before Ray is imported, and the error where Ray is
missing. Needs no Ray (tests/sandbox/test_ray_sandbox.py runs the backend on a cluster)."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from scaler.errors import ConfigError, ScalerError
from scaler.plugins import Plugins
from scaler.sandbox.selection import build_sandbox


@pytest.mark.parametrize(
    ("options", "field", "words"),
    [
        ({"actors_per_node": 0}, "sandbox.actors_per_node", ">= 1"),
        ({"actors_per_node": "2"}, "sandbox.actors_per_node", "whole number"),
        ({"nodes": 0}, "sandbox.nodes", ">= 1"),
        ({"backend": "ray"}, "sandbox.backend", "cannot be ray itself"),
    ],
)
def test_bad_options_name_the_field(options: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_sandbox(Plugins.load(environ={}), "ray", options, source="run.toml")
    assert caught.value.field == field and words in str(caught.value)
    assert "run.toml" in str(caught.value)


@pytest.mark.skipif(importlib.util.find_spec("ray") is not None, reason="Ray is installed here")
def test_without_ray_the_backend_says_what_to_install() -> None:
    with pytest.raises(ScalerError, match=r"pip install 'scaler\[ray\]'"):
        build_sandbox(Plugins.load(environ={}), "ray", {})
