"""The reward function verl calls (``reward.custom_reward_function``), in verl's signature.

    reward.custom_reward_function.path=pkg://scaler.train.reward
    reward.custom_reward_function.name=compute_score

It verifies the last ``\\boxed{}`` of the response against the instance's answer with the
registered verifiers, and returns the same keys for every sample (verl requires it): ``score``
(+1 / -1, the paper's reward), ``acc`` (1 / 0) and ``pred``. Rows of the curriculum dataset
carry the step in ``extra_info``; their results also go to the curriculum actor,
fire-and-forget, so scoring never waits on it.

Scoring uses this process's plugin set (``scaler.plugins.process_plugins``): verl calls this
function with no plugin set to pass, so it is an entry point that loads its own; the launcher
puts the driver's plugin spec into every Ray worker's environment, so a ``--plugin`` verifier
scores here too. A rollout that cannot be scored is an error that names its environment and
says why; it is also told to the curriculum actor, so that ``scaler train`` can say it in one
line when verl stops, instead of verl's own error about empty groups.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scaler.errors import ScalerError
from scaler.plugins import process_plugins
from scaler.verify import compute_score as verify_score


class RewardError(ScalerError):
    """A rollout could not be scored (an unknown output type, a verifier that failed)."""


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
    try:
        score = verify_score(solution_str, info, process_plugins())
    except ScalerError as exc:
        error = RewardError(
            f"cannot score a rollout of environment {info.get('env_id', data_source)!r} "
            f"(output type {info['output_type']!r}): {exc}"
        )
        if "step" in info:
            _curriculum().reward_failed.remote(str(error))
        raise error from exc
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
