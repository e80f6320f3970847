# Copyright (c) mmreid_video contributors. All rights reserved.
"""Whole-or-nothing file writes (temp file + rename) and their leftovers.

A process killed (or a disk filling up) while a file is written leaves a
truncated file that a later reader takes for the real one. Writing to a
temporary file in the same folder, syncing it and then ``os.replace``-ing it
over the target makes the write all-or-nothing: readers see either the old
file or the complete new one. Every file kind of the package (checkpoints,
metric dumps, feature shards, gallery indexes, search results, figures, the
work_dir lock's clean-up) goes through :func:`atomic_write` or
:func:`atomic_output`.

Temporary names are unique and carry their writer's host and pid
(``.<name>.<host>-<pid>-<hex>.tmp``): writers of one file never touch each
other's temporary files, and the next write of a file removes those its
killed writers left (:func:`remove_stale_temps`).
"""
import os
import os.path as osp
import re
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, List, Optional, Union

import mmengine

from ._owner import (OWNER_PATTERN, host_tag, owner_tag, process_gone,
                     untouched_for)

# Hex digits of the random part of a temporary file's name.
_TMP_HEX = 12


def _temp_path(filepath: str) -> str:
    folder, base = osp.split(filepath)
    return osp.join(
        folder, f'.{base}.{owner_tag()}-{uuid.uuid4().hex[:_TMP_HEX]}.tmp')


@contextmanager
def atomic_output(filepath: Union[str, Path],
                  sync: bool = True,
                  size: Optional[int] = None) -> Iterator[str]:
    """A temporary path to write ``filepath`` through, for writers that
    need a path (exporters, image encoders); see :func:`atomic_write`.

    The block writes the temporary file; when it ends without an error the
    file is synced and renamed over ``filepath``. On any error the temporary
    file is removed and ``filepath`` is left untouched. Temporary files of
    killed writers of ``filepath`` are removed first.

    Args:
        filepath (str | Path): The destination; missing parent folders are
            created.
        sync (bool): fsync the temporary file before the rename (False when
            the block has done so). Defaults to True.
        size (int, optional): Bytes written, for the error message.

    Yields:
        str: The temporary path (in the destination's folder; not created).

    Raises:
        OSError: The write failed (e.g. a full disk); the message names
            ``filepath`` and says that the previous file is unchanged.
    """
    filepath = osp.abspath(str(filepath))
    folder = osp.dirname(filepath)
    mmengine.mkdir_or_exist(folder)
    remove_stale_temps(folder, osp.basename(filepath))
    tmp_path = _temp_path(filepath)
    try:
        yield tmp_path
        if sync:
            with open(tmp_path, 'rb') as f:
                os.fsync(f.fileno())
        os.replace(tmp_path, filepath)
    except BaseException as err:
        if osp.lexists(tmp_path):
            os.remove(tmp_path)
        if isinstance(err, OSError) and err.errno is not None:
            # The bare OSError names no file (the data went through an fd).
            nbytes = '' if size is None else f' ({size} bytes)'
            raise OSError(
                err.errno, f'{err.strerror} while writing {filepath}{nbytes}; '
                'the previous content of that file, if any, is unchanged'
            ) from err
        raise
    _fsync_dir(folder)


def atomic_write(data: Union[bytes, Callable[[BinaryIO], None]],
                 filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` so that it appears whole or not at all.

    The content goes to a uniquely named temporary file next to
    ``filepath`` (same file system, so the rename is atomic), is flushed and
    fsync-ed, and the file is then renamed over ``filepath``. On any error
    the temporary file is removed and ``filepath`` is left untouched; two
    processes writing one file at once each publish a whole file (the last
    rename wins). Checkpoints, metric dumps, feature shards and gallery
    indexes are all written through it.

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
    size = None if callable(data) else len(data)
    with atomic_output(filepath, sync=False, size=size) as tmp_path:
        # Mode 0o666 (minus the umask) as ``open(filepath, 'wb')`` would
        # give; ``tempfile.mkstemp`` would make it private (0o600).
        fd = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, 'wb') as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
            f.flush()
            os.fsync(f.fileno())


def remove_stale_temps(folder: Union[str, Path],
                       name: Optional[str] = None,
                       any_writer: bool = False) -> List[str]:
    """Remove the temporary files that killed writers left in ``folder``.

    A temporary file is stale when its writer (named in it) is a dead
    process of this host, or, for a writer this host cannot check (another
    host, or a name without a writer), when it was not modified for an hour
    (:data:`~mmreid_video.fileio._owner.STALE_AFTER_S`). Every
    :func:`atomic_write` does this for its own file.

    Args:
        folder (str | Path): The folder :func:`atomic_write` wrote into.
        name (str, optional): Only the temporary files of this destination
            file name. Defaults to None (those of every file).
        any_writer (bool): Every temporary file is stale: the caller is the
            folder's only writer (e.g. a training holding its work_dir
            lock). Defaults to False.

    Returns:
        list[str]: The removed files.
    """
    folder = str(folder)
    target = '.+' if name is None else re.escape(name)
    pattern = re.compile(
        rf'\.{target}\.(?:{OWNER_PATTERN}-)?[0-9a-f]{{{_TMP_HEX}}}\.tmp')
    removed = []
    for entry in sorted(os.listdir(folder)) if osp.isdir(folder) else []:
        match = pattern.fullmatch(entry)
        if not match:
            continue
        path = osp.join(folder, entry)
        host, pid = match.groups()
        if any_writer:
            stale = True
        elif host == host_tag():
            stale = process_gone(host, pid)
        else:
            stale = untouched_for(path)
        if stale:
            try:
                os.remove(path)
            except OSError:  # removed meanwhile, or not ours to remove
                continue
            removed.append(path)
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
