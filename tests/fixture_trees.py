# Copyright (c) mmreid_video contributors. All rights reserved.
"""Tiny trees in the published layouts of LS-VID and PRID-2011, a
custom-tracklet JSON annotation and the arguments of the tiny synthetic
MARS tree, shared by tests through the fixtures of tests/conftest.py
(import the constants from here: several test folders have a conftest
module)."""
import json

import cv2
import h5py
import numpy as np

# The one tiny synthetic MARS tree of the tests (``make_synthetic_mars``
# arguments): 21 train tracklets of 8 ids, 19 test tracklets (12 queries).
# Seed 0 is the demo configs' seed, so the docs sandbox reads it too; 8 ids
# fill one P x K batch of the demo config (8 ids x 4 tracklets).
TINY_MARS = dict(
    seed=0,
    num_train_ids=8,
    num_test_ids=6,
    tracklets_per_id=(2, 3),
    frames_per_tracklet=(4, 8),
    num_distractors=2,
    num_junk=2)


def png_bytes(seed: int, size=(32, 16)) -> bytes:
    """A tiny decodable PNG, a different colour per seed."""
    colour = np.random.default_rng(seed).integers(0, 256, 3, dtype=np.uint8)
    ok, buf = cv2.imencode('.png', np.broadcast_to(colour, (*size, 3)))
    assert ok
    return buf.tobytes()


def write_mat_v73(path, arrays: dict) -> None:
    """Write arrays as MATLAB ``save -v7.3`` does: HDF5 behind a 512-byte
    MATLAB header, doubles stored transposed (column-major); a value of None
    writes a group (as MATLAB does for a struct)."""
    with h5py.File(path, 'w', userblock_size=512) as f:
        for key, value in arrays.items():
            if value is None:
                f.create_group(key)
                continue
            data = f.create_dataset(key, data=np.asarray(value, float).T)
            data.attrs['MATLAB_class'] = np.bytes_('double')
    text = ('MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Tue Jun  4 '
            '10:00:00 2019 HDF5 schema 1.00 .')
    with open(path, 'r+b') as f:
        f.write(text.ljust(116).encode() + bytes(8) + b'\x00\x02IM')


# LS-VID as published: (list prefix, pid, camera 1-15, number of frames).
# Frame names have four '_' fields, the third the camera; the other values
# are illustrative.
LSVID_TRAIN = [('tracklet_train/0001/00010001', 1, 3, 4),
               ('tracklet_train/0001/00010002', 1, 12, 3),
               ('tracklet_train/0003/00030001', 3, 15, 5),
               ('tracklet_train/0003/00030002', 3, 1, 2)]
LSVID_TEST = [('tracklet_test/0004/00040001', 4, 2, 3),
              ('tracklet_test/0004/00040002', 4, 5, 2),
              ('tracklet_test/0004/00040003', 4, 2, 4),
              ('tracklet_test/0006/00060001', 6, 7, 3),
              ('tracklet_test/0006/00060002', 6, 9, 2),
              ('tracklet_test/0007/00070001', 7, 1, 2)]
LSVID_QUERY = [4, 1]  # 1-based rows of list_seq_test.txt


def make_lsvid_tree(tmp_path):
    """A tiny LS-VID tree in the published layout (empty frame files)."""
    for prefix, pid, cam, num in LSVID_TRAIN + LSVID_TEST + [
        ('tracklet_val/0005/00050001', 5, 4, 2)
    ]:
        folder = tmp_path / prefix.rsplit('/', 1)[0]
        folder.mkdir(parents=True, exist_ok=True)
        base = prefix.rsplit('/', 1)[1]
        for frame in reversed(range(1, num + 1)):
            (folder / f'{base}_{frame:04d}_{cam}_{pid:04d}.jpg').touch()
    lists = tmp_path / 'list_sequence'
    lists.mkdir()
    for name, rows in (('train', LSVID_TRAIN), ('test', LSVID_TEST)):
        (lists / f'list_seq_{name}.txt').write_text(''.join(
            f'{prefix} {pid}\n' for prefix, pid, _, _ in rows))
    (tmp_path / 'test/data').mkdir(parents=True)
    # info_test rows: [first frame, last frame, pid, camera] (1-based).
    ends = np.cumsum([row[3] for row in LSVID_TEST])
    info = [[end - row[3] + 1, end, row[1], row[2]]
            for end, row in zip(ends, LSVID_TEST)]
    write_mat_v73(tmp_path / 'test/data/info_test.mat',
                  dict(query=np.array(LSVID_QUERY)[:, None], info_test=info))
    return tmp_path


def lsvid_prefixes(info: np.ndarray, split: str = 'test') -> list:
    """A list prefix per ``info_test`` row (folder per pid, as published):
    ``tracklet_<split>/<pid4>/<pid4><row5>``, none the start of another."""
    return [
        f'tracklet_{split}/{pid:04d}/{pid:04d}{row:05d}'
        for row, pid in enumerate(info[:, 2])
    ]


