# Copyright (c) mmreid_video contributors. All rights reserved.
import copy
import os.path as osp
import tempfile
from unittest import TestCase

import numpy as np
import pytest
import torch
from fixture_models import tiny_denseil_cfg, tiny_video_reid_cfg
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmpretrain.structures import DataSample

from mmreid_video.registry import MODELS

T, H, W = 2, 32, 16
NUM_IDS = 3
# ResNet-18 widths (tests/fixture_models.py): a different backbone works
# by config alone.
DENSEIL = tiny_denseil_cfg(num_classes=NUM_IDS, neck=dict(num_heads=4))
BASELINE = tiny_video_reid_cfg(
    num_classes=NUM_IDS, backbone=dict(out_indices=(0, 1, 2, 3)))


def make_batch(num_clips=6, seed=0):
    gen = torch.Generator().manual_seed(seed)
    inputs = [
        torch.randint(0, 256, (T, 3, H, W), dtype=torch.uint8, generator=gen)
        for _ in range(num_clips)
    ]
    samples = [
        DataSample(metainfo=dict(clip_len=T, num_clips=1)).set_gt_label(
            i % NUM_IDS) for i in range(num_clips)
    ]
    return dict(inputs=inputs, data_samples=samples)


def encoder_state(model):
    return {
        k: v.clone()
        for k, v in model.state_dict().items()
        if k.startswith(('backbone.', 'encoder_neck.', 'encoder_head.'))
    }


