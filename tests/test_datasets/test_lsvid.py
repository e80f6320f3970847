# Copyright (c) mmreid_video contributors. All rights reserved.
"""LS-VID on a tiny tree in its published layout (tests/conftest.py)."""
import os.path as osp
from pathlib import Path

import numpy as np
import pytest
from fixture_trees import (LSVID_QUERY, LSVID_TEST, LSVID_TRAIN,
                           write_lsvid_root, write_mat_v73)

from mmreid_video.datasets import LSVID
from mmreid_video.datasets.readers import load_mat_array


def infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


def test_train_split(lsvid_root):
    train = LSVID(str(lsvid_root), split='train')
    got = [(d['tracklet_id'], d['ori_pid'], d['pid'], d['camid'],
            len(d['frame_paths'])) for d in infos(train)]
    # Cameras 3, 12, 15, 1 of the frame names -> camid 2, 11, 14, 0.
    assert got == [('tracklet_train/0001/00010001', 1, 0, 2, 4),
                   ('tracklet_train/0001/00010002', 1, 0, 11, 3),
                   ('tracklet_train/0003/00030001', 3, 1, 14, 5),
                   ('tracklet_train/0003/00030002', 3, 1, 0, 2)]
    assert train.metainfo['num_ids'] == 2
    assert train.metainfo['camera_names'][14] == 'cam 15'
    assert len(train.metainfo['camera_names']) == 15
    folder = osp.join(str(lsvid_root), 'tracklet_train/0001')
    # Name order (the files were written in reverse).
    assert infos(train)[1]['frame_paths'] == [
        osp.join(folder, f'00010002_{f:04d}_12_0001.jpg') for f in (1, 2, 3)
    ]


@pytest.mark.parametrize('query_in_gallery', [False, True])
def test_query_gallery_membership(lsvid_root, query_in_gallery):
    test = LSVID(
        str(lsvid_root), split='test', query_in_gallery=query_in_gallery)
    data = infos(test)
    assert [d['tracklet_id'] for d in data] == [r[0] for r in LSVID_TEST]
    assert [(d['pid'], d['camid']) for d in data] == [(4, 1), (4, 4), (4, 1),
                                                      (6, 6), (6, 8), (7, 0)]
    queries = [i for i, d in enumerate(data) if d['is_query']]
    gallery = [i for i, d in enumerate(data) if d['is_gallery']]
    # query rows 4 and 1 of list_seq_test.txt (1-based).
    assert queries == sorted(q - 1 for q in LSVID_QUERY) == [0, 3]
    if query_in_gallery:  # the authors' MATLAB kit: all test tracklets
        assert gallery == [0, 1, 2, 3, 4, 5]
    else:  # BiCnet-TKS, SINet, CAViT, TF-CLIP: the other test tracklets
        assert gallery == [1, 2, 4, 5]
    assert test.metainfo['num_ids'] == 2  # train ids, for the test split
    assert test.metainfo['query_in_gallery'] is query_in_gallery


def test_metadata_only_init(lsvid_root, monkeypatch):
    """Each frame folder is listed once; no frame is opened or globbed."""
    import builtins
    import os
    listed, real_listdir, real_open = [], os.listdir, builtins.open

    def listdir(path):
        listed.append(osp.relpath(path, str(lsvid_root)))
        return real_listdir(path)

    def no_frames(path, *args, **kwargs):
        assert not str(path).endswith('.jpg'), f'frame opened: {path}'
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, 'listdir', listdir)
    monkeypatch.setattr(builtins, 'open', no_frames)
    train = LSVID(str(lsvid_root), split='train')
    assert listed == ['tracklet_train/0001', 'tracklet_train/0003']
    listed.clear()
    test = LSVID(str(lsvid_root), split='test')
    assert listed == [
        'tracklet_test/0004', 'tracklet_test/0006', 'tracklet_test/0007'
    ]
    # tracklet_val/ is in no list.
    frames = [
        p for ds in (train, test) for d in infos(ds) for p in d['frame_paths']
    ]
    assert len(frames) == sum(r[3] for r in LSVID_TRAIN + LSVID_TEST) == 30


def test_missing_list_file(lsvid_root):
    (lsvid_root / 'list_sequence/list_seq_test.txt').unlink()
    LSVID(str(lsvid_root), split='train')  # the train split does not need it
    with pytest.raises(
            FileNotFoundError,
            match=r'(?s)list_seq_test\.txt" does not exist.*'
            r'list_sequence/list_seq_test\.txt'):
        LSVID(str(lsvid_root), split='test')


