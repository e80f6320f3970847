# Copyright (c) mmreid_video contributors. All rights reserved.
"""Whole-or-nothing file writes (temp file + rename) and their leftovers.

A process killed (or a disk filling up) while a file is written leaves a
truncated file that a later reader takes for the real one. Writing to a
temporary file in the same folder, syncing it and then ``os.replace``-ing it
over the target makes the write all-or-nothing: readers see either the old
file or the complete new one. Every file kind of the package (checkpoints,
metric dumps, feature shards, gallery indexes, the work_dir lock's
clean-up) goes through :func:`atomic_write`.
"""
import os
import os.path as osp
import re
import uuid
from pathlib import Path
from typing import BinaryIO, Callable, List, Optional, Union

import mmengine

# Hex digits of the random part of a temporary file's name.
_TMP_HEX = 12


def atomic_write(data: Union[bytes, Callable[[BinaryIO], None]],
                 filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` so that it appears whole or not at all.

    The content goes to a temporary file next to ``filepath`` (same file
    system, so the rename is atomic), is flushed and fsync-ed, and the file
    is then renamed over ``filepath``. On any error the temporary file is
    removed and ``filepath`` is left untouched. Checkpoints, metric dumps,
    feature shards and gallery indexes are all written through it.

    Args:
        data (bytes | Callable[[BinaryIO], None]): The content, or a
            function that writes it to the open binary file (for content
            too large to hold as one bytes object).
        filepath (str | Path): The destination; missing parent folders are
            created.

    Raises:
        OSError: The write failed (e.g. a full disk); the message names
            ``filepath`` and says that the previous file is unchanged.
    """
    filepath = str(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    mmengine.mkdir_or_exist(folder)
    tmp_path = osp.join(
        folder,
        f'.{osp.basename(filepath)}.{uuid.uuid4().hex[:_TMP_HEX]}.tmp')
    # Mode 0o666 (minus the umask) as ``open(filepath, 'wb')`` would give;
    # ``tempfile.mkstemp`` would make it private (0o600).
    fd = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, 'wb') as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, filepath)
    except BaseException as err:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        if isinstance(err, OSError) and err.errno is not None:
            # The bare OSError names no file (the data went through an fd).
            size = '' if callable(data) else f' ({len(data)} bytes)'
            raise OSError(
                err.errno, f'{err.strerror} while writing {filepath}{size}; '
                'the previous content of that file, if any, is unchanged'
            ) from err
        raise
    _fsync_dir(folder)


def remove_stale_temps(folder: Union[str, Path],
                       name: Optional[str] = None) -> List[str]:
    """Remove the temporary files that killed writers left in ``folder``.

    Only where each file has one writer at a time (a feature shard, which
    one rank owns; a work_dir, which one training holds locked): a
    temporary file seen before writing is then a leftover of a process
    killed mid-write.

    Args:
        folder (str | Path): The folder :func:`atomic_write` wrote into.
        name (str, optional): Only the temporary files of this destination
            file name. Defaults to None (those of every file).

    Returns:
        list[str]: The removed files.
    """
    folder = str(folder)
    target = '.+' if name is None else re.escape(name)
    pattern = re.compile(rf'\.{target}\.[0-9a-f]{{{_TMP_HEX}}}\.tmp')
    removed = []
    for entry in sorted(os.listdir(folder)) if osp.isdir(folder) else []:
        if pattern.fullmatch(entry):
            os.remove(osp.join(folder, entry))
            removed.append(osp.join(folder, entry))
    return removed


def _fsync_dir(folder: str) -> None:
    """Persist the rename itself (the folder entry) where the OS allows."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on folders
        pass
    finally:
        os.close(fd)
