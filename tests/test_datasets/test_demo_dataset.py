import json
import re
import time

import cv2
import numpy as np
import pytest
from scipy.io import loadmat

from mmreid_video.datasets import MARS, ensure_demo_dataset, make_demo_dataset

SMALL = dict(
    num_train_ids=4,
    num_test_ids=5,
    num_cameras=3,
    tracklets_per_id=(2, 3),
    frames_per_tracklet=(2, 5),
    num_distractors=2,
    num_junk=2)
NAME = re.compile(r'^(\d{4}|00-1)C(\d)T(\d{4})F(\d{3})\.jpg$')


@pytest.fixture(scope='module')
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp('demo')
    summary = make_demo_dataset(str(root), seed=3, **SMALL)
    return root, summary


def test_layout_keys_and_dtypes(small):
    root, summary = small
    shapes = {}
    for sub, n in (('train', summary['num_train_tracklets']),
                   ('test', summary['num_test_tracklets'])):
        mat = loadmat(root / f'info/tracks_{sub}_info.mat')
        table = mat[f'track_{sub}_info']
        # Same dtype and layout as the real MARS files.
        assert table.dtype == np.int32 and table.shape == (n, 4)
        names = (root / f'info/{sub}_name.txt').read_text().split()
        assert table[0, 0] == 1 and table[-1, 1] == len(names)
        np.testing.assert_array_equal(table[1:, 0], table[:-1, 1] + 1)
        assert names == sorted(names)
        for start, end, pid, cam in table.tolist():
            for i, name in enumerate(names[start - 1:end], 1):
                m = NAME.match(name)
                assert m is not None, name
                folder = f'{pid:04d}' if pid >= 0 else '00-1'
                assert m.group(1) == folder and int(m.group(2)) == cam
                assert int(m.group(4)) == i
                assert (root / f'bbox_{sub}' / name[:4] / name).is_file()
        shapes[sub] = table
    query = loadmat(root / 'info/query_IDX.mat')['query_IDX']
    assert query.dtype == np.uint16 and query.shape == (1,
                                                        summary['num_queries'])
    test = shapes['test']
    assert (test[:, 2] == -1).sum() == 2 and (test[:, 2] == 0).sum() == 2
    assert (root / 'bbox_test/00-1').is_dir()
    assert (root / 'bbox_test/0000').is_dir()
    assert len(np.unique(shapes['train'][:, 2])) == 4
    assert not set(shapes['train'][:, 2]) & set(test[:, 2])
    img = cv2.imread(str(next((root / 'bbox_train').rglob('*.jpg'))))
    assert img.shape == (64, 32, 3)


def test_identities_span_cameras_and_queries_match(small):
    root, _ = small
    test = loadmat(root / 'info/tracks_test_info.mat')['track_test_info']
    query = loadmat(root / 'info/query_IDX.mat')['query_IDX'].ravel() - 1
    for pid in set(test[:, 2]) - {0, -1}:
        cams = test[test[:, 2] == pid, 3]
        assert 2 <= len(cams) <= 3 and len(set(cams)) >= 2
        # One query per camera of the id.
        assert sorted(test[query[test[query, 2] == pid],
                           3]) == sorted(set(cams))


def test_read_by_mars(small):
    root, summary = small
    train = MARS(str(root))
    test = MARS(str(root), split='test')
    assert train.metainfo['num_ids'] == 4 and len(
        train) == summary['num_train_tracklets']
    assert len(test) == summary['num_test_tracklets'] - 2  # junk removed
    assert sum(test.get_data_info(i)['is_query']
               for i in range(len(test))) == summary['num_queries']


def test_deterministic(small, tmp_path):
    root, _ = small
    make_demo_dataset(str(tmp_path / 'same'), seed=3, **SMALL)
    make_demo_dataset(str(tmp_path / 'other'), seed=4, **SMALL)
    name = 'info/train_name.txt'
    assert (tmp_path / 'same' / name).read_text() == (root / name).read_text()
    first = sorted((root / 'bbox_train').rglob('*.jpg'))[0]
    rel = first.relative_to(root)
    assert (tmp_path / 'same' / rel).read_bytes() == first.read_bytes()
    other = tmp_path / 'other' / rel
    assert not other.exists() or other.read_bytes() != first.read_bytes()


def test_ensure_is_idempotent(tmp_path, monkeypatch):
    root = tmp_path / 'data' / 'demo_mars'
    calls = []
    real = make_demo_dataset

    def small_demo(out, seed):
        calls.append(out)
        return real(out, seed=seed, **SMALL)

    monkeypatch.setattr('mmreid_video.datasets.demo.make_demo_dataset',
                        small_demo)
    assert ensure_demo_dataset(str(root), seed=1) == str(root)
    assert len(calls) == 1 and (root / 'info/query_IDX.mat').is_file()
    assert not list(tmp_path.glob('data/*.tmp*'))
    ensure_demo_dataset(str(root), seed=1)
    assert len(calls) == 1
    with pytest.raises(ValueError, match='seed 1, not 2'):
        ensure_demo_dataset(str(root), seed=2)
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'x.txt').write_text('mine')
    with pytest.raises(FileExistsError, match='foreign'):
        ensure_demo_dataset(str(foreign))


def test_default_size_is_fast_and_small(tmp_path):
    start = time.perf_counter()
    summary = make_demo_dataset(str(tmp_path))
    elapsed = time.perf_counter() - start
    assert elapsed < 30, f'demo generation took {elapsed:.1f} s'
    size = sum(p.stat().st_size for p in tmp_path.rglob('*') if p.is_file())
    assert size < 20e6
    assert summary['num_queries'] >= 80
    saved = json.loads((tmp_path / 'demo_dataset.json').read_text())
    assert saved == json.loads(json.dumps(summary))


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='num_cameras'):
        make_demo_dataset(str(tmp_path), num_cameras=1)
    with pytest.raises(ValueError, match='tracklets_per_id'):
        make_demo_dataset(str(tmp_path), tracklets_per_id=(1, 3))
