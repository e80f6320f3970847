# Copyright (c) mmreid_video contributors. All rights reserved.
"""Video re-ID recognizers: the baseline and DenseIL."""
from .denseil import DenseIL
from .video_reid import VideoReID

__all__ = ['VideoReID', 'DenseIL']
