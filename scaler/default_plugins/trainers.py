"""The trainers a run config names, as plugins: the simulator and the verl bridge.

Importing the verl bridge imports no verl, Hydra or Ray: a run imports those only when it
launches verl, so ``scaler`` without verl installed still lists and checks the ``verl`` trainer.
"""

from __future__ import annotations

from typing import Any

from scaler.curriculum.simulator import SimulateTrainer
from scaler.hookspecs import hookimpl
from scaler.registry import Register
from scaler.train.config import TRAINER_NAME
from scaler.train.launch import VerlTrainer


@hookimpl
def scaler_register_trainers(register: Register[Any]) -> None:
    """Any, not ``TrainerFactory``: ``VerlTrainer`` is a ``LoopOwner`` whose framework runs the
    loop; ``scaler run`` launches it instead of building it (``run.launch_loop_owner``)."""
    register("simulate", SimulateTrainer)
    register(TRAINER_NAME, VerlTrainer)
