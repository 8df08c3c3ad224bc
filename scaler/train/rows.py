"""Instances as rows of verl's dataset schema (the one its gsm8k example writes).

    data_source   "scaler/<env id>"
    prompt        the chat messages
    ability       "reasoning"
    reward_model  {"style": "rule", "ground_truth": <answer>}
    extra_info    Instance.extra_info: env id and version, level, seed, output type, answer

``extra_info`` reaches the reward function, which is how a rollout is scored and attributed to
its (environment, level) without any lookup.
"""

from __future__ import annotations

from typing import Any

from scaler.model import Instance

DATA_SOURCE_PREFIX = "scaler/"


def verl_row(instance: Instance) -> dict[str, Any]:
    return {
        "data_source": DATA_SOURCE_PREFIX + instance.env_id,
        "prompt": [dict(message) for message in instance.messages],
        "ability": "reasoning",
        "reward_model": {"style": "rule", "ground_truth": instance.answer},
        "extra_info": instance.extra_info,
    }
