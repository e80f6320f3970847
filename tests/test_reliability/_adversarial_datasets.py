# Copyright (c) mmreid_video contributors. All rights reserved.
"""Adversarial cases of DukeV, iLIDS-VID, LS-VID, PRID-2011 and custom JSON
datasets."""
import json
import os
import shutil

import numpy as np
from _adversarial_base import (CUSTOM_ANN, DUKE_TREE, ILIDS_MAT, ILIDS_SPLIT,
                               build_custom, build_duke, build_ilids, custom,
                               custom_with, custom_without, dukev, err, ilids,
                               lsvid, ok, prid)
from scipy.io import savemat


# ---- DukeMTMC-VideoReID ----------------------------------------------------
@err('DukeV', 'missing root', '{tmp}/none')
def _(tmp):
    build_duke(tmp / 'none')


@err('DukeV', 'missing query folder', 'query')
def _(tmp):
    tree = {k: v for k, v in DUKE_TREE.items() if k[0] != 'query'}
    build_duke(dukev(tmp, tree), 'test')


@err('DukeV', 'frame of another pid', '0009C6F0002X1.jpg', 'pid')
def _(tmp):
    root = dukev(tmp)
    os.rename(root / 'train/0001/0001/0001C6F0002X1.jpg',
              root / 'train/0001/0001/0009C6F0002X1.jpg')
    build_duke(root)


@err('DukeV', 'frame name unparsable', 'hello.jpg')
def _(tmp):
    root = dukev(tmp)
    (root / 'train/0001/0001/hello.jpg').write_bytes(b'')
    build_duke(root)


@err('DukeV', 'pid folder not 4 digits', 'abc')
def _(tmp):
    root = dukev(tmp)
    (root / 'train/abc/0001').mkdir(parents=True)
    (root / 'train/abc/0001/0001C1F0001X1.jpg').write_bytes(b'')
    build_duke(root)


@err('DukeV', 'empty tracklet folder', '0007')
def _(tmp):
    root = dukev(tmp)
    (root / 'train/0001/0007').mkdir()
    build_duke(root)


@err('DukeV', 'empty train split', 'train')
def _(tmp):
    root = dukev(tmp)
    for sub in ('train', ):
        for p in (root / sub).iterdir():
            shutil.rmtree(p)
    build_duke(root)


@err('DukeV', 'duplicate frame number', 'F0001')
def _(tmp):
    root = dukev(tmp)
    (root / 'train/0004/0005/0004C8F0001X2.jpg').write_bytes(b'')
    build_duke(root)


# ---- iLIDS-VID -------------------------------------------------------------
@err('iLIDS', 'missing split file', ILIDS_MAT)
def _(tmp):
    build_ilids(ilids(tmp, ls_set=None))


@err('iLIDS', 'split_id out of range', 'split_id')
def _(tmp):
    build_ilids(ilids(tmp), split_id=5)


@err('iLIDS', 'split_id negative', 'split_id')
def _(tmp):
    build_ilids(ilids(tmp), split_id=-1)


@err('iLIDS', 'split_id a string', 'split_id')
def _(tmp):
    build_ilids(ilids(tmp), split_id='0')


@err('iLIDS', 'split row repeats a person', ILIDS_MAT)
def _(tmp):
    build_ilids(ilids(tmp, np.array([[1, 1, 2, 3]], dtype=float)))


@err('iLIDS', 'split row index past persons', ILIDS_MAT)
def _(tmp):
    build_ilids(ilids(tmp, np.array([[1, 2, 3, 9]], dtype=float)))


@err('iLIDS', 'split row of 0', ILIDS_MAT)
def _(tmp):
    build_ilids(ilids(tmp, np.array([[0, 1, 2, 3]], dtype=float)))


@err('iLIDS', 'split row fractional', ILIDS_MAT)
def _(tmp):
    build_ilids(ilids(tmp, np.array([[1.5, 2, 3, 4]], dtype=float)))


@err('iLIDS', 'split row wrong length', ILIDS_MAT)
def _(tmp):
    build_ilids(ilids(tmp, np.array([[1, 2, 3]], dtype=float)))


@err('iLIDS', 'split file empty', ILIDS_MAT)
def _(tmp):
    root = ilids(tmp)
    (root / ILIDS_MAT).write_bytes(b'')
    build_ilids(root)


@err('iLIDS', 'split file wrong key', ILIDS_MAT, 'ls_set')
def _(tmp):
    root = ilids(tmp)
    savemat(root / ILIDS_MAT, {'other': ILIDS_SPLIT})
    build_ilids(root)


