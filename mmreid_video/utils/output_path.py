# Copyright (c) mmreid_video contributors. All rights reserved.
"""Check an output file can be written before the work that produces it."""
import os
import os.path as osp
import tempfile
from typing import Sequence


def check_output_path(path: str, option: str,
                      suffixes: Sequence[str] = ()) -> None:
    """Fail now, not after an hour of work, if ``path`` cannot be written.

    Creates the missing parent folders and writes (then removes) a probe file
    next to ``path``; an existing ``path`` is left untouched.

    Args:
        path (str): The output file.
        option (str): The option that named it (e.g. ``'--out'``), for the
            message.
        suffixes (Sequence[str]): Allowed endings; empty allows any.

    Raises:
        ValueError: ``path`` has another ending or is a folder.
        PermissionError: The folder cannot be created or written, or
            ``path`` exists and is read-only.
    """
    if suffixes and not path.endswith(tuple(suffixes)):
        raise ValueError(f'{option} {path}: the file must end with ' +
                         ' or '.join(suffixes))
    if osp.isdir(path):
        raise ValueError(f'{option} {path} is a folder; pass a file path.')
    folder = osp.dirname(osp.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix='.probe-'):
            pass
    except OSError as err:
        raise PermissionError(
            f'{option} {path}: cannot write into {folder} ({err.strerror}). '
            'Choose a writable path; nothing was computed yet.') from err
    if osp.exists(path) and not os.access(path, os.W_OK):
        raise PermissionError(
            f'{option} {path} exists and is read-only. Choose another path '
            'or make it writable; nothing was computed yet.')
