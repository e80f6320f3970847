# Copyright (c) mmreid_video contributors. All rights reserved.
import json
import re
import runpy
import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from scipy.io import loadmat

from mmreid_video.datasets import (MARS, SyntheticMARS, ensure_synthetic_mars,
                                   make_synthetic_mars)

SMALL = dict(
    num_train_ids=4,
    num_test_ids=5,
    num_cameras=3,
    tracklets_per_id=(2, 3),
    frames_per_tracklet=(2, 5),
    num_distractors=2,
    num_junk=2)
REPO = Path(__file__).parents[2]
NAME = re.compile(r'^(\d{4}|00-1)C(\d)T(\d{4})F(\d{3})\.jpg$')


@pytest.fixture(scope='module')
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp('synthetic')
    summary = make_synthetic_mars(str(root), seed=3, **SMALL)
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
    make_synthetic_mars(str(tmp_path / 'same'), seed=3, **SMALL)
    make_synthetic_mars(str(tmp_path / 'other'), seed=4, **SMALL)
    name = 'info/train_name.txt'
    assert (tmp_path / 'same' / name).read_text() == (root / name).read_text()
    first = sorted((root / 'bbox_train').rglob('*.jpg'))[0]
    rel = first.relative_to(root)
    assert (tmp_path / 'same' / rel).read_bytes() == first.read_bytes()
    other = tmp_path / 'other' / rel
    assert not other.exists() or other.read_bytes() != first.read_bytes()


def test_ensure_is_idempotent(tmp_path, monkeypatch):
    root = tmp_path / 'data' / 'synthetic_mars'
    calls = []
    real = make_synthetic_mars

    def small_demo(out, seed):
        calls.append(out)
        return real(out, seed=seed, **SMALL)

    monkeypatch.setattr(
        'mmreid_video.datasets.synthetic_mars.dataset.make_synthetic_mars',
        small_demo)
    assert ensure_synthetic_mars(str(root), seed=1) == str(root)
    assert len(calls) == 1 and (root / 'info/query_IDX.mat').is_file()
    assert [p.name
            for p in (tmp_path / 'data').iterdir()] == ['synthetic_mars']
    ensure_synthetic_mars(str(root), seed=1)
    assert len(calls) == 1
    with pytest.raises(ValueError, match='seed 1, not 2'):
        ensure_synthetic_mars(str(root), seed=2)
    # A folder with other content is never written (it is read as MARS).
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'x.txt').write_text('mine')
    assert ensure_synthetic_mars(str(foreign)) == str(foreign)
    assert len(calls) == 1
    assert [p.name for p in foreign.iterdir()] == ['x.txt']
    assert (foreign / 'x.txt').read_text() == 'mine'
    # An empty folder is filled.
    empty = tmp_path / 'empty'
    empty.mkdir()
    ensure_synthetic_mars(str(empty), seed=1)
    assert len(calls) == 2 and (empty / 'info/query_IDX.mat').is_file()


@pytest.mark.slow
def test_default_size_is_fast_and_small(tmp_path, monkeypatch, capsys):
    start = time.perf_counter()
    summary = make_synthetic_mars(str(tmp_path))
    elapsed = time.perf_counter() - start
    assert elapsed < 30, f'demo generation took {elapsed:.1f} s'
    size = sum(p.stat().st_size for p in tmp_path.rglob('*') if p.is_file())
    assert size < 20e6
    assert summary['num_queries'] >= 80
    saved = json.loads((tmp_path / 'synthetic_mars.json').read_text())
    assert saved == json.loads(json.dumps(summary))
    # The demo configs read this very data, and the docs state its numbers.
    monkeypatch.setattr('sys.argv', [
        'dataset_stats.py',
        str(REPO / 'configs/_base_/datasets/synthetic_mars.py'),
        '--cfg-options', f'train_dataloader.dataset.data_root={tmp_path}',
        f'test_dataloader.dataset.data_root={tmp_path}'
    ])
    runpy.run_path(
        str(REPO / 'tools/analysis_tools/dataset_stats.py'),
        run_name='__main__')
    rows = [
        r for r in capsys.readouterr().out.splitlines()
        if r[:3] == '| t' or r.startswith(('| query', '| gallery'))
    ]
    doc = (REPO / 'docs/dataset_prepare.md').read_text()
    assert len(rows) == 4 and all(row in doc for row in rows), rows


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='num_cameras'):
        make_synthetic_mars(str(tmp_path), num_cameras=1)
    with pytest.raises(ValueError, match='tracklets_per_id'):
        make_synthetic_mars(str(tmp_path), tracklets_per_id=(1, 3))


