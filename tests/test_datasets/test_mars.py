# Copyright (c) mmreid_video contributors. All rights reserved.
import os.path as osp
import time
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from scipy.io import loadmat, savemat

from mmreid_video.datasets import MARS
from mmreid_video.datasets.mars_layout import mars_frame_names, write_mars_info
from mmreid_video.registry import DATASETS

MARS_INFO = (Path(__file__).parents[2] / '..' / 'shared' / 'data' /
             'mars_info').resolve()
needs_info = pytest.mark.skipif(
    not (MARS_INFO / 'tracks_test_info.mat').exists(),
    reason=f'real MARS metadata not found at {MARS_INFO} (CI clones the '
    'repository next to shared/)')
CONFIG = Path(__file__).parents[2] / 'configs/_base_/datasets/mars.py'


def write_mars(root: Path, train: np.ndarray, test: np.ndarray,
               query: np.ndarray) -> None:
    """Write MARS metadata (and empty bbox folders) under ``root``."""
    tables = dict(train=train, test=test)
    names = {sub: mars_frame_names(t) for sub, t in tables.items()}
    write_mars_info(str(root), tables, names, query)


@pytest.fixture(scope='module')
def real_mars(tmp_path_factory) -> Path:
    """The real MARS metadata with generated, consistent name lists."""
    root = tmp_path_factory.mktemp('mars')
    train, test = (
        loadmat(MARS_INFO / f'tracks_{sub}_info.mat')[f'track_{sub}_info']
        for sub in ('train', 'test'))
    write_mars(root, train, test,
               loadmat(MARS_INFO / 'query_IDX.mat')['query_IDX'])
    return root


@pytest.mark.slow  # the real MARS tables
@needs_info
def test_real_metadata_train(real_mars):
    start = time.perf_counter()
    ds = MARS(str(real_mars), split='train')
    elapsed = time.perf_counter() - start
    assert elapsed < 20, f'train metadata took {elapsed:.1f} s'
    assert len(ds) == 8298
    assert ds.metainfo['num_ids'] == 625
    assert ds.metainfo['split'] == 'train'
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert sorted({i['pid'] for i in infos}) == list(range(625))
    assert sum(len(i['frame_paths']) for i in infos) == 509914
    assert {i['camid'] for i in infos} == set(range(6))
    first = infos[0]
    assert first['ori_pid'] == 1 and first['pid'] == 0
    assert first['tracklet_id'] == '0001C1T0001'
    assert first['frame_paths'][0] == osp.join(
        str(real_mars), 'bbox_train', '0001', '0001C1T0001F001.jpg')
    assert len(first['frame_paths']) == 16  # row [1, 16, 1, 1]
    assert 'is_query' not in first


@pytest.mark.slow  # the real MARS tables
@needs_info
def test_real_metadata_test_protocol(real_mars):
    start = time.perf_counter()
    ds = MARS(str(real_mars), split='test')
    elapsed = time.perf_counter() - start
    assert elapsed < 20, f'test metadata took {elapsed:.1f} s'
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    # Gallery: every test tracklet but the 870 junk ones, queries included.
    assert len(infos) == 12180 - 870 == 11310
    assert all(i['is_gallery'] for i in infos)
    assert sum(i['is_query'] for i in infos) == 1980
    assert all(i['pid'] != -1 for i in infos)
    assert sum(i['pid'] == 0 for i in infos) == 3248
    # 636 distinct pid values in track_test_info: 634 ids, 0 and -1.
    assert len({i['pid'] for i in infos if i['pid'] > 0}) == 634
    assert len({i['pid'] for i in infos if i['is_query']}) == 626
    assert ds.metainfo['num_ids'] == 625
    # query_IDX holds 1-based rows of the full table (junk rows included).
    table = loadmat(MARS_INFO / 'tracks_test_info.mat')['track_test_info']
    query = loadmat(MARS_INFO / 'query_IDX.mat')['query_IDX'].ravel()
    kept = np.flatnonzero(table[:, 2] != -1)
    first_query = int(np.searchsorted(kept, query.min() - 1))
    assert infos[first_query]['is_query']
    assert infos[first_query]['pid'] == table[query.min() - 1, 2]
    assert not infos[first_query - 1]['is_query']


@needs_info
def test_build_from_base_config(real_mars):
    init_default_scope('mmreid_video')
    cfg = Config.fromfile(str(CONFIG))
    for loader in ('train_dataloader', 'test_dataloader'):
        ds_cfg = cfg[loader].dataset
        ds_cfg.data_root = str(real_mars)
        ds_cfg.pipeline = []  # transforms are tested on their own
        ds_cfg.lazy_init = True
        ds = DATASETS.build(ds_cfg)
        assert isinstance(ds, MARS)
    assert cfg.val_evaluator.type == 'VideoReIDMetric'


