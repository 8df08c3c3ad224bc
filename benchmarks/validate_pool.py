"""Seconds per environment to validate a pool, as `scaler validate` does (every check).

    python benchmarks/validate_pool.py POOL [--trials 100] [--workers 4] [--backend auto]
                                            [--compare BACKEND] [--format FORMAT]

Prints one JSON object: pool, envs, checks, trials, workers (environments at once), backend,
sandbox_workers, seconds, seconds_per_env, warmup_s (C++ builds, outside the figure), passed,
verdicts_sha256 (the cards without their timings); with --compare, the second backend's
figures under "compare", ratio (its seconds / ours) and same_verdicts. Same as `scaler bench
validate --json`.
"""

from __future__ import annotations

import sys

from scaler.cli import main

if __name__ == "__main__":
    main(["bench", "validate", "--json", *sys.argv[1:]])
