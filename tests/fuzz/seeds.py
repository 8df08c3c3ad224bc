"""Valid input to start from: real records, configs and files, taken from the code's own data.

The shared test data (``../shared/data``) adds real official entries where it is present; the
suite runs without it.
"""

from __future__ import annotations

import json
from typing import Any

from scaler.compat import tomllib
from scaler_envs_builtin import builtin_envs
from tests.conftest import OFFICIAL_POOL, ROOT
from tests.test_official_pool import _entry
from tests.test_pool import record


def _without_version(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "version"}


#: Real records: the builtin pack as written by ``write_pool``, and without the version field
#: (an edited record must drop it), so a mutation that stays valid is accepted, not refused.
NATIVE_SEEDS = [record()] + [
    data for env in builtin_envs()[:4] for data in (env.to_dict(), _without_version(env.to_dict()))
]


def _shared_official() -> list[dict[str, Any]]:
    """Two real entries of the shared sample pool, cut to three solutions each to stay quick."""
    if not OFFICIAL_POOL.exists():
        return []
    entries = list(json.loads(OFFICIAL_POOL.read_text(encoding="utf-8")).items())[:2]
    return [
        {
            key: {
                **entry,
                "solutions": {k: v[:3] for k, v in entry["solutions"].items()},
            }
            for key, entry in entries
        }
    ]


#: The official format: the test suite's entry, and the shared sample pool where it is present.
OFFICIAL_SEEDS: list[dict[str, Any]] = [{"1_A. Toy": _entry()}, *_shared_official()]


#: Every config the repository ships.
CONFIG_SEEDS = [
    tomllib.loads(path.read_text(encoding="utf-8"))
    for path in sorted((ROOT / "configs").glob("*.toml"))
]