def test_list_line_without_frames(lsvid_root):
    path = lsvid_root / 'list_sequence/list_seq_train.txt'
    lines = path.read_text().splitlines()
    path.write_text('\n'.join(lines[:2] + ['tracklet_train/0003/00039999 3'] +
                              lines[3:]) + '\n')
    with pytest.raises(
            ValueError,
            match=r'list_seq_train\.txt, row 3: no frame in '
            r'".*tracklet_train/0003" starts with "00039999"'):
        LSVID(str(lsvid_root))
    path.write_text('tracklet_train/0002/00020001 2\n')
    with pytest.raises(
            ValueError,
            match=r'list_seq_train\.txt, row 1: folder '
            r'".*tracklet_train/0002" of "tracklet_train/0002/'
            r'00020001" does not exist'):
        LSVID(str(lsvid_root))


def test_empty_list_file(lsvid_root):
    (lsvid_root / 'list_sequence/list_seq_train.txt').write_text('\n')
    with pytest.raises(
            ValueError, match=r'list_seq_train\.txt: no '
            'tracklets'):
        LSVID(str(lsvid_root))


@pytest.mark.parametrize('line,msg', [
    ('tracklet_train/0001/00010001', 'expected "<path prefix> <pid>"'),
    ('tracklet_train/0001/00010001 -1', 'pid an integer >= 0'),
    ('tracklet_train/0001/0001 1', r'also frames of row 1: a prefix is '
     'listed twice'),
])
def test_malformed_list_lines(lsvid_root, line, msg):
    path = lsvid_root / 'list_sequence/list_seq_train.txt'
    path.write_text(path.read_text() + line + '\n')
    with pytest.raises(
            ValueError, match=r'list_seq_train\.txt, row 5: .*' + msg):
        LSVID(str(lsvid_root))


def test_bad_camera_in_frame_names(lsvid_root):
    folder = lsvid_root / 'tracklet_train/0003'
    (folder / '00030002_0003_16_0003.jpg').touch()
    with pytest.raises(
            ValueError,
            match=r'row 4: frame ".*00030002_0003_16_'
            r'0003\.jpg": expected .* camera \(1-15\) third'):
        LSVID(str(lsvid_root))
    (folder / '00030002_0003_16_0003.jpg').rename(folder /
                                                  '00030002_0003_7_0003.jpg')
    with pytest.raises(ValueError, match=r'row 4: .* from cameras \[1, 7\]'):
        LSVID(str(lsvid_root))


def test_info_mat_errors(lsvid_root):
    mat = lsvid_root / 'test/data/info_test.mat'
    write_mat_v73(mat, dict(query_IDX=[[1]]))
    with pytest.raises(
            KeyError,
            match=r'info_test\.mat: expected the key '
            r'"query", found \[\W+query_IDX'):
        LSVID(str(lsvid_root), split='test')
    write_mat_v73(mat, dict(query=[[1], [7]]))
    with pytest.raises(
            ValueError,
            match=r'"query" must hold rows 1\.\.6 of '
            r'.*list_seq_test\.txt \(6 lines\), got 1\.\.7'):
        LSVID(str(lsvid_root), split='test')
    write_mat_v73(mat, dict(query=[[2], [2]]))
    with pytest.raises(ValueError, match='"query" lists a row twice'):
        LSVID(str(lsvid_root), split='test')
    mat.write_bytes(b'not a mat file')
    with pytest.raises(ValueError, match='cannot read it as a MATLAB file'):
        LSVID(str(lsvid_root), split='test')
    write_mat_v73(mat, dict(query=[[1], [2]]))
    mat.write_bytes(mat.read_bytes()[:1000])  # truncated HDF5
    with pytest.raises(
            ValueError,
            match=r'info_test\.mat: cannot read it '
            r'as a MATLAB v7\.3 \(HDF5\) file'):
        LSVID(str(lsvid_root), split='test')


def test_info_test_must_agree_with_list(lsvid_root):
    mat = lsvid_root / 'test/data/info_test.mat'
    # info_test numbers the ids 0..N-1 (as the authors' file does).
    info = np.array([[1, 1, [4, 6, 7].index(r[1]), r[2]] for r in LSVID_TEST])
    write_mat_v73(mat, dict(query=[[1]], info_test=info))
    test = LSVID(str(lsvid_root), split='test')
    assert [d['pid'] for d in infos(test)] == [r[1] for r in LSVID_TEST]
    bad = info.copy()
    bad[4, 3] = 10  # camera of row 5: the frame names say 9
    write_mat_v73(mat, dict(query=[[1]], info_test=bad))
    with pytest.raises(
            ValueError,
            match=r'info_test\.mat, row 5: info_test '
            r'has camera 10; the frame names of .*list_seq_test'
            r'\.txt row 5 \(tracklet_test/0006/00060002\) give '
            'camera 9'):
        LSVID(str(lsvid_root), split='test')
    bad = info.copy()
    bad[2, 2] = 2  # list pid 4 of rows 1-3 is info ids 0 and 2
    write_mat_v73(mat, dict(query=[[1]], info_test=bad))
    with pytest.raises(
            ValueError,
            match=r'row 3: .*list_seq_test\.txt pid 4 '
            r'is two info_test ids, 0 \(row 1\) and 2 \(row 3\)'):
        LSVID(str(lsvid_root), split='test')
    bad = info.copy()
    bad[5, 2] = 1  # info id 1 is list pids 6 (rows 4-5) and 7 (row 6)
    write_mat_v73(mat, dict(query=[[1]], info_test=bad))
    with pytest.raises(
            ValueError,
            match=r'row 6: info_test pid 1 is two '
            r'.*list_seq_test\.txt pids, 6 \(row 4\) and 7 '
            r'\(row 6\)'):
        LSVID(str(lsvid_root), split='test')
    write_mat_v73(mat, dict(query=[[1]], info_test=info[:5]))
    with pytest.raises(
            ValueError,
            match=r'"info_test" must be 6 x >=4 .* '
            r'got shape \(5, 4\)'):
        LSVID(str(lsvid_root), split='test')


