# Copyright (c) mmreid_video contributors. All rights reserved.
import os.path as osp

import numpy as np
import pytest
from scipy.io import savemat

from mmreid_video.datasets import iLIDSVID

# Gaps in the numbering: indices refer to the sorted folder list.
PERSONS = [
    'person001', 'person002', 'person005', 'person007', 'person010',
    'person011'
]
# 1-based into PERSONS; first half = test persons.
LS_SET = np.array([[3, 1, 6, 2, 4, 5], [2, 4, 5, 1, 3, 6]], dtype=float)


@pytest.fixture
def ilids(tmp_path):
    for cam in ('cam1', 'cam2'):
        for k, person in enumerate(PERSONS):
            folder = tmp_path / 'i-LIDS-VID/sequences' / cam / person
            folder.mkdir(parents=True)
            for frame in (100, 99, 101 + k):
                (folder / f'{cam}_{person}_{frame}.png').write_bytes(b'')
    splits = tmp_path / 'train-test people splits'
    splits.mkdir()
    savemat(splits / 'train_test_splits_ilidsvid.mat', {'ls_set': LS_SET})
    return tmp_path


def test_split_semantics(ilids):
    test = iLIDSVID(str(ilids), split='test', split_id=0)
    infos = [test.get_data_info(i) for i in range(len(test))]
    # Test persons of split 0: rows 3, 1, 6 -> person005, 001, 011.
    queries = [(i['pid'], i['camid']) for i in infos if i['is_query']]
    gallery = [(i['pid'], i['camid']) for i in infos if i['is_gallery']]
    assert queries == [(5, 0), (1, 0), (11, 0)]
    assert gallery == [(5, 1), (1, 1), (11, 1)]
    assert not any(i['is_query'] and i['is_gallery'] for i in infos)
    assert infos[0]['tracklet_id'] == 'cam1/person005'
    train = iLIDSVID(str(ilids), split='train', split_id=0)
    got = [(d['ori_pid'], d['pid'], d['camid'])
           for d in (train.get_data_info(i) for i in range(len(train)))]
    # Train persons 2, 4, 5 -> person002, 007, 010, both cameras.
    assert got == [(2, 0, 0), (2, 0, 1), (7, 1, 0), (7, 1, 1), (10, 2, 0),
                   (10, 2, 1)]
    assert train.metainfo['num_ids'] == 3 == test.metainfo['num_ids']
    assert train.metainfo['split_id'] == 0


def test_second_split_and_frame_order(ilids):
    test = iLIDSVID(str(ilids), split='test', split_id=1)
    pids = [test.get_data_info(i)['pid'] for i in range(len(test))]
    assert pids == [2, 7, 10] * 2
    paths = test.get_data_info(0)['frame_paths']
    folder = osp.join(str(ilids), 'i-LIDS-VID/sequences/cam1/person002')
    # Sorted numerically: 99 < 100 < 102.
    assert paths == [
        osp.join(folder, f'cam1_person002_{f}.png') for f in (99, 100, 102)
    ]


def test_split_errors(ilids):
    with pytest.raises(
            ValueError,
            match=r'split_id 2 is out of range.*'
            r'train_test_splits_ilidsvid\.mat has 2 splits'):
        iLIDSVID(str(ilids), split_id=2)
    bad = LS_SET.copy()
    bad[1, 0] = 7
    mat = ilids / 'train-test people splits/train_test_splits_ilidsvid.mat'
    savemat(mat, {'ls_set': bad})
    # Every row of the file is checked, whichever split is used.
    for split_id in (0, 1):
        with pytest.raises(
                ValueError,
                match=r'splits_ilidsvid\.mat, row 2: '
                r'person index 1\.\.7 outside 1\.\.6'):
            iLIDSVID(str(ilids), split_id=split_id)
    bad = LS_SET.copy()
    bad[1, 5] = bad[1, 0]
    savemat(mat, {'ls_set': bad})
    with pytest.raises(
            ValueError,
            match=r'splits_ilidsvid\.mat, row 2: a person is '
            'listed twice'):
        iLIDSVID(str(ilids), split_id=0)
    savemat(mat, {'ls_set': LS_SET + 0.5})
    with pytest.raises(
            ValueError,
            match=r'splits_ilidsvid\.mat: "ls_set" '
            'must hold integers'):
        iLIDSVID(str(ilids))
    savemat(mat, {'splits': LS_SET})
    with pytest.raises(
            KeyError, match=r'splits_ilidsvid\.mat: expected the '
            r'key "ls_set"'):
        iLIDSVID(str(ilids))


def test_layout_errors(ilids):
    (ilids / 'i-LIDS-VID/sequences/cam2/person003').mkdir()
    with pytest.raises(ValueError, match=r'only in one of them.*person003'):
        iLIDSVID(str(ilids))
    with pytest.raises(
            FileNotFoundError,
            match=r'(?s)ilids_missing.*'
            r'train-test people splits'):
        iLIDSVID(str(ilids / 'ilids_missing'))


@pytest.mark.parametrize('name, msg', [
    ('cam1_person002_00100.png', 'expected a frame named '
     'cam1_person001_<number>.png'),
    ('cam2_person001_00100.png', 'expected a frame named cam1_person001_'),
    ('cam1_person001_0100.png', 'frame number 100 is also that of '
     r'cam1_person001_0?100\.png'),
])
def test_frames_must_belong_to_their_folder(ilids, name, msg):
    folder = ilids / 'i-LIDS-VID/sequences/cam1/person001'
    (folder / name).write_bytes(b'')
    path = r'person001/cam\d_person00\d_0*100\.png'
    with pytest.raises(ValueError, match=rf'{path}: {msg}'):
        iLIDSVID(str(ilids), split='test', split_id=0)


def test_empty_split_names_dataset_and_split(ilids):
    mat = ilids / 'train-test people splits/train_test_splits_ilidsvid.mat'
    savemat(mat, {'ls_set': np.zeros((1, 0))})
    with pytest.raises(ValueError, match=r'ls_set must be .*k >= 1'):
        iLIDSVID(str(ilids))


def test_person_folder_outside_the_split_is_refused(ilids):
    # person003 sorts between person002 and person005: every later index
    # would point at the next person.
    for cam in ('cam1', 'cam2'):
        folder = ilids / 'i-LIDS-VID/sequences' / cam / 'person003'
        folder.mkdir()
        (folder / f'{cam}_person003_1.png').write_bytes(b'')
    with pytest.raises(
            ValueError,
            match=r'splits_ilidsvid\.mat: ls_set lists 6 persons per split, '
            r'by their position .* holds 7 person folders \(person001, '
            r'person002, person003, \.\.\.\)'):
        iLIDSVID(str(ilids))


def test_os_files_are_skipped(ilids):
    seq = ilids / 'i-LIDS-VID/sequences'
    for name in ('Thumbs.db', 'desktop.ini', '.DS_Store'):
        (seq / 'cam1' / name).write_bytes(b'x')
        (seq / 'cam2/person001' / name).write_bytes(b'x')
    test = iLIDSVID(str(ilids), split='test')
    assert [
        len(test.get_data_info(i)['frame_paths']) for i in range(len(test))
    ] == [3] * 6
