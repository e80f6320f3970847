# Copyright (c) mmreid_video contributors. All rights reserved.
"""Adversarial cases of odd but real data (issue 23), designed from a
user's side: files operating systems add to dataset folders, frames of an
extension the converter does not read, person folders a split file does not
list, the same frames under two tracklet ids."""
import json
from pathlib import Path
from typing import Sequence

from _adversarial_base import (CUSTOM_ANN, ILIDS_MAT, build_custom, build_duke,
                               build_ilids, build_mars, custom, dukev, err,
                               ilids, mars, ok, prid)
from _adversarial_runs import tool

STRAYS = ('Thumbs.db', '.DS_Store', 'desktop.ini')


def strays(*folders: Path) -> None:
    """Put the files of ``STRAYS`` into each folder."""
    for folder in folders:
        for name in STRAYS:
            (folder / name).write_bytes(b'x')


@ok('odd data', 'DukeV: Thumbs.db and ._ file in a tracklet folder',
    lambda n: n == [2, 1])
def _(tmp):
    root = dukev(tmp)
    folder = root / 'train/0001/0001'
    (folder / 'Thumbs.db').write_bytes(b'\0' * 16)
    (folder / '._0001C6F0001X1.jpg').write_bytes(b'\0' * 16)
    ds = build_duke(root)
    return [len(ds.get_data_info(i)['frame_paths']) for i in range(len(ds))]


@ok('odd data', 'DukeV: OS files beside the pid folders', lambda n: n == 2)
def _(tmp):
    root = dukev(tmp)
    strays(root / 'train', root / 'train/0001')
    return len(build_duke(root))


@ok('odd data', 'iLIDS: OS files in camera and person folders',
    lambda n: n == 4)
def _(tmp):
    root = ilids(tmp)
    seq = root / 'i-LIDS-VID/sequences'
    strays(seq / 'cam1', seq / 'cam2/person001')
    return len(build_ilids(root))


@ok('odd data', 'PRID: desktop.ini and Thumbs.db in a sequence',
    lambda n: n == 8)
def _(tmp):
    from mmreid_video.datasets import PRID2011
    root = prid(tmp)
    strays(root / 'prid_2011/multi_shot/cam_a/person_0001')
    return len(PRID2011(str(root), split='train'))


@ok('odd data', 'MARS: OS files in the frame folders',
    lambda n: n == 21)  # the tiny tree's train tracklets
def _(tmp):
    root = mars(tmp)
    strays(root / 'bbox_train', root / 'bbox_train/0001')
    return len(build_mars(root))


@err('odd data', 'iLIDS: a person folder the split file does not list',
     ILIDS_MAT, 'holds 5 person folders')
def _(tmp):
    root = ilids(tmp)
    for cam in ('cam1', 'cam2'):
        folder = root / 'i-LIDS-VID/sequences' / cam / 'person003'
        folder.mkdir()
        (folder / f'{cam}_person003_1.png').write_bytes(b'')
    build_ilids(root)


@ok('odd data', 'PRID: person folders the split does not list',
    lambda pids: pids == [2, 4, 6, 8])
def _(tmp):
    from mmreid_video.datasets import PRID2011
    root = prid(tmp)
    for cam in ('cam_a', 'cam_b'):
        folder = root / 'prid_2011/multi_shot' / cam / 'person_0000'
        folder.mkdir()
        (folder / '0001.png').write_bytes(b'')
    ds = PRID2011(str(root), split='test')
    return sorted({ds.get_data_info(i)['pid'] for i in range(len(ds))})


@err('odd data', 'custom: the same frames as query and gallery ids', 'q/3',
     'g/9')
def _(tmp):
    ann = json.loads(json.dumps(CUSTOM_ANN))
    frames = ann['query'][0]['frame_paths']
    ann['gallery'].append(
        dict(pid=3, camid=1, tracklet_id='g/9', frame_paths=frames))
    build_custom(custom(tmp, ann), 'test')


def _tree(tmp: Path, names: Sequence[str]) -> Path:
    for sub in ('train', 'query', 'gallery'):
        folder = tmp / sub / '1' / 't1'
        folder.mkdir(parents=True)
        for name in names:
            (folder / name).write_bytes(b'x')
    return tmp


def _folders_to_json(root: Path) -> dict:
    tool('tools/dataset_converters/folders_to_json.py', str(root))
    return json.loads((root / 'annotations.json').read_text())


@ok('odd data',
    'folders_to_json: OS files and ._ AppleDouble frames',
    lambda ann: [t['frame_paths'] for t in ann['train']] ==
    [['train/1/t1/0.jpg', 'train/1/t1/1.jpg']],
    slow=True)
def _(tmp):
    root = _tree(tmp, ['0.jpg', '1.jpg', '._0.jpg', 'Thumbs.db'])
    strays(root / 'train', root / 'train/1')
    return _folders_to_json(root)


@ok('odd data',
    'folders_to_json: frames of an unread extension',
    lambda out: 'train/1/t1/2.heic' in out,
    slow=True)
def _(tmp):
    return tool('tools/dataset_converters/folders_to_json.py',
                str(_tree(tmp, ['0.jpg', '1.jpg', '2.heic'])))
