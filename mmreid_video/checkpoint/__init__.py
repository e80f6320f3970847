# Copyright (c) mmreid_video contributors. All rights reserved.
"""The checkpoint life cycle: write, find, load, check, resume.

- :mod:`.atomic_backend`: the ``'atomic_local'`` file backend writes each
  checkpoint whole or not at all (through :mod:`mmreid_video.fileio`).
- :mod:`.safe_globals`: what weights-only unpickling must allow.
- :mod:`.loading`: the local loader, with errors that name the file.
- :mod:`.matching`: refuse weights of another model unless
  ``allow_partial_load = True``; :mod:`.config_copy` names the config copy
  in the work_dir that the checkpoint was trained with.
- :mod:`.resume`: what ``--resume`` continues from and whether it can.
- :mod:`.setup`: :func:`setup_checkpoint_io`, the one call that installs the
  process-wide settings (made by ``import mmreid_video``).

Saving itself (best checkpoint written before the old one is removed) is
:class:`mmreid_video.engine.SafeCheckpointHook`.
"""
from .atomic_backend import AtomicLocalBackend
from .loading import load_from_local
from .matching import (PARTIAL_LOAD_KEY, check_weights_match,
                       load_model_weights)
from .resume import (check_resumable, find_resume_checkpoint,
                     resolve_resume_checkpoint)
from .safe_globals import mmengine_checkpoint_globals
from .setup import setup_checkpoint_io

__all__ = [
    'AtomicLocalBackend',
    'load_from_local',
    'PARTIAL_LOAD_KEY', 'check_weights_match', 'load_model_weights',
    'check_resumable', 'find_resume_checkpoint', 'resolve_resume_checkpoint',
    'mmengine_checkpoint_globals', 'setup_checkpoint_io'
]
