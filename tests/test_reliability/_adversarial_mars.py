# Copyright (c) mmreid_video contributors. All rights reserved.
"""Adversarial cases of the MARS reader and the synthetic MARS generator."""
import os

import numpy as np
from _adversarial_base import build_mars, err, mars, ok
from scipy.io import loadmat, savemat

MARS_TRAIN_MAT = 'info/tracks_train_info.mat'
MARS_TEST_MAT = 'info/tracks_test_info.mat'
MARS_QUERY = 'info/query_IDX.mat'


def _mars_edit_table(tmp, rel, key, edit):
    root = mars(tmp)
    table = loadmat(root / rel)[key]
    savemat(root / rel, {key: edit(table.copy())})
    return root


def _mars_write(tmp, rel, data: bytes):
    root = mars(tmp)
    (root / rel).write_bytes(data)
    return root


# ---- MARS: paths and files -------------------------------------------------
@err('MARS', 'missing data_root', '{tmp}/nope')
def _(tmp):
    build_mars(tmp / 'nope')


@err('MARS', 'data_root is a file', '{tmp}/file')
def _(tmp):
    (tmp / 'file').write_text('x')
    build_mars(tmp / 'file')


@err('MARS', 'bad split name', "'val'")
def _(tmp):
    build_mars(mars(tmp), split='val')


for _rel in (MARS_TRAIN_MAT, MARS_TEST_MAT, MARS_QUERY, 'info/train_name.txt',
             'info/test_name.txt'):

    @err('MARS', f'missing {_rel}', _rel)
    def _(tmp, rel=_rel):
        root = mars(tmp)
        os.remove(root / rel)
        build_mars(
            root, split='test' if 'test' in rel or 'query' in rel else 'train')


for _rel in (MARS_TRAIN_MAT, MARS_TEST_MAT, MARS_QUERY):
    for _kind, _data in (('empty', b''), ('truncated header', b'MATLAB 5.0'),
                         ('garbage', os.urandom(600)), ('text',
                                                        b'hello\n' * 40)):

        @err('MARS', f'{_kind} {_rel}', _rel)
        def _(tmp, rel=_rel, data=_data):
            build_mars(_mars_write(tmp, rel, data), split='test')


