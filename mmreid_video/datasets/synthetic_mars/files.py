# Copyright (c) mmreid_video contributors. All rights reserved.
"""Where the synthetic data may be written, and how, without losing files.

The generator writes into a new folder beside ``root`` that is renamed to
``root`` when complete (:func:`mmreid_video.fileio.publish_folder`).
``root`` must be missing or empty, unless the caller asks to overwrite, and
even then it may hold only files the generator wrote, unchanged since: a
manifest records each file's SHA-1. The old data is moved aside before the
new data takes its place, and only the files of its manifest are then
removed.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Callable, Dict, List

from mmreid_video.fileio import is_empty_folder, publish_folder

MARKER = 'synthetic_mars.json'  # the generator's summary
MANIFEST = 'synthetic_mars_files.json'  # {relative path: SHA-1}


def _digest(path: str) -> str:
    with open(path, 'rb') as f:
        return hashlib.sha1(f.read()).hexdigest()


def _files(root: str) -> List[str]:
    """Every file under ``root`` (links included), relative, sorted."""
    found = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in names + [
                d for d in dirs if osp.islink(osp.join(folder, d))
        ]:
            found.append(osp.relpath(osp.join(folder, name), root))
    return sorted(found)


def foreign_files(root: str) -> List[str]:
    """Files under ``root`` that the generator did not write.

    Args:
        root (str): A folder.

    Returns:
        list[str]: Relative paths of the files that its manifest does not
        list with their current content (every file when there is no
        manifest).
    """
    try:
        with open(osp.join(root, MANIFEST)) as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        manifest = {}
    return [
        rel for rel in _files(root)
        if rel != MANIFEST and (osp.islink(osp.join(
            root, rel)) or manifest.get(rel) != _digest(osp.join(root, rel)))
    ]


def publish(root: str, overwrite: bool, generate: Callable[[str],
                                                           Dict]) -> Dict:
    """Run ``generate`` into a new folder and make it ``root``
    (:func:`mmreid_video.fileio.publish_folder`).

    Args:
        root (str): The target folder.
        overwrite (bool): Allow replacing data the generator wrote there.
        generate (Callable[[str], dict]): Writes the data into the given
            (new, empty) folder and returns its summary.

    Returns:
        dict: The summary returned by ``generate``.

    Raises:
        FileExistsError: ``root`` may not be written (see the module).
    """
    root = osp.normpath(root)
    if not is_empty_folder(root):
        if not osp.isdir(root) or osp.islink(root):
            raise FileExistsError(f'"{root}" exists and is not a folder; the '
                                  'synthetic data needs a missing or empty '
                                  'folder')
        if not overwrite:
            raise FileExistsError(
                f'"{root}" is not empty; the synthetic data is written only '
                'into a missing or empty folder. Choose another folder, or '
                'ask to overwrite (--overwrite, overwrite=True) to replace '
                'synthetic data written there before.')
        foreign = foreign_files(root)
        if foreign:
            raise FileExistsError(
                f'"{root}" holds {len(foreign)} file(s) that the synthetic '
                f'data generator did not write or that changed since, e.g. '
                f'{foreign[:3]}; overwriting replaces only its own files, so '
                'nothing was changed. Choose another folder.')

    def build(folder: str) -> Dict:
        summary = generate(folder)
        write_manifest(folder)
        return summary

    return publish_folder(
        root, build, remove_old=_remove_generated if overwrite else None)


def write_manifest(root: str) -> None:
    """Record the SHA-1 of every file under ``root``."""
    manifest = {rel: _digest(osp.join(root, rel)) for rel in _files(root)}
    with open(osp.join(root, MANIFEST), 'w') as f:
        json.dump(manifest, f, indent=0)


def _remove_generated(folder: str) -> None:
    """Remove the files of ``folder``'s manifest that are unchanged."""
    foreign = set(foreign_files(folder)) | {MANIFEST}
    for rel in _files(folder):
        if rel not in foreign:
            os.remove(osp.join(folder, rel))
    # Last: without it, whatever a killed removal left counts as foreign.
    if osp.isfile(osp.join(folder, MANIFEST)):
        os.remove(osp.join(folder, MANIFEST))
