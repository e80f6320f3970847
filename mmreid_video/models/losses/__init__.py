# Copyright (c) mmreid_video contributors. All rights reserved.
"""Re-ID losses."""
from .triplet_loss import TripletLoss

__all__ = ['TripletLoss']
