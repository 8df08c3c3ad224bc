"""The example third-party plugin, installed with pip as a user would, seen by scaler."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parent.parent / "plugins" / "scaler-example"


def scaler(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "scaler", *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def _can_build_offline() -> bool:
    """A wheel can be built without fetching setuptools: it and its bdist_wheel are here."""
    try:
        return any(
            importlib.util.find_spec(name) is not None
            for name in ("setuptools.command.bdist_wheel", "wheel")
        )
    except ModuleNotFoundError:
        return False


@pytest.fixture(scope="module")
def installed() -> Iterator[None]:
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    if _can_build_offline():
        pip.append("--no-build-isolation")
    subprocess.run([*pip, str(PLUGIN)], check=True, capture_output=True)
    yield
    subprocess.run(
        [sys.executable, "-m", "pip", "uninstall", "--quiet", "--yes", "scaler-example"],
        check=True,
        capture_output=True,
    )


def test_plugins_lists_it(installed: None) -> None:
    rows = {r["name"]: r for r in json.loads(scaler("plugins", "--json"))}
    example = rows["example"]
    assert example["origin"] == "entry point of scaler-example"
    assert example["version"] == "0.1.0"
    assert example["registered"] == {
        "environments": ["unique-values"],
        "verifiers": ["unordered"],
    }


def test_envs_list_shows_its_environment(installed: None) -> None:
    rows = {r["id"]: r for r in json.loads(scaler("envs", "list", "--json"))}
    assert rows["unique-values"]["output_type"] == "unordered"


def test_its_verifier_accepts_any_order(installed: None, tmp_path: Path) -> None:
    out = scaler("envs", "sample", "unique-values", "--level", "12", "--seed", "2", "--json")
    instance = json.loads(out)
    values = json.loads(instance["answer"])
    assert len(values) >= 2
    path = tmp_path / "instance.json"
    path.write_text(out)
    shuffled = "\\boxed{" + str(list(reversed(values))) + "}"
    verdict = json.loads(scaler("verify", "--answer", shuffled, "--instance", str(path), "--json"))
    assert verdict["correct"] is True and verdict["reason"] == "equal as multisets"
