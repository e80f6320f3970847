# Copyright (c) mmreid_video contributors. All rights reserved.
"""Publish a folder whole or not at all: build it beside the target, then
rename it into place.

A generated folder (synthetic data, a rehearsal tree) that is written in
place is half-written while its writer runs and after it is killed, and a
reader cannot tell. :func:`publish_folder` writes into a new hidden sibling
(same file system, so the renames are atomic) and renames it to the target
when complete. Old content is replaced only when the caller says how to
dispose of it: it is first moved aside, so a failure puts it back, and the
caller then removes only what it owns; anything else stays, and is named.
The hidden folders carry the writing process's host and pid, so that later
calls can clean up what killed writers left.
"""
import os
import os.path as osp
import re
import shutil
import uuid
from typing import Callable, Optional, TypeVar, Union

from mmengine.logging import print_log

from ._owner import OWNER_PATTERN, owner_tag, process_gone

T = TypeVar('T')
PathLike = Union[str, os.PathLike]


def _sibling_pattern(base: str, kind: str) -> 're.Pattern':
    """Names of the hidden siblings of ``base``: ``new`` (a build) or
    ``old`` (content moved aside), ``.<base>.<kind>-<host>-<pid>-<hex>``."""
    return re.compile(
        rf'\.{re.escape(base)}\.{kind}-{OWNER_PATTERN}-[0-9a-f]{{12}}')


def _sibling(target: str, kind: str) -> str:
    parent, base = osp.split(target)
    return osp.join(parent,
                    f'.{base}.{kind}-{owner_tag()}-{uuid.uuid4().hex[:12]}')


def is_empty_folder(path: PathLike) -> bool:
    """True when ``path`` is missing or an empty folder (not a link).

    Args:
        path (str | PathLike): The path.

    Returns:
        bool: Whether a folder may be published there without replacing
        anything.
    """
    path = str(path)
    return not osp.lexists(path) or (osp.isdir(path) and not osp.islink(path)
                                     and not os.listdir(path))


def remove_stale_siblings(
        target: PathLike,
        remove_old: Optional[Callable[[str], None]] = None) -> None:
    """Clean up what killed :func:`publish_folder` calls on ``target`` left.

    Builds of a dead process on this host are removed (they hold only what
    the build wrote); content such a process had moved aside is handed to
    ``remove_old`` when given (else left alone).

    Args:
        target (str | PathLike): The published folder.
        remove_old (Callable[[str], None], optional): As in
            :func:`publish_folder`. Defaults to None.
    """
    parent, base = osp.split(osp.abspath(str(target)))
    if not osp.isdir(parent):
        return
    for name in sorted(os.listdir(parent)):
        path = osp.join(parent, name)
        for kind in ('new', 'old'):
            match = _sibling_pattern(base, kind).fullmatch(name)
            if match and osp.isdir(path) and process_gone(*match.groups()):
                if kind == 'new':
                    shutil.rmtree(path)
                elif remove_old is not None:
                    _dispose(path, remove_old, target)


def _dispose(aside: str, remove_old: Callable[[str], None],
             target: str) -> None:
    """Let ``remove_old`` remove what it owns, then the empty folders."""
    remove_old(aside)
    if osp.isdir(aside):
        for folder, _, _ in sorted(os.walk(aside), reverse=True):
            try:
                os.rmdir(folder)
            except OSError:
                pass  # not empty: it holds a file the caller does not own
    if osp.lexists(aside):
        print_log(
            f'Kept files that were in "{target}" and are not the '
            f'publisher\'s own in "{aside}"',
            logger='current')


def publish_folder(target: PathLike,
                   build: Callable[[str], T],
                   remove_old: Optional[Callable[[str], None]] = None) -> T:
    """Run ``build`` into a new folder and rename that folder to ``target``.

    Without ``remove_old``, ``target`` must be missing or an empty folder.
    With it, what ``target`` holds is renamed aside, the new folder renamed
    into place (the old content is put back if that fails), and
    ``remove_old(aside)`` removes what the caller owns there; the empty
    folders go too, and anything left is kept and named in a log line.
    Leftovers of killed earlier calls are cleaned up first (see
    :func:`remove_stale_siblings`).

    The new folder is made with the default permissions (``0o777`` minus
    the umask), as ``os.makedirs`` would give the target.

    Args:
        target (str | PathLike): The folder to publish.
        build (Callable[[str], T]): Writes the content into the given new,
            empty folder (a hidden sibling of ``target``).
        remove_old (Callable[[str], None], optional): Removes the files the
            caller owns from the old content, given its moved-aside folder.
            Defaults to None (``target`` must be missing or empty).

    Returns:
        T: What ``build`` returned.

    Raises:
        FileExistsError: ``target`` is not a folder, or holds files and
            ``remove_old`` is None, or another process published to it
            first; nothing of the caller's is left behind.
    """
    target = osp.abspath(str(target))
    if osp.lexists(target) and (not osp.isdir(target) or osp.islink(target)):
        raise FileExistsError(
            f'"{target}" exists and is not a folder; a folder can be '
            'published only to a missing or empty folder')
    if remove_old is None and not is_empty_folder(target):
        raise FileExistsError(
            f'"{target}" is not empty; nothing there was replaced')
    os.makedirs(osp.dirname(target), exist_ok=True)
    remove_stale_siblings(target, remove_old)
    new = _sibling(target, 'new')
    os.mkdir(new)
    try:
        result = build(new)
        if is_empty_folder(target):
            try:
                os.rename(new, target)  # replaces an empty folder atomically
            except OSError as err:
                raise FileExistsError(
                    f'"{target}" was filled by another process while this '
                    f'one built its content ({err}); nothing was '
                    'replaced') from err
            return result
        if remove_old is None:
            raise FileExistsError(
                f'"{target}" was filled by another process while this one '
                'built its content; nothing was replaced')
        aside = _sibling(target, 'old')
        os.rename(target, aside)
        try:
            os.rename(new, target)
        except OSError:
            os.rename(aside, target)  # put the old content back
            raise
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)  # only what the build wrote
        raise
    _dispose(aside, remove_old, target)
    return result
