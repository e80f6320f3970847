# Copyright (c) mmreid_video contributors. All rights reserved.
"""Tracklets stored as folders of frame images, and the tree that
``tools/dataset_converters/folders_to_json.py`` turns into the custom
tracklet JSON (:class:`~mmreid_video.datasets.CustomVideoReIDDataset`).

The tree::

    <root>/{train,query,gallery}/<pid>/<tracklet>/<frames>   identity known
    <root>/{query,gallery}/<tracklet>/<frames>               identity unknown

A folder that holds image files is a tracklet; one that holds folders is a
``<pid>`` folder (an integer name). Lists may be missing (a query set
alone is a tree with ``query/`` only); train tracklets need a pid.
Frames are ordered by the numbers in their names. Files that operating
systems add (``Thumbs.db``, ``desktop.ini``, hidden ``.DS_Store`` and
``._*`` AppleDouble files) are skipped; other files of a tracklet folder
that are not frames of a read extension (:data:`IMAGE_EXTS`) are left out
with a warning that names them.
"""
import os
import os.path as osp
import re
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

from .listing import is_os_file, list_visible

# What the frame loader (OpenCV) decodes.
IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')
# Left-out files named in the warning.
_SHOWN = 5
LISTS = ('train', 'query', 'gallery')
TREE = ('<root>/{train,query,gallery}/<pid>/<tracklet>/<frames> (or '
        '<root>/{query,gallery}/<tracklet>/<frames> for tracklets of '
        'unknown identity)')


