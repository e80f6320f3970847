# Copyright (c) mmreid_video contributors. All rights reserved.
"""Example project: a backbone registered into mmreid_video."""
from .tiny_stage_net import TinyStageNet

__all__ = ['TinyStageNet']
