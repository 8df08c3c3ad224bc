"""Instances a second through the ray backend against the number of nodes.

    python benchmarks/ray_nodes.py [--nodes 1,2] [--local-nodes 2] [--backend process]
                                   [--ray-address auto] [-n 648] [--levels middle]

Prints one JSON object: instances, levels, local (the node backend alone: backend, workers,
instances_per_s, p50_ms, p99_ms) and ray (per node count: nodes, actors, node_backends,
workers, the same figures, speedup_over_local). Same as `scaler bench ray-nodes --json`.
"""

from __future__ import annotations

import sys

from scaler.cli import main

if __name__ == "__main__":
    main(["bench", "ray-nodes", "--json", *sys.argv[1:]])
