# Copyright (c) mmreid_video contributors. All rights reserved.
"""A hook that reseeds every RNG per epoch, so resumed runs match."""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from mmreid_video.registry import HOOKS


@HOOKS.register_module()
class EpochReseedHook(Hook):
    """Reseed every RNG at the start of each training epoch.

    MMEngine saves checkpoints at the end of an epoch, before validation,
    which draws from the same RNGs; a resumed run therefore starts the next
    epoch from a different RNG state than the uninterrupted run. Reseeding
    from ``(seed, epoch, rank)`` makes each epoch's randomness (augmentation
    through :func:`mmreid_video.datasets.epoch_worker_init_fn`, dropout,
    erasing) depend on nothing else, so ``--resume`` continues exactly.

    Args:
        seed (int, optional): Base seed. Defaults to the runner's seed.
    """

    priority = 'VERY_HIGH'

    def __init__(self, seed: Optional[int] = None) -> None:
        self.seed = seed

    def before_train_epoch(self, runner) -> None:
        base = runner.seed if self.seed is None else self.seed
        # Large strides keep (epoch, rank) streams apart.
        seed = (base + 100_003 * runner.epoch + 1_009 * get_rank()) % 2**32
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
