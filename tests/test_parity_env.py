"""The one-file environment plugin of docs/plugins.md, loaded with ``--plugin`` as users do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scaler.instances import InstanceFactory, Request
from scaler.model import ENVIRONMENTS
from scaler.plugins import Plugins
from scaler.sandbox.jobs import Job

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "plugins" / "parity_env.py"
DOCS = ROOT / "docs" / "plugins.md"
ENV_ID = "even-sum-subarrays"


def even_sum_subarrays(a: list[int]) -> int:
    n = len(a)
    return sum(sum(a[left : right + 1]) % 2 == 0 for left in range(n) for right in range(left, n))


def test_docs_show_the_whole_file_verbatim() -> None:
    assert f"```python\n{PLUGIN.read_text(encoding='utf-8')}```" in DOCS.read_text("utf-8")


def test_list_show_and_sample_through_the_cli(run) -> None:
    code, out, _ = run("--plugin", str(PLUGIN), "envs", "list", "--json")
    rows = {row["id"]: row for row in json.loads(out)}
    assert code == 0 and "lis-length" in rows
    assert rows[ENV_ID]["name"] == "Even-Sum Subarrays"
    assert (rows[ENV_ID]["output_type"], rows[ENV_ID]["levels"]) == ("number", 25)

    code, out, _ = run("--plugin", str(PLUGIN), "envs", "show", ENV_ID)
    assert code == 0 and f"Even-Sum Subarrays  ({ENV_ID}, version" in out
    assert "n in [1, 500]" in out and "solutions: python, cpp" in out

    code, out, _ = run(
        "--plugin", str(PLUGIN), "envs", "sample", ENV_ID, "-l", "0", "-s", "1", "--json"
    )
    assert code == 0
    instance = json.loads(out)
    a = instance["shown_input"]["a"]
    assert (instance["env_id"], instance["level"], instance["seed"]) == (ENV_ID, 0, 1)
    assert instance["params"] == {"n": 1} and instance["shown_input"]["n"] == len(a) == 1
    assert instance["stdin"] == f"1\n{a[0]}\n"
    assert instance["answer"] == str(even_sum_subarrays(a))
    assert "# Even-Sum Subarrays Problem Description:" in instance["messages"][1]["content"]


def test_solutions_agree_with_each_other_and_a_brute_force(sandbox: Any) -> None:
    plugins = Plugins.load([str(PLUGIN)], environ={"SCALER_LOAD_PLUGINS": ""})
    env = plugins.get(ENVIRONMENTS, ENV_ID)
    requests = [Request(env, level, seed) for level in (3, 12, 24) for seed in range(3)]
    instances = InstanceFactory(sandbox, plugins).make(requests)
    results = sandbox.run_batch([Job(env.solutions[1], i.stdin, env.limits) for i in instances])
    for instance, result in zip(instances, results, strict=True):
        assert instance.params["n"] == len(instance.shown_input["a"])
        assert instance.answer == str(even_sum_subarrays(instance.shown_input["a"]))
        assert result.ok and result.stdout.strip() == instance.answer
    assert instances[-1].params == {"n": 500} and len(instances[-1].stdin) <= 2048