class TestDenseIL(TestCase):

    @classmethod
    def setUpClass(cls):
        # Tiny convolutions: one thread avoids oversubscribing a shared CPU.
        cls.num_threads = torch.get_num_threads()
        torch.set_num_threads(1)

    @classmethod
    def tearDownClass(cls):
        torch.set_num_threads(cls.num_threads)

    def setUp(self):
        init_default_scope('mmreid_video')
        torch.manual_seed(0)

    def build(self, **kwargs):
        model = MODELS.build({**copy.deepcopy(DENSEIL), **kwargs})
        model.init_weights()
        return model

    def train_step(self, model, lr=1e-2):
        optim_wrapper = OptimWrapper(
            torch.optim.Adam(model.parameters(), lr=lr, weight_decay=5e-4))
        model.train()
        return model.train_step(make_batch(), optim_wrapper)

    def test_stage1_trains_encoder_only(self):
        model = self.build()
        self.assertEqual(model.train_stage, 1)
        x = torch.rand(2, T, 3, H, W)
        self.assertEqual(model.extract_feat(x).shape, (2, 512))
        self.assertEqual(model(x).shape, (2, NUM_IDS))
        before_dec = copy.deepcopy(model.neck.state_dict())
        before_enc = encoder_state(model)
        log = self.train_step(model)
        self.assertEqual(
            set(log), {'loss', 'loss_ce', 'loss_triplet', 'accuracy'})
        self.assertTrue(all(p.grad is None for p in model.neck.parameters()))
        for k, v in model.neck.state_dict().items():
            torch.testing.assert_close(v, before_dec[k])
        after = model.state_dict()
        self.assertFalse(
            torch.equal(after['backbone.conv1.weight'],
                        before_enc['backbone.conv1.weight']))
        self.assertFalse(
            torch.equal(after['backbone.bn1.running_mean'],
                        before_enc['backbone.bn1.running_mean']))

    def test_stage2_frozen_encoder(self):
        model = self.build()
        model.set_train_stage(2)
        self.assertTrue(model.encoder_frozen)
        x = torch.rand(2, T, 3, H, W)
        self.assertEqual(model.extract_feat(x).shape, (2, 32))
        self.assertEqual(model(x).shape, (2, NUM_IDS))
        before_enc = encoder_state(model)
        before_dec = copy.deepcopy(model.neck.state_dict())
        before_bn = model.head.bn.running_mean.clone()
        self.train_step(model)
        # model.train() keeps the frozen encoder in eval mode.
        self.assertFalse(model.backbone.training)
        self.assertFalse(model.backbone.bn1.training)
        self.assertTrue(model.neck.training)
        for k, v in encoder_state(model).items():
            torch.testing.assert_close(v, before_enc[k], msg=k)
        changed = [
            k for k, v in model.neck.state_dict().items()
            if not torch.equal(v, before_dec[k])
        ]
        self.assertIn('layers.0.cross_attn.q.weight', changed)
        self.assertIn('ppool.projs.0.0.weight', changed)
        self.assertIn('step_emb.frame_embed', changed)
        self.assertFalse(torch.equal(model.head.bn.running_mean, before_bn))
        # Back to stage 1 unfreezes, except what is frozen by design.
        model.set_train_stage(1)
        self.assertTrue(model.backbone.conv1.weight.requires_grad)
        self.assertFalse(model.encoder_head.bn.bias.requires_grad)

    def test_frame_order(self):
        x = torch.rand(2, 3, 3, H, W)
        order = [2, 0, 1]
        for use_step_emb in (True, False):
            torch.manual_seed(0)
            neck = copy.deepcopy(DENSEIL['neck'])
            model = self.build(neck={**neck, 'use_step_emb': use_step_emb})
            model.set_train_stage(2)
            model.eval()
            feat = model.extract_feat(x)
            permuted = model.extract_feat(x[:, order])
            self.assertEqual(
                torch.allclose(feat, permuted, atol=1e-5), not use_step_emb)
        # The stage-1 encoder (temporal average pooling) is order-free.
        model.set_train_stage(1)
        torch.testing.assert_close(
            model.extract_feat(x), model.extract_feat(x[:, order]))

    def test_padded_frames_do_not_change_the_descriptor(self):
        """A test sample whose last chunk is padded (frame_valid False):
        the padded frames' pixels do not reach the descriptor, in either
        stage; a real frame's do."""
        gen = torch.Generator().manual_seed(3)
        clip_len = 4
        frames = torch.randint(
            0, 256, (2 * clip_len, 3, H, W), dtype=torch.uint8, generator=gen)
        valid = np.arange(2 * clip_len) < clip_len + 1  # 5 real frames

        def describe(model, frames):
            sample = DataSample(
                metainfo=dict(
                    clip_len=clip_len, num_clips=2, frame_valid=valid))
            batch = dict(inputs=[frames], data_samples=[sample])
            return model.test_step(batch)[0].pred_feature

        model = self.build()
        repainted = frames.clone()
        repainted[clip_len + 1:] = torch.randint(
            0, 256, (clip_len - 1, 3, H, W), dtype=torch.uint8, generator=gen)
        changed_real = frames.clone()
        changed_real[clip_len] = 255 - changed_real[clip_len]
        for stage in (2, 1):
            model.set_train_stage(stage)
            model.eval()
            feat = describe(model, frames)
            torch.testing.assert_close(
                describe(model, repainted), feat, atol=1e-5, rtol=0)
            self.assertFalse(
                torch.allclose(describe(model, changed_real), feat, atol=1e-3))

    def test_stage_is_saved_in_checkpoints(self):
        model = self.build()
        model.set_train_stage(2)
        fresh = self.build()
        self.assertEqual(fresh.train_stage, 1)
        with tempfile.TemporaryDirectory() as tmp:
            path = osp.join(tmp, 'epoch_9.pth')
            torch.save(dict(state_dict=model.state_dict()), path)
            # The loader of tools/test.py and --resume.
            load_checkpoint(fresh, path)
        self.assertEqual(fresh.train_stage, 2)
        self.assertFalse(fresh.backbone.conv1.weight.requires_grad)
        batch = make_batch(num_clips=2)
        model.eval()
        fresh.eval()
        data = model.data_preprocessor(batch)
        out = fresh.predict(**data)
        self.assertIs(out[0], batch['data_samples'][0])
        torch.testing.assert_close(out[1].pred_feature,
                                   model.extract_feat(data['inputs'])[1])

    def test_end_to_end(self):
        model = self.build(two_stage=False)
        self.assertEqual(model.train_stage, 2)
        self.assertFalse(model.encoder_frozen)
        before = encoder_state(model)['backbone.conv1.weight']
        self.train_step(model)
        self.assertTrue(model.backbone.training)
        self.assertFalse(torch.equal(model.backbone.conv1.weight, before))
        with self.assertRaisesRegex(ValueError, 'no stage 1'):
            model.set_train_stage(1)
        with self.assertRaisesRegex(ValueError, 'needs two_stage=True'):
            self.build(two_stage=False, encoder_checkpoint='x.pth')

    @pytest.mark.slow  # two models, a checkpoint
    def test_load_stage1_checkpoint(self):
        baseline = MODELS.build(copy.deepcopy(BASELINE))
        baseline.init_weights()
        self.train_step(baseline)  # non-trivial BN statistics
        with tempfile.TemporaryDirectory() as tmp:
            path = osp.join(tmp, 'epoch_1.pth')
            torch.save(dict(state_dict=baseline.state_dict(), meta={}), path)
            model = self.build(encoder_checkpoint=path)
            self.assertEqual(model.train_stage, 2)
            self.assertTrue(model.encoder_frozen)
            self.assertIsNone(model.backbone.init_cfg)
            for k, v in baseline.state_dict().items():
                new_k = k.replace('neck.', 'encoder_neck.').replace(
                    'head.', 'encoder_head.')
                torch.testing.assert_close(model.state_dict()[new_k], v)
            # A DenseIL checkpoint is accepted as well.
            dense_path = osp.join(tmp, 'denseil.pth')
            torch.save(dict(state_dict=model.state_dict()), dense_path)
            other = self.build(encoder_checkpoint=dense_path)
            torch.testing.assert_close(other.backbone.conv1.weight,
                                       baseline.backbone.conv1.weight)

            missing = osp.join(tmp, 'nope.pth')
            with self.assertRaisesRegex(FileNotFoundError, 'nope.pth'):
                self.build(encoder_checkpoint=missing)
            wrong = copy.deepcopy(BASELINE)
            wrong['head']['num_classes'] = NUM_IDS + 1
            wrong_path = osp.join(tmp, 'wrong.pth')
            torch.save(MODELS.build(wrong).state_dict(), wrong_path)
            with self.assertRaisesRegex(
                    RuntimeError,
                    r"wrong.pth.*shape mismatch.*classifier.weight"):
                self.build(encoder_checkpoint=wrong_path)
            partial = {
                k: v
                for k, v in baseline.state_dict().items()
                if k != 'backbone.conv1.weight'
            }
            partial['extra.weight'] = torch.zeros(1)
            partial_path = osp.join(tmp, 'partial.pth')
            torch.save(partial, partial_path)
            with self.assertRaisesRegex(RuntimeError,
                                        r'partial.pth.*extra.weight'):
                self.build(encoder_checkpoint=partial_path)
            del partial['extra.weight']
            torch.save(partial, partial_path)
            with self.assertRaisesRegex(
                    RuntimeError, r'missing keys.*backbone.conv1.weight'):
                self.build(encoder_checkpoint=partial_path)
