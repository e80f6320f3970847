# Copyright (c) mmreid_video contributors. All rights reserved.
"""Dataloader worker seeding that follows torch's per-epoch seed."""
import random

import numpy as np
import torch

from mmreid_video.registry import FUNCTIONS


@FUNCTIONS.register_module()
def epoch_worker_init_fn(worker_id: int) -> None:
    """Seed numpy and ``random`` in a dataloader worker from torch's seed.

    PyTorch seeds each worker's torch RNG with ``base_seed + worker_id``,
    where ``base_seed`` is drawn from the main process when the epoch's
    iterator starts. Deriving the other RNGs from it gives every worker and
    every epoch its own augmentation stream (MMEngine's default worker seed
    repeats it each epoch), and with :class:`EpochReseedHook` the stream is
    a function of (seed, epoch) only, which makes ``--resume`` exact.

    Args:
        worker_id (int): Worker index (already folded into torch's seed).
    """
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)
