# Copyright (c) mmreid_video contributors. All rights reserved.
"""Planning a run from a rehearsal: iterations per epoch from the real
sampler, projected hours, the verdict and the summary table."""
import os.path as osp

from mmengine.config import Config
from mmengine.registry import init_default_scope
from scipy.io import loadmat

from mmreid_video.utils import run_plan

CONFIGS = osp.join(osp.dirname(__file__), '..', '..', 'configs')


def test_iters_per_epoch_from_the_sampler(mars_info):
    init_default_scope('mmreid_video')
    pids = loadmat(osp.join(mars_info,
                            'tracks_train_info.mat'))['track_train_info'][:, 2]
    loader = Config(
        dict(
            batch_size=32,
            sampler=dict(
                type='IdentitySampler',
                num_ids=8,
                num_instances=4,
                epoch_mode='identity')))
    # 625 MARS ids, 8 per GPU and iteration.
    assert [
        run_plan.iters_per_epoch(loader, pids, n) for n in run_plan.GPU_COUNTS
    ] == [78, 39, 19, 9]
    loader.sampler.epoch_mode = 'group'
    assert run_plan.iters_per_epoch(loader, pids, 1) == 235
    # A sampler without rank / world_size: the epoch split evenly.
    loader = Config(dict(batch_size=32, sampler=dict(type='DefaultSampler')))
    assert run_plan.iters_per_epoch(loader, pids, 2) == 130  # 8298 / 64


def test_validations_and_hours():
    cfg = Config.fromfile(osp.join(CONFIGS, 'denseil', 'denseil_r50_mars.py'))
    assert run_plan.count_validations(cfg) == 5
    cfg.val_cfg = None
    assert run_plan.count_validations(cfg) == 0
    test = dict(frames=36000, extract_frames_per_s=10.0, eval_s=360.0)
    hours = run_plan.project_hours([2, 1], [1.8, 3.6], 1000, test, 2, 2)
    # 2 x 1000 x 1.8 s + 1 x 1000 x 3.6 s = 2 h; a test: 1800 + 360 s.
    assert hours == dict(train_h=2.0, test_h=0.6, total_h=3.8)
    assert run_plan.project_hours([2], [1.8], 1000, None, 2,
                                  1) == dict(train_h=1.0)


def test_verdict_counts_workers_per_gpu():
    loader = {'2': dict(median=100.0), '4': dict(median=160.0)}
    stages = dict(
        stage1=dict(compute_s=0.1, data_wait_share=0.02),
        stage2=dict(compute_s=0.05, data_wait_share=0.35))
    # 0.9 * 32 / 0.05 = 576 clips/s at the best 50 clips/s per worker.
    out = run_plan.verdict(stages, loader, 32, 4, 2)
    assert out['bound'] == 'data-bound' and out['workers_per_gpu'] == 12
    assert out['clips_per_s_needed'] == 576.0
    assert out['line'].startswith('data-bound: the train loop waits for '
                                  'data 35% of its time with 4 worker(s); '
                                  '12 per GPU keep a GPU >= 90 % busy')
    stages['stage2']['data_wait_share'] = 0.05
    assert run_plan.verdict(stages, {'0': dict(median=300.0)}, 32, 0,
                            2)['bound'] == 'compute-bound'


def test_summary_table():
    stat = dict(min=90.0, median=100.0, max=110.0)
    result = dict(
        config='c.py',
        device='cpu',
        machine=dict(cpu_count=2, load_average=[1.0, 0.5, 0.25]),
        load_average_end=[],
        train_loader={'2': stat},
        train=dict(stage1=dict(iter_s=0.2, data_wait_share=0.03)),
        scaling={
            '1': dict(iters_per_epoch=78, train_h=1.234),
            '8': dict(iters_per_epoch=9, train_h=0.1, test_h=0.2, total_h=0.5)
        },
        verdict=dict(line='compute-bound: ...'),
        json='r.json')
    table = run_plan.summary_table(result)
    assert '(2 cores; load average 1.0 0.5 0.25 at the start, n/a' in table
    assert '   2 workers:     90.0 /    100.0 /    110.0' in table
    assert 'train stage1: 0.200 s/iter (median), 3.0% waiting' in table
    assert '|    1 |          78 |    1.23 |       - |       - |' in table
    assert '|    8 |           9 |    0.10 |    0.20 |    0.50 |' in table
    assert run_plan.DDP_ASSUMPTION in table
    assert table.endswith('verdict: compute-bound: ...\nall results: r.json')
    assert len(table.splitlines()) < 20
