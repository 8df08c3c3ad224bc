"""A static verl dataset from a pool: fixed (env, level, seed) instances in a parquet file.

For plain verl without the curriculum, and for evaluation sets per level. Instances are made
through the sandbox in batches; the file is written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from scaler.errors import ScalerError
from scaler.instances import InstanceFactory, Request
from scaler.model import EnvSpec
from scaler.train.rows import verl_row

#: Instances per sandbox batch: enough to fill the workers, small enough to show progress.
BATCH = 64


def export_requests(
    envs: Sequence[EnvSpec], levels: Sequence[int] | None, per_level: int, seed: int = 0
) -> list[Request]:
    """``per_level`` seeds at each level (all, or those given and within the env's range)."""
    requests: list[Request] = []
    for env in envs:
        chosen = (
            range(len(env.levels))
            if levels is None
            else [level for level in levels if level <= env.max_level]
        )
        for level in chosen:
            requests.extend(Request(env, level, seed + i) for i in range(per_level))
    return requests


def export_parquet(
    factory: InstanceFactory,
    requests: Sequence[Request],
    path: str | os.PathLike[str],
    on_batch: Callable[[int], None] | None = None,
) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ScalerError("writing parquet needs pyarrow: pip install 'scaler[parquet]'") from exc
    rows: list[dict[str, Any]] = []
    for start in range(0, len(requests), BATCH):
        batch = requests[start : start + BATCH]
        rows.extend(verl_row(instance) for instance in factory.make(batch))
        if on_batch is not None:
            on_batch(len(batch))
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        pq.write_table(pa.Table.from_pylist(rows), tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return len(rows)
