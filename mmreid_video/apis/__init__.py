# Copyright (c) mmreid_video contributors. All rights reserved.
"""Inference APIs: build a model, extract descriptors; search and
GalleryIndex re-exported from :mod:`mmreid_video.retrieval`."""
from mmreid_video.retrieval import GalleryIndex, search
from .inference import extract_tracklet_features, init_model

__all__ = ['init_model', 'extract_tracklet_features', 'search', 'GalleryIndex']
