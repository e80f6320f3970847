# Copyright (c) mmreid_video contributors. All rights reserved.
"""The checkpoint life cycle: write, find, load, check, resume.

- :mod:`.atomic_backend`: the ``'atomic_local'`` file backend writes each
  checkpoint whole or not at all (through :mod:`mmreid_video.fileio`).
- :mod:`.safe_globals`: what weights-only unpickling must allow.
- :mod:`.loading`: the local loader, with errors that name the file.
- :mod:`.matching`: refuse weights of another model unless
  ``allow_partial_load = True``; :mod:`.config_copy` names the config copy
  in the work_dir that the checkpoint was trained with.
- :mod:`.model_fingerprint`: the architecture a checkpoint was trained with
  (in its ``meta``), checked where weights are loaded.
- :mod:`.saved_config`: the config a checkpoint was written with, and how
  another differs.
- :mod:`.resume`: what ``--resume`` continues from and whether it can (the
  same run: its config unchanged but for :data:`HARMLESS_CHANGES`).
- :mod:`.run_files`: a training writes only into a work_dir without another
  run's checkpoints.
- :mod:`.setup`: :func:`setup_checkpoint_io`, the one call that installs the
  process-wide settings (made by ``import mmreid_video``).

Saving itself (best checkpoint written before the old one is removed) is
:class:`mmreid_video.engine.SafeCheckpointHook`.
"""
from .atomic_backend import AtomicLocalBackend
from .loading import load_from_local
from .matching import PARTIAL_LOAD_KEY, check_weights_match, load_model_weights
from .model_fingerprint import (TRAINING_ONLY_KEYS, architecture_meta,
                                check_same_architecture)
from .resume import (HARMLESS_CHANGES, check_resumable, check_same_run,
                     find_resume_checkpoint, resolve_resume_checkpoint)
from .run_files import RUN_FILE_PATTERNS, claim_work_dir, run_files
from .safe_globals import mmengine_checkpoint_globals
from .saved_config import saved_config
from .setup import setup_checkpoint_io

__all__ = [
    'AtomicLocalBackend', 'load_from_local', 'PARTIAL_LOAD_KEY',
    'check_weights_match', 'load_model_weights', 'TRAINING_ONLY_KEYS',
    'architecture_meta', 'check_same_architecture', 'HARMLESS_CHANGES',
    'check_resumable', 'check_same_run', 'find_resume_checkpoint',
    'resolve_resume_checkpoint', 'saved_config', 'RUN_FILE_PATTERNS',
    'claim_work_dir', 'run_files', 'mmengine_checkpoint_globals',
    'setup_checkpoint_io'
]