@err('iLIDS', 'person only in one camera', 'person007')
def _(tmp):
    root = ilids(tmp)
    shutil.rmtree(root / 'i-LIDS-VID/sequences/cam2/person007')
    build_ilids(root)


@err('iLIDS', 'frame of another folder', 'cam1_person002_1.png')
def _(tmp):
    root = ilids(tmp)
    os.rename(
        root / 'i-LIDS-VID/sequences/cam1/person001/cam1_person001_1.png',
        root / 'i-LIDS-VID/sequences/cam1/person001/cam1_person002_1.png')
    build_ilids(root, split='test')


# ---- LS-VID / PRID-2011 ----------------------------------------------------
@err('LSVID', 'missing list file', 'list_seq_train.txt')
def _(tmp):
    from mmreid_video.datasets import LSVID
    root = lsvid(tmp)
    os.remove(root / 'list_sequence/list_seq_train.txt')
    LSVID(str(root), split='train')


@err('LSVID', 'list line with bad pid', 'list_seq_train.txt', 'row 1')
def _(tmp):
    from mmreid_video.datasets import LSVID
    root = lsvid(tmp)
    f = root / 'list_sequence/list_seq_train.txt'
    lines = f.read_text().splitlines()
    lines[0] = lines[0].split()[0] + ' x'
    f.write_text('\n'.join(lines) + '\n')
    LSVID(str(root), split='train')


@err('LSVID', 'list line of a missing tracklet', 'list_seq_train.txt')
def _(tmp):
    from mmreid_video.datasets import LSVID
    root = lsvid(tmp)
    f = root / 'list_sequence/list_seq_train.txt'
    f.write_text(f.read_text() + 'tracklet_train/0009/00090001 9\n')
    LSVID(str(root), split='train')


@err('LSVID', 'info_test.mat missing query', 'info_test.mat', 'query')
def _(tmp):
    from fixture_trees import write_mat_v73

    from mmreid_video.datasets import LSVID
    root = lsvid(tmp)
    write_mat_v73(root / 'test/data/info_test.mat', {'x': np.ones((2, 2))})
    LSVID(str(root), split='test')


@err('LSVID', 'info_test.mat truncated', 'info_test.mat')
def _(tmp):
    from mmreid_video.datasets import LSVID
    root = lsvid(tmp)
    f = root / 'test/data/info_test.mat'
    f.write_bytes(f.read_bytes()[:700])
    LSVID(str(root), split='test')


@err('LSVID', 'non-UTF-8 list', 'list_seq_test.txt', 'line')
def _(tmp):
    from mmreid_video.datasets import LSVID
    root = lsvid(tmp)
    f = root / 'list_sequence/list_seq_test.txt'
    f.write_bytes(b'\xff\xfe\n' + f.read_bytes())
    LSVID(str(root), split='test')


def _prid(tmp, split: str, text: bytes = None, person: str = None):
    """PRID2011 on a tree whose split file is ``text`` (None: removed), or
    whose first test person of split 0 is ``person``."""
    from fixture_trees import PRID_SPLITS

    from mmreid_video.datasets import PRID2011
    root = prid(tmp)
    if person is not None:
        splits = json.loads(json.dumps(PRID_SPLITS))
        splits[0]['test'][0] = person
        text = json.dumps(splits).encode()
    if text is None:
        os.remove(root / 'splits_prid2011.json')
    else:
        (root / 'splits_prid2011.json').write_bytes(text)
    PRID2011(str(root), split=split)


for _name, _text, _frags in (
    ('split file missing', None, ()),
    ('split file not JSON', b'[{"train": ', ()),
    ('split file not UTF-8', b'[\xff]', ('line 1', )),
    ('split file a dict', b'{"train": []}', ()),
):

    @err('PRID', _name, 'splits_prid2011.json', *_frags)
    def _(tmp, text=_text):
        _prid(tmp, 'train', text)


for _name, _person in (('split names unknown person', 'person_0099'),
                       ('person in train and test', 'person_0001')):

    @err('PRID', _name, _person)
    def _(tmp, person=_person):
        _prid(tmp, 'test', person=person)


# ---- Custom JSON -----------------------------------------------------------
@err('Custom', 'no ann_file', 'ann_file')
def _(tmp):
    from mmreid_video.datasets import CustomVideoReIDDataset
    CustomVideoReIDDataset(data_root=str(tmp))


@err('Custom', 'missing ann file', 'ann.json')
def _(tmp):
    build_custom(tmp)


@err('Custom', 'empty ann file', 'ann.json')
def _(tmp):
    build_custom(custom(tmp, text=b''))


@err('Custom', 'truncated JSON', 'ann.json')
def _(tmp):
    build_custom(custom(tmp, text=b'{"train": [{"pid": 1, '))


