"""Verified instances per second over the builtin pack, against a spawn-per-call baseline.

    python benchmarks/instances.py [--backend auto|docker|process|naive-docker|naive-subprocess|
                                             in-process]
                                   [-n 200] [--baseline-count 40] [--workers N] [--rounds 3]

Prints one JSON object: backend, instances_per_s, p50_ms, p99_ms, baseline {name,
instances_per_s}, ratio (ours / baseline), in_process {instances_per_s} (the same requests with
no sandbox: Python exec-ed in the benchmark's process), limit_instances_per_s (in_process times
our workers) and share_of_in_process (ours / limit), all of the round with the median share;
rounds lists every round's instances_per_s, in_process_instances_per_s and share_of_in_process
(ours and the limit are measured in turn, one pair per round). The baseline is naive-docker
(one hardened `docker run` per call) for the docker backend, naive-subprocess for the others.
Same as `scaler bench instances --json`.
"""

from __future__ import annotations

import sys

from scaler.cli import main

if __name__ == "__main__":
    main(["bench", "instances", "--json", *sys.argv[1:]])
