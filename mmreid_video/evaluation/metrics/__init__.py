# Copyright (c) mmreid_video contributors. All rights reserved.
from .video_reid_metric import DUMP_KEYS, VideoReIDMetric

__all__ = ['DUMP_KEYS', 'VideoReIDMetric']
