# Copyright (c) mmreid_video contributors. All rights reserved.
from .video_reid_metric import VideoReIDMetric

__all__ = ['VideoReIDMetric']
