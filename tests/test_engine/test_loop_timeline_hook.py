# Copyright (c) mmreid_video contributors. All rights reserved.
"""LoopTimelineHook: switched on by config, it splits every loop
iteration into data wait and compute and reports memory."""
import json
import time

import pytest
import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner

from mmreid_video.engine.hooks.loop_timeline_hook import summarize_loop

LOAD_S = 0.03  # per sample: a slow loader


class SlowData:
    """Samples that take LOAD_S each to load (in the main process)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, idx):
        time.sleep(LOAD_S)
        return dict(inputs=torch.full((2, ), float(idx)))


class Linear(BaseModel):

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.fc(torch.stack(inputs))
        if mode == 'loss':
            return dict(loss=out.pow(2).mean())
        return [dict(score=float(v)) for v in out]


class Count(BaseMetric):

    def process(self, data_batch, data_samples):
        self.results += data_samples

    def compute_metrics(self, results):
        return dict(n=len(results))


def test_slow_loader_shows_as_data_wait(tmp_path):
    loader = dict(
        dataset=SlowData(8),
        sampler=dict(type='DefaultSampler', shuffle=False),
        batch_size=2,
        num_workers=0)
    runner = Runner(
        model=Linear(),
        work_dir=str(tmp_path),
        train_dataloader=loader,
        val_dataloader=dict(loader, dataset=SlowData(4)),
        val_evaluator=[Count()],
        train_cfg=dict(by_epoch=True, max_epochs=2, val_interval=1),
        val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(checkpoint=None),
        custom_hooks=[dict(type='LoopTimelineHook', warmup_iters=0)],
        # Not the timestamp another test's Runner may have taken.
        experiment_name=str(tmp_path),
        default_scope='mmreid_video',
        log_level='INFO')
    runner.train()
    report = json.loads(
        (tmp_path / runner.timestamp / 'loop_timeline.json').read_text())
    train, val = report['phases']['train'], report['phases']['val']
    # 2 epochs x 4 batches; 2 validations x 2 batches.
    assert train['iters_timed'] == 8 and val['iters_timed'] == 4
    # Loading a batch (2 x 30 ms) dwarfs the linear layer's step.
    assert train['data_wait_share'] > 0.5 and val['data_wait_share'] > 0.5
    assert train['iter_s'] >= 2 * LOAD_S * 0.9
    assert train['iter_s_min'] <= train['iter_s'] <= train['iter_s_max']
    span = report['spans']['val']
    assert span['start'] <= span['last_iter'] <= span['end']
    if report['peak_pss_mb'] is not None:  # Linux
        assert 10 < report['peak_pss_mb'] < 8192
    log = next(tmp_path.glob('*/*.log')).read_text()
    assert 'LoopTimelineHook: train: 4 iterations timed' in log
    assert 'LoopTimelineHook: val: 2 iterations timed' in log


def test_summarize_loop_leaves_out_warmup():
    records = [[9.0, 9.0], [0.5, 1.5], [0.0, 1.0]]
    assert summarize_loop(
        records, warmup=1) == dict(
            iters_timed=2,
            iter_s=1.5,
            iter_s_min=1.0,
            iter_s_max=2.0,
            iters_per_s=0.667,
            compute_s=1.25,
            data_wait_share=0.167)
    # Never all of them: one iteration is kept.
    assert summarize_loop(records[:1], 5)['iters_timed'] == 1
    assert summarize_loop([], 0) == dict(iters_timed=0)
    with pytest.raises(ValueError, match='warmup_iters'):
        from mmreid_video.engine import LoopTimelineHook
        LoopTimelineHook(warmup_iters=-1)
