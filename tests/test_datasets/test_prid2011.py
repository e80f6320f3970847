# Copyright (c) mmreid_video contributors. All rights reserved.
"""PRID-2011 on a tiny tree in its published layout (tests/conftest.py)."""
import json
import os.path as osp

import pytest
from fixture_trees import PRID_FRAMES

from mmreid_video.datasets import PRID2011


def infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


def test_split_protocol(prid_root):
    test = PRID2011(str(prid_root), split='test', split_id=0)
    data = infos(test)
    # Test persons of split 0: 2, 4, 6, 8; queries cam_a, gallery cam_b.
    assert [
        (d['pid'], d['camid'], d['is_query'], d['is_gallery']) for d in data
    ] == [(p, 0, True, False) for p in (2, 4, 6, 8)] + [(p, 1, False, True)
                                                        for p in (2, 4, 6, 8)]
    assert data[0]['tracklet_id'] == 'cam_a/person_0002'
    assert test.metainfo['camera_names'] == ('cam_a', 'cam_b')
    train = PRID2011(str(prid_root), split='train', split_id=1)
    got = [(d['ori_pid'], d['pid'], d['camid']) for d in infos(train)]
    assert got == [(2, 0, 0), (2, 0, 1), (3, 1, 0), (3, 1, 1), (6, 2, 0),
                   (6, 2, 1), (8, 3, 0), (8, 3, 1)]
    assert train.metainfo['num_ids'] == 4 == test.metainfo['num_ids']
    assert train.metainfo['split_id'] == 1


def test_frames_sorted_by_number(prid_root):
    folder = prid_root / 'prid_2011/multi_shot/cam_b/person_0001'
    (folder / '0010.png').write_bytes((folder / '0001.png').read_bytes())
    test = PRID2011(str(prid_root), split='test', split_id=1)
    paths = test.get_data_info(4)['frame_paths']  # cam_b of person_0001
    num = PRID_FRAMES['person_0001'][1]
    assert paths == [
        osp.join(str(folder), f'{f:04d}.png')
        for f in [*range(1, num + 1), 10]
    ]
    # Files operating systems add are skipped; any other file is named.
    (folder / 'Thumbs.db').touch()
    (folder / 'desktop.ini').touch()
    assert PRID2011(
        str(prid_root), split='test',
        split_id=1).get_data_info(4)['frame_paths'] == paths
    (folder / 'notes.txt').touch()
    with pytest.raises(
            ValueError,
            match=r'person_0001/notes\.txt: expected '
            r'a frame named <number>\.png'):
        PRID2011(str(prid_root), split='test', split_id=1)


def test_split_file_must_match_tree(prid_root):
    path = prid_root / 'splits_prid2011.json'
    splits = json.loads(path.read_text())
    with pytest.raises(
            ValueError,
            match=r'split_id 2 is out of range: .*'
            r'splits_prid2011\.json has 2 splits'):
        PRID2011(str(prid_root), split_id=2)
    # person_0009 is only in cam_a (as persons > 200 of the real data).
    splits[1]['test'][0] = 'person_0009'
    path.write_text(json.dumps(splits))
    PRID2011(str(prid_root), split_id=0)
    with pytest.raises(
            ValueError,
            match=r'splits_prid2011\.json, row \[1\]: '
            r'"person_0009" has no folder ".*cam_b/person_0009": '
            'the split file does not match the tree'):
        PRID2011(str(prid_root), split_id=1)
    splits[1]['test'][0] = 'person_0002'  # also in train
    path.write_text(json.dumps(splits))
    with pytest.raises(
            ValueError,
            match=r'row \[1\]: persons listed twice: '
            r"\['person_0002'\]"):
        PRID2011(str(prid_root), split_id=1)
    path.write_text(json.dumps([{'train': ['person_0001'], 'tests': []}]))
    with pytest.raises(
            ValueError,
            match=r'row \[0\]: "test" must be a '
            'non-empty list of person folder names'):
        PRID2011(str(prid_root))
    path.write_text('{"train": ')
    with pytest.raises(
            ValueError, match=r'splits_prid2011\.json: not valid '
            'JSON'):
        PRID2011(str(prid_root))


def test_missing_layout(prid_root):
    (prid_root / 'splits_prid2011.json').unlink()
    with pytest.raises(
            FileNotFoundError,
            match=r'(?s)splits_prid2011\.json" does not exist.*'
            r'prid_2011/multi_shot/cam_a/person_0001/0001\.png'):
        PRID2011(str(prid_root))
