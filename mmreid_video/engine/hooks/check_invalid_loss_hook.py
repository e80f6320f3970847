"""Stop training at the first non-finite loss, naming the iteration."""
import math
from typing import Optional, Sequence

import torch
from mmengine.hooks import Hook

from mmreid_video.registry import HOOKS


@HOOKS.register_module()
class CheckInvalidLossHook(Hook):
    """Stop training when the loss becomes NaN or infinite.

    Training on after a non-finite loss only spreads NaNs through the
    weights; stopping names the iteration and the loss terms so the cause
    (learning rate, AMP overflow, a broken batch) can be found.

    Args:
        interval (int): Check every ``interval`` iterations. Defaults to 1.
    """

    priority = 'VERY_HIGH'

    def __init__(self, interval: int = 1) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.interval = interval

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[Sequence[dict]] = None,
                         outputs: Optional[dict] = None) -> None:
        if not outputs or not self.every_n_train_iters(runner, self.interval):
            return
        # detach: float() of a tensor that requires grad warns.
        values = {
            k: float(v.detach() if isinstance(v, torch.Tensor) else v)
            for k, v in outputs.items() if 'loss' in k
        }
        bad = {k: v for k, v in values.items() if not math.isfinite(v)}
        if bad:
            raise RuntimeError(
                f'Non-finite loss at iteration {runner.iter + 1} (epoch '
                f'{runner.epoch + 1}): {bad}; all loss terms: {values}. '
                'Lower the learning rate, check the data of this batch, or '
                'disable AMP; resume from the last checkpoint.')
