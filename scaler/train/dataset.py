"""verl's training dataset, fed by the curriculum actor instead of a file.

    data.custom_cls.path=pkg://scaler.train.dataset
    data.custom_cls.name=ScalerDataset
    data.dataloader_num_workers=0
    data.train_max_samples=<steps x data.train_batch_size>

verl builds its dataset once and samples indices from it; the curriculum decides each step's
prompts only after the previous step's rollouts are scored. So the index is ignored: every item
is the curriculum actor's next row, pulled when verl's dataloader asks for it. The rows then go
through ``RLHFDataset.__getitem__`` unchanged (the row source is swapped, not the processing),
so the items are exactly what verl's own dataset yields for the same row, in whichever verl
version is installed.

Only the main process may pull: a dataloader worker would prefetch rows planned with a stale
difficulty, so ``data.dataloader_num_workers`` must be 0.

verl builds the validation dataset with the same class. Validation must not consume curriculum
rows, so the dataset built for ``data.val_files`` reads those files as ``RLHFDataset`` does (a
fixed held-out set, e.g. from ``scaler export``); ``data.train_files`` is not read and may name
anything but the validation files.

verl passes only the ``data`` section, not the trainer's step count, so the length comes from
``max_samples`` (verl's ``data.train_max_samples``): ``scaler train`` sets it to the run's steps
times ``data.train_batch_size``. Without it the length is ``DEFAULT_STEPS`` batches; verl then
stops at ``trainer.total_training_steps`` (or after ``trainer.total_epochs`` passes). The length
is kept modest because a shuffling sampler holds a permutation of every index.

This module imports verl, torch and Ray; only verl loads it, and ``import scaler`` does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ray
from verl.utils.dataset.rl_dataset import RLHFDataset

from scaler.errors import ScalerError

#: Batches in an epoch when verl gives no ``train_max_samples``.
DEFAULT_STEPS = 1000


class CurriculumRows:
    """The curriculum as the ``dataframe`` RLHFDataset indexes: item ``i`` is the next row.

    The actor handle is looked up on first use, in the process that pulls, and never pickled.
    """

    def __init__(self, length: int) -> None:
        self.length = length
        self._actor: Any = None

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < self.length:
            raise IndexError(index)
        if self._actor is None:
            from scaler.train.bridge import find_actor

            self._actor = find_actor()
        row: dict[str, Any] = ray.get(self._actor.next_row.remote())
        return row

    def __getstate__(self) -> dict[str, Any]:
        return {"length": self.length, "_actor": None}


class ScalerDataset(RLHFDataset):
    """RLHFDataset whose training rows come from the curriculum actor, one pull per item."""

    def __init__(
        self,
        data_files: str | Sequence[str],
        tokenizer: Any,
        config: Any,
        processor: Any = None,
        max_samples: int = -1,
    ) -> None:
        workers = config.get("dataloader_num_workers", 0)
        if workers:
            raise ScalerError(
                "data.dataloader_num_workers must be 0 with the curriculum dataset, got "
                f"{workers}: a worker process would prefetch rows planned before the last step "
                "was scored"
            )
        self.from_curriculum = not _is_validation(data_files, config)
        super().__init__(data_files, tokenizer, config, processor, max_samples)

    def _download(self, use_origin_parquet: bool = False) -> None:
        if not self.from_curriculum:
            super()._download(use_origin_parquet)

    def _read_files_and_tokenize(self) -> None:
        if not self.from_curriculum:
            super()._read_files_and_tokenize()
            return
        # verl counts an epoch's steps as len // data.train_batch_size.
        batch = self.config.get("train_batch_size") or 1
        length = self.max_samples if self.max_samples > 0 else DEFAULT_STEPS * batch
        self.dataframe = CurriculumRows(length)


def _is_validation(data_files: str | Sequence[str], config: Any) -> bool:
    """Whether verl is building its validation dataset (it passes ``data.val_files``)."""
    files, train, val = (
        _as_list(f) for f in (data_files, config.get("train_files"), config.get("val_files"))
    )
    if val and files == val:
        if train == val:
            raise ScalerError(
                "data.val_files must differ from data.train_files with the curriculum dataset: "
                "validation reads its files (e.g. from scaler export), training pulls from the "
                "curriculum"
            )
        return True
    return False


def _as_list(files: Any) -> list[str]:
    if files is None:
        return []
    if isinstance(files, str):
        return [files]
    return [str(f) for f in files]
