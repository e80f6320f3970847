# Copyright (c) mmreid_video contributors. All rights reserved.
import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope

from mmreid_video.registry import PARAM_SCHEDULERS

STAGES = dict(
    stage1=dict(epochs=4, warmup_epochs=1, milestones=[2, 3]),
    stage2=dict(epochs=3, warmup_epochs=1, milestones=[2]))


def optim(lr=1.0):
    param = torch.nn.Parameter(torch.zeros(1))
    return OptimWrapper(torch.optim.SGD([param], lr=lr))


def build(stages=STAGES, **kwargs):
    init_default_scope('mmreid_video')
    cfg = dict(
        type='StagedMultiStepLR',
        convert_to_iter_based=True,
        warmup_factor=0.1,
        gamma=0.5,
        stages=copy.deepcopy(stages))
    cfg.update(kwargs)
    return PARAM_SCHEDULERS.build(
        cfg, default_args=dict(optimizer=optim(), epoch_length=4))


def lrs(scheduler, num_iters):
    out = []
    for _ in range(num_iters):
        out.append(scheduler.optimizer.param_groups[0]['lr'])
        scheduler.optimizer.step()
        scheduler.step()
    return out


def mmengine_lrs(stage_bounds, epoch_length, num_iters):
    """The same schedule from MMEngine's LinearLR + MultiStepLR per stage,
    the lr reset to the base lr at each stage start."""
    init_default_scope('mmengine')
    wrapper = optim()
    schedulers = []
    for begin, warmup, milestones in stage_bounds:
        schedulers += [
            PARAM_SCHEDULERS.build(
                dict(
                    type='LinearLR',
                    start_factor=0.1,
                    by_epoch=True,
                    begin=begin,
                    end=begin + warmup,
                    convert_to_iter_based=True),
                default_args=dict(
                    optimizer=wrapper, epoch_length=epoch_length)),
            PARAM_SCHEDULERS.build(
                dict(
                    type='MultiStepLR',
                    by_epoch=True,
                    begin=begin,
                    milestones=milestones,
                    gamma=0.5),
                default_args=dict(optimizer=wrapper))
        ]
    starts = {b * epoch_length for b, _, _ in stage_bounds[1:]}
    out = []
    for it in range(num_iters):
        out.append(wrapper.param_groups[0]['lr'])
        wrapper.step()
        if it + 1 in starts:  # TwoStageTrainingHook's reset
            wrapper.param_groups[0]['lr'] = wrapper.param_groups[0][
                'initial_lr']
        for s in schedulers:
            if not s.by_epoch:
                s.step()
        if (it + 1) % epoch_length == 0:
            for s in schedulers:
                if s.by_epoch:
                    s.step()
    return out


def test_values_match_mmengine_schedulers():
    scheduler = build(end=7)
    got = lrs(scheduler, 28)
    # Stage 1: warm-up over epoch 0 (4 iterations), x0.5 at epochs 2 and 3.
    assert got[:4] == pytest.approx([0.1, 0.4, 0.7, 1.0])
    assert got[4:16] == pytest.approx([1] * 4 + [0.5] * 4 + [0.25] * 4)
    # Stage 2 restarts from the base lr with its own warm-up.
    assert got[16:20] == pytest.approx([0.1, 0.4, 0.7, 1.0])
    assert got[24:] == pytest.approx([0.5] * 4)
    reference = mmengine_lrs([(0, 1, [2, 3]), (4, 1, [2])], 4, 28)
    assert got == pytest.approx(reference)
    assert scheduler.stage_starts() == dict(stage1=0, stage2=4)


def test_shortened_stage_cuts_warmup_and_milestones():
    """A stage shortened to 1 epoch (a smoke test) keeps its other keys:
    what lies beyond its end is cut off."""
    short = dict(
        stage1=dict(epochs=1, warmup_epochs=3, milestones=[2]),
        stage2=dict(epochs=1, warmup_epochs=1, milestones=[5]))
    got = lrs(build(short, end=2), 8)
    step = 0.9 / 11  # warm-up over 3 epochs x 4 iterations, cut after 4
    assert got[:4] == pytest.approx([0.1 + i * step for i in range(4)])
    assert got[4:] == pytest.approx([0.1, 0.4, 0.7, 1.0])


def test_resume_from_state_dict():
    first = build()
    lrs(first, 10)
    resumed = build()
    resumed.load_state_dict(first.state_dict())
    resumed.optimizer.param_groups[0]['lr'] = first.optimizer.param_groups[0][
        'lr']
    assert lrs(resumed, 18) == pytest.approx(lrs(build(), 28)[10:])


def test_child_config_states_just_the_numbers(tmp_path):
    base = tmp_path / 'base.py'
    base.write_text(
        'param_scheduler = dict(type="StagedMultiStepLR", '
        'convert_to_iter_based=True, stages=dict('
        'stage1=dict(epochs=150, warmup_epochs=10, milestones=[40, 80]),'
        'stage2=dict(epochs=60, warmup_epochs=5, milestones=[30, 50])))\n')
    child = tmp_path / 'child.py'
    child.write_text('_base_ = ["./base.py"]\nparam_scheduler = dict('
                     'stages=dict(stage1=dict(epochs=30, milestones=[20])))\n')
    stages = Config.fromfile(str(child)).param_scheduler.stages
    assert stages.stage1 == dict(epochs=30, warmup_epochs=10, milestones=[20])
    assert stages.stage2.epochs == 60


def test_errors():
    with pytest.raises(
            ValueError,
            match=r'train_cfg.max_epochs=8 but the '
            r'param_scheduler.stages last stage1=4 \+ stage2=3'):
        build(end=8)
    with pytest.raises(ValueError, match=r'stages.stage1.milestones must be'):
        build(dict(stage1=dict(epochs=4, milestones=[3, 2])))
    with pytest.raises(ValueError, match='warmup_epochs >= 0'):
        build(dict(stage1=dict(epochs=4, warmup_epochs=-1)))
    with pytest.raises(KeyError, match=r"unknown keys \['milestone'\]"):
        build(dict(stage1=dict(epochs=4, milestone=[2])))
    with pytest.raises(KeyError, match=r"named \['stage1', 'stage2'\]"):
        build(dict(stage1=STAGES['stage1'], stage3=STAGES['stage2']))
    # The order comes from the names, not from the dict.
    reordered = build(dict(stage2=STAGES['stage2'], stage1=STAGES['stage1']))
    assert reordered.stage_starts() == dict(stage1=0, stage2=4)
    with pytest.raises(TypeError, match='non-empty dict of stages'):
        build(dict())
    with pytest.raises(ValueError, match='set convert_to_iter_based=True'):
        build(convert_to_iter_based=False)
