# Copyright (c) mmreid_video contributors. All rights reserved.
"""Write a small synthetic video re-ID dataset in the exact MARS layout.

The test split has junk (pid -1) and distractor (pid 0) tracklets, as MARS
does; everything follows from the arguments. The data is written into a
new folder beside ``root`` that is renamed to ``root`` when complete, so a
killed run never leaves a half-written dataset at ``root``.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Tuple

import cv2
import numpy as np

from ..mars_layout import mars_frame_names, write_mars_info
from ..readers import pid_folder
from .files import MARKER, publish
from .render import (SHIRTS, TROUSERS, render_tracklet, sample_camera,
                     sample_person)


def make_synthetic_mars(root: str,
                        seed: int = 0,
                        num_train_ids: int = 150,
                        num_test_ids: int = 40,
                        num_cameras: int = 6,
                        tracklets_per_id: Tuple[int, int] = (2, 4),
                        frames_per_tracklet: Tuple[int, int] = (8, 24),
                        num_distractors: int = 20,
                        num_junk: int = 10,
                        height: int = 64,
                        width: int = 32,
                        overwrite: bool = False) -> Dict:
    """Write a synthetic dataset in the exact MARS layout under ``root``.

    The defaults are the data of the demo configs (``SyntheticMARS``) and
    of ``tools/dataset_converters/make_synthetic_mars.py``. Each identity
    has ``tracklets_per_id`` (inclusive range) tracklets over at least two
    cameras. Queries are one tracklet per test identity and camera.

    ``root`` must be missing or empty. With ``overwrite=True`` it may also
    hold synthetic data written earlier by this function, which is then
    replaced; a folder holding any file this function did not write (or
    one changed since) is refused either way, and nothing is changed.

    Args:
        root (str): Output folder.
        seed (int): Random seed; the output is a function of all arguments.
            Defaults to 0.
        num_train_ids (int): Train identities. Defaults to 150.
        num_test_ids (int): Test identities. Defaults to 40.
        num_cameras (int): Cameras, 2..9 (one digit in names). Defaults to 6.
        tracklets_per_id (tuple[int, int]): Min and max tracklets per id and
            split. Defaults to (2, 4).
        frames_per_tracklet (tuple[int, int]): Min and max frames (<= 999).
            Defaults to (8, 24).
        num_distractors (int): Test tracklets with pid 0. Defaults to 20.
        num_junk (int): Test tracklets with pid -1. Defaults to 10.
        height (int): Frame height. Defaults to 64.
        width (int): Frame width. Defaults to 32.
        overwrite (bool): Replace synthetic data this function wrote at
            ``root`` before. Defaults to False.

    Returns:
        dict: The arguments and counts, also saved as
        ``<root>/synthetic_mars.json``.

    Raises:
        FileExistsError: ``root`` holds files and ``overwrite`` is False,
            or it holds files this function did not write.
    """
    args = dict(
        seed=seed,
        num_train_ids=num_train_ids,
        num_test_ids=num_test_ids,
        num_cameras=num_cameras,
        tracklets_per_id=list(tracklets_per_id),
        frames_per_tracklet=list(frames_per_tracklet),
        num_distractors=num_distractors,
        num_junk=num_junk,
        height=height,
        width=width)
    pairs = len(SHIRTS) * len(TROUSERS)
    # Every split needs ids; frames need pixels (a rectangle to render).
    for name, low in (('num_train_ids', 1), ('num_test_ids',
                                             1), ('num_distractors', 0),
                      ('num_junk', 0), ('height', 8), ('width', 4)):
        value = args[name]
        if not isinstance(value, int) or isinstance(value, bool) or \
                value < low:
            raise ValueError(f'{name} must be an int >= {low}, got {value!r}')
    if not 2 <= num_cameras <= 9:
        raise ValueError(f'num_cameras must be in 2..9, got {num_cameras}')
    if num_train_ids + num_test_ids > pairs:
        raise ValueError(f'at most {pairs} identities (colour pairs), got '
                         f'{num_train_ids + num_test_ids}')
    if not 2 <= tracklets_per_id[0] <= tracklets_per_id[1]:
        raise ValueError('tracklets_per_id must be (min, max) with min >= 2, '
                         f'got {tracklets_per_id}')
    if not 1 <= frames_per_tracklet[0] <= frames_per_tracklet[1] <= 999:
        raise ValueError('frames_per_tracklet must be (min, max) within '
                         f'1..999, got {frames_per_tracklet}')
    return publish(root, overwrite, lambda tmp: _generate(tmp, args))


def _write_frames(root: str, sub: str, tracklets: List[Tuple], cams, h: int,
                  w: int, rng: np.random.Generator) -> Tuple:
    """Render and write the tracklets of one split in MARS order (pid,
    camera, then as drawn); returns the split's track table and names.

    Each tracklet is ``(pid, cam, num_frames, person_or_None, kind)``.
    """
    order = sorted(range(len(tracklets)), key=lambda i: tracklets[i][:2])
    lengths = np.array([tracklets[i][2] for i in order])
    table = np.stack([
        np.cumsum(lengths) - lengths + 1,
        np.cumsum(lengths), [tracklets[i][0]
                             for i in order], [tracklets[i][1] for i in order]
    ], 1).astype(np.int32)
    names = mars_frame_names(table)
    for i, (start, end, _, cam) in zip(order, table.tolist()):
        pid, _, n, person, kind = tracklets[i]
        frames = render_tracklet(rng, person, cams[cam - 1], n, h, w, kind)
        quality = [cv2.IMWRITE_JPEG_QUALITY, cams[cam - 1]['quality']]
        for name, img in zip(names[start - 1:end], frames):
            cv2.imwrite(
                osp.join(root, f'bbox_{sub}', name[:4], name), img, quality)
    return table, names


def _generate(root: str, args: dict) -> Dict:
    """Write the dataset of ``args`` (checked) into the new folder ``root``."""
    seed, num_cameras = args['seed'], args['num_cameras']
    num_train_ids, num_test_ids = args['num_train_ids'], args['num_test_ids']
    tracklets_per_id = args['tracklets_per_id']
    frames_per_tracklet = args['frames_per_tracklet']
    height, width = args['height'], args['width']
    pairs = len(SHIRTS) * len(TROUSERS)
    rng = np.random.default_rng(seed)
    cams = [sample_camera(rng, height, width) for _ in range(num_cameras)]
    order = rng.permutation(pairs)
    persons = [
        sample_person(rng, k // len(TROUSERS), k % len(TROUSERS))
        for k in order[:num_train_ids + num_test_ids]
    ]

    def frames() -> int:
        return int(
            rng.integers(frames_per_tracklet[0], frames_per_tracklet[1] + 1))

    def id_tracklets(pid: int, person: Dict) -> List[Tuple]:
        n = int(rng.integers(tracklets_per_id[0], tracklets_per_id[1] + 1))
        # 2..3 cameras, so some ids have several tracklets in one camera.
        k = int(rng.integers(2, min(n, 3, num_cameras) + 1))
        ids = rng.choice(num_cameras, size=k, replace=False)
        cam_ids = list(ids) + list(rng.choice(ids, size=n - k))
        return [(pid, int(c) + 1, frames(), person, 'person') for c in cam_ids]

    # Original pids are spread out like MARS (train and test interleaved).
    pids = 1 + 2 * np.arange(num_train_ids + num_test_ids)
    train = [
        t for i in range(num_train_ids)
        for t in id_tracklets(int(pids[i]), persons[i])
    ]
    test = [
        t for i in range(num_train_ids, num_train_ids + num_test_ids)
        for t in id_tracklets(int(pids[i] + 1), persons[i])
    ]
    for _ in range(args['num_distractors']):
        other = sample_person(rng, int(rng.integers(len(SHIRTS))),
                              int(rng.integers(len(TROUSERS))))
        test.append((0, int(rng.integers(num_cameras)) + 1, frames(), other,
                     'distractor'))
    test += [(-1, int(rng.integers(num_cameras)) + 1, frames(), None, 'junk')
             for _ in range(args['num_junk'])]
    tables, names = {}, {}
    for sub, tracklets in (('train', train), ('test', test)):
        for pid in {t[0] for t in tracklets}:
            os.makedirs(osp.join(root, f'bbox_{sub}', pid_folder(pid)))
        tables[sub], names[sub] = _write_frames(root, sub, tracklets, cams,
                                                height, width, rng)
    # One query per test identity and camera (the first such tracklet).
    first = {}
    for row, (_, _, pid, cam) in enumerate(tables['test'].tolist(), 1):
        if pid > 0:
            first.setdefault((pid, cam), row)
    query = np.array(sorted(first.values()))
    write_mars_info(root, tables, names, query)
    summary = dict(
        args,
        num_train_tracklets=len(train),
        num_test_tracklets=len(test),
        num_queries=len(query))
    with open(osp.join(root, MARKER), 'w') as f:
        json.dump(summary, f, indent=1)
    return summary