def test_info_layout_variant(lsvid_root):
    """The lists and .mat files under info/ (several public loaders)."""
    (lsvid_root / 'info').mkdir()
    (lsvid_root / 'list_sequence').rename(lsvid_root / 'info/list_sequence')
    (lsvid_root / 'test/data').rename(lsvid_root / 'info/data')
    test = LSVID(str(lsvid_root), split='test')
    assert [d['tracklet_id']
            for d in infos(test)] == [r[0] for r in LSVID_TEST]
    assert sum(d['is_query'] for d in infos(test)) == 2
    assert test.metainfo['num_ids'] == 2
    (lsvid_root / 'info/data/info_test.mat').unlink()
    with pytest.raises(
            FileNotFoundError,
            match=r'"[^"]*info/data/info_test\.mat" does not '):
        LSVID(str(lsvid_root), split='test')


def real_root(tmp_path, lsvid_info, frames, split='test', relabel=None):
    """A root over the real ``info_<split>.mat``; list pid = relabel(info
    pid) (default: the same)."""
    mat = Path(lsvid_info) / f'info_{split}.mat'
    pids = load_mat_array(str(mat), 'info_test')[:, 2]
    list_pids = pids if relabel is None else relabel(pids)
    return write_lsvid_root(tmp_path, frames, mat, list_pids, split)


def counts(ds):
    data = infos(ds)
    return (sum(d['is_query'] for d in data),
            sum(d['is_gallery'] for d in data), len({d['pid']
                                                     for d in data}))


@pytest.mark.slow  # the real LS-VID tables
def test_real_info_test(tmp_path, lsvid_info, lsvid_real_frames):
    """The real test split: 3,504 queries, 7,829 other test tracklets,
    2,730 ids."""
    root = real_root(tmp_path, lsvid_info, lsvid_real_frames)
    assert counts(LSVID(root, split='test')) == (3504, 7829, 2730)


@pytest.mark.slow  # the real LS-VID tables
def test_real_info_test_relabelled_list(tmp_path, lsvid_info,
                                        lsvid_real_frames):
    """A list whose pids are a relabelling of info_test's (a permutation
    onto other numbers) loads, with the list's pids."""
    perm = np.random.default_rng(0).permutation(2730)

    def relabel(pids):
        return 5000 + 3 * perm[pids]

    root = real_root(tmp_path, lsvid_info, lsvid_real_frames, relabel=relabel)
    test = LSVID(root, split='test', query_in_gallery=True)
    assert counts(test) == (3504, 11333, 2730)
    info = load_mat_array(str(Path(lsvid_info) / 'info_test.mat'), 'info_test')
    assert [d['pid'] for d in infos(test)] == relabel(info[:, 2]).tolist()


def test_real_info_test_refuses_merged_ids(tmp_path, lsvid_info,
                                           lsvid_real_frames):

    def merge(pids):  # info ids 4 and 5 get one list pid
        return np.where(pids == 5, 4, pids)

    root = real_root(tmp_path, lsvid_info, lsvid_real_frames, relabel=merge)
    with pytest.raises(
            ValueError,
            match=r'info_test\.mat, row \d+: .*'
            r'list_seq_test\.txt pid 4 is two info_test ids, 4 '
            r'\(row \d+\) and 5 \(row \d+\)'):
        LSVID(root, split='test')


def test_real_info_val(tmp_path, lsvid_info, lsvid_real_frames):
    """split='val': list_seq_val.txt with the real info_val.mat (MATLAB 5):
    252 queries among 779 tracklets of 200 ids."""
    root = real_root(tmp_path, lsvid_info, lsvid_real_frames, split='val')
    val = LSVID(root, split='val')
    assert counts(val) == (252, 779 - 252, 200)
    assert val.metainfo['split'] == 'val' and val.test_mode
    assert val.metainfo['num_ids'] == 1  # train ids of the tiny train list
