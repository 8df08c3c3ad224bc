from __future__ import annotations

import inspect
import re

import attrs
import pytest

from scaler.model import EnvSpec, Instance, Program, ScaleParam


def make_env(**changes: object) -> EnvSpec:
    env = EnvSpec(
        id="double",
        name="Double",
        statement="Given n, print 2n.",
        output_spec="Print one integer.",
        output_type="number",
        scale_params=(ScaleParam("n", 1, 100),),
        levels=(0, 10, 99),
        generator=Program("python", "def generate(params, rng):\n    return '1\\n', {}\n"),
        solutions=(Program("python", "print(2)"),),
    )
    return attrs.evolve(env, **changes)


def test_version_is_a_content_hash() -> None:
    env = make_env()
    assert env.version == make_env().version
    assert env.version != make_env(statement="Given n, print 3n.").version
    assert env.version == make_env(provenance=attrs.evolve(env.provenance, llm="x")).version


def test_params_at_level() -> None:
    env = make_env(scale_params=(ScaleParam("n", 1, 100, 1.0), ScaleParam("m", 0, 1000, 10.0)))
    assert env.params_at(0) == {"n": 1, "m": 0}
    assert env.params_at(2) == {"n": 100, "m": 990}
    assert env.max_level == 2


def test_program_hash_depends_on_language_and_source() -> None:
    assert Program("python", "x").hash != Program("cpp", "x").hash
    assert Program("python", "x").hash == Program("python", "x").hash


def test_instance_round_trips_through_dict() -> None:
    instance = Instance(
        env_id="e",
        env_version="v",
        level=1,
        seed=2,
        params={"n": 3},
        stdin="3\n",
        shown_input={"n": 3},
        answer="6",
        output_type="number",
        messages=({"role": "user", "content": "hi"},),
    )
    assert Instance.from_dict(instance.to_dict()) == instance
    assert instance.extra_info["answer"] == "6"


def test_model_is_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        make_env().id = "other"  # type: ignore[misc]


@pytest.mark.parametrize("cls", [EnvSpec, Program])
def test_docstring_says_what_every_field_means(cls: type) -> None:
    """``help(scaler.EnvSpec)`` is where a plugin author looks: no field may go unexplained."""
    doc = inspect.getdoc(cls) or ""
    assert "Attributes:\n" in doc
    listed = re.findall(r"^    (\w+): \S", doc.split("Attributes:\n", 1)[1], flags=re.MULTILINE)
    assert listed == [field.name for field in attrs.fields(cls)]
