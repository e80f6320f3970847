# Copyright (c) mmreid_video contributors. All rights reserved.
"""tools/analysis_tools/rehearse_scale.py end to end on a MARS slice: the
JSON, and the summary table the terminal gets."""
import json
import os
import sys

import pytest
from scipy.io import loadmat
from tool_runner import REPO, run_tool

TOOL = os.path.join(REPO, 'tools', 'analysis_tools', 'rehearse_scale.py')
DENSEIL_DEMO = os.path.join(REPO, 'configs', 'demo', 'denseil_r18_demo.py')
# The DenseIL demo with a slim encoder (stage widths 8/16/32/64) and P x K =
# 2 x 2, so that both stages train in well under a second per iteration;
# epochs of every K-group, so that the few ids of a 40-tracklet slice still
# give the loader measurement its batches.
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
    proc = run_tool([
        sys.executable, TOOL, DENSEIL_DEMO, '--info', mars_info,
        '--max-tracklets', '40', '--num-images', '8', '--data-root',
        str(root), '--work-dir',
        str(tmp_path / 'work'), '--workers', '0', '--loader-batches', '2',
        '--loader-repeats', '2', '--train-iters', '2', '--warmup-iters', '1',
        '--test-workers', '0', '--device', 'cpu', '--json',
        str(out), '--cfg-options', *TINY_DENSEIL
    ],
                    timeout=600)
    res = json.loads(out.read_text())
    assert res['tree']['built'] and res['tree']['frames']['test'] > 0
    test_table = loadmat(root / 'info/tracks_test_info.mat')['track_test_info']
    gallery = test_table[test_table[:, 2] != -1]
    assert res['test']['tracklets'] == len(gallery)
    assert res['test']['frames'] == int(
        (gallery[:, 1] - gallery[:, 0] + 1).sum())
    assert res['test']['queries'] == res['tree']['num_queries'] > 0
    assert res['test']['extract_frames_per_s'] > 0 and res['test'][
        'eval_s'] >= 0
    # Both DenseIL stages ran the requested iterations, one left out.
    assert sorted(res['train']) == ['stage1', 'stage2']
    for stage in res['train'].values():
        assert stage['iters_timed'] == 1
        assert 0 <= stage['data_wait_share'] < 1
        assert stage['iter_s'] >= stage['compute_s'] > 0
    # The loader at steady state: 2 repeats of 2 batches after the first.
    loader = res['train_loader']['0']
    assert loader['runs'] == 2 and loader['skipped'] == 1
    assert 0 < loader['min'] <= loader['median'] <= loader['max']
    assert len(res['machine']['load_average']) in (0, 3)
    assert 0 < res['peak_rss_mb'] < 4096 and 0 < res['peak_total_pss_mb']
    # The demo schedule: 30 + 15 epochs, validation every 15 epochs; the
    # sampler's own iterations per epoch on 1..8 GPUs, never more on more.
    assert res['stage_epochs'] == [30, 15] and res['validations'] == 3
    scaling = res['scaling']
    assert list(scaling) == ['1', '2', '4', '8']
    iters = [scaling[g]['iters_per_epoch'] for g in scaling]
    assert iters == sorted(iters, reverse=True) and iters[-1] >= 1
    one = scaling['1']
    train_h = sum(
        e * one['iters_per_epoch'] * res['train'][f'stage{i}']['iter_s']
        for i, e in enumerate([30, 15], 1)) / 3600
    assert one['train_h'] == pytest.approx(train_h, abs=0.001)
    assert one['total_h'] == pytest.approx(
        one['train_h'] + 4 * one['test_h'], abs=0.005)
    assert res['verdict']['bound'] in ('data-bound', 'compute-bound')
    # The terminal ends with the table (the Runner's log is in its file).
    tail = proc.stdout[proc.stdout.index('Rehearsal of'):].splitlines()
    assert len(tail) < 20 and tail[-1] == f'all results: {out}'
    assert '| GPUs | iters/epoch | train h | test h | total h |' in tail
    assert any(line.startswith('|    8 |') for line in tail)
    assert any(line.startswith('verdict: ') for line in tail)
    assert 'stage1: 0.' in proc.stdout and 'waiting for data' in proc.stdout
    assert len(proc.stdout.splitlines()) < 30
