"""``scaler bench ray-nodes``: the ray backend on 1 and 2 local nodes against the node backend
alone, in one run (figures not checked: this machine's nodes share its cores)."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.ray
ray = pytest.importorskip("ray", reason="Ray is not installed (the ray tox env has it)")


def test_bench_ray_nodes_measures_each_node_count_and_the_local_backend(run: Any) -> None:
    code, out, err = run(
        "bench", "ray-nodes", "--local-nodes", "2", "--backend", "process", "-n", "32", "--json"
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["instances"] == 32 and report["local"]["backend"] == "process"
    assert [step["nodes"] for step in report["ray"]] == [1, 2]
    assert [step["workers"] for step in report["ray"]] == [1, 2]
    for step in report["ray"]:
        assert step["node_backends"] == ["process"] and step["instances_per_s"] > 0
        assert step["speedup_over_local"] == pytest.approx(
            step["instances_per_s"] / report["local"]["instances_per_s"]
        )
    assert not ray.is_initialized()


def test_bench_ray_nodes_refuses_a_bad_node_list(run: Any) -> None:
    code, _, err = run("bench", "ray-nodes", "--nodes", "1,x")
    assert code == 2 and "--nodes" in err
