"""Model wrappers (registered in ``MODEL_WRAPPERS``)."""
from .reid_ddp import ReIDDistributedDataParallel

__all__ = ['ReIDDistributedDataParallel']
