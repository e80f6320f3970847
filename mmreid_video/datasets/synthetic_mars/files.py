"""Where the synthetic data may be written, and how, without losing files.

The generator writes into a new folder beside ``root`` and renames it to
``root`` when complete. ``root`` must be missing or empty, unless the
caller asks to overwrite, and even then it may hold only files the
generator wrote, unchanged since: a manifest records each file's SHA-1. The
old data is moved aside before the new data takes its place, and only the
files of its manifest are then removed.
"""
import hashlib
import json
import os
import os.path as osp
import shutil
import tempfile
from typing import Callable, Dict, List

from mmengine.logging import print_log

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
        for name in names + [d for d in dirs
                             if osp.islink(osp.join(folder, d))]:
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
        rel for rel in _files(root) if rel != MANIFEST and (
            osp.islink(osp.join(root, rel)) or manifest.get(rel) !=
            _digest(osp.join(root, rel)))
    ]


def is_empty(root: str) -> bool:
    """True when ``root`` is missing or an empty folder."""
    return not osp.lexists(root) or (osp.isdir(root)
                                     and not osp.islink(root)
                                     and not os.listdir(root))


def publish(root: str, overwrite: bool, generate: Callable[[str],
                                                            Dict]) -> Dict:
    """Run ``generate`` into a new folder and make it ``root``.

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
    if not is_empty(root):
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
    parent = osp.dirname(osp.abspath(root))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(root)}.new', dir=parent)
    try:
        summary = generate(tmp)
        write_manifest(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp made it private
        _swap(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # only what we wrote
        raise
    return summary


def write_manifest(root: str) -> None:
    """Record the SHA-1 of every file under ``root``."""
    manifest = {rel: _digest(osp.join(root, rel)) for rel in _files(root)}
    with open(osp.join(root, MANIFEST), 'w') as f:
        json.dump(manifest, f, indent=0)


def _swap(tmp: str, root: str) -> None:
    """Rename ``tmp`` to ``root``; old generated data is moved aside, then
    only its listed, unchanged files are removed."""
    if is_empty(root):
        try:
            os.rename(tmp, root)  # replaces an empty folder atomically
        except OSError as e:
            raise FileExistsError(f'"{root}" was filled by another process '
                                  f'while the synthetic data was written '
                                  f'({e})') from e
        return
    old = tempfile.mkdtemp(
        prefix=f'.{osp.basename(root)}.old', dir=osp.dirname(
            osp.abspath(root)))
    os.rename(root, osp.join(old, 'data'))
    try:
        os.rename(tmp, root)
    except OSError:
        os.rename(osp.join(old, 'data'), root)  # put the old data back
        os.rmdir(old)
        raise
    _remove_generated(osp.join(old, 'data'))
    for folder, _, _ in sorted(os.walk(old), reverse=True):
        try:
            os.rmdir(folder)
        except OSError:
            pass  # not empty: it holds a file that is not ours
    if osp.exists(old):
        print_log(
            f'Kept files the synthetic data generator did not write in '
            f'"{old}"', logger='current')


def _remove_generated(folder: str) -> None:
    """Remove the files of ``folder``'s manifest that are unchanged."""
    foreign = set(foreign_files(folder))
    for rel in _files(folder):
        if rel not in foreign:
            os.remove(osp.join(folder, rel))