@err('Custom', 'non-UTF-8 JSON', 'ann.json')
def _(tmp):
    build_custom(custom(tmp, text=b'{"train": ["\xff"]}'))


@err('Custom', 'JSON a list', 'ann.json')
def _(tmp):
    build_custom(custom(tmp, ann=[1, 2]))


@err('Custom', 'split key missing', 'ann.json', 'train')
def _(tmp):
    build_custom(custom(tmp, ann={'query': [], 'gallery': []}))


@err('Custom', 'empty train list', 'ann.json', "'train' split")
def _(tmp):
    build_custom(custom(tmp, ann=dict(CUSTOM_ANN_COPY(), train=[])))


def CUSTOM_ANN_COPY():
    return json.loads(json.dumps(CUSTOM_ANN))


@err('Custom', 'empty query and gallery lists', 'ann.json', 'query or gallery')
def _(tmp):
    build_custom(
        custom(tmp, ann=dict(CUSTOM_ANN_COPY(), query=[], gallery=[])), 'test')


# A gallery alone (one's own footage, to index) is a test split; the
# evaluation refuses it before the run (check_metric_fits).
@ok('Custom', 'empty query list: the gallery alone',
    lambda flags: flags == [(False, True)] * 2)
def _(tmp):
    ds = build_custom(
        custom(tmp, ann=dict(CUSTOM_ANN_COPY(), query=[])), 'test')
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    return [(info['is_query'], info['is_gallery']) for info in infos]


for _key, _index, _field, _bad in (('train', 0, 'pid',
                                    'seven'), ('train', 1, 'pid',
                                               1.5), ('train', 0, 'pid', None),
                                   ('train', 0, 'pid',
                                    True), ('query', 0, 'camid',
                                            'a'), ('train', 0, 'camid', -2),
                                   ('gallery', 1, 'camid',
                                    2.5), ('train', 1, 'frame_paths', []),
                                   ('train', 1, 'frame_paths', 'a.jpg'),
                                   ('train', 0, 'frame_paths',
                                    [1,
                                     2]), ('train', 1, 'frame_paths', None)):

    @err('Custom', f'{_key}[{_index}].{_field}={_bad!r}', 'ann.json',
         f'{_key}[{_index}]')
    def _(tmp, key=_key, index=_index, field=_field, bad=_bad):
        split = 'train' if key == 'train' else 'test'
        build_custom(
            custom(tmp, custom_with(key, index, **{field: bad})), split)


for _field in ('pid', 'frame_paths'):

    @err('Custom', f'train[0] without {_field}', 'ann.json', 'train[0]',
         _field)
    def _(tmp, field=_field):
        build_custom(custom(tmp, custom_without('train', 0, field)))


@err('Custom', 'tracklet not a dict', 'ann.json', 'train[1]')
def _(tmp):
    ann = CUSTOM_ANN_COPY()
    ann['train'][1] = 'tracklet'
    build_custom(custom(tmp, ann))


@err('Custom', 'duplicate tracklet_id in train', 'ann.json', 't/1a')
def _(tmp):
    ann = CUSTOM_ANN_COPY()
    ann['train'][1]['tracklet_id'] = 't/1a'
    build_custom(custom(tmp, ann))


@err('Custom', 'same tracklet_id, other pid in query/gallery', 'ann.json',
     'g/3')
def _(tmp):
    ann = CUSTOM_ANN_COPY()
    ann['query'][0]['tracklet_id'] = 'g/3'
    ann['query'][0]['pid'] = 9
    build_custom(custom(tmp, ann), 'test')


@ok('Custom', 'negative pid is an id of its own', lambda p: p == [(-3, 0),
                                                                  (2, 1)])
def _(tmp):
    ds = build_custom(custom(tmp, custom_with('train', 0, pid=-3)))
    return [(ds.get_data_info(i)['ori_pid'], ds.get_data_info(i)['pid'])
            for i in range(len(ds))]


@ok('Custom', 'int tracklet_id read as text', lambda t: t == '7')
def _(tmp):
    ds = build_custom(
        custom(tmp, custom_with('gallery', 0, tracklet_id=7)), 'test')
    return ds.get_data_info(1)['tracklet_id']


@ok('Custom', 'unknown cameras kept unique',
    lambda cams: len(set(cams)) == len(cams))
def _(tmp):
    ann = CUSTOM_ANN_COPY()
    for t in ann['gallery']:
        t['camid'] = None
    ds = build_custom(custom(tmp, ann), 'test')
    return [
        ds.get_data_info(i)['camid'] for i in range(len(ds))
        if ds.get_data_info(i)['is_gallery']
    ]
