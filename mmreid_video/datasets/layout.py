# Copyright (c) mmreid_video contributors. All rights reserved.
"""The layout check every dataset runs before loading, with a "did you
mean" for the usual slips: a root one level off (an archive extracted into
a folder of its own name, ``LS-VID/LS-VID/``; ``data_root`` pointing into
the dataset, e.g. at ``prid_2011/``) or one file or folder in the wrong
place (``list_sequence/list_sequence/``, a split file inside the dataset
folder instead of beside it)."""
import os
import os.path as osp
from typing import List, Optional, Sequence


class DatasetLayoutError(FileNotFoundError):
    """A path a dataset reads does not exist.

    The message names the path, a nearby path that fits when there is one
    ("Did you mean ...?") and the expected layout; it is complete without a
    traceback, so command-line tools print it alone.
    """


def _subfolders(folder: str) -> List[str]:
    """Visible sub-folders of ``folder`` (``os.scandir``: no stat per
    entry), sorted; none when it cannot be listed."""
    try:
        with os.scandir(folder) as entries:
            names = [
                e.name for e in entries
                if not e.name.startswith('.') and e.is_dir()
            ]
    except OSError:
        return []
    return [osp.join(folder, n) for n in sorted(names)]


def nearby_roots(data_root: str) -> List[str]:
    """The folders a misplaced ``data_root`` most likely meant: its
    sub-folders (its siblings when it does not exist) and its parent.

    Args:
        data_root (str): The configured root, as given (relative paths stay
            relative).

    Returns:
        list[str]: Candidate roots, sub-folders first.
    """
    root = osp.normpath(data_root or '.')
    parent = osp.normpath(osp.join(root, '..'))
    roots = _subfolders(root if osp.isdir(root) else parent)
    if parent != root and osp.isdir(parent):
        roots.append(parent)
    return [r for r in roots if r != root]


def _holds(root: str, paths: Sequence[str]) -> bool:
    """Whether ``root`` holds all ``paths`` and a folder among them (frames
    live in folders: a folder holding just a misplaced file, say the
    annotation JSON, is no root)."""
    found = [osp.join(root, rel) for rel in paths]
    return all(map(osp.exists, found)) and any(map(osp.isdir, found))


def suggest_path(data_root: str, path_sets: Sequence[Sequence[str]]) -> str:
    """A "Did you mean ...?" sentence for a layout that does not fit, or ''.

    First a whole root: a nearby folder (:func:`nearby_roots`) that holds
    every path of one of ``path_sets``, a folder among them. Else one
    missing path of the first set found nearby: below a sub-folder or the
    parent of ``data_root`` (``list_sequence/list_sequence/...``, a split
    file inside the dataset folder), or with its leading folders left out
    (``multi_shot/`` where ``prid_2011/multi_shot/`` belongs).

    Args:
        data_root (str): The configured root.
        path_sets (Sequence[Sequence[str]]): Paths relative to the root,
            one set per layout the dataset reads (the first is the one
            checked).

    Returns:
        str: The sentence, or '' when nothing nearby fits.
    """
    roots = nearby_roots(data_root)
    for root in roots:
        if any(_holds(root, paths) for paths in path_sets):
            return (f'Did you mean data_root="{root}"? It holds every path '
                    'this split reads.')
    for rel in path_sets[0] if path_sets else ():
        if osp.isabs(rel) or osp.exists(osp.join(data_root, rel)):
            continue
        parts = osp.normpath(rel).split(os.sep)
        candidates = [osp.join(r, rel) for r in roots] + [
            osp.join(data_root, *parts[k:]) for k in range(1, len(parts))
        ]
        for found in candidates:
            if osp.exists(found):
                return (f'Did you mean "{found}"? The layout expects it at '
                        f'"{osp.join(data_root, rel)}": move it there.')
    return ''


def check_layout(
        data_root: str,
        required: Sequence[str],
        layout: str,
        dataset: str,
        alternatives: Optional[Sequence[Sequence[str]]] = None) -> None:
    """Check that the files and folders a dataset reads exist.

    Only the given paths are checked (never every frame), so the check is
    cheap even for MARS; the search for a "did you mean" runs only on
    failure and lists at most the root, its parent and their sub-folders.

    Args:
        data_root (str): The dataset root.
        required (Sequence[str]): Paths relative to ``data_root``.
        layout (str): The expected tree, shown in the error.
        dataset (str): Dataset name, shown in the error.
        alternatives (Sequence[Sequence[str]], optional): The paths of
            other layouts the dataset reads, for the "did you mean" search.
            Defaults to None (none).

    Raises:
        DatasetLayoutError: Naming the first missing path, a nearby path
            that fits (if any) and the layout.
    """
    for rel in ('', *required):
        path = osp.join(data_root, rel)
        if not osp.exists(path or '.'):
            hint = suggest_path(data_root,
                                [list(required), *(alternatives or ())])
            raise DatasetLayoutError(
                f'{dataset}: "{path}" does not exist (data_root='
                f'"{data_root}").' + (f' {hint}' if hint else '') +
                f'\nExpected layout:\n{layout}\nSee docs/dataset_prepare.md.')
