# Copyright (c) mmreid_video contributors. All rights reserved.
"""Build a CustomVideoReIDDataset JSON file from a tracklet folder tree.

The tree is ``<root>/{train,query,gallery}/<pid>/<tracklet>/<frames>``
(``<pid>`` an integer). Frames are ordered by the numbers in their names.
Cameras are parsed with ``--cam-pattern`` (a regex whose first group is the
camera number, matched against ``<tracklet>/<first frame name>``); the
camera numbers found, in increasing order, become the 0-based ``camid`` 0,
1, ... (``C1``..``C6`` give 0..5, as the MARS loader's ``camera - 1``).
Without it every tracklet counts as its own camera (see
``CustomVideoReIDDataset``), so same-camera matches count at evaluation; the
tool warns.
Files that operating systems add (``Thumbs.db``, ``desktop.ini``, hidden
``.DS_Store`` and ``._*`` AppleDouble files) are skipped; other files that
are not frames of a read extension (``IMAGE_EXTS``) are skipped with a
warning that names them.

Example:
    python tools/dataset_converters/folders_to_json.py data/my_cams \\
        --cam-pattern 'C(\\d+)'
"""
import argparse
import json
import os
import os.path as osp
import re
import sys
import warnings
from typing import Dict, List, Optional

# What the frame loader (OpenCV) decodes.
IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')
# Skipped files named in the warning.
_SHOWN = 5


def natural_key(name: str) -> list:
    """Sort key that orders the numbers inside a name numerically."""
    return [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', name)]


def _visible(folder: str) -> List[str]:
    """The entries of ``folder`` but the files operating systems add."""
    # Imported when used: --help answers at once.
    from mmreid_video.datasets.listing import is_os_file
    return [n for n in os.listdir(folder) if not is_os_file(n)]


def _entries(folder: str, what: str) -> List[str]:
    """The sub-folders of ``folder`` (OS files skipped; any other file is
    an error), naturally sorted."""
    names = sorted(_visible(folder), key=natural_key)
    for name in names:
        if not osp.isdir(osp.join(folder, name)):
            raise ValueError(f'{osp.join(folder, name)}: expected a {what} '
                             'folder, found a file')
    return names


def convert(root: str, cam_pattern: Optional[str] = None) -> Dict:
    """Collect the tracklets of ``root``.

    Args:
        root (str): The tree root.
        cam_pattern (str, optional): Regex with the camera number as its
            first group; the numbers found are mapped, in increasing order,
            to camid 0, 1, ... Defaults to None (unknown cameras).

    Returns:
        dict: ``{"train": [...], "query": [...], "gallery": [...]}``.
    """
    cam_re = re.compile(cam_pattern) if cam_pattern else None
    ann: Dict[str, List[dict]] = {}
    skipped: List[str] = []
    for sub in ('train', 'query', 'gallery'):
        sub_dir = osp.join(root, sub)
        if not osp.isdir(sub_dir):
            raise FileNotFoundError(
                f'"{sub_dir}" does not exist; expected '
                '<root>/{train,query,gallery}/<pid>/<tracklet>/<frames>')
        ann[sub] = []
        for pid in _entries(sub_dir, 'pid'):
            pid_dir = osp.join(sub_dir, pid)
            if not re.fullmatch(r'-?\d+', pid):
                raise ValueError(f'{pid_dir}: pid folders must be integers')
            for trk in _entries(pid_dir, 'tracklet'):
                folder = osp.join(pid_dir, trk)
                files = _visible(folder)
                frames = sorted((f for f in files
                                 if f.lower().endswith(IMAGE_EXTS)),
                                key=natural_key)
                skipped += [
                    osp.join(folder, f) for f in sorted(set(files) -
                                                        set(frames))
                ]
                if not frames:
                    raise ValueError(f'{folder}: no image frames ('
                                     f'{", ".join(IMAGE_EXTS)})')
                camid = None
                if cam_re is not None:
                    m = cam_re.search(f'{trk}/{frames[0]}')
                    if m is None:
                        raise ValueError(f'{folder}: --cam-pattern '
                                         f'{cam_pattern!r} does not match '
                                         f'"{trk}/{frames[0]}"')
                    camid = int(m.group(1))  # a number until mapped below
                ann[sub].append(
                    dict(
                        tracklet_id=f'{sub}/{pid}/{trk}',
                        pid=int(pid),
                        camid=camid,
                        frame_paths=[f'{sub}/{pid}/{trk}/{f}'
                                     for f in frames]))
    if skipped:
        more = len(skipped) - _SHOWN
        shown = ', '.join(skipped[:_SHOWN])
        if more > 0:
            shown += f', ... ({more} more)'
        warnings.warn(f'{len(skipped)} file(s) of the tracklet folders are '
                      'not frames of a read extension '
                      f'({", ".join(IMAGE_EXTS)}) and were left out: {shown}')
    if cam_re is not None:
        tracklets = [t for sub in ann.values() for t in sub]
        numbers = sorted({t['camid'] for t in tracklets})
        for t in tracklets:
            t['camid'] = numbers.index(t['camid'])
        print(f'camera numbers {numbers} -> camid 0..{len(numbers) - 1}')
    return ann


def main() -> None:
    parser = argparse.ArgumentParser(
        description='Tracklet folder tree -> CustomVideoReIDDataset JSON')
    parser.add_argument('root', help='tree root (also the data_root)')
    parser.add_argument(
        '--out', help='output file (default: <root>/annotations.json)')
    parser.add_argument(
        '--cam-pattern',
        help=r'regex whose group 1 is the camera, e.g. "C(\d+)"; '
        'without it cameras are unknown')
    args = parser.parse_args()
    # Imported after parsing: --help answers at once.
    from mmreid_video.fileio import atomic_write
    from mmreid_video.utils import check_output_path
    if args.cam_pattern is None:
        print(
            'Warning: no --cam-pattern, so cameras are unknown and every '
            'tracklet counts as its own camera: at evaluation, tracklets of '
            "the query's person from the query's own camera count as "
            'matches (optimistic results, not comparable with published '
            'ones). Pass --cam-pattern REGEX (group 1: the camera number) '
            'to read cameras from the names.',
            file=sys.stderr)
    out = args.out or osp.join(args.root, 'annotations.json')
    if osp.isdir(args.root):
        # Before the tree is walked; the default lives in the root itself.
        check_output_path(out, '--out', suffixes=('.json', ))
    ann = convert(args.root, args.cam_pattern)
    # Whole or not at all: an existing annotation file is never truncated.
    atomic_write(json.dumps(ann).encode(), out)
    print(f'{out}: ' + ', '.join(f'{len(v)} {k}'
                                 for k, v in ann.items()) + ' tracklets')


if __name__ == '__main__':
    main()
