from .denseil import DenseIL
from .video_reid import VideoReID

__all__ = ['VideoReID', 'DenseIL']
