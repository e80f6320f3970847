# Copyright (c) mmreid_video contributors. All rights reserved.
"""Backbones of mmreid_video (mmpretrain provides the CNNs)."""
from .camera_aware_vit import CameraAwareViT

__all__ = ['CameraAwareViT']