def make_lsvid_frames(folder, info: np.ndarray, split: str = 'test'):
    """Frames for an LS-VID tree whose ``split`` list follows ``info_test``
    (one empty frame per row, named ``<stem>_0001_<camera>_<pid4>.jpg``)
    and the two train tracklets of :data:`LSVID_TRAIN`'s first id."""
    rows = [(p, pid, cam)
            for p, (pid,
                    cam) in zip(lsvid_prefixes(info, split), info[:, 2:4])]
    rows += [(p, pid, cam) for p, pid, cam, _ in LSVID_TRAIN[:2]]
    for prefix, pid, cam in rows:
        path = folder / f'{prefix}_0001_{cam}_{pid:04d}.jpg'
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    return folder


def write_lsvid_root(root, frames, info_mat, list_pids, split='test') -> str:
    """An LS-VID root over the frames of :func:`make_lsvid_frames` (linked,
    not copied): the ``info_<split>.mat`` given and a ``split`` list whose
    line ``r`` is row ``r``'s prefix with pid ``list_pids[r]``."""
    from mmreid_video.datasets.readers import load_mat_array
    info = load_mat_array(str(info_mat), 'info_test')
    for sub in ('tracklet_train', f'tracklet_{split}'):
        (root / sub).symlink_to(frames / sub, target_is_directory=True)
    lists = root / 'list_sequence'
    lists.mkdir()
    (lists / 'list_seq_train.txt').write_text(''.join(
        f'{prefix} {pid}\n' for prefix, pid, _, _ in LSVID_TRAIN[:2]))
    (lists / f'list_seq_{split}.txt').write_text(''.join(
        f'{prefix} {pid}\n'
        for prefix, pid in zip(lsvid_prefixes(info, split), list_pids)))
    (root / 'test' / 'data').mkdir(parents=True)
    (root / 'test' / 'data' / f'info_{split}.mat').write_bytes(
        info_mat.read_bytes())
    return str(root)


# PRID-2011 multi-shot: frames per person in cam_a / cam_b. person_0009 is
# only in cam_a and person_0010 only in cam_b, as persons > 200 are.
PRID_FRAMES = {f'person_{i:04d}': (2 + i % 3, 3 + i % 2) for i in range(1, 9)}
PRID_SPLITS = [
    dict(
        train=[f'person_{i:04d}' for i in (1, 3, 5, 7)],
        test=[f'person_{i:04d}' for i in (2, 4, 6, 8)]),
    dict(
        train=[f'person_{i:04d}' for i in (2, 3, 6, 8)],
        test=[f'person_{i:04d}' for i in (1, 4, 5, 7)])
]


def make_prid_tree(tmp_path):
    """A tiny PRID-2011 tree as torchreid documents it (decodable PNGs)."""
    shot = tmp_path / 'prid_2011/multi_shot'
    frames = dict(PRID_FRAMES, person_0009=(3, 0), person_0010=(0, 4))
    for k, (person, counts) in enumerate(sorted(frames.items())):
        for cam, num in zip(('cam_a', 'cam_b'), counts):
            if num:
                (shot / cam / person).mkdir(parents=True)
            for frame in range(1, num + 1):
                (shot / cam / person / f'{frame:04d}.png').write_bytes(
                    png_bytes(k))
    (tmp_path / 'prid_2011/single_shot/cam_a').mkdir(parents=True)
    (tmp_path / 'prid_2011/readme.txt').write_text('PRID 2011\n')
    (tmp_path / 'splits_prid2011.json').write_text(json.dumps(PRID_SPLITS))
    return tmp_path


def custom_tracklet(pid, camid, n, name, **extra) -> dict:
    """A row of a custom-tracklet JSON list, ``n`` frames under ``name``."""
    return dict(
        pid=pid,
        camid=camid,
        tracklet_id=name,
        frame_paths=[f'{name}/{i}.jpg' for i in range(n)],
        **extra)


# A custom-tracklet annotation (CustomVideoReIDDataset): 2 train ids, a
# tracklet in both query and gallery, a gallery distractor (pid 0).
CUSTOM_ANN = dict(
    train=[
        custom_tracklet(17, 0, 3, 'train/17/a'),
        custom_tracklet(5, 1, 2, 'train/5/a'),
        custom_tracklet(17, 1, 1, 'train/17/b')
    ],
    query=[
        custom_tracklet(30, 0, 2, 'q/30'),
        custom_tracklet(31, 1, 2, 'shared/31')
    ],
    gallery=[
        custom_tracklet(30, 1, 4, 'g/30'),
        custom_tracklet(31, 1, 2, 'shared/31'),
        custom_tracklet(0, 2, 1, 'g/0')
    ])


def write_custom_ann(tmp_path, ann, name='ann.json') -> str:
    """Write ``ann`` as JSON into ``tmp_path``; return the file name."""
    (tmp_path / name).write_text(json.dumps(ann))
    return name
