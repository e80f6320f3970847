# Copyright (c) mmreid_video contributors. All rights reserved.
"""What ``--resume`` continues from, and whether a checkpoint can do it.

Resuming restores the model, the optimizer, the parameter schedulers, the
message hub (best score, kept checkpoints) and the epoch/iteration counters.
MMEngine resumes from whatever it is given: without a checkpoint it trains
from scratch ("resumed from None"), a weights-only file silently restarts
the optimizer and the schedules, and a config changed since (another data
root, batch size, model or schedule) continues as if it were the same run.
:func:`resolve_resume_checkpoint`, :func:`check_resumable` and
:func:`check_same_run` refuse all three, naming the folder, file or keys.
"""
import os.path as osp
import re
from fnmatch import fnmatchcase
from glob import glob
from typing import Any, List, Optional

from .saved_config import Change, config_differences, describe_changes

# The config keys a run reads (MMEngine's Runner, tools/train.py and our
# hooks); other top-level keys are helper variables of config files, whose
# effect shows where a run key uses them.
RUN_KEYS = ('model', 'data_preprocessor', 'model_wrapper_cfg',
            'find_unused_parameters', 'train_dataloader', 'val_dataloader',
            'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg',
            'auto_scale_lr', 'optim_wrapper', 'param_scheduler',
            'val_evaluator', 'test_evaluator', 'default_hooks', 'custom_hooks',
            'load_from', 'resume', 'launcher', 'env_cfg', 'log_processor',
            'log_level', 'visualizer', 'default_scope', 'randomness',
            'experiment_name', 'work_dir', 'allow_partial_load')
# Changes a resume may make (patterns of dotted keys): where the run writes
# and logs, how it validates and tests, how fast it loads data. Any other
# change alters the run and is refused.
HARMLESS_CHANGES = (
    'work_dir', 'resume', 'load_from', 'launcher', 'experiment_name',
    'log_level', 'log_processor*', 'visualizer*', 'env_cfg*',
    'allow_partial_load', 'val_*', 'test_*', 'train_cfg.val_*',
    'train_cfg.dynamic_intervals', 'train_dataloader.num_workers',
    'train_dataloader.persistent_workers', 'train_dataloader.pin_memory',
    'train_dataloader.prefetch_factor', 'default_hooks.logger*',
    'default_hooks.timer*', 'default_hooks.checkpoint*',
    'default_hooks.sample_timeout*', 'default_hooks.check_*',
    'default_hooks.visualization*', 'model.clips_per_forward', '*init_cfg*')

_STEP_RE = re.compile(r'_(\d+)\.pth$')


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint that ``--resume`` (without a path) continues from.

    MMEngine reads ``<work_dir>/last_checkpoint``, which it writes with a
    plain ``open`` after each save. The file it names is looked up in
    ``work_dir`` first: the pointer of a copied or moved work_dir names the
    original folder, whose run may have gone on (or been replaced) since.
    If the pointer's write was interrupted (empty file) or the named file is
    gone, fall back to the newest complete ``epoch_N.pth``/``iter_N.pth``
    (checkpoints themselves are written atomically, see
    :class:`AtomicLocalBackend`).

    Args:
        work_dir (str): The work directory of the run.

    Returns:
        str, optional: The checkpoint path, or None when there is none.
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        own = osp.join(work_dir, osp.basename(named)) if named else ''
        for path in (own, named):
            if path and osp.isfile(path):
                return path

    candidates = [
        p for pattern in ('epoch_*.pth', 'iter_*.pth')
        for p in glob(osp.join(work_dir, pattern)) if _STEP_RE.search(p)
    ]
    return max(
        candidates,
        key=lambda p: int(_STEP_RE.search(p).group(1))) if candidates else None


