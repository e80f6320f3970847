# Copyright (c) mmreid_video contributors. All rights reserved.
"""Load local checkpoints weights-only, with errors that say what to do.

MMEngine's own local loader calls ``torch.load`` and lets its errors through:
a truncated file surfaces as ``OSError: [Errno 22] Invalid argument`` or a
miniz message, and a weights-only refusal suggests ``weights_only=False``,
i.e. running arbitrary pickled code. :func:`load_from_local` replaces that
loader (``Runner.load_checkpoint``, ``Runner.resume``, ``load_from`` and
``--resume`` all go through it) and turns both into errors that name the
file and the fix. It never falls back to ``weights_only=False``.
"""
import os.path as osp
import pickle
import re
from typing import Callable, Optional, Union

import torch

# Errors ``torch.load`` raises for truncated, zero-byte, bit-flipped or
# non-checkpoint files. ``RuntimeError`` only counts with one of
# ``_CORRUPT_RUNTIME_HINTS`` in its message, so that e.g. a CUDA
# ``map_location`` error is not reported as corruption.
_CORRUPT_ERRORS = (EOFError, KeyError, IndexError, ValueError, OSError,
                   pickle.UnpicklingError)
_CORRUPT_RUNTIME_HINTS = ('PytorchStreamReader', 'corrupt', 'hasRecord',
                          'magic number')
_WEIGHTS_ONLY_FAILED = 'Weights only load failed'
# Weights-only failures that mean a broken byte stream, not a refused type
# (``torch.save`` never writes these).
_BROKEN_STREAM_HINTS = ('Unsupported operand', 'String is too long',
                        'unsupported persistent id')
_GLOBAL_RE = re.compile(r'GLOBAL ([\w.]+)')
_DETAIL_RE = re.compile(r'WeightsUnpickler error:\s*(.+)')


def _short_reason(err: Exception) -> str:
    """The gist of a ``torch.load`` error, without torch's advice to switch
    weights-only loading off."""
    message = str(err)
    detail = _DETAIL_RE.search(message)
    lines = message.strip().splitlines()
    reason = detail.group(1) if detail else (lines[0] if lines else '')
    return f'{type(err).__name__}: {reason.strip()[:300]}'


def _refused_global(message: str) -> Optional[str]:
    """The ``module.name`` torch refused, parsed from its message."""
    match = _GLOBAL_RE.search(message)
    return match.group(1) if match else None


def _refusal_error(filename: str,
                   err: pickle.UnpicklingError) -> pickle.UnpicklingError:
    """Explain a weights-only refusal and how to trust the file."""
    message = str(err)
    name = _refused_global(message)
    if name is None:
        return pickle.UnpicklingError(
            f'Checkpoint {filename} was refused by the weights-only loader '
            f'({_short_reason(err)}). It holds pickled data other than '
            'tensors and the allow-listed MMEngine objects; load it only if '
            'it comes from a trusted source, after allow-listing what it '
            'needs with `torch.serialization.add_safe_globals([...])`.')
    if 'is blocked' in message:
        return pickle.UnpicklingError(
            f'Checkpoint {filename} contains the global {name}, whose module '
            'torch never allows under weights-only loading. A checkpoint has '
            'no reason to hold it: do not load this file.')
    return pickle.UnpicklingError(
        f'Checkpoint {filename} contains the pickled global {name}, which '
        'weights-only loading does not allow. If, and only if, the file comes '
        'from a trusted source, allow that type explicitly before loading, '
        'e.g. `torch.serialization.add_safe_globals([' + name + '])` (or the '
        f'`torch.serialization.safe_globals([{name}])` context manager, with '
        f'{name} imported). Do not load it with weights_only=False.')


def _is_refusal(err: Exception) -> bool:
    """Whether the weights-only unpickler refused an object it understood."""
    message = str(err)
    return (isinstance(err, pickle.UnpicklingError)
            and _WEIGHTS_ONLY_FAILED in message
            and not any(hint in message for hint in _BROKEN_STREAM_HINTS))


def _is_corrupt_error(err: Exception) -> bool:
    """Whether ``torch.load`` failed because the bytes are not a checkpoint.

    Called after :func:`_is_refusal`, so an ``UnpicklingError`` here is a
    broken pickle stream.
    """
    if isinstance(err, (FileNotFoundError, PermissionError)):
        return False
    if isinstance(err, _CORRUPT_ERRORS):
        return True
    return isinstance(err, RuntimeError) and any(
        hint in str(err) for hint in _CORRUPT_RUNTIME_HINTS)


def load_from_local(
        filename: str,
        map_location: Optional[Union[str, Callable]] = None) -> dict:
    """Load a local checkpoint with ``torch.load(weights_only=True)``.

    Registered for every path without a URL scheme (prefix ``''``), in place
    of MMEngine's ``load_from_local``.

    Args:
        filename (str): The checkpoint path (``~`` is expanded).
        map_location (str | Callable, optional): See :func:`torch.load`.
            Defaults to None.

    Returns:
        dict: The loaded checkpoint.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        TypeError: The file holds something other than a dict, e.g. a bare
            tensor saved with ``torch.save(tensor, path)``.
        RuntimeError: The file is truncated, empty, corrupt or not a
            checkpoint.
        pickle.UnpicklingError: The file holds a pickled global outside the
            allow-list; the message names it and how to trust it.
    """
    path = osp.expanduser(filename)
    if not path:
        raise FileNotFoundError(
            'Checkpoint path is empty; with --resume this means the '
            "work_dir's last_checkpoint file is empty. Pass the checkpoint "
            'explicitly, e.g. --resume work_dir/epoch_N.pth.')
    if not osp.isfile(path):
        raise FileNotFoundError(f'Checkpoint {path} does not exist.')
    try:
        checkpoint = torch.load(
            path, map_location=map_location, weights_only=True)
    except Exception as err:
        if _is_refusal(err):
            raise _refusal_error(path, err) from err
        if _is_corrupt_error(err):
            size = osp.getsize(path)
            raise RuntimeError(
                f'Checkpoint {path} ({size} bytes) is corrupt or truncated '
                f'and cannot be loaded ({_short_reason(err)}). It was '
                'probably written by a job that was killed or ran out of '
                'disk. Resume from an earlier checkpoint instead, e.g. the '
                'previous epoch_N.pth in the same folder '
                '(--resume <that file>).') from err
        raise
    if not isinstance(checkpoint, dict):
        raise TypeError(
            f'Checkpoint {path} holds a {type(checkpoint).__name__}, not a '
            'dict. A checkpoint must be a dict with the model weights under '
            '"state_dict" (parameter name -> tensor), as tools/train.py and '
            'mmengine.runner.save_checkpoint write it, or be such a '
            'parameter-name -> tensor dict itself.')
    return checkpoint
