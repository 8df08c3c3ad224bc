"""The ray backend's scaling benchmark: instances a second against the number of nodes.

The same requests (the builtin pack, ``scaler bench instances``'s) are made through the node's
own backend alone (``local``: no Ray), then through the ray backend on 1, 2, ... nodes of a
cluster (``RaySandbox(nodes=k)``), each verified, in one process. On a real cluster, run it
against the cluster (``RAY_ADDRESS``); without one, ``local_nodes`` starts that many nodes on
this machine (``ray.cluster_utils.Cluster``), which share its cores: a check of the
benchmark and of Ray's own overhead, not of scaling.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from scaler.model import ENVIRONMENTS
from scaler.perf.instances import measure_sandbox, mixed_requests, workers_of
from scaler.registry import PluginSet
from scaler.sandbox.ray_cluster import RaySandbox
from scaler.sandbox.selection import build_sandbox


@contextlib.contextmanager
def local_cluster(nodes: int, cpus_per_node: int) -> Iterator[str]:
    """``nodes`` Ray nodes on this machine, this process connected; their address."""
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": cpus_per_node})
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=cpus_per_node)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
    try:
        yield str(cluster.address)
    finally:
        ray.shutdown()
        cluster.shutdown()


def run_ray_nodes_benchmark(
    plugins: PluginSet,
    node_counts: Sequence[int],
    count: int = 648,
    levels: str = "middle",
    backend: str = "auto",
) -> dict[str, Any]:
    """``local`` (``backend`` alone), then ``ray`` on each of ``node_counts`` nodes; each
    with its workers, instances a second, and (ray) the speed-up over local. Needs Ray
    connected (``ray.init``) or ``RAY_ADDRESS``."""
    envs = [entry.obj for entry in plugins.registry(ENVIRONMENTS).values()]
    requests = mixed_requests(envs, count, levels=levels)
    with contextlib.closing(build_sandbox(plugins, backend, {})) as local:
        baseline: dict[str, Any] = {
            "backend": local.name,
            "workers": workers_of(local),
            **measure_sandbox(local, plugins, requests),
        }
    steps = []
    for nodes in node_counts:
        with RaySandbox(plugins=plugins, backend=backend, nodes=nodes) as sandbox:
            figures = measure_sandbox(sandbox, plugins, requests)
            steps.append(
                {
                    "nodes": len({info.node for info in sandbox.describe()}),
                    "actors": len(sandbox.describe()),
                    "node_backends": sorted({info.backend for info in sandbox.describe()}),
                    "workers": sandbox.workers,
                    **figures,
                    "speedup_over_local": figures["instances_per_s"] / baseline["instances_per_s"],
                }
            )
    return {"instances": count, "levels": levels, "local": baseline, "ray": steps}
