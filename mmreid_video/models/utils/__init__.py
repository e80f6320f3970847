# Copyright (c) mmreid_video contributors. All rights reserved.
"""Model utilities: the clip data preprocessor, the padded-frame mask and
models that remember their config."""
from .build_cfg import records_build_cfg
from .data_preprocessor import ReIDDataPreprocessor
from .frame_valid import batch_frame_valid, clip_frame_valid

__all__ = [
    'ReIDDataPreprocessor', 'batch_frame_valid', 'clip_frame_valid',
    'records_build_cfg'
]
