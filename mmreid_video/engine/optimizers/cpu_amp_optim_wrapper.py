# Copyright (c) mmreid_video contributors. All rights reserved.
"""An optimizer wrapper for bfloat16 mixed precision on CPU."""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from torch import nn

from mmreid_video.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """Mixed precision on CPU: bfloat16 autocast around forward and loss.

    MMEngine's ``AmpOptimWrapper`` requires a GPU. On CPU, bfloat16 keeps
    float32's exponent range, so no loss scaling is needed; the parameters
    and the optimizer step stay in float32. ``tools/train.py --amp`` picks
    this wrapper when CUDA is not available.

    Args:
        dtype (str): Autocast dtype; only ``'bfloat16'`` is supported on
            CPU. Defaults to ``'bfloat16'``.
        **kwargs: Arguments of :class:`mmengine.optim.OptimWrapper`.
    """

    def __init__(self, dtype: str = 'bfloat16', **kwargs) -> None:
        if dtype != 'bfloat16':
            raise ValueError(
                f'CPUAmpOptimWrapper supports dtype="bfloat16" only, got '
                f'{dtype!r}: float16 autocast on CPU is slow and needs loss '
                'scaling; use a GPU for float16.')
        super().__init__(**kwargs)
        self.cast_dtype = torch.bfloat16

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), torch.autocast(
                device_type='cpu', dtype=self.cast_dtype):
            yield
