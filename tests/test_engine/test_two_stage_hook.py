# Copyright (c) mmreid_video contributors. All rights reserved.
import copy
import os.path as osp
import tempfile
from unittest import TestCase

import pytest
import torch
from fixture_models import tiny_denseil_cfg
from mmengine.hooks import Hook
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmpretrain.structures import DataSample
from torch.utils.data import Dataset

from mmreid_video.registry import HOOKS

T, H, W = 2, 32, 16
BASE_LR = 1e-3
# Slim (base_channels=8): its runs save a checkpoint every epoch.
MODEL = tiny_denseil_cfg(
    num_classes=2, neck=dict(embed_dims=16), base_channels=8)


class ToyClips(Dataset):
    """8 random clips of 2 identities (P=2 x K=2 per batch of 4)."""

    def __len__(self):
        return 8

    def __getitem__(self, idx):
        gen = torch.Generator().manual_seed(idx)
        frames = torch.randint(
            0, 256, (T, 3, H, W), dtype=torch.uint8, generator=gen)
        sample = DataSample(metainfo=dict(clip_len=T, num_clips=1))
        return dict(inputs=frames, data_samples=sample.set_gt_label(idx % 2))


TOY_LOADER = dict(
    dataset=ToyClips(),
    sampler=dict(type='DefaultSampler', shuffle=False),
    batch_size=4,
    num_workers=0,
    collate_fn=dict(type='pseudo_collate'))


class Recorder(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.records = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        model = runner.model
        self.records.append(
            (runner.epoch, runner.iter, model.train_stage,
             runner.optim_wrapper.get_lr()['lr'][0], model.backbone.training))


# The schedule above as one StagedMultiStepLR; the hook then reads the
# stage-1 length from it.
STAGED = dict(
    type='StagedMultiStepLR',
    convert_to_iter_based=True,
    warmup_factor=0.5,
    gamma=0.1,
    stages=dict(
        stage1=dict(epochs=2, warmup_epochs=1, milestones=[1]),
        stage2=dict(epochs=2, warmup_epochs=1)))


def make_runner(work_dir,
                max_epochs=4,
                resume_from=None,
                staged=False,
                **model_kwargs):
    recorder = Recorder()
    runner = Runner(
        model={
            **copy.deepcopy(MODEL),
            **model_kwargs
        },
        work_dir=work_dir,
        train_dataloader=TOY_LOADER,
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=BASE_LR)),
        # Stage 1: 1-epoch warm-up, x0.1 after epoch 1; stage 2: its own
        # 1-epoch warm-up starting at epoch 2.
        param_scheduler=copy.deepcopy(STAGED) if staged else [
            dict(
                type='LinearLR',
                start_factor=0.5,
                by_epoch=True,
                begin=0,
                end=1,
                convert_to_iter_based=True),
            dict(
                type='MultiStepLR',
                milestones=[1],
                gamma=0.1,
                by_epoch=True,
                begin=0,
                end=2),
            dict(
                type='LinearLR',
                start_factor=0.5,
                by_epoch=True,
                begin=2,
                end=3,
                convert_to_iter_based=True),
        ],
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=1),
            logger=dict(type='LoggerHook', interval=100)),
        custom_hooks=[
            dict(type='EpochReseedHook'),
            dict(type='TwoStageTrainingHook') if staged else dict(
                type='TwoStageTrainingHook', stage1_epochs=2), recorder
        ],
        load_from=resume_from,
        resume=resume_from is not None,
        # Unique: two Runners built in the same second would otherwise
        # share the timestamp-named logger, message hub and visualizer.
        experiment_name=work_dir,
        default_scope='mmreid_video',
        randomness=dict(seed=0),
        log_level='WARNING')
    return runner, recorder


def load(path):
    return torch.load(
        path, map_location='cpu', weights_only=False)['state_dict']


def split(state):
    enc = {
        k: v
        for k, v in state.items() if k.startswith(('backbone.', 'encoder_'))
    }
    dec = {k: v for k, v in state.items() if k.startswith(('neck.', 'head.'))}
    return enc, dec