def small_tables():
    train = np.array([[1, 3, 2, 1], [4, 5, 2, 2], [6, 9, 7, 3]])
    test = np.array([[1, 2, -1, 1], [3, 4, 0, 2], [5, 7, 3, 1], [8, 9, 3, 4],
                     [10, 10, 5, 6]])
    return train, test, np.array([3, 5])


def test_small_tables(tmp_path):
    write_mars(tmp_path, *small_tables())
    train = MARS(str(tmp_path))
    assert [train.get_data_info(i)['pid'] for i in range(3)] == [0, 0, 1]
    assert [train.get_data_info(i)['camid'] for i in range(3)] == [0, 1, 2]
    test = MARS(str(tmp_path), split='test')
    got = [(d['pid'], d['camid'], d['is_query'], len(d['frame_paths']))
           for d in (test.get_data_info(i) for i in range(len(test)))]
    assert got == [(0, 1, False, 2), (3, 0, True, 3), (3, 3, False, 2),
                   (5, 5, True, 1)]
    assert test.get_data_info(0)['frame_paths'][0] == osp.join(
        str(tmp_path), 'bbox_test', '0000', '0000C2T0001F001.jpg')


def test_missing_file_names_path_and_layout(tmp_path):
    write_mars(tmp_path, *small_tables())
    (tmp_path / 'info/query_IDX.mat').unlink()
    MARS(str(tmp_path))  # train does not need query_IDX
    with pytest.raises(FileNotFoundError, match='query_IDX.mat') as e:
        MARS(str(tmp_path), split='test')
    assert 'bbox_test/00-1/' in str(e.value)  # the expected tree is shown
    with pytest.raises(FileNotFoundError, match='no_such_dir'):
        MARS(str(tmp_path / 'no_such_dir'))


def test_wrong_key(tmp_path):
    write_mars(tmp_path, *small_tables())
    savemat(tmp_path / 'info/tracks_train_info.mat',
            {'train_info': small_tables()[0]})
    with pytest.raises(
            KeyError,
            match=r'tracks_train_info\.mat.*'
            r'track_train_info.*train_info'):
        MARS(str(tmp_path))


@pytest.mark.parametrize('row, value, msg', [
    (1, [5, 4, 7, 1], 'empty or out-of-range'),
    (2, [10, 12, 3, 4], 'empty or out-of-range'),
    (2, [8, 9, 3, 7], 'unknown camera 7'),
    (2, [8, 9, 5, 4], 'does not match pid 5 camera 4'),
])
def test_malformed_rows(tmp_path, row, value, msg):
    train, test, query = small_tables()
    write_mars(tmp_path, train, test, query)
    test = test.copy()
    test[row + 1] = value  # keep the name list of the valid table
    savemat(tmp_path / 'info/tracks_test_info.mat',
            {'track_test_info': test.astype(np.int32)})
    with pytest.raises(
            ValueError,
            match=rf'tracks_test_info\.mat, row {row + 2}: '
            f'.*{msg}'):
        MARS(str(tmp_path), split='test')


def test_query_out_of_range(tmp_path):
    train, test, _ = small_tables()
    write_mars(tmp_path, train, test, np.array([3, 6]))
    with pytest.raises(ValueError, match=r'query_IDX\.mat, row 2: .*1\.\.5'):
        MARS(str(tmp_path), split='test')
    write_mars(tmp_path / 'junk', train, test, np.array([1]))
    with pytest.raises(ValueError, match=r'row 1: .*junk'):
        MARS(str(tmp_path / 'junk'), split='test')


def test_bad_split(tmp_path):
    with pytest.raises(ValueError, match="split must be one of"):
        MARS(str(tmp_path), split='query')


def edit_names(root: Path, sub: str, line: int, name: str) -> None:
    path = root / f'info/{sub}_name.txt'
    names = path.read_text().split()
    names[line - 1] = name
    path.write_text('\n'.join(names) + '\n')


@pytest.mark.parametrize(
    'line, name, msg',
    [
        # The middle frame of row 3 (lines 5-7), not only its ends.
        (6, '0005C1T0001F002.jpg', r'tracks_test_info\.mat, row 3: frame '
         r'"0005C1T0001F002\.jpg" \(line 6 of .*test_name\.txt\) does not '
         'match pid 3 camera 1'),
        (6, '0003C1T0002F002.jpg', r'tracks_test_info\.mat, row 3: frame '
         r'"0003C1T0002F002\.jpg" \(line 6 of .*test_name.txt\) is of another '
         r'tracklet than the row\'s first frame "0003C1T0001F001\.jpg"'),
        (9, '0003C4T0001F02.jpg', r'test_name\.txt, line 9: "0003C4T0001F02'
         r'\.jpg" is not a MARS frame name \(<pid4>C<camera>T<tracklet4>'),
    ])