def test_ensure_loses_the_race_gracefully(tmp_path, monkeypatch):
    """Another rank publishes first: this one reads the winner's data."""
    root = tmp_path / 'synthetic_mars'
    real = make_synthetic_mars

    def other_rank_wins(out, seed):
        real(out, seed=seed, **SMALL)  # the other rank
        return real(out, seed=seed, **SMALL)  # this rank, too late

    monkeypatch.setattr(
        'mmreid_video.datasets.synthetic_mars.dataset.make_synthetic_mars',
        other_rank_wins)
    assert ensure_synthetic_mars(str(root), seed=5) == str(root)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['synthetic_mars']


def test_config_pointed_at_other_mars_folder_reads_it(small, tmp_path):
    """Issue 13: the demo config with another MARS-layout data_root."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmreid_video.registry import DATASETS
    root, summary = small
    mine = tmp_path / 'my_mars'
    shutil.copytree(root, mine)
    for name in ('synthetic_mars.json', 'synthetic_mars_files.json'):
        (mine / name).unlink()  # now it is just a MARS-layout folder
    before = sorted(p.relative_to(mine) for p in mine.rglob('*'))
    init_default_scope('mmreid_video')
    cfg = Config.fromfile(str(REPO / 'configs/demo/baseline_r18_demo.py'))
    for loader in ('train_dataloader', 'test_dataloader'):
        ds_cfg = cfg[loader].dataset
        ds_cfg.data_root = str(mine)
        ds = DATASETS.build(ds_cfg)
        assert isinstance(ds, SyntheticMARS)
    assert len(ds) == summary['num_test_tracklets'] - 2  # junk removed
    assert sorted(p.relative_to(mine) for p in mine.rglob('*')) == before
    # A folder that is not MARS is reported by the MARS reader; the message
    # names what is missing and never suggests deleting anything.
    (tmp_path / 'notes').mkdir()
    (tmp_path / 'notes/todo.txt').write_text('x')
    with pytest.raises(FileNotFoundError) as e:
        SyntheticMARS(str(tmp_path / 'notes'))
    assert 'tracks_train_info.mat' in str(e.value)
    assert 'delete' not in str(e.value).lower()
    assert (tmp_path / 'notes/todo.txt').read_text() == 'x'


def tree(root):
    return {
        p.relative_to(root): p.read_bytes()
        for p in sorted(root.rglob('*')) if p.is_file()
    }


def test_non_empty_folder_is_refused_unless_overwrite(small, tmp_path):
    root = tmp_path / 'out'
    make_synthetic_mars(str(root), seed=3, **SMALL)
    first = tree(root)
    with pytest.raises(FileExistsError, match='is not empty') as e:
        make_synthetic_mars(str(root), seed=4, **SMALL)
    assert 'delete' not in str(e.value).lower()
    assert tree(root) == first
    # Overwriting replaces the generator's own earlier data.
    make_synthetic_mars(str(root), seed=4, overwrite=True, **SMALL)
    second = tree(root)
    assert second != first
    assert json.loads(second[Path('synthetic_mars.json')])['seed'] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ['out']


@pytest.mark.parametrize('change', ['add', 'modify', 'link'])
def test_overwrite_never_touches_other_files(tmp_path, change):
    root = tmp_path / 'out'
    make_synthetic_mars(str(root), seed=3, **SMALL)
    if change == 'add':
        (root / 'bbox_train' / 'notes.txt').write_text('mine')
    elif change == 'modify':
        (root / 'info/train_name.txt').write_text('edited\n')
    else:
        (root / 'link').symlink_to(tmp_path)
    before = tree(root)
    with pytest.raises(FileExistsError, match='did not write') as e:
        make_synthetic_mars(str(root), seed=4, overwrite=True, **SMALL)
    assert 'delete' not in str(e.value).lower()
    assert tree(root) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ['out']


def test_failed_generation_leaves_nothing(tmp_path):
    from mmreid_video.datasets.synthetic_mars.files import publish
    root = tmp_path / 'out'

    def crash(folder):
        (Path(folder) / 'half.jpg').write_bytes(b'x')
        raise RuntimeError('killed')

    with pytest.raises(RuntimeError, match='killed'):
        publish(str(root), False, crash)
    assert list(tmp_path.iterdir()) == []
    # A file in place of the folder is refused.
    root.write_text('x')
    with pytest.raises(FileExistsError, match='not a folder'):
        make_synthetic_mars(str(root), **SMALL)
    assert root.read_text() == 'x'
