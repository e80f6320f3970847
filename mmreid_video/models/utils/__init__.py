# Copyright (c) mmreid_video contributors. All rights reserved.
"""Model utilities: the clip data preprocessor, models that remember their
config."""
from .build_cfg import records_build_cfg
from .data_preprocessor import ReIDDataPreprocessor

__all__ = ['ReIDDataPreprocessor', 'records_build_cfg']
