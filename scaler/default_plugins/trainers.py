"""The trainers a run config names, as plugins: the simulator, the verl bridge and TRL.

Importing either bridge imports no verl, Hydra, Ray, torch or TRL: a run imports those only
when it launches one, so ``scaler`` without them still lists and checks both trainers.
"""

from __future__ import annotations

from typing import Any

from scaler.curriculum.simulator import SimulateTrainer
from scaler.hookspecs import hookimpl
from scaler.registry import Register
from scaler.train.config import TRAINER_NAME
from scaler.train.launch import VerlTrainer
from scaler.train.trl_config import TRAINER_NAME as TRL_NAME
from scaler.train.trl_launch import TrlTrainer


@hookimpl
def scaler_register_trainers(register: Register[Any]) -> None:
    """Any, not ``TrainerFactory``: ``VerlTrainer`` and ``TrlTrainer`` are ``LoopOwner``s whose
    framework runs the loop; ``scaler run`` launches them instead of building them
    (``run.launch_loop_owner``)."""
    register("simulate", SimulateTrainer)
    register(TRAINER_NAME, VerlTrainer)
    register(TRL_NAME, TrlTrainer)
