"""Parameter schedulers."""
from .staged_lr import StagedMultiStepLR

__all__ = ['StagedMultiStepLR']
