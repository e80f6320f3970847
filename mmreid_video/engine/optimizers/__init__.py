"""Optimizer wrappers and constructors."""
from .cpu_amp_optim_wrapper import CPUAmpOptimWrapper
from .skip_frozen_constructor import (SkipFrozenOptimWrapperConstructor,
                                      drop_frozen_grads)

__all__ = [
    'CPUAmpOptimWrapper', 'SkipFrozenOptimWrapperConstructor',
    'drop_frozen_grads'
]
