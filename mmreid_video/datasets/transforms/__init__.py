# Copyright (c) mmreid_video contributors. All rights reserved.
"""Clip sampling, frame loading, augmentation and packing transforms."""
from .formatting import PackReIDInputs
from .loading import LoadFrames, read_frame
from .processing import (ClipPadCrop, ClipResize, FrameRandomFlip,
                         SequenceRandomErasing)
from .sampling import (AllFramesSample, ChunkMiddleSample, EvenlySample,
                       RestrictedRandomSample)

__all__ = [
    'RestrictedRandomSample', 'EvenlySample', 'ChunkMiddleSample',
    'AllFramesSample', 'LoadFrames', 'read_frame', 'ClipResize',
    'FrameRandomFlip', 'SequenceRandomErasing', 'ClipPadCrop', 'PackReIDInputs'
]
