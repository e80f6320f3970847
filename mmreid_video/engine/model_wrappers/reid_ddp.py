"""A DDP wrapper that also runs without CUDA.

MMEngine's Runner passes ``device_ids=[LOCAL_RANK]`` to every DDP subclass,
which fails on a CPU-only machine; :func:`mmreid_video.utils.setup_distributed`
selects this wrapper there.
"""
from typing import Optional

import torch
from mmengine.model import MMDistributedDataParallel
from torch import nn

from mmreid_video.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class ReIDDistributedDataParallel(MMDistributedDataParallel):
    """MMDistributedDataParallel that also runs on CPU (gloo).

    The Runner passes ``device_ids=[LOCAL_RANK]`` to every DDP subclass; on a
    machine without CUDA they must be ``None`` so DDP keeps the module on CPU.

    Args:
        module (nn.Module): The model to wrap.
        device_ids (list[int], optional): CUDA devices. Ignored without CUDA.
        **kwargs: Other arguments of
            :class:`torch.nn.parallel.DistributedDataParallel`.
    """

    def __init__(self,
                 module: nn.Module,
                 device_ids: Optional[list] = None,
                 **kwargs) -> None:
        if not torch.cuda.is_available():
            device_ids = None
        super().__init__(module=module, device_ids=device_ids, **kwargs)