# setUpClass trains a Runner; tests resume and train again.
@pytest.mark.slow
class TestTwoStageTrainingHook(TestCase):

    @classmethod
    def setUpClass(cls):
        init_default_scope('mmreid_video')
        # Tiny convolutions: one thread avoids oversubscribing a shared CPU.
        cls.num_threads = torch.get_num_threads()
        torch.set_num_threads(1)
        cls.tmp = tempfile.TemporaryDirectory()
        cls.full_dir = osp.join(cls.tmp.name, 'full')
        runner, recorder = make_runner(cls.full_dir)
        runner.train()
        cls.full = recorder.records

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()
        torch.set_num_threads(cls.num_threads)

    def ckpt(self, epoch):
        return osp.join(self.full_dir, f'epoch_{epoch}.pth')

    def test_stages_and_lr(self):
        stages = [(r[0], r[2], r[4]) for r in self.full]
        # 2 iterations per epoch; frozen encoder stays in eval mode.
        self.assertEqual(stages, [(0, 1, True)] * 2 + [(1, 1, True)] * 2 +
                         [(2, 2, False)] * 2 + [(3, 2, False)] * 2)
        # Stage 1: warm-up, then x0.1; stage 2 restarts from the base lr
        # with its own warm-up (without the reset it would start at 5e-5).
        lrs = [r[3] for r in self.full]
        expected = [0.5, 1, 0.1, 0.1, 0.5, 1, 1, 1]
        for lr, factor in zip(lrs, expected):
            self.assertAlmostEqual(lr, factor * BASE_LR)

    def test_what_trains(self):
        enc1, dec1 = split(load(self.ckpt(1)))
        enc2, dec2 = split(load(self.ckpt(2)))
        enc4, dec4 = split(load(self.ckpt(4)))
        self.assertFalse(
            torch.equal(enc1['backbone.conv1.weight'],
                        enc2['backbone.conv1.weight']))
        for k in dec1:
            torch.testing.assert_close(dec1[k], dec2[k], msg=k)
        # Weights and BN running stats of the encoder frozen in stage 2.
        for k in enc2:
            torch.testing.assert_close(enc2[k], enc4[k], msg=k)
        key = 'neck.layers.0.self_attn.q.weight'
        self.assertFalse(torch.equal(dec2[key], dec4[key]))
        self.assertEqual(int(load(self.ckpt(2))['_stage']), 1)
        self.assertEqual(int(load(self.ckpt(4))['_stage']), 2)

    def test_resume_across_switch(self):
        final = load(self.ckpt(4))
        for epoch in (1, 2):
            with self.subTest(resume_epoch=epoch):
                work_dir = osp.join(self.tmp.name, f'resume{epoch}')
                runner, recorder = make_runner(
                    work_dir, resume_from=self.ckpt(epoch))
                runner.train()
                self.assertEqual(recorder.records, self.full[2 * epoch:])
                resumed = load(osp.join(work_dir, 'epoch_4.pth'))
                for k, v in final.items():
                    torch.testing.assert_close(resumed[k], v, msg=k)

    def test_encoder_checkpoint_skips_stage1(self):
        work_dir = osp.join(self.tmp.name, 'skip')
        runner, recorder = make_runner(
            work_dir, encoder_checkpoint=self.ckpt(2))
        runner.train()
        # Epochs 2 and 3 only, with the lrs of the uninterrupted run.
        self.assertEqual([r[:3] for r in recorder.records],
                         [r[:3] for r in self.full[4:]])
        for got, want in zip(recorder.records, self.full[4:]):
            self.assertAlmostEqual(got[3], want[3])
        self.assertFalse(osp.exists(osp.join(work_dir, 'epoch_2.pth')))
        enc_ref, _ = split(load(self.ckpt(2)))
        enc, _ = split(load(osp.join(work_dir, 'epoch_4.pth')))
        for k in enc_ref:
            torch.testing.assert_close(enc[k], enc_ref[k], msg=k)

    def test_stage_length_from_staged_scheduler(self):
        runner, recorder = make_runner(
            osp.join(self.tmp.name, 'staged'), staged=True)
        runner.train()
        self.assertEqual([r[:3] for r in recorder.records],
                         [r[:3] for r in self.full])
        for got, want in zip(recorder.records, self.full):
            self.assertAlmostEqual(got[3], want[3])
        # Without stage1_epochs and without a staged scheduler: an error.
        hook = HOOKS.build(dict(type='TwoStageTrainingHook'))
        runner, _ = make_runner(osp.join(self.tmp.name, 'nostage'))
        runner._train_loop = runner.build_train_loop(runner._train_loop)
        runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
        runner.param_schedulers = runner.build_param_scheduler(
            runner.param_schedulers)
        with self.assertRaisesRegex(ValueError,
                                    'stage1_epochs is not set.*found 0'):
            hook.before_train(runner)

    def test_errors(self):
        hook = HOOKS.build(dict(type='TwoStageTrainingHook', stage1_epochs=4))
        runner, _ = make_runner(osp.join(self.tmp.name, 'err'))
        runner._train_loop = runner.build_train_loop(runner._train_loop)
        with self.assertRaisesRegex(ValueError, r'max_epochs=4'):
            hook.before_train(runner)
        with self.assertRaisesRegex(ValueError, '>= 0'):
            HOOKS.build(dict(type='TwoStageTrainingHook', stage1_epochs=-1))


