"""The reward function verl calls (``reward.custom_reward_function``), in verl's signature.

    reward.custom_reward_function.path=pkg://scaler.train.reward
    reward.custom_reward_function.name=compute_score

It verifies the last ``\\boxed{}`` of the response against the instance's answer with the
registered verifiers, and returns the same keys for every sample (verl requires it): ``score``
(+1 / -1, the paper's reward), ``acc`` (1 / 0) and ``pred``. Rows of the curriculum dataset
carry the step in ``extra_info``; their results also go to the curriculum actor,
fire-and-forget, so scoring never waits on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scaler.verify import compute_score as verify_score


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: str,
    extra_info: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    info = dict(extra_info or {})
    info.setdefault("answer", ground_truth)
    if "output_type" not in info:
        raise ValueError(
            f"{data_source}: extra_info has no output_type; rows must come from scaler "
            "(scaler export, or the curriculum dataset)"
        )
    score = verify_score(solution_str, info)
    if "step" in info:
        _curriculum().report.remote(info, score["acc"])
    return score


_actor: Any = None


def _curriculum() -> Any:
    """The curriculum actor, looked up once per reward worker."""
    global _actor
    if _actor is None:
        from scaler.train.bridge import find_actor

        _actor = find_actor()
    return _actor
