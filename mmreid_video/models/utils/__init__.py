# Copyright (c) mmreid_video contributors. All rights reserved.
"""Model utilities: the clip data preprocessor."""
from .data_preprocessor import ReIDDataPreprocessor

__all__ = ['ReIDDataPreprocessor']
