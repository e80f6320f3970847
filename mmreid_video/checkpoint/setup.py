# Copyright (c) mmreid_video contributors. All rights reserved.
"""The process-wide settings of checkpoint I/O, in one call.

Three things must hold in every process that saves or loads checkpoints
(training, testing, the APIs, dataloader workers started with ``spawn``):

1. torch's weights-only unpickler allows the few MMEngine/numpy objects our
   checkpoints hold (:func:`mmengine_checkpoint_globals`);
2. the ``'atomic_local'`` file backend exists, so that
   ``backend_args=dict(backend='atomic_local')`` writes by temp file + rename;
3. local paths load through :func:`load_from_local` (weights-only, errors
   naming the file) instead of MMEngine's loader of the same name.

``import mmreid_video`` calls :func:`setup_checkpoint_io` once; calling it
again changes nothing.
"""
import torch
from mmengine.fileio import register_backend
from mmengine.runner import CheckpointLoader

from .atomic_backend import AtomicLocalBackend
from .loading import load_from_local
from .safe_globals import mmengine_checkpoint_globals

_DONE = False


def setup_checkpoint_io() -> None:
    """Apply the three process-wide checkpoint settings (idempotent)."""
    global _DONE
    if _DONE:
        return
    torch.serialization.add_safe_globals(mmengine_checkpoint_globals())
    register_backend('atomic_local', AtomicLocalBackend, force=True)
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)
    _DONE = True
