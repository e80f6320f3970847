# Copyright (c) mmreid_video contributors. All rights reserved.
"""tools/analysis_tools/rehearse_scale.py and its placeholder MARS tree."""
import json
import os
import re
import sys

import numpy as np
import pytest
from mmengine.config import Config
from scipy.io import loadmat

from tool_runner import REPO, run_tool

sys.path.insert(0, os.path.join(REPO, 'tools', 'analysis_tools'))
import _mars_tree  # noqa: E402
import _rehearsal_probe  # noqa: E402
import rehearse_scale  # noqa: E402

TOOL = os.path.join(REPO, 'tools', 'analysis_tools', 'rehearse_scale.py')
DENSEIL_DEMO = os.path.join(REPO, 'configs', 'demo', 'denseil_r18_demo.py')
NAME = re.compile(r'^(\d{4}|00-1)C[1-6]T\d{4}F\d{3}\.jpg$')
# The DenseIL demo with a slim encoder (stage widths 8/16/32/64) and P x K =
# 2 x 2, so that both stages train in well under a second per iteration;
# epochs of every K-group, so that the few ids of a 40-tracklet slice still
# give the loader measurement its two batches.
TINY_DENSEIL = [
    'model.backbone.stem_channels=8', 'model.backbone.base_channels=8',
    'model.neck.in_channels=[8,16,32,64]', 'model.neck.embed_dims=16',
    'model.neck.num_heads=2', 'model.head.in_channels=16',
    'train_dataloader.batch_size=4', 'train_dataloader.sampler.num_ids=2',
    'train_dataloader.sampler.num_instances=2',
    'train_dataloader.sampler.epoch_mode=group',
    'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False'
]


@pytest.mark.slow
def test_end_to_end_on_a_slice(mars_info, tmp_path):
    root, out = tmp_path / 'mars', tmp_path / 'rehearsal.json'
    run_tool([
        sys.executable, TOOL, DENSEIL_DEMO, '--info', mars_info,
        '--max-tracklets', '40', '--num-images', '8', '--data-root',
        str(root), '--work-dir',
        str(tmp_path / 'work'), '--workers', '0', '--loader-batches', '2',
        '--train-iters', '2', '--warmup-iters', '1', '--test-workers', '0',
        '--device', 'cpu', '--json',
        str(out), '--cfg-options', *TINY_DENSEIL
    ],
             timeout=600)
    res = json.loads(out.read_text())
    tree = json.loads((root / _mars_tree.MARKER).read_text())
    assert res['tree']['built'] and res['tree']['frames'] == tree['frames']
    test_table = loadmat(root / 'info/tracks_test_info.mat')['track_test_info']
    gallery = test_table[test_table[:, 2] != -1]
    assert res['test']['tracklets'] == len(gallery)
    assert res['test']['frames'] == int(
        (gallery[:, 1] - gallery[:, 0] + 1).sum())
    assert res['test']['queries'] == tree['num_queries'] > 0
    # Both DenseIL stages ran the requested iterations, one left out.
    assert sorted(res['train']) == ['stage1', 'stage2']
    for stage in res['train'].values():
        assert stage['iters_timed'] == 1
        assert 0 <= stage['data_wait_share'] < 1
        assert stage['iter_s'] >= stage['compute_s'] > 0
    assert res['batch_size'] == 4 and res['iters_per_epoch'] >= 1
    assert res['train_clips_per_s']['0'] > 0
    assert res['extract_frames_per_s'] == res['test'][
        'extract_frames_per_s'] > 0
    assert res['eval_s'] >= 0 and 0 < res['peak_rss_mb'] < 4096
    assert 0 < res['peak_total_pss_mb'] < 4096
    # The demo schedule: 30 + 15 epochs, validation every 15 epochs.
    proj = res['projection']
    assert proj['stage_epochs'] == [30, 15] and proj['validations'] == 3
    train_h = sum(
        e * res['iters_per_epoch_full'] * res['train'][f'stage{i}']['iter_s']
        for i, e in enumerate([30, 15], 1)) / 3600
    assert proj['train_h'] == pytest.approx(train_h, abs=0.006)
    assert res['projected_recipe_h'] == pytest.approx(
        proj['train_h'] + 4 * proj['test_h'], abs=0.03)


def test_derived_names_follow_mars_naming(mars_info):
    info = _mars_tree.read_info(mars_info)
    kept = _mars_tree.select_tracklets(info, None)
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
    info = _mars_tree.read_info(mars_info)
    kept = _mars_tree.select_tracklets(info, 300)
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


