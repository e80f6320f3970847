# Copyright (c) mmreid_video contributors. All rights reserved.
"""Mixed precision for a training config: one definition for
``tools/train.py --amp``, the rehearsal and the model benchmark."""
from typing import Optional

from mmengine.config import Config


def set_amp(cfg: Config,
            dtype: Optional[str] = None,
            cuda: Optional[bool] = None) -> None:
    """Switch the config's optimizer wrapper to mixed precision.

    On CUDA: MMEngine's ``AmpOptimWrapper`` (float16 unless ``dtype``
    says otherwise, dynamic loss scaling unless the config sets one);
    without CUDA: ``CPUAmpOptimWrapper`` with bfloat16 autocast (or
    ``dtype``).

    Args:
        cfg (Config): The config; ``cfg.optim_wrapper`` is changed in place.
        dtype (str, optional): ``'float16'`` or ``'bfloat16'``. Defaults to
            None (the device's default above).
        cuda (bool, optional): Whether the run uses CUDA. Defaults to None
            (``torch.cuda.is_available()``).
    """
    if 'optim_wrapper' not in cfg:
        raise KeyError(f'mixed precision needs a config with an '
                       f'optim_wrapper; {cfg.filename} has none (use a full '
                       'config, not a _base_/models file)')
    if cuda is None:
        import torch
        cuda = torch.cuda.is_available()
    if cuda:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        if dtype is not None:
            cfg.optim_wrapper.dtype = dtype
    else:
        cfg.optim_wrapper.type = 'CPUAmpOptimWrapper'
        cfg.optim_wrapper.dtype = dtype or 'bfloat16'
