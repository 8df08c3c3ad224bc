"""Per-run overhead of a backend on trivial programs (echo a line), Python and C++.

    python benchmarks/runs.py [--backend auto|docker|process|naive-subprocess|in-process]
                              [-n 2000] [--batch 200] [--workers 1]

Prints one JSON object: backend, workers, runs, batch, and per language ("python", "cpp"):
per_run_ms_p50 (the median over batches of batch wall / runs), direct_ms_p50 (the same
program run directly in the same process: Python exec-ed in it, C++ a posix_spawn of the binary),
overhead_ms_p50 (their difference), direct (how it ran). Same as `scaler bench runs --json`.
"""

from __future__ import annotations

import sys

from scaler.cli import main

if __name__ == "__main__":
    main(["bench", "runs", "--json", *sys.argv[1:]])