def resolve_resume_checkpoint(work_dir: str, resume: str) -> str:
    """The checkpoint of ``--resume [CKPT]``, or an error saying why none.

    Args:
        work_dir (str): The run's work directory.
        resume (str): ``'auto'`` (``--resume`` without a path) or a path.

    Returns:
        str: An existing checkpoint file.

    Raises:
        FileNotFoundError: There is nothing to resume from.
    """
    if resume != 'auto':
        if not osp.isfile(resume):
            raise FileNotFoundError(
                f'--resume {resume}: no such checkpoint file. Pass an '
                'existing epoch_N.pth/iter_N.pth, or --resume without a path '
                'to continue from the newest checkpoint of --work-dir.')
        return resume
    if not osp.isdir(work_dir):
        raise FileNotFoundError(
            f'--resume: the work_dir {work_dir} does not exist, so there is '
            'nothing to resume (mistyped --work-dir or config name?). Drop '
            '--resume to start a new training.')
    found = find_resume_checkpoint(work_dir)
    if found is None:
        raise FileNotFoundError(
            f'--resume: nothing to resume in {work_dir}: it has no '
            'last_checkpoint pointing at an existing file and no '
            'epoch_N.pth/iter_N.pth. Drop --resume to start a new training, '
            'or pass the checkpoint: --resume PATH.')
    return found


def check_resumable(checkpoint: dict,
                    filename: str,
                    needs_schedulers: bool = True) -> List[str]:
    """Check that a checkpoint holds a training state, say what it restores.

    Args:
        checkpoint (dict): The loaded checkpoint.
        filename (str): The file, for messages.
        needs_schedulers (bool): Whether the run has parameter schedulers
            whose state must be restored. Defaults to True.

    Returns:
        list[str]: What resuming restores, for the log.

    Raises:
        RuntimeError: The checkpoint lacks part of the training state.
    """
    meta = checkpoint.get('meta')
    lacks = []
    if not isinstance(meta, dict) or not {'epoch', 'iter'} <= set(meta):
        lacks.append('the epoch/iteration counters ("meta")')
    for key, what in (('state_dict', 'model weights'), ('optimizer',
                                                        'optimizer state'),
                      ('message_hub', 'message hub (best score, kept '
                       'checkpoints)')):
        if key not in checkpoint:
            lacks.append(f'the {what} ("{key}")')
    if needs_schedulers and 'param_schedulers' not in checkpoint:
        lacks.append('the parameter scheduler state ("param_schedulers")')
    if lacks:
        raise RuntimeError(
            f'Cannot resume from {filename}: it lacks ' + ', '.join(lacks) +
            f' (it holds: {", ".join(sorted(checkpoint)) or "nothing"}). '
            '--resume continues a training exactly and needs a checkpoint '
            'written by tools/train.py (epoch_N.pth or iter_N.pth; best_*.pth '
            'hold weights only). To start a new training from these weights, '
            f'drop --resume and pass --cfg-options load_from={filename}.')
    restored = [
        'model weights', 'optimizer state', 'message hub',
        f'epoch {meta["epoch"]} / iteration {meta["iter"]}'
    ]
    if 'param_schedulers' in checkpoint:
        restored.insert(2, 'parameter schedulers')
    return restored


def _is_harmless(key: str) -> bool:
    return any(fnmatchcase(key, pattern) for pattern in HARMLESS_CHANGES)


def check_same_run(saved: Optional[dict], cfg: Any,
                   filename: str) -> List[Change]:
    """Check that a resume continues the run that wrote its checkpoint.

    Args:
        saved (dict, optional): The config the checkpoint was written with
            (:func:`~.saved_config.saved_config`); None skips the check.
        cfg (Config): The config of the resumed run.
        filename (str): The checkpoint, for messages.

    Returns:
        list[tuple[str, Any, Any]]: The harmless changes
        (:data:`HARMLESS_CHANGES`), for a note in the log.

    Raises:
        RuntimeError: Changes that alter the run; the message names each key
            with its saved and new value.
    """
    if saved is None:
        return []
    changes = [
        change for key in RUN_KEYS
        for change in config_differences(saved.get(key), cfg.get(key), key)
    ]
    altering = [c for c in changes if not _is_harmless(c[0])]
    if altering:
        raise RuntimeError(
            f'--resume: the config differs from the one {filename} was '
            'written with, and a resume continues that run; these changes '
            f'would alter it: {describe_changes(altering, len(altering))}. '
            'Undo them, or start a new run from these weights: drop --resume '
            f'and pass --cfg-options load_from={filename} and a new '
            '--work-dir.')
    return [c for c in changes if _is_harmless(c[0])]
