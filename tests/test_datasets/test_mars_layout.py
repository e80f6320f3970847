# Copyright (c) mmreid_video contributors. All rights reserved.
"""The MARS layout writer: one frame-name rule, the info writer and the
placeholder tree of the rehearsal, built from the real MARS metadata."""
import json
import os
import re

import numpy as np
import pytest

from mmreid_video.datasets import MARS
from mmreid_video.datasets import mars_layout as layout

NAME = re.compile(r'^(\d{4}|00-1)C[1-6]T\d{4}F\d{3}\.jpg$')


def test_one_naming_rule():
    assert layout.mars_frame_name(1, 1, 1, 1) == '0001C1T0001F001.jpg'
    assert layout.mars_frame_name(-1, 6, 12, 345) == '00-1C6T0012F345.jpg'
    assert layout.mars_frame_name(0, 2, 3, 4)[:4] == '0000'
    # Tracklets count per pid in row order, across cameras.
    table = np.array([[1, 2, 7, 1], [3, 3, 7, 2], [4, 4, 9, 1], [5, 6, 7, 1]])
    np.testing.assert_array_equal(
        layout.mars_tracklet_numbers(table[:, 2]), [1, 2, 1, 3])
    assert layout.mars_frame_names(table) == [
        '0007C1T0001F001.jpg', '0007C1T0001F002.jpg', '0007C2T0002F001.jpg',
        '0009C1T0001F001.jpg', '0007C1T0003F001.jpg', '0007C1T0003F002.jpg'
    ]


def test_info_writer_is_read_by_mars(tmp_path):
    train = np.array([[1, 3, 2, 1], [4, 5, 2, 2], [6, 9, 7, 3]])
    test = np.array([[1, 2, -1, 1], [3, 4, 0, 2], [5, 7, 3, 1], [8, 9, 3, 4]])
    tables = dict(train=train, test=test)
    names = {k: layout.mars_frame_names(t) for k, t in tables.items()}
    layout.write_mars_info(str(tmp_path), tables, names, np.array([3]))
    ds = MARS(str(tmp_path), split='test', lazy_init=True)
    ds.full_init()
    assert [ds.get_data_info(i)['tracklet_id'] for i in range(len(ds))] \
        == ['0000C2T0001', '0003C1T0001', '0003C4T0002']
    assert ds.get_data_info(1)['is_query']


@pytest.mark.slow  # the real MARS tables
def test_derived_names_follow_mars_naming(mars_info):
    info = layout.read_mars_info(mars_info)
    kept = layout.select_tracklets(info, None)
    train, test = kept['names']['train'], kept['names']['test']
    assert len(train) == 509_914 and len(test) == 681_089
    assert train[0] == '0001C1T0001F001.jpg' and test[0].startswith('00-1C1')
    assert all(NAME.match(n) for n in train[::997] + test[::997])
    assert len(set(test)) == len(test)
    # Tracklet numbers count per pid: the last tracklet of pid 1 in train.
    table = info['tables']['train']
    start, end, pid, cam = table[np.flatnonzero(table[:, 2] == 1)[-1]]
    count = int((table[:, 2] == 1).sum())
    assert train[end -
                 1] == f'0001C{cam}T{count:04d}F{end - start + 1:03d}.jpg'


def test_slice_keeps_queries_and_identities(mars_info):
    info = layout.read_mars_info(mars_info)
    kept = layout.select_tracklets(info, 300)
    full, table = info['tables']['test'], kept['tables']['test']
    assert len(table) <= 300 + np.bincount(full[full[:, 2] > 0, 2]).max()
    assert {-1, 0} <= set(table[:, 2].tolist())
    # Renumbered rows tile the kept names; each query keeps pid and camera.
    assert table[0, 0] == 1 and (table[1:, 0] == table[:-1, 1] + 1).all()
    assert table[-1, 1] == len(kept['names']['test'])
    full_q = full[info['query'] - 1][:, 2:]
    for row in table[kept['query'] - 1]:
        assert (full_q == row[2:]).all(axis=1).any()
        assert kept['names']['test'][row[0] - 1][:6] == \
            f'{row[2]:04d}C{row[3]}'
    # Whole identities only: every kept train pid has all its tracklets.
    train = kept['tables']['train']
    for pid in np.unique(train[:, 2]):
        assert (train[:, 2] == pid).sum() == \
            (info['tables']['train'][:, 2] == pid).sum()


def build(root, info, n=30):
    return layout.build_placeholder_tree(str(root), info, n, 4, (32, 16))


def test_tree_is_reused_rebuilt_and_links_frames(mars_info, tmp_path):
    root = tmp_path / 'mars'
    tree, built = build(root, mars_info)
    assert built and sorted(os.listdir(tmp_path)) == ['mars']
    frame = next((root / 'bbox_train').glob('*/*.jpg'))
    assert NAME.match(frame.name) and frame.stat().st_nlink > 2
    assert sum(1 for _ in (root / 'bbox_test').glob('*/*.jpg')) == \
        tree['frames']['test']
    inode = root.stat().st_ino
    again, built = build(root, mars_info)
    assert not built and again == tree and root.stat().st_ino == inode
    # Other inputs: our own tree is replaced, nothing is left beside it.
    _, built = build(root, mars_info, 20)
    assert built and sorted(os.listdir(tmp_path)) == ['mars']
    assert json.loads(
        (root / layout.MARKER).read_text())['max_tracklets'] == 20
    assert len(MARS(str(root), split='test')) > 0


def test_foreign_folders_are_left_alone(mars_info, tmp_path):
    root = tmp_path / 'mine'
    root.mkdir()
    (root / 'keep.txt').write_text('user data')
    with pytest.raises(FileExistsError, match='not a rehearsal tree'):
        build(root, mars_info, 20)
    assert (root / 'keep.txt').read_text() == 'user data'
    (root / layout.MARKER).write_text('{"version": 1, "md5"')
    with pytest.raises(ValueError, match='rehearsal_tree.json: not valid'):
        build(root, mars_info, 20)
    assert (root / 'keep.txt').read_text() == 'user data'
    assert sorted(os.listdir(tmp_path)) == ['mine']


def test_metadata_errors_name_the_file(mars_info, tmp_path):
    with pytest.raises(FileNotFoundError, match='tracks_train_info.mat'):
        layout.read_mars_info(str(tmp_path))
    bad = np.array([[1, 5, 1, 1], [7, 9, 1, 2]])
    with pytest.raises(
            ValueError, match=r'x\.mat, row 2: .*expected start '
            r'= 6'):
        layout._check_tiling(bad, 'x.mat')
    info = layout.read_mars_info(mars_info)
    # The last distractor: a 10-tracklet slice keeps the first three only.
    last = np.flatnonzero(info['tables']['test'][:, 2] == 0)[-1] + 1
    with pytest.raises(ValueError, match='no query tracklet'):
        layout.select_tracklets(dict(info, query=np.array([last])), 10)


def test_link_budget_is_checked(mars_info, tmp_path, monkeypatch):
    monkeypatch.setattr(os, 'pathconf', lambda path, name: 100)
    with pytest.raises(OSError, match='--num-images >= '):
        build(tmp_path / 't', mars_info)
    assert os.listdir(tmp_path) == []
