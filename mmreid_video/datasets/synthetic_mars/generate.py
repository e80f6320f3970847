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
from scipy.io import savemat

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


def _write_split(root: str, sub: str, tracklets: List[Tuple], cams, h: int,
                 w: int, rng: np.random.Generator) -> np.ndarray:
    """Render and write the tracklets of one split; returns the track table.

    Each tracklet is ``(pid, cam, num_frames, person_or_None, kind)``.
    """
    counter: Dict[Tuple[int, int], int] = {}
    named = []
    for pid, cam, n, person, kind in tracklets:
        counter[pid, cam] = counter.get((pid, cam), 0) + 1
        prefix = f'{pid_folder(pid)}C{cam}T{counter[pid, cam]:04d}'
        named.append((prefix, pid, cam, n, person, kind))
    named.sort(key=lambda x: x[0])  # the real name lists are sorted
    names, rows = [], []
    for prefix, pid, cam, n, person, kind in named:
        folder = osp.join(root, f'bbox_{sub}', prefix[:4])
        os.makedirs(folder, exist_ok=True)
        frames = render_tracklet(rng, person, cams[cam - 1], n, h, w, kind)
        rows.append([len(names) + 1, len(names) + n, pid, cam])
        quality = [cv2.IMWRITE_JPEG_QUALITY, cams[cam - 1]['quality']]
        for i, img in enumerate(frames, 1):
            name = f'{prefix}F{i:03d}.jpg'
            cv2.imwrite(osp.join(folder, name), img, quality)
            names.append(name)
    with open(osp.join(root, 'info', f'{sub}_name.txt'), 'w') as f:
        f.write('\n'.join(names) + '\n')
    table = np.array(rows, dtype=np.int32)
    savemat(
        osp.join(root, 'info', f'tracks_{sub}_info.mat'),
        {f'track_{sub}_info': table},
        do_compression=True)
    return table


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
    os.makedirs(osp.join(root, 'info'))
    _write_split(root, 'train', train, cams, height, width, rng)
    table = _write_split(root, 'test', test, cams, height, width, rng)
    # One query per test identity and camera (the first such tracklet).
    first = {}
    for row, (_, _, pid, cam) in enumerate(table.tolist(), 1):
        if pid > 0:
            first.setdefault((pid, cam), row)
    query = np.array(sorted(first.values()), dtype=np.uint16)[None]
    savemat(
        osp.join(root, 'info', 'query_IDX.mat'), {'query_IDX': query},
        do_compression=True)
    summary = dict(
        args,
        num_train_tracklets=len(train),
        num_test_tracklets=len(test),
        num_queries=int(query.size))
    with open(osp.join(root, MARKER), 'w') as f:
        json.dump(summary, f, indent=1)
    return summary


