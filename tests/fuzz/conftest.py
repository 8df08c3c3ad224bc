"""Hypothesis profiles for the fuzz suite.

``scaler-fuzz`` (the default) is derandomized so that CI tries the same inputs on every run and a
failure reproduces from the test name alone; ``SCALER_FUZZ_EXAMPLES`` scales every target's
example count (the CLI targets get a fifth of it). ``scaler-fuzz-random`` draws fresh inputs on
each run, for hunting: ``SCALER_FUZZ_PROFILE=scaler-fuzz-random``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from tests.fuzz.strategies import DEFAULT_EXAMPLES

_EXAMPLES = int(os.environ.get("SCALER_FUZZ_EXAMPLES", DEFAULT_EXAMPLES))
_COMMON = {
    "max_examples": _EXAMPLES,
    # Timing varies with the machine's load; a slow input is not a failing one here.
    "deadline": None,
    # Big seed records (real generators and statements) make large inputs by design.
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("scaler-fuzz", derandomize=True, database=None, **_COMMON)
settings.register_profile("scaler-fuzz-random", derandomize=False, **_COMMON)
settings.load_profile(os.environ.get("SCALER_FUZZ_PROFILE", "scaler-fuzz"))