def test_every_frame_name_is_checked(tmp_path, line, name, msg):
    write_mars(tmp_path, *small_tables())
    edit_names(tmp_path, 'test', line, name)
    with pytest.raises(ValueError, match=msg):
        MARS(str(tmp_path), split='test')


@pytest.mark.parametrize('row, value, msg', [
    (2, [4, 5, 2, 2], 'row 2: starts at name 4, expected 4'),
    (2, [3, 5, 2, 2], 'row 2: starts at name 3, expected 4: rows must cover '
     'the names of .*train_name.txt in order, without gap or overlap'),
    (3, [6, 8, 7, 3], r'train_name\.txt, line 9: "0007C3T0001F004\.jpg" is '
     'in no tracklet'),
])
def test_rows_cover_the_name_list(tmp_path, row, value, msg):
    train, test, query = small_tables()
    write_mars(tmp_path, train, test, query)
    train = train.copy()
    train[row - 1] = value
    savemat(tmp_path / 'info/tracks_train_info.mat',
            {'track_train_info': train.astype(np.int32)})
    if row == 2 and value[0] == 4:  # a valid table: it loads
        assert len(MARS(str(tmp_path))) == 3
        return
    with pytest.raises(ValueError, match=msg):
        MARS(str(tmp_path))


def test_non_utf8_and_blank_name_lists(tmp_path):
    write_mars(tmp_path, *small_tables())
    path = tmp_path / 'info/train_name.txt'
    names = path.read_bytes().split(b'\n')
    path.write_bytes(b'\n'.join(names[:4] + [b'0002C2T0001F\xe9.jpg'] +
                                names[5:]))
    with pytest.raises(
            ValueError, match=r'train_name\.txt, line 5: not UTF-8 text'):
        MARS(str(tmp_path))
    path.write_bytes(b'\n'.join(names[:4] + [b''] + names[4:]))
    with pytest.raises(ValueError, match=r'train_name\.txt, line 5: empty'):
        MARS(str(tmp_path))


def test_empty_table_names_file_and_split(tmp_path):
    train, test, query = small_tables()
    write_mars(tmp_path, train, test, query)
    savemat(tmp_path / 'info/tracks_train_info.mat',
            {'track_train_info': np.zeros((0, 4), np.int32)})
    with pytest.raises(
            ValueError,
            match=r'tracks_train_info\.mat: expected rows .* '
            r'with N >= 1, got \(0, 4\)'):
        MARS(str(tmp_path))
    write_mars(tmp_path / 'q', train, test, np.zeros(0))
    with pytest.raises(
            ValueError,
            match=r'query_IDX\.mat: query_IDX must be a '
            r'non-empty vector'):
        MARS(str(tmp_path / 'q'), split='test')


def test_test_pids_checked_against_train(tmp_path):
    train, test, query = small_tables()
    test = test.copy()
    test[3, 2] = 7
    write_mars(tmp_path, train, test, query)
    with pytest.raises(
            ValueError,
            match=r'tracks_test_info\.mat, row 4: pid 7 is also '
            r'a train id \(in .*tracks_train_info\.mat\)'):
        MARS(str(tmp_path), split='test')


@pytest.mark.parametrize('query, msg', [
    ([3, 2], r'query_IDX\.mat, row 2: a query_IDX row is a distractor'),
    ([3, 5, 3], r'query_IDX\.mat, row 1: query_IDX lists row 3 twice'),
    ([[3, 5], [4, 1]], r'must be a non-empty vector of rows, got shape'),
])
def test_query_rows(tmp_path, query, msg):
    train, test, _ = small_tables()
    write_mars(tmp_path, train, test, np.zeros(1))
    savemat(tmp_path / 'info/query_IDX.mat',
            {'query_IDX': np.array(query, np.uint16)})
    with pytest.raises(ValueError, match=msg):
        MARS(str(tmp_path), split='test')


def test_v73_track_tables(tmp_path, write_v73):
    """MATLAB v7.3 (HDF5) metadata reads the same as v5."""
    train, test, query = small_tables()
    write_mars(tmp_path, train, test, query)
    v5 = MARS(str(tmp_path), split='test')
    for sub, table in (('train', train), ('test', test)):
        path = tmp_path / f'info/tracks_{sub}_info.mat'
        path.unlink()
        write_v73(path, **{f'track_{sub}_info': table.astype(float)})
    v73 = MARS(str(tmp_path), split='test')
    assert [v73.get_data_info(i) for i in range(len(v73))
            ] == [v5.get_data_info(i) for i in range(len(v5))]
