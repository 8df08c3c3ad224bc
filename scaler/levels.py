"""Difficulty calibration (method section 2.5): one shared offset drives every scale parameter.

Everything here is arithmetic; measuring how large a generated input is belongs to the caller,
so the same rules serve the builtin pack, imported pools and the synthesis pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence

from scaler.model import ScaleParam

#: At most this many levels, whatever the range.
MAX_LEVELS = 30
#: The largest offset range the shared offset spans, and the cap on one parameter's span.
MAX_SPAN = 10_000
#: The reference code's prompt budget: the stdin text of an instance, in characters.
DEFAULT_BUDGET_CHARS = 2048


def offset_range(params: Sequence[ScaleParam]) -> int:
    """``min_range``: the offset at which the narrowest parameter reaches its maximum."""
    return min(MAX_SPAN, *(p.max - p.min for p in params)) if params else 0


def with_bases(params: Sequence[ScaleParam]) -> tuple[ScaleParam, ...]:
    """The params with ``base_k = min(max_k - min_k, 10000) / min_range``.

    With a zero range (a parameter fixed by its constraints) every base is 0: the offset is moot.
    """
    span = offset_range(params)
    return tuple(
        ScaleParam(p.name, p.min, p.max, (min(p.max - p.min, MAX_SPAN) / span) if span else 0.0)
        for p in params
    )


def offset_search(hi: int) -> Generator[int, bool, int]:
    """Binary search of the largest s in [0, hi] that fits, input size growing with s.

    A coroutine: it yields the offset to try and is sent whether it fit, so a caller can run
    the searches of many environments in lockstep and batch their sandbox calls. Level 0 is
    kept even when it does not fit: an environment always has its easiest level.
    """
    lo, best = 0, 0
    while lo <= hi:
        mid = (lo + hi) // 2
        if (yield mid):
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    return best


def largest_fitting_offset(fits: Callable[[int], bool], hi: int) -> int:
    search = offset_search(hi)
    try:
        offset = next(search)
        while True:
            offset = search.send(fits(offset))
    except StopIteration as done:
        return int(done.value)


def level_offsets(s_max: int) -> tuple[int, ...]:
    """Discretize [0, s_max] into levels: arithmetic for short ranges, geometric for long ones.

    Reproduces the official pool's ``difficulty_dict`` tables exactly (a test holds it to them).
    """
    span = s_max + 1
    if span <= 100:
        count = min(MAX_LEVELS, span)
        offsets: list[int] = []
        for level in range(count):
            value = int(level * span / count)
            if offsets and value <= offsets[-1]:
                value = offsets[-1] + 1
            offsets.append(value)
        return tuple(offsets)
    ratio = 1.3 if span <= 1000 else 1.6
    offsets = [0]
    level = 1
    while len(offsets) < MAX_LEVELS:
        value = round(ratio**level)
        if value >= s_max:
            offsets.append(s_max)
            break
        offsets.append(value)
        level += 1
    return tuple(offsets)


def calibrate(
    params: Sequence[ScaleParam],
    input_size: Callable[[dict[str, int]], int],
    budget: int = DEFAULT_BUDGET_CHARS,
) -> tuple[tuple[ScaleParam, ...], tuple[int, ...]]:
    """The params with their bases and the level offsets that keep inputs within ``budget``.

    ``input_size(params)`` measures a generated input (the caller decides over how many seeds).
    """
    based = with_bases(params)

    def fits(offset: int) -> bool:
        return input_size({p.name: p.value_at(offset) for p in based}) <= budget

    s_max = largest_fitting_offset(fits, offset_range(based))
    return based, level_offsets(s_max)