for _rel in (MARS_TRAIN_MAT, MARS_TEST_MAT, MARS_QUERY):

    @err('MARS', f'truncated half of {_rel}', _rel)
    def _(tmp, rel=_rel):
        root = mars(tmp)
        data = (root / rel).read_bytes()
        (root / rel).write_bytes(data[:len(data) // 2])
        build_mars(root, split='test')

    @err('MARS', f'wrong key in {_rel}', _rel, 'found')
    def _(tmp, rel=_rel):
        root = mars(tmp)
        savemat(root / rel, {'other': np.ones((2, 4))})
        build_mars(root, split='test')


@err('MARS', 'v7.3 train table with wrong key', MARS_TRAIN_MAT)
def _(tmp):
    from fixture_trees import write_mat_v73
    root = mars(tmp)
    write_mat_v73(root / MARS_TRAIN_MAT, {'x': np.ones((2, 4))})
    build_mars(root)


@ok('MARS', 'v7.3 train table read', lambda n: n > 0)
def _(tmp):
    from fixture_trees import write_mat_v73
    root = mars(tmp)
    table = loadmat(root / MARS_TRAIN_MAT)['track_train_info']
    write_mat_v73(root / MARS_TRAIN_MAT, {'track_train_info': table})
    return len(build_mars(root))


@err('MARS', 'non-UTF-8 name list', 'info/train_name.txt', 'line')
def _(tmp):
    root = mars(tmp)
    lines = (root / 'info/train_name.txt').read_bytes().split(b'\n')
    lines[2] = b'\xff\xfe' + lines[2]
    (root / 'info/train_name.txt').write_bytes(b'\n'.join(lines))
    build_mars(root)


@err('MARS', 'empty name list', 'info/train_name.txt')
def _(tmp):
    build_mars(_mars_write(tmp, 'info/train_name.txt', b''))


@err('MARS', 'name list one line short', 'info/train_name.txt')
def _(tmp):
    root = mars(tmp)
    lines = (root / 'info/train_name.txt').read_text().splitlines()
    (root / 'info/train_name.txt').write_text('\n'.join(lines[:-1]) + '\n')
    build_mars(root)


@err('MARS', 'name with wrong camera', 'info/train_name.txt', 'line 2')
def _(tmp):
    root = mars(tmp)
    lines = (root / 'info/train_name.txt').read_text().splitlines()
    lines[1] = lines[1][:5] + '9' + lines[1][6:]
    (root / 'info/train_name.txt').write_text('\n'.join(lines) + '\n')
    build_mars(root)


@err('MARS', 'malformed frame name', 'info/train_name.txt', 'line 1')
def _(tmp):
    root = mars(tmp)
    lines = (root / 'info/train_name.txt').read_text().splitlines()
    lines[0] = 'hello.jpg'
    (root / 'info/train_name.txt').write_text('\n'.join(lines) + '\n')
    build_mars(root)


@err('MARS', 'table with 3 columns', MARS_TRAIN_MAT)
def _(tmp):
    build_mars(
        _mars_edit_table(tmp, MARS_TRAIN_MAT, 'track_train_info',
                         lambda t: t[:, :3]))


@err('MARS', 'table start > end', MARS_TRAIN_MAT, 'row 1')
def _(tmp):

    def edit(t):
        t[0, 0], t[0, 1] = t[0, 1] + 1, t[0, 0]
        return t

    build_mars(_mars_edit_table(tmp, MARS_TRAIN_MAT, 'track_train_info', edit))


@err('MARS', 'table end past name list', MARS_TRAIN_MAT)
def _(tmp):

    def edit(t):
        t[-1, 1] += 50
        return t

    build_mars(_mars_edit_table(tmp, MARS_TRAIN_MAT, 'track_train_info', edit))


@err('MARS', 'table non-integer values', MARS_TRAIN_MAT)
def _(tmp):

    def edit(t):
        t = t.astype(float)
        t[1, 2] += 0.5
        return t

    build_mars(_mars_edit_table(tmp, MARS_TRAIN_MAT, 'track_train_info', edit))


@err('MARS', 'table NaN value', MARS_TRAIN_MAT)
def _(tmp):

    def edit(t):
        t = t.astype(float)
        t[1, 3] = np.nan
        return t

    build_mars(_mars_edit_table(tmp, MARS_TRAIN_MAT, 'track_train_info', edit))


@err('MARS', 'table pid disagrees with names', MARS_TRAIN_MAT)
def _(tmp):

    def edit(t):
        t[0, 2] += 1
        return t

    build_mars(_mars_edit_table(tmp, MARS_TRAIN_MAT, 'track_train_info', edit))


@err('MARS', 'empty train table', MARS_TRAIN_MAT, 'train')
def _(tmp):
    build_mars(
        _mars_edit_table(tmp, MARS_TRAIN_MAT, 'track_train_info',
                         lambda t: t[:0]))


@err('MARS', 'empty test table', MARS_TEST_MAT, 'test')
def _(tmp):
    build_mars(
        _mars_edit_table(tmp, MARS_TEST_MAT, 'track_test_info',
                         lambda t: t[:0]), 'test')


@err('MARS', 'string table', MARS_TRAIN_MAT)
def _(tmp):
    root = mars(tmp)
    savemat(root / MARS_TRAIN_MAT, {'track_train_info': 'abc'})
    build_mars(root)


_BAD_QUERY_ROWS = {
    'query row 0': [[0, 1]],
    'query row past table': [[1, 999]],
    'query row repeated': [[1, 1]],
    'empty query list': np.zeros((1, 0)),
    'query fractional row': [[1.5, 2]],
}
for _name, _rows in _BAD_QUERY_ROWS.items():

    @err('MARS', _name, MARS_QUERY)
    def _(tmp, rows=_rows):
        root = mars(tmp)
        savemat(root / MARS_QUERY, {'query_IDX': np.array(rows)})
        build_mars(root, 'test')


@err('MARS', 'test id also in train', MARS_TEST_MAT)
def _(tmp):
    root = mars(tmp)
    train = loadmat(root / MARS_TRAIN_MAT)['track_train_info']
    test = loadmat(root / MARS_TEST_MAT)['track_test_info']
    # Rename the names and table of the first test tracklet to a train id.
    names = (root / 'info/test_name.txt').read_text().splitlines()
    old, new = f'{int(test[2, 2]):04d}', f'{int(train[0, 2]):04d}'
    start, end = int(test[2, 0]), int(test[2, 1])
    for i in range(start - 1, end):
        names[i] = new + names[i][4:]
    (root / 'info/test_name.txt').write_text('\n'.join(names) + '\n')
    assert old != new
    test[2, 2] = train[0, 2]
    savemat(root / MARS_TEST_MAT, {'track_test_info': test})
    build_mars(root, 'test')


def _spoil_missing(path):
    os.remove(path)


def _spoil_corrupt(path):
    with open(path, 'wb') as f:
        f.write(b'\xff\xd8\xff garbage')


def _spoil_empty(path):
    open(path, 'wb').close()


for _kind, _spoil in (('missing', _spoil_missing), ('corrupt', _spoil_corrupt),
                      ('empty', _spoil_empty)):

    @err('MARS', f'frame file {_kind} on load', 'bbox_train')
    def _(tmp, spoil=_spoil):
        pipeline = [
            dict(type='EvenlySample', clip_len=2),
            dict(type='LoadFrames')
        ]
        ds = build_mars(mars(tmp), pipeline=pipeline)
        spoil(ds.get_data_info(0)['frame_paths'][0])
        ds[0]


@err('MARS', 'indices past the dataset', 'indices=[0, 999]', '21 tracklets')
def _(tmp):
    build_mars(mars(tmp), indices=[0, 999])


@err('MARS', 'indices int past the dataset', 'indices=50', '21 tracklets')
def _(tmp):
    build_mars(mars(tmp), indices=50)


@err('MARS', 'indices 0', 'indices=0')
def _(tmp):
    build_mars(mars(tmp), indices=0)


@err('MARS', 'indices a string', "indices='3'")
def _(tmp):
    build_mars(mars(tmp), indices='3')


@ok('MARS', 'indices -2 (last two)', lambda n: n == 2)
def _(tmp):
    return len(build_mars(mars(tmp), indices=-2))


@err('MARS', 'get_subset past the dataset', 'indices=[99]')
def _(tmp):
    build_mars(mars(tmp)).get_subset([99])


@err('MARS', 'pipeline entry not a transform', 'transform must be', "'int'")
def _(tmp):
    build_mars(mars(tmp), pipeline=[42])


@err('MARS', 'unknown transform in pipeline', 'NoSuchTransform')
def _(tmp):
    build_mars(mars(tmp), pipeline=[dict(type='NoSuchTransform')])


@err('SyntheticMARS', 'generator into non-empty folder', '{tmp}')
def _(tmp):
    from mmreid_video.datasets import make_synthetic_mars
    (tmp / 'keep.txt').write_text('mine')
    make_synthetic_mars(str(tmp), num_train_ids=2, num_test_ids=2)


@ok('SyntheticMARS', 'refused folder left untouched',
    lambda text: text == 'mine')
def _(tmp):
    from mmreid_video.datasets import make_synthetic_mars
    (tmp / 'keep.txt').write_text('mine')
    try:
        make_synthetic_mars(str(tmp), num_train_ids=2, num_test_ids=2)
    except Exception:  # noqa: BLE001 -- the refusal is another case
        pass
    return (tmp / 'keep.txt').read_text()


@err('SyntheticMARS', 'generator 0 train ids', 'num_train_ids')
def _(tmp):
    from mmreid_video.datasets import make_synthetic_mars
    make_synthetic_mars(str(tmp / 'd'), num_train_ids=0, num_test_ids=2)


@err('SyntheticMARS', 'generator frames range reversed', 'frames_per_tracklet')
def _(tmp):
    from mmreid_video.datasets import make_synthetic_mars
    make_synthetic_mars(
        str(tmp / 'd'),
        num_train_ids=2,
        num_test_ids=2,
        frames_per_tracklet=(8, 2))


@err('SyntheticMARS', 'generator -1 junk', 'num_junk')
def _(tmp):
    from mmreid_video.datasets import make_synthetic_mars
    make_synthetic_mars(
        str(tmp / 'd'), num_train_ids=2, num_test_ids=2, num_junk=-1)


@err('SyntheticMARS', 'generator float ids', 'num_test_ids')
def _(tmp):
    from mmreid_video.datasets import make_synthetic_mars
    make_synthetic_mars(str(tmp / 'd'), num_train_ids=2, num_test_ids=2.5)


@err('SyntheticMARS', 'generator height 0', 'height')
def _(tmp):
    from mmreid_video.datasets import make_synthetic_mars
    make_synthetic_mars(
        str(tmp / 'd'), num_train_ids=2, num_test_ids=2, height=0)


@err('SyntheticMARS', 'marker of another seed', 'seed')
def _(tmp):
    from mmreid_video.datasets import SyntheticMARS
    root = mars(tmp)
    SyntheticMARS(data_root=str(root), seed=5)


@err('SyntheticMARS', 'generator one camera', 'num_cameras')
def _(tmp):
    from mmreid_video.datasets import make_synthetic_mars
    make_synthetic_mars(
        str(tmp / 'd'), num_train_ids=2, num_test_ids=2, num_cameras=1)
