from .tiny_stage_net import TinyStageNet

__all__ = ['TinyStageNet']