def natural_key(name: str) -> list:
    """Sort key that orders the numbers inside a name numerically."""
    return [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', name)]


def list_frames(folder: str) -> List[str]:
    """Names of the image files of a folder, by the numbers in them.

    Raises:
        NotADirectoryError: ``folder`` is no folder.
        ValueError: It holds no image file.
    """
    if not osp.isdir(folder):
        raise NotADirectoryError(f'{folder}: expected a tracklet folder '
                                 f'(of {"/".join(IMAGE_EXTS)} frames)')
    frames = sorted(
        (f for f in list_visible(folder) if f.lower().endswith(IMAGE_EXTS)),
        key=natural_key)
    if not frames:
        raise ValueError(f'{folder}: no image frames ({IMAGE_EXTS})')
    return frames


def holds_frames(folder: str) -> bool:
    """Whether ``folder`` directly holds image files (is a tracklet)."""
    return any(
        f.lower().endswith(IMAGE_EXTS) and osp.isfile(osp.join(folder, f))
        for f in list_visible(folder))


def find_tracklets(root: str) -> List[str]:
    """Tracklet folders under ``root``: ``root`` itself when it holds
    frames, else every folder below it that does (in natural order).

    Args:
        root (str): A tracklet folder or a tree of them.

    Returns:
        list[str]: The tracklet folders, as paths under ``root``.

    Raises:
        ValueError: No folder under ``root`` holds image frames.
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'{root}: no such folder')
    found = []
    for folder, subdirs, _ in os.walk(root):
        subdirs[:] = [d for d in subdirs if not is_os_file(d)]
        subdirs.sort(key=natural_key)
        if holds_frames(folder):
            found.append(folder)
            subdirs.clear()  # a tracklet's sub-folders are not tracklets
    if not found:
        raise ValueError(f'{root}: no folder below it holds image frames '
                         f'({IMAGE_EXTS})')
    return found


def camera_ids(names: Sequence[str], cam_pattern: str,
               where: Sequence[str]) -> Tuple[List[int], List[int]]:
    """Camera numbers parsed from names, as 0-based camids.

    Args:
        names (Sequence[str]): One name per tracklet, e.g.
            ``'<tracklet>/<first frame name>'``.
        cam_pattern (str): Regex whose first group is the camera number.
        where (Sequence[str]): The folder of each name, for the message.

    Returns:
        tuple[list[int], list[int]]: The camid of each name and the camera
        numbers found, in increasing order (number ``numbers[c]`` is camid
        ``c``: ``C1``..``C6`` give 0..5).

    Raises:
        ValueError: The pattern does not match a name.
    """
    cam_re = re.compile(cam_pattern)
    found = []
    for name, folder in zip(names, where):
        match = cam_re.search(name)
        if match is None or not match.groups():
            raise ValueError(f'{folder}: --cam-pattern {cam_pattern!r} does '
                             f'not match "{name}" (group 1: the camera '
                             'number)')
        found.append(int(match.group(1)))
    numbers = sorted(set(found))
    return [numbers.index(n) for n in found], numbers


def _not_frames(folder: str) -> List[str]:
    """The files of a tracklet folder that are not frames (OS files aside),
    as paths."""
    return [
        osp.join(folder, f) for f in sorted(list_visible(folder))
        if not f.lower().endswith(IMAGE_EXTS)
    ]


def _tracklet(sub: str, pid: Optional[str], folder: str,
              trk: str) -> Tuple[dict, str]:
    frames = list_frames(folder)
    rel = f'{sub}/{trk}' if pid is None else f'{sub}/{pid}/{trk}'
    info = dict(
        tracklet_id=rel,
        pid=None if pid is None else int(pid),
        camid=None,
        frame_paths=[f'{rel}/{f}' for f in frames])
    return info, f'{trk}/{frames[0]}'


def tree_annotations(
        root: str,
        cam_pattern: Optional[str] = None) -> Tuple[Dict, Optional[List[int]]]:
    """The custom tracklet JSON of a folder tree (see the module
    docstring).

    Args:
        root (str): The tree root (frame paths are relative to it).
        cam_pattern (str, optional): Regex with the camera number as its
            first group, matched against ``<tracklet>/<first frame name>``;
            the numbers found are mapped, in increasing order, to camid 0,
            1, ... Defaults to None (cameras unknown: ``"camid": null``).

    Returns:
        tuple[dict, list[int] | None]: ``{"train": [...], "query": [...],
        "gallery": [...]}`` (the lists present in the tree; a tracklet of
        unknown identity has ``"pid": null``) and the camera numbers found
        (``numbers[camid]``; None without ``cam_pattern``).
    """
    present = [s for s in LISTS if osp.isdir(osp.join(root, s))]
    if not present:
        raise FileNotFoundError(f'{root} has none of the folders {LISTS}; '
                                f'expected {TREE}')
    ann: Dict[str, List[dict]] = {}
    names, where, left_out = [], [], []
    for sub in present:
        sub_dir = osp.join(root, sub)
        ann[sub] = []
        for child in sorted(list_visible(sub_dir), key=natural_key):
            folder = osp.join(sub_dir, child)
            if not osp.isdir(folder):
                raise ValueError(f'{folder}: expected a folder; {TREE}')
            if holds_frames(folder):  # <sub>/<tracklet>: identity unknown
                if sub == 'train':
                    raise ValueError(f'{folder}: train tracklets need a '
                                     f'<pid> folder: {TREE}')
                tracklets = [(None, folder, child)]
            elif re.fullmatch(r'-?\d+', child):
                tracklets = [
                    (child, osp.join(folder, t), t)
                    for t in sorted(list_visible(folder), key=natural_key)
                ]
            else:
                raise ValueError(f'{folder}: neither a tracklet (it holds no '
                                 'frames) nor a <pid> folder (an integer '
                                 f'name); expected {TREE}')
            for pid, path, trk in tracklets:
                info, name = _tracklet(sub, pid, path, trk)
                left_out += _not_frames(path)
                ann[sub].append(info)
                names.append(name)
                where.append(info['tracklet_id'])
    if left_out:
        shown = ', '.join(left_out[:_SHOWN])
        if len(left_out) > _SHOWN:
            shown += f', ... ({len(left_out) - _SHOWN} more)'
        warnings.warn(f'{len(left_out)} file(s) of the tracklet folders are '
                      'not frames of a read extension '
                      f'({", ".join(IMAGE_EXTS)}) and were left out: {shown}')
    if cam_pattern is None:
        return ann, None
    camids, numbers = camera_ids(names, cam_pattern, where)
    infos = [t for sub in ann.values() for t in sub]
    for info, camid in zip(infos, camids):
        info['camid'] = camid
    return ann, numbers
