# Copyright (c) mmreid_video contributors. All rights reserved.
"""Optimizer constructor whose optimizer never updates frozen parameters."""
from typing import Any, Dict, Optional, Tuple

import torch
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from torch import nn

from mmreid_video.registry import OPTIM_WRAPPER_CONSTRUCTORS


def drop_frozen_grads(optimizer: torch.optim.Optimizer, args: Tuple,
                      kwargs: Dict[str, Any]) -> None:
    """Optimizer step pre-hook: frozen parameters lose their gradient.

    PyTorch optimizers skip a parameter whose ``grad`` is None: no update,
    no weight decay, no change of its state.

    Args:
        optimizer (torch.optim.Optimizer): The optimizer about to step.
        args (tuple): Positional arguments of ``step`` (unused).
        kwargs (dict): Keyword arguments of ``step`` (unused).
    """
    for group in optimizer.param_groups:
        for param in group['params']:
            if not param.requires_grad:
                param.grad = None


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SkipFrozenOptimWrapperConstructor:
    """Build the optimizer with another constructor, plus: frozen parameters
    (``requires_grad=False`` at the time of a step) are never updated.

    Two-stage training keeps every parameter in one optimizer, so its param
    groups and state dict match at every resume. A frozen parameter left
    with a zero gradient (``zero_grad(set_to_none=False)`` after stage 1)
    would still be decayed by Adam/SGD's weight decay and moved by Adam's
    momentum; a step pre-hook (:func:`drop_frozen_grads`) clears such
    gradients first, so the frozen encoder stays bit-identical.

    The optimizer itself is built by ``base_constructor`` (a key of the
    ``optim_wrapper`` config, MMEngine's default constructor unless given,
    e.g. ``'mmpretrain.LearningRateDecayOptimWrapperConstructor'`` for
    layer-wise lr decay), with the same ``paramwise_cfg``.

    Config::

        optim_wrapper = dict(
            constructor='SkipFrozenOptimWrapperConstructor',
            optimizer=dict(type='Adam', lr=3.5e-4, weight_decay=5e-4))

    Args:
        optim_wrapper_cfg (dict): The ``optim_wrapper`` config without
            ``constructor`` and ``paramwise_cfg``; may hold
            ``base_constructor``.
        paramwise_cfg (dict, optional): Passed to the base constructor.
            Defaults to None.
    """

    # Keys of the optim_wrapper config read here besides the wrapper's own
    # arguments (for mmreid_video.utils.config_check).
    wrapper_keys = ('base_constructor', )

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        optim_wrapper_cfg = dict(optim_wrapper_cfg)
        base = optim_wrapper_cfg.pop('base_constructor',
                                     DefaultOptimWrapperConstructor)
        self.base = base(optim_wrapper_cfg, paramwise_cfg) if isinstance(
            base, type) else OPTIM_WRAPPER_CONSTRUCTORS.build(
                dict(
                    type=base,
                    optim_wrapper_cfg=optim_wrapper_cfg,
                    paramwise_cfg=paramwise_cfg))

    def __call__(self, model: nn.Module) -> OptimWrapper:
        """Build the optimizer wrapper of ``model``.

        Args:
            model (nn.Module): The model to optimize.

        Returns:
            OptimWrapper: The base constructor's wrapper, whose optimizer
            skips frozen parameters.
        """
        optim_wrapper = self.base(model)
        optim_wrapper.optimizer.register_step_pre_hook(drop_frozen_grads)
        return optim_wrapper
