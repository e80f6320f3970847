# Copyright (c) mmreid_video contributors. All rights reserved.
"""Re-ID heads."""
from .bnneck_head import BNNeckHead

__all__ = ['BNNeckHead']