CONFIGS = osp.join(osp.dirname(__file__), '..', '..', 'configs')


def test_stage_epochs_of_configs():
    """The stage lengths a run would use, read from the config alone."""
    from mmengine.config import Config

    from mmreid_video.engine import TwoStageTrainingHook
    init_default_scope('mmreid_video')
    cfg = Config.fromfile(osp.join(CONFIGS, 'denseil', 'denseil_r50_mars.py'))
    assert TwoStageTrainingHook.stage_epochs_of(cfg) == [150, 60]
    cfg.param_scheduler.stages.stage1.epochs = 100
    cfg.train_cfg.max_epochs = 160
    assert TwoStageTrainingHook.stage_epochs_of(cfg) == [100, 60]
    cfg.custom_hooks = [dict(type='TwoStageTrainingHook', stage1_epochs=7)]
    assert TwoStageTrainingHook.stage_epochs_of(cfg) == [7, 153]
    cfg.model.two_stage = False  # the hook idles: one stage
    assert TwoStageTrainingHook.stage_epochs_of(cfg) == [160]
    base = Config.fromfile(
        osp.join(CONFIGS, 'baseline', 'baseline_r50_mars.py'))
    assert TwoStageTrainingHook.stage_epochs_of(base) == [150]
    cfg.model.two_stage = True
    cfg.custom_hooks = [dict(type='TwoStageTrainingHook')]
    cfg.param_scheduler = dict(type='MultiStepLR', milestones=[40])
    with pytest.raises(ValueError, match='found 0'):
        TwoStageTrainingHook.stage_epochs_of(cfg)


@pytest.mark.slow  # trains a Runner
def test_iter_stage_switch_times_both_stages(tmp_path):
    """Both stages in an iteration-based loop, each timed on its own."""
    recorder = Recorder()
    runner = Runner(
        model=copy.deepcopy(MODEL),
        work_dir=str(tmp_path),
        # Infinite: MMEngine sleeps 2 s each time a finite loader restarts.
        train_dataloader=dict(
            TOY_LOADER, sampler=dict(type='InfiniteSampler', shuffle=False)),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=5),
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=BASE_LR)),
        default_hooks=dict(checkpoint=None),
        custom_hooks=[
            dict(type='IterStageSwitchHook', stage1_iters=2),
            dict(
                type='LoopTimelineHook', warmup_iters=0, memory_interval=None),
            recorder
        ],
        experiment_name=str(tmp_path),
        default_scope='mmreid_video',
        log_level='WARNING')
    runner.train()
    assert [r[2] for r in recorder.records] == [1, 1, 2, 2, 2]
    timeline = [
        h for h in runner.hooks if type(h).__name__ == 'LoopTimelineHook'
    ][0]
    assert timeline.summary('stage1')['iters_timed'] == 2
    assert timeline.summary('stage2')['iters_timed'] == 3
    with pytest.raises(ValueError, match='stage1_iters'):
        HOOKS.build(dict(type='IterStageSwitchHook', stage1_iters=-1))
