# Copyright (c) mmreid_video contributors. All rights reserved.
"""Evaluation metrics of mmreid_video."""
from .video_reid_metric import DUMP_KEYS, VideoReIDMetric

__all__ = ['DUMP_KEYS', 'VideoReIDMetric']