def test_tree_is_reused_rebuilt_and_links_frames(mars_info, tmp_path):
    root = tmp_path / 'mars'
    tree, built = _mars_tree.build_tree(str(root), mars_info, 30, 4, (32, 16))
    assert built and sorted(os.listdir(tmp_path)) == ['mars']
    frame = next((root / 'bbox_train').glob('*/*.jpg'))
    assert NAME.match(frame.name) and frame.stat().st_nlink > 2
    assert sum(1 for _ in (root / 'bbox_test').glob('*/*.jpg')) == \
        tree['frames']['test']
    inode = root.stat().st_ino
    again, built = _mars_tree.build_tree(str(root), mars_info, 30, 4, (32, 16))
    assert not built and again == tree and root.stat().st_ino == inode
    # Other inputs: our own tree is replaced, nothing is left beside it.
    _, built = _mars_tree.build_tree(str(root), mars_info, 20, 4, (32, 16))
    assert built and sorted(os.listdir(tmp_path)) == ['mars']
    assert json.loads(
        (root / _mars_tree.MARKER).read_text())['max_tracklets'] == 20


def test_foreign_folders_are_left_alone(mars_info, tmp_path):
    root = tmp_path / 'mine'
    root.mkdir()
    (root / 'keep.txt').write_text('user data')
    with pytest.raises(FileExistsError, match='not a rehearsal tree'):
        _mars_tree.build_tree(str(root), mars_info, 20, 4, (32, 16))
    assert (root / 'keep.txt').read_text() == 'user data'
    (root / _mars_tree.MARKER).write_text('{"version": 1, "md5"')
    with pytest.raises(ValueError, match='rehearsal_tree.json: not valid'):
        _mars_tree.build_tree(str(root), mars_info, 20, 4, (32, 16))
    assert (root / 'keep.txt').read_text() == 'user data'
    # A killed build of ours (dead pid, partial marker) is cleaned up; a
    # look-alike folder without the marker is not.
    stale = tmp_path / '.tree.partial-999999999'
    stale.mkdir()
    (stale / _mars_tree.PARTIAL_MARKER).touch()
    alike = tmp_path / '.tree.partial-999999998'
    alike.mkdir()
    _mars_tree.build_tree(str(tmp_path / 'tree'), mars_info, 20, 4, (32, 16))
    assert not stale.exists() and alike.exists()


def test_metadata_errors_name_the_file(mars_info, tmp_path):
    with pytest.raises(FileNotFoundError, match='tracks_train_info.mat'):
        _mars_tree.read_info(str(tmp_path))
    bad = np.array([[1, 5, 1, 1], [7, 9, 1, 2]])
    with pytest.raises(
            ValueError, match=r'x\.mat, row 2: .*expected start '
            r'= 6'):
        _mars_tree.tracklet_numbers(bad, 'x.mat')
    info = _mars_tree.read_info(mars_info)
    # The last distractor: a 10-tracklet slice keeps the first three only.
    last = np.flatnonzero(info['tables']['test'][:, 2] == 0)[-1] + 1
    with pytest.raises(ValueError, match='no query tracklet'):
        _mars_tree.select_tracklets(dict(info, query=np.array([last])), 10)


def test_link_budget_is_checked(mars_info, tmp_path, monkeypatch):
    monkeypatch.setattr(os, 'pathconf', lambda path, name: 100)
    with pytest.raises(OSError, match='--num-images >= '):
        _mars_tree.build_tree(str(tmp_path / 't'), mars_info, 30, 4, (32, 16))
    assert os.listdir(tmp_path) == []


def test_schedule_and_gpu_plan():
    cfg = Config.fromfile(
        os.path.join(REPO, 'configs', 'denseil', 'denseil_r50_mars.py'))
    assert rehearse_scale.schedule(cfg) == dict(
        stage_epochs=[150, 60], validations=5)
    stages = dict(stage1=dict(compute_s=0.1), stage2=dict(compute_s=0.05))
    plan = rehearse_scale.gpu_busy_plan(stages, {'2': 100.0, '4': 160.0}, 32)
    # 0.9 * 32 / 0.1 = 288 clips/s at the best 50 clips/s per worker.
    assert plan['stage1']['needed_clips_per_s'] == 288.0
    assert plan['stage1']['workers_needed'] == 6
    assert plan['stage2']['workers_needed'] == 12


def test_summarize_leaves_out_warmup():
    records = [[9.0, 9.0], [0.5, 1.5], [0.0, 1.0]]
    stat = _rehearsal_probe.summarize(records, warmup=1)
    assert stat == dict(
        iters_timed=2,
        iter_s=1.5,
        iters_per_s=0.667,
        compute_s=1.25,
        data_wait_share=0.167)
    # Never all of them: one iteration is kept.
    assert _rehearsal_probe.summarize(records[:1], 5)['iters_timed'] == 1
