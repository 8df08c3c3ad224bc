"""The curriculum's bookkeeping per step, and simulated steps per second against a baseline.

    python benchmarks/curriculum.py [--pool-size 2739] [--window 64] [--update-steps 2000]
                                    [--steps 30] [--batch-size 8] [--step-window 8]
                                    [--controller scaler] [--curation scaler-window]
                                    [--workers N]

Prints one JSON object: pool_size, active, ms_per_step (the update, synthetic pool),
steps_per_s (simulated steps with real instances, process sandbox), and the details of both
parts under "updates" and "steps"; "steps" holds the baseline (instances made one at a time, no
prefetch) and the ratio. Same as `scaler bench curriculum --json`.
"""

from __future__ import annotations

import argparse
import json

from scaler.logs import configure
from scaler.perf.curriculum import run_curriculum_benchmark
from scaler.plugins import Plugins
from scaler.sandbox.process import ProcessSandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool-size", type=int, default=2739)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--update-steps", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--step-window", type=int, default=8)
    parser.add_argument("--controller", default="scaler")
    parser.add_argument("--curation", default="scaler-window")
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    args = parser.parse_args()
    configure()  # logs to stderr: stdout carries only the JSON
    plugins = Plugins.load()
    with ProcessSandbox(workers=args.workers) as sandbox:
        report = run_curriculum_benchmark(
            plugins,
            sandbox,
            pool_size=args.pool_size,
            window=args.window,
            update_steps=args.update_steps,
            steps=args.steps,
            batch_size=args.batch_size,
            step_window=args.step_window,
            controller=args.controller,
            curation=args.curation,
        )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
