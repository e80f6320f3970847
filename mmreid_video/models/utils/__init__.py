# Copyright (c) mmreid_video contributors. All rights reserved.
"""Model utilities: the clip data preprocessor and the padded-frame mask."""
from .data_preprocessor import ReIDDataPreprocessor
from .frame_valid import batch_frame_valid, clip_frame_valid

__all__ = ['ReIDDataPreprocessor', 'batch_frame_valid', 'clip_frame_valid']
