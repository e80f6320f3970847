"""Optimizer constructor whose optimizer never updates frozen parameters."""
from typing import Any, Dict, Tuple

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
class SkipFrozenOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """MMEngine's default constructor, plus: frozen parameters
    (``requires_grad=False`` at the time of a step) are never updated.

    Two-stage training keeps every parameter in one optimizer, so its param
    groups and state dict match at every resume. A frozen parameter left
    with a zero gradient (``zero_grad(set_to_none=False)`` after stage 1)
    would still be decayed by Adam/SGD's weight decay and moved by Adam's
    momentum; a step pre-hook (:func:`drop_frozen_grads`) clears such
    gradients first, so the frozen encoder stays bit-identical. Accepts
    ``paramwise_cfg`` like the default constructor.

    Config::

        optim_wrapper = dict(
            constructor='SkipFrozenOptimWrapperConstructor',
            optimizer=dict(type='Adam', lr=3.5e-4, weight_decay=5e-4))
    """

    def __call__(self, model: nn.Module) -> OptimWrapper:
        optim_wrapper = super().__call__(model)
        optim_wrapper.optimizer.register_step_pre_hook(drop_frozen_grads)
        return optim_wrapper
