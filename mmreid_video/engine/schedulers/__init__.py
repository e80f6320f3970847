# Copyright (c) mmreid_video contributors. All rights reserved.
"""Parameter schedulers."""
from .staged_lr import StagedMultiStepLR

__all__ = ['StagedMultiStepLR']
