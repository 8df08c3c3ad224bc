"""Time to validate one environment, ours against the paper's pattern, in the same process.

    python benchmarks/validation.py [--trials 100] [--runs 100] [--env lis-length] [--workers N]

Validation is breadth (``--trials`` random scales, three reference solutions each), depth
(``--runs`` seeds at one scale, the first solution) and min. Ours runs the checks through the
process sandbox (``--workers``, default one per core); the paper's pattern runs the same checks
with a fresh subprocess per program run, one at a time. Prints one JSON object: env,
solutions, runs (program runs, the same on both sides), ours_s, paper_s, ratio (paper / ours),
backend, workers, and the details of each side under "ours" and "paper".
"""

from __future__ import annotations

import argparse
import json

from scaler.logs import configure
from scaler.perf.validation import ENV_ID, run_validation_benchmark
from scaler.plugins import Plugins
from scaler.sandbox.process import ProcessSandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100, help="breadth trials")
    parser.add_argument("--runs", type=int, default=100, help="depth runs")
    parser.add_argument("--env", default=ENV_ID, help="the builtin environment to validate")
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    args = parser.parse_args()
    configure()  # logs to stderr: stdout carries only the JSON
    plugins = Plugins.load()
    with ProcessSandbox(workers=args.workers) as sandbox:
        report = run_validation_benchmark(
            plugins, sandbox, trials=args.trials, runs=args.runs, env_id=args.env
        )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
